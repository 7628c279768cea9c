/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "devset.h"
#include "manager.h"

/* Manager.WaitForDevice: a wait scoped to one device instead of a global `udevadm settle`. The
 * device is named by its DM name, its UUID, or a path in /dev; the state is "present" (it exists,
 * udev has processed it and its /dev/mapper link is there), "active" (present, with a live table,
 * not suspended) or "gone". Answered from the graph at once when the state holds already, else
 * after the refresh that makes it hold (its signals are out first), else Timeout. A caller that is
 * not root has at most WAITERS_PER_UID_MAX waits at once; a caller that leaves the bus takes its
 * waits with it. */

#define WAIT_TIMEOUT_USEC_DEFAULT (30 * UINT64_C(1000000))
#define WAIT_TIMEOUT_USEC_MAX (300 * UINT64_C(1000000))
#define WAITERS_PER_UID_MAX 16
#define WAITERS_MAX 1024

int wait_bus_wait_for_device(Manager *m, sd_bus_message *message, sd_bus_error *error);

/* The waits under way: the Manager holds them, only wait-bus.c looks inside. */
typedef struct Waiters Waiters;
int waiters_new(Waiters **ret);
/* Answers what waits ("the service is stopping") and frees it. */
Waiters *waiters_free(Waiters *w);
void waiters_drop_all(Waiters *w);
/* After a refresh: answers every wait whose state now holds. */
void waiters_check(Manager *m);
