/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "devset.h"
#include "failure.h"
#include "dm-kernel.h"
#include "graph.h"
#include "health.h"
#include "macro.h"
#include "udev-sysfs.h"

/* Keeps the graph following the kernel. Two sources say what changed: processed udev events for
 * block devices, and the DM control fd's event poll, which also sees what raises no uevent (a
 * target's event such as a thin-pool low-water mark; devices created, removed, renamed; tables
 * swapped). Each names devices to read again; all that a loop turn names is read once, after
 * every pending event was taken in, and the differences go out through the callbacks. After DM
 * events, a LIST and then the INFO flags of every DM device are compared, since a suspend or an
 * inactive table load raises no event of its own; both passes are bounded in time (refresh.c). */

typedef struct Refresh Refresh;

/* What the refresh tells its owner, on the main loop. device_removing comes while the device is
 * still in the graph; the others after the graph changed. The change masks are BLOCK_CHANGE and
 * DEVICE_CHANGE bits. */
typedef struct RefreshCallbacks {
        void (*device_added)(dev_t devnum, void *userdata);
        void (*device_removing)(dev_t devnum, void *userdata);
        void (*device_changed)(dev_t devnum, unsigned block_changes, unsigned device_changes, void *userdata);
        void (*device_event)(dev_t devnum, uint32_t event_nr, void *userdata);
        void (*dm_count_changed)(void *userdata);
        /* A device with usage (health.h) was read again: how full it was, and is. */
        void (*usage_changed)(dev_t devnum, const Usage *before, const Usage *now, void *userdata);
        /* A DM device's new failure (failure.h), after its changes are out. */
        void (*device_failed)(dev_t devnum, const Failure *failure, void *userdata);
        /* Every processed udev event, as it comes in. */
        void (*udev_event)(const UdevEvent *event, void *userdata);
        /* These devices were read again, and their changes are out. */
        void (*refreshed)(const DevSet *devices, void *userdata);
} RefreshCallbacks;

/* The refresh reads and writes graph, and reads the kernel through dm and udev; it owns none. */
int refresh_new(sd_event *event, Graph *graph, DmKernel *dm, UdevSysfs *udev,
                const RefreshCallbacks *callbacks, void *userdata, Refresh **ret);
Refresh *refresh_free(Refresh *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Refresh *, refresh_free);

/* Starts both sources. Called before the first scan, so that no change falls between the scan
 * and the first event (as systemd's homed starts its monitor before it enumerates). */
int refresh_start(Refresh *r);

/* Reads the device again later in this loop turn. */
void refresh_mark(Refresh *r, dev_t devnum);
/* A DM device suspended for longer than usec is judged too long suspended (health.h) when it is
 * read; the owner marks it when that time has come. */
void refresh_set_suspended_alert(Refresh *r, uint64_t usec);
/* Compares every DM device's INFO (one cheap ioctl each) and reads again those that changed: what
 * the kernel does not announce (a suspend, an inactive table) shows then. The sweep runs soon, a
 * slice a loop turn, and requests coalesce: its cost is bounded in time whatever N (refresh.c). */
void refresh_request_sweep(Refresh *r);
