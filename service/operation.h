/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "dm-ops.h"
#include "manager.h"
#include "udev-sysfs.h"

/* One mapping operation a caller asked for, from its validated input to its reply.
 *
 * Life: the bus layer fills it in and submits it. It waits behind earlier operations on the same
 * device (one at a time per device; different devices run side by side), then runs on a worker
 * thread of its own (operation-run.c: raw ioctls, never libdevmapper, never the graph). Back on
 * the main loop it waits, when the kernel sent a uevent for it, for udev's processed event of
 * that device (bounded by its udev timeout), then for the refresh that puts the kernel's new
 * state into the graph and out as signals; only then is the caller answered. So a reply always
 * comes after the signals it caused, and every read in between is answered from the graph. */

typedef enum OperationKind {
        OPERATION_CREATE,
        OPERATION_LOAD,
        OPERATION_CLEAR_INACTIVE,
        OPERATION_SUSPEND,
        OPERATION_RESUME,
        OPERATION_RELOAD,
        OPERATION_REMOVE,
        OPERATION_RENAME,
        OPERATION_SET_UUID,
        OPERATION_MESSAGE,
} OperationKind;

typedef struct Operation Operation;
struct Operation {
        OperationKind kind;
        Manager *manager;
        sd_bus_message *request;        /* answered when done; owns the strings below */

        /* Input, validated by the bus layer. Strings point into the request. */
        dev_t devnum;                   /* the device; for CREATE, set once it exists */
        const char *name;               /* CREATE: the name; RENAME: the new name */
        const char *uuid;               /* CREATE (NULL: none), SET_UUID */
        const char *message;            /* MESSAGE */
        uint64_t sector;                /* MESSAGE */
        DmTableRow *rows;               /* CREATE, LOAD, RELOAD */
        size_t n_rows;
        bool read_only, activate, noflush, nolockfs, retry, deferred, force;
        uint64_t udev_timeout_usec;
        char *label;                    /* "NAME" (MAJ:MIN), for messages; CREATE: set by the worker */

        /* Written by the worker, read by the main loop once the worker handed it back. */
        const char *error_name;         /* NULL: it worked */
        char *error_message;
        char *description;              /* what was done, for a timeout's message */
        char *reply_text;               /* MESSAGE: the target's answer */
        UeventKind awaited_uevent;      /* the uevent it caused, for udev to process; or none */
        uint64_t uevent_seqnum_floor;   /* its seqnum is above this */

        /* Main loop only. */
        int state;
        bool udev_timed_out;
        sd_event_source *timeout_source;
        Operation *next_on_device;      /* the FIFO of operations on one device */
        Operation *next_done;           /* the workers' hand-back list */
        Operation *next_waiting;
};

Operation *operation_new(Manager *m, OperationKind kind, sd_bus_message *request);
Operation *operation_free(Operation *op);
DEFINE_TRIVIAL_CLEANUP_FUNC(Operation *, operation_free);

/* Takes ownership of op: it is answered and freed when done. */
void operation_submit(Operation *op);

/* Answers the caller with a named error and frees op. */
void operation_fail(Operation *op, const char *error_name, const char *format, ...) _printf_(3, 4);

/* Set up and torn down by the manager. */
int operations_start(Manager *m);
void operations_stop(Manager *m);

/* refresh.c tells of every processed udev event, and of every device a refresh has read. */
void operations_udev_event(Manager *m, const UdevEvent *event);
void operations_refreshed(Manager *m, const DevSet *devices);

/* Run on the worker thread (operation-run.c): does the ioctls, fills in the worker's fields. */
void operation_run(Operation *op, int control_fd);
