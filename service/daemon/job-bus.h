/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "devset.h"
#include "manager.h"
#include "operation.h"

/* Jobs, shaped like udisks2's: an operation still running JOB_ANNOUNCE_DELAY_USEC after it was
 * authorized gets an object DMBUS_JOB_PREFIX "/N" with org.dmbus.DeviceMapper1.Job (announced
 * through the ObjectManager; quick operations add no bus traffic): what it is, on which objects,
 * whose, since when, whether it can be cancelled; Cancel(a{sv}); Completed(b success, s message)
 * as it ends, before its object goes and before the operation's own reply.
 *
 * Cancel is the starter's and root's to ask, and anyone's whom polkit allows the operation's own
 * action (one such question per job at a time). What it does is the operation's (operation.h):
 * a suspend waiting for its I/O is interrupted and the kernel leaves the device active; a Reload
 * in its suspend drops its new table; a Remove with retry stops trying; a stack stops before its
 * next device, and a CreateStack then removes what it made. The caller of the operation gets Cancelled.
 *
 * The kernel's own long work (kernel-work.h) is a job too, from the read of the device that shows
 * it under way to the read that shows it over, with Progress from the target's status: the monitor
 * reads such devices every tick. Started by uid 0, never Cancelable; Completed says success when
 * nothing is left undone. */

#define JOB_ANNOUNCE_DELAY_USEC (300 * USEC_PER_MSEC)

typedef struct Jobs Jobs;
int jobs_new(Jobs **ret);
Jobs *jobs_free(Jobs *j);

int job_bus_register(Manager *m);

/* An authorized operation begins (op->job is set) and ends (before its reply). */
void job_start(Manager *m, Operation *op);
void job_end(Manager *m, Operation *op, bool success, const char *message);
/* A stack's devices changed (CreateStack made one): Objects is invalidated. */
void job_objects_changed(Manager *m, Operation *op);
/* These devices were read again: their kernel work's jobs begin, move or end. */
void jobs_kernel_work_refreshed(Manager *m, const DevSet *devices);
