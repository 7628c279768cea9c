/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

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

        char *driver_version;
        char *library_version;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Reads the kernel's state into the graph, registers the objects, then takes the bus name. */
int manager_startup(Manager *m);
int manager_run(Manager *m);
