/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"

/* Work on threads of its own, handed back to the main loop: each job runs on a new detached
 * thread, and once it returns, the owner's callback gets it on the loop. The operations' workers
 * and the users scan are built on it.
 *
 * The owner may go while jobs run (a stop of the service while a worker waits in the kernel):
 * handback_free() leaves them, and each is given to discard on its own thread once it ends; the
 * last one frees what the threads share. */

typedef struct Handback Handback;

/* returned(job, userdata): on the loop, at priority, for each job that ended. discard(job): for a
 * job that ended after its owner went, on its thread; may be NULL. */
int handback_new(sd_event *event, int64_t priority, void (*returned)(void *job, void *userdata),
                 void (*discard)(void *job), void *userdata, Handback **ret);
Handback *handback_free(Handback *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Handback *, handback_free);

/* Runs run(job) on a new thread: 0, or -errno when none could start (and nothing ran). */
int handback_start(Handback *h, void (*run)(void *job), void *job);
