/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Keeps the graph and the bus following the kernel. Two sources say what changed: processed udev
 * events for block devices, and the DM control fd's event poll, which also sees what raises no
 * uevent (a target's event such as a thin-pool low-water mark; devices created, removed, renamed;
 * tables swapped). Each names devices to read again; all that a loop turn names is read once,
 * after every pending event was taken in, and the differences go out as signals. After a DM
 * event, the INFO flags of every DM device are compared too, since a suspend or an inactive
 * table load raises no event of its own. */

/* Starts both sources. Called before the first scan, so that no change falls between the scan
 * and the first event (as systemd's homed starts its monitor before it enumerates). */
int refresh_start(Manager *m);

/* Reads the device again later in this loop turn. */
void refresh_mark(Manager *m, dev_t devnum);

void refresh_stop(Manager *m);
