/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "devset.h"
#include "manager.h"
#include "operation.h"

/* Suspend leases. A Suspend with "lease-sec" (or, from a caller other than root who asked for
 * none, [Operations] SuspendLeaseSec=) is followed by a Resume this service sends when the lease
 * ends or when the caller leaves the bus, whichever comes first; unless the device was resumed,
 * removed or replaced first, which ends the lease quietly. One lease per device: a later Suspend's
 * replaces it, a later Suspend without one drops it.
 *
 * Each lease is a record under /run/dmbus (op-record.h), written by the Suspend's worker before its
 * ioctl: through a stop or a crash, settle_records() resumes at the next start what ran out
 * meanwhile, and leases_adopt() follows the rest, its caller's leaving included. */

typedef struct Leases Leases;
int leases_new(Leases **ret);
/* Forgets the leases, keeping their records for the next start. */
Leases *leases_free(Leases *l);

/* When the lease on devnum ends (CLOCK_REALTIME, us); 0 for none: Device.SuspendLeaseUntil. */
uint64_t leases_until(const Leases *l, dev_t devnum) _pure_;

/* A Suspend ended, before its reply: takes up, replaces or drops the device's lease. */
void leases_suspend_finished(Manager *m, const Operation *op);
/* After a refresh: a leased device that was resumed, removed or replaced meanwhile ends its lease. */
void leases_refreshed(Manager *m, const DevSet *devices);
/* At start, once on the bus: follows the leases of the records settle_records() kept. */
void leases_adopt(Manager *m, const char *record_dir);
