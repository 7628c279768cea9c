/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Keeps the graph and the bus following the kernel. Two sources say what changed: processed udev
 * events for block devices, and the DM control fd's event poll, which also sees what raises no
 * uevent (a suspend, a table loaded into the inactive slot, a target's event such as a thin-pool
 * low-water mark). Each names devices to read again; all that a loop turn names is read once,
 * after every pending event was taken in, and the differences go out as signals. */

/* Starts both sources. Called before the first scan, so that no change falls between the scan
 * and the first event (as systemd's homed starts its monitor before it enumerates). */
int refresh_start(Manager *m);

/* Reads the device again later in this loop turn. */
void refresh_mark(Manager *m, dev_t devnum);

void refresh_stop(Manager *m);
