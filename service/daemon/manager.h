/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "dm-kernel.h"
#include "graph.h"
#include "macro.h"
#include "operation.h"
#include "read-queue.h"
#include "refresh.h"
#include "sender-uid.h"
#include "service-status.h"
#include "udev-sysfs.h"
#include "users-scan.h"

/* The daemon: the event loop, the bus, the device graph read from the kernel, and the two engines
 * that change it, wired together here and nowhere else:
 *
 *   refresh (kernel -> graph)  --device_*-->  bus signals (device-bus.c, manager-bus.c)
 *                              --udev_event, refreshed-->  operation queue
 *   operation queue            --mark-->  refresh;  --finished-->  the reply (operation-bus.c)
 *   bus methods                --submit-->  operation queue (after polkit)
 */
typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        DmKernel *dm;
        UdevSysfs *udev;
        Graph *graph;
        Refresh *refresh;
        ReadQueue *reads;
        OperationQueue *operations;
        ServiceStatus *status;
        struct Authorizing *authorizing;        /* requests read, or waiting for polkit (operation-bus.h) */
        struct Stacks *stacks;                  /* RemoveStack and CreateStack under way (stack.h) */
        SenderUids *sender_uids;
        UsersScan *users;
        struct UsersQueries *users_queries;     /* GetUsers waiting (users-bus.h) */
        struct Waiters *waiters;                /* WaitForDevice waiting (wait-bus.h) */
        struct Leases *leases;                  /* Suspend leases (lease.h) */
        struct Jobs *jobs;                      /* operations under way, as jobs (job-bus.h) */
        Config config;
        sd_event_source *monitor_source;        /* monitor.h */
        bool stopping;                  /* SIGTERM came: no new operation, the running ones finish */
        sd_event_source *stop_timeout_source;

        char *driver_version;
        char *library_version;
        DmTargetType *target_types;     /* Manager.GetTargets */
        size_t n_target_types;
} Manager;

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Starts following the kernel, reads its state into the graph, registers the objects, then
 * takes the bus name: no change falls between the cracks. */
int manager_startup(Manager *m);
int manager_run(Manager *m);

/* Reads the kernel's target types again (one LIST_VERSIONS ioctl): at start, at each monitor tick
 * and when an operation ends, since a table load may have loaded a target's module. */
void manager_read_target_types(Manager *m);
