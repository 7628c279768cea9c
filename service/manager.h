/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "devset.h"
#include "dm-kernel.h"
#include "graph.h"
#include "macro.h"
#include "udev-sysfs.h"

#define DMBUS_SERVICE_NAME "org.dmbus.DeviceMapper1"
#define DMBUS_ROOT_PATH "/org/dmbus/DeviceMapper1"
#define DMBUS_MANAGER_PATH DMBUS_ROOT_PATH "/Manager"
#define DMBUS_MANAGER_INTERFACE DMBUS_SERVICE_NAME ".Manager"

/* The daemon's state: the event loop, the bus, and the device graph read from the kernel. */
typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        DmKernel *dm;
        UdevSysfs *udev;
        Graph *graph;

        /* Following the kernel (refresh.c) */
        sd_event_source *udev_source;
        sd_event_source *dm_source;
        sd_event_source *refresh_source;
        DevSet dirty;                   /* devices to read again this loop turn */
        bool rescan;                    /* events may have been lost: read everything */
        bool info_sweep_pending;        /* a DM event came: compare every DM device's INFO */
        uint64_t batch_first_event_usec; /* CLOCK_MONOTONIC, when this turn's first change came in */

        /* Mapping operations under way (operation.c) */
        struct OperationQueue *operations;

        char *driver_version;
        char *library_version;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Starts following the kernel, reads its state into the graph, registers the objects, then
 * takes the bus name: no change falls between the cracks. */
int manager_startup(Manager *m);
int manager_run(Manager *m);
