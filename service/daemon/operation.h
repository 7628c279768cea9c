/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "devset.h"
#include "dm-ops.h"
#include "doctor.h"
#include "list.h"
#include "macro.h"
#include "op-record.h"
#include "table.h"
#include "udev-sysfs.h"

/* One mapping operation a caller asked for, from its validated input to its outcome.
 *
 * Life: the bus layer fills it in and submits it to the queue. It waits behind earlier operations
 * on the same device (one at a time per device; different devices run side by side), then runs on
 * a worker thread of its own (operation-run.c: raw ioctls, never libdevmapper, never the graph).
 * Back on the main loop it waits, when the kernel sent a uevent for it, for udev's processed event
 * of that device (bounded by its udev timeout), then for the refresh that puts the kernel's new
 * state into the graph and out as signals; only then does the queue hand it to its owner to
 * answer. So a reply always comes after the signals it caused, and every read in between is
 * answered from the graph. */

/* X(ID, "Method", "name"): the bus method, for messages and the journal's DMBUS_OPERATION; the
 * name as udisks2 names its jobs' operations (Job.Operation). REMOVE_STACK and CREATE_STACK
 * are many devices, run by stack.c as plain Creates and Removes, one after another. */
#define OPERATION_KINDS(X)                                      \
        X(CREATE, "Create", "create")                           \
        X(LOAD, "Load", "load")                                 \
        X(CLEAR_INACTIVE, "ClearInactive", "clear-inactive")    \
        X(SUSPEND, "Suspend", "suspend")                        \
        X(RESUME, "Resume", "resume")                           \
        X(RELOAD, "Reload", "reload")                           \
        X(REMOVE, "Remove", "remove")                           \
        X(RENAME, "Rename", "rename")                           \
        X(SET_UUID, "SetUUID", "set-uuid")                      \
        X(MESSAGE, "SendMessage", "message")                    \
        X(REMOVE_STACK, "RemoveStack", "remove-stack")          \
        X(CREATE_STACK, "CreateStack", "create-stack")         \
        X(REPAIR, "Repair", "repair")

#define _OPERATION_KIND_ENUM(id, method, name) OPERATION_##id,
typedef enum OperationKind {
        OPERATION_KINDS(_OPERATION_KIND_ENUM)
        _OPERATION_KIND_MAX,
} OperationKind;
#undef _OPERATION_KIND_ENUM

static inline bool operation_kind_is_stack(OperationKind kind) {
        return kind == OPERATION_REMOVE_STACK || kind == OPERATION_CREATE_STACK;
}

/* One device of a stack operation. */
typedef struct StackMember {
        dev_t devnum;                   /* REMOVE_STACK; CREATE_STACK once made */
        char *name, *uuid;              /* REMOVE_STACK: as the graph has them; CREATE_STACK: as asked, "" for none */
        size_t first_row, n_rows;       /* CREATE_STACK: its table in the stack's rows */
        bool read_only;                 /* CREATE_STACK */
        bool done;                      /* made, or removed */
        char record_id[OP_RECORD_ID_MAX]; /* CREATE_STACK: the record its Create keeps until the stack is whole */
} StackMember;

/* What interrupts a worker for a cancel (operation_cancel()). */
#define OPERATION_CANCEL_SIGNAL SIGUSR2

/* udev's time to process an operation's uevent, unless the caller says otherwise. */
#define OPERATION_UDEV_TIMEOUT_MSEC_DEFAULT 5000

typedef struct OperationQueue OperationQueue;
typedef struct Operation Operation;

struct Operation {
        OperationKind kind;
        sd_bus_message *request;        /* the caller's; owns the strings below */
        uint64_t started_cpu_usec;      /* the main loop's CPU time when its handler began reading it */

        /* Input, validated by the bus layer. Strings point into the request. */
        dev_t devnum;                   /* the device; for CREATE, set once it exists */
        const char *name;               /* CREATE: the name; RENAME: the new name */
        const char *uuid;               /* CREATE (NULL: none), SET_UUID */
        const char *message;            /* MESSAGE */
        uint64_t sector;                /* MESSAGE */
        DmTableRow *rows;               /* CREATE, LOAD, RELOAD */
        size_t n_rows, n_rows_allocated;
        char **owned_params;            /* rows' parameters rewritten by the worker (table.h), wiped when freed */
        bool read_only, activate, noflush, nolockfs, retry, deferred, force;
        uint64_t udev_timeout_usec;
        uid_t caller_uid;               /* whose: messages show others' processes to root alone */
        pid_t caller_pid;               /* for the journal's lines alone; 0 when not known */
        bool keep_record;               /* a step of CREATE_STACK: the stack removes the record once whole */
        /* SUSPEND: the lease asked for (lease.h), 0 for none; its owner, the caller's unique name
         * (in the request); its end (CLOCK_REALTIME), set by the worker as it writes the lease's
         * record, before the ioctl. */
        uint32_t lease_sec;
        const char *lease_owner;
        uint64_t lease_until;
        char *label;                    /* "NAME" (MAJ:MIN), for messages; CREATE: set by the worker */
        DoctorPlan repair;              /* REPAIR: what to do (doctor.h) */
        /* The device as the caller saw it (escaped, as the graph has them): the worker acts only
         * if devnum still belongs to it, since the kernel reuses a minor at once. A stack's
         * CREATE step: its own copies of name and uuid, which point to them. */
        char *expected_name, *expected_uuid;
        DmOpsDevice target;             /* the worker's: the device once identified (or made), as its ioctls address it */

        /* The outcome, written by the worker, read once the queue hands the operation back. */
        int result;                     /* 0, or the -errno that decides the error's kind */
        char *outcome;                  /* what was done; or what failed, and in what state it left the device */
        char *reply_text;               /* MESSAGE: the target's answer */
        bool udev_timed_out;            /* done, but udev did not report its event in time */
        UeventKind awaited_uevent;      /* the uevent it caused, for udev to process; or none */
        uint64_t uevent_seqnum_floor;   /* its seqnum is above this */

        /* A stack operation's devices, in the order they are made (CREATE_STACK, bottom first) or
         * removed (REMOVE_STACK, top first); while its table is read, where the member's rows
         * begin and whether the reading is inside them. How far it got is stack.c's. */
        StackMember *members;
        size_t n_members, n_members_allocated;
        size_t table_first_row;
        bool in_member_table;

        /* Set by whoever submits it: called on the main loop once it is over (result and outcome
         * say how), to answer for it and free it. */
        void (*finished)(Operation *op, void *userdata);
        void *finished_userdata;

        /* Cancel (operation_cancel()): asked on the main loop, read by the worker between its
         * steps. While the worker runs, its thread is poked with OPERATION_CANCEL_SIGNAL until it
         * returns, which ends an interruptible wait in the kernel (a suspend's, for its I/O) with
         * EINTR. */
        atomic_bool cancel_requested;
        pthread_mutex_t worker_lock;    /* guards the two below, the worker's and the poker's */
        pthread_t worker_thread;
        bool worker_alive;
        sd_event_source *cancel_source;
        struct Job *job;                /* job-bus.h's, while it has one */

        /* The queue's. */
        OperationQueue *queue;          /* the one it will be submitted to */
        const char *record_dir;         /* where the worker keeps its record (op-record.h) */
        char record_id[OP_RECORD_ID_MAX];
        int state;
        sd_event_source *timeout_source;
        Operation *next_on_device;      /* the FIFO of operations on one device */
        Operation *next_waiting;
};

/* request: the caller's; NULL for one the service itself asks for (a lease's Resume). */
Operation *operation_new(OperationQueue *q, OperationKind kind, sd_bus_message *request);
Operation *operation_free(Operation *op);
DEFINE_TRIVIAL_CLEANUP_FUNC(Operation *, operation_free);

/* What the queue asks of its owner: run on a worker thread, the others on the main loop. */
typedef struct OperationQueueCallbacks {
        /* Does the ioctls, fills in the outcome (operation-run.h). */
        void (*run)(Operation *op, int control_fd);
        /* Read this device again; the refresh's answer is operation_queue_refreshed(). */
        void (*mark)(dev_t devnum, void *userdata);
        /* The count of operations under way changed (operation_queue_active()). */
        void (*active_changed)(void *userdata);
        /* An operation ended, and its own finished callback ran. */
        void (*ended)(void *userdata);
} OperationQueueCallbacks;

/* control_fd is the DM control fd the workers' ioctls go through: the queue keeps a duplicate.
 * record_dir is where workers keep their records of transient steps (op-record.h). */
int operation_queue_new(sd_event *event, int control_fd, const char *record_dir, const OperationQueueCallbacks *callbacks,
                        void *userdata, OperationQueue **ret);
/* For a stop: operations that wait behind another on their device end now, with -ESHUTDOWN. */
void operation_queue_cancel_queued(OperationQueue *q);
/* How many operations are under way: submitted and not yet finished. */
size_t operation_queue_active(OperationQueue *q) _pure_;
/* Whether an operation waits for udev or the refresh: the main loop's work now, unlike one that
 * runs in the kernel or waits behind another. */
bool operation_queue_waiting(OperationQueue *q) _pure_;
/* Frees what waits; a worker still in the kernel (a suspend waiting for its I/O) keeps what it
 * needs until the process exits. */
OperationQueue *operation_queue_free(OperationQueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(OperationQueue *, operation_queue_free);

/* Takes op (made for its queue, op->finished set); its outcome comes through op->finished, now or
 * later. */
void operation_submit(Operation *op);

/* What the refresh saw: every processed udev event, and every device it read again. */
void operation_queue_udev_event(OperationQueue *q, const UdevEvent *event);
void operation_queue_refreshed(OperationQueue *q, const DevSet *devices);

/* Asks the operation to stop: a worker in the kernel is interrupted, one between steps stops
 * before the next; what is left is its outcome's to say (-ECANCELED, or done when it was too
 * late). Main loop only. */
void operation_cancel(Operation *op);
/* For the worker, and a stack between its steps: whether a cancel was asked. */
bool operation_cancel_requested(Operation *op);

/* "Create", "RemoveStack": the method, for messages and the journal's DMBUS_OPERATION. */
const char *operation_kind_to_string(OperationKind kind) _pure_;
/* "create", "remove-stack": Job.Operation's name. */
const char *operation_kind_to_name(OperationKind kind) _pure_;
/* Sets op->label to "NAME" (MAJ:MIN) of op->devnum, for messages: 0 or -ENOMEM. The bus layer
 * sets it as it makes the operation; Create's worker once the device exists. */
int operation_set_label(Operation *op, const char *name);
