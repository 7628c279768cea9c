/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "alloc-util.h"
#include "event-priority.h"
#include "handback.h"
#include "hashmap.h"
#include "log.h"
#include "operation.h"
#include "string-table.h"
#include "strv.h"
#include "time-util.h"
#include "validate.h"

enum {
        STATE_QUEUED,           /* behind another operation on its device */
        STATE_RUNNING,          /* on its worker thread */
        STATE_WAITING_FOR_UDEV,
        STATE_WAITING_FOR_REFRESH,
};

/* Owned by the main loop; a worker uses control_fd and its own operation alone. */
struct OperationQueue {
        sd_event *event;
        char *record_dir;
        uint64_t n_submitted;
        OperationQueueCallbacks callbacks;
        void *userdata;

        int control_fd;         /* shared by the workers: the kernel serializes per device */
        Handback *workers;

        Hashmap *by_device;     /* dev_t -> the operation running on it, the head of its FIFO */
        Operation *waiting;     /* for udev or for a refresh */
        size_t n_active;        /* submitted and not yet finished */
        size_t n_running;       /* on worker threads */
        /* (dev_t, UeventKind) -> the latest processed event's seqnum, kept while operations are
         * active: udev may be done with an operation's event before its worker is back. */
        Hashmap *udev_seen;
};

#define OPERATION_KIND_METHOD(id, method, name) [OPERATION_##id] = method,
#define OPERATION_KIND_NAME(id, method, name) [OPERATION_##id] = name,
static const char *const operation_kind_table[_OPERATION_KIND_MAX] = { OPERATION_KINDS(OPERATION_KIND_METHOD) };
static const char *const operation_kind_name_table[_OPERATION_KIND_MAX] = { OPERATION_KINDS(OPERATION_KIND_NAME) };
#undef OPERATION_KIND_METHOD
#undef OPERATION_KIND_NAME

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(operation_kind, OperationKind);

const char *operation_kind_to_name(OperationKind kind) {
        assert(kind >= 0 && kind < _OPERATION_KIND_MAX);
        return operation_kind_name_table[kind];
}

int operation_set_label(Operation *op, const char *name) {
        assert(op);
        assert(name);

        op->label = mfree(op->label);
        if (asprintf(&op->label, DEVICE_LABEL_FORMAT, DEVICE_LABEL_ARGS(name, op->devnum)) < 0) {
                op->label = NULL;
                return -ENOMEM;
        }
        return 0;
}

Operation *operation_new(OperationQueue *q, OperationKind kind, sd_bus_message *request) {
        Operation *op;

        assert(q);

        op = calloc(1, sizeof(Operation));
        if (!op)
                return NULL;
        op->queue = q;
        op->started_cpu_usec = thread_cpu_usec();
        op->kind = kind;
        op->request = sd_bus_message_ref(request);
        op->activate = true;
        pthread_mutex_init(&op->worker_lock, NULL);
        return op;
}

Operation *operation_free(Operation *op) {
        if (!op)
                return NULL;
        sd_bus_message_unref(op->request);
        sd_event_source_disable_unref(op->timeout_source);
        sd_event_source_disable_unref(op->cancel_source);
        pthread_mutex_destroy(&op->worker_lock);
        free(op->rows);
        for (char **p = op->owned_params; p && *p; p++)
                explicit_bzero(*p, strlen(*p));
        strv_free(op->owned_params);
        for (size_t i = 0; i < op->n_members; i++) {
                free(op->members[i].name);
                free(op->members[i].uuid);
        }
        free(op->members);
        free(op->label);
        free(op->expected_name);
        free(op->expected_uuid);
        free(op->outcome);
        if (op->reply_text)
                explicit_bzero(op->reply_text, strlen(op->reply_text));
        free(op->reply_text);
        doctor_plan_done(&op->repair);
        return mfree(op);
}

/* The end of a submitted operation: off the books, then to the owner. */
static void operation_finish(Operation *op) {
        OperationQueue *q = op->queue;

        /* Nothing waits for a udev event any more: forget the ones seen. */
        if (--q->n_active == 0)
                q->udev_seen = hashmap_free(q->udev_seen);
        q->callbacks.active_changed(q->userdata);
        op->finished(op, op->finished_userdata);
        q->callbacks.ended(q->userdata);
}

static void operation_finish_with(Operation *op, int error, const char *outcome) {
        op->result = error;
        free(op->outcome);
        op->outcome = outcome ? strdup(outcome) : NULL;
        operation_finish(op);
}

static void worker(void *userdata) {
        Operation *op = userdata;

        pthread_mutex_lock(&op->worker_lock);
        op->worker_thread = pthread_self();
        op->worker_alive = true;
        pthread_mutex_unlock(&op->worker_lock);
        op->queue->callbacks.run(op, op->queue->control_fd);
        pthread_mutex_lock(&op->worker_lock);
        op->worker_alive = false;
        pthread_mutex_unlock(&op->worker_lock);
}

/* Pokes the worker until it is back: a signal that lands before its ioctl begins is lost, the
 * next one is not. */
#define CANCEL_POKE_USEC (50 * USEC_PER_MSEC)

static int on_cancel_poke(sd_event_source *s, uint64_t usec, void *userdata) {
        Operation *op = userdata;

        pthread_mutex_lock(&op->worker_lock);
        if (op->worker_alive)
                (void) pthread_kill(op->worker_thread, OPERATION_CANCEL_SIGNAL);
        pthread_mutex_unlock(&op->worker_lock);
        return sd_event_source_set_time_relative(s, CANCEL_POKE_USEC);
}

void operation_cancel(Operation *op) {
        int r;

        assert(op);

        if (atomic_exchange(&op->cancel_requested, true) || op->state != STATE_RUNNING)
                return;
        r = sd_event_add_time_relative(op->queue->event, &op->cancel_source, CLOCK_MONOTONIC, 0, 0, on_cancel_poke, op);
        if (r >= 0)
                r = sd_event_source_set_enabled(op->cancel_source, SD_EVENT_ON);
        if (r < 0)
                log_warning_errno(r, "Cannot interrupt the worker of %s; it stops at its next step: %m", op->label ?: "an operation");
}

bool operation_cancel_requested(Operation *op) {
        return atomic_load(&op->cancel_requested);
}

static int worker_start(Operation *op) {
        OperationQueue *q = op->queue;
        int r;

        op->state = STATE_RUNNING;
        q->n_running++;
        r = handback_start(q->workers, worker, op);
        if (r < 0)
                q->n_running--;
        return r;
}

static void device_queue_advance(OperationQueue *q, Operation *done);

static void worker_start_or_finish(Operation *op) {
        int r = worker_start(op);

        if (r >= 0)
                return;
        /* Its place at the head of its device's queue goes to the next one. */
        if (op->kind != OPERATION_CREATE)
                device_queue_advance(op->queue, op);
        operation_finish_with(op, r, "Cannot start a worker thread; nothing was done.");
}

#define OPERATIONS_ACTIVE_MAX 1024

void operation_submit(Operation *op) {
        OperationQueue *q;
        Operation *head;

        assert(op);
        assert(op->queue);
        assert(op->finished);

        q = op->queue;
        q->n_active++;
        q->callbacks.active_changed(q->userdata);
        op->record_dir = q->record_dir;
        if (op->kind == OPERATION_SUSPEND && op->lease_sec > 0)
                op_record_lease_id(op->devnum, op->record_id, sizeof(op->record_id));
        else
                snprintf(op->record_id, sizeof(op->record_id), "op-%d-%" PRIu64, (int) getpid(), ++q->n_submitted);
        if (q->n_active > OPERATIONS_ACTIVE_MAX)
                return operation_finish_with(op, -EBUSY, "Too many operations are under way already; try again later.");
        op->state = STATE_QUEUED;

        /* A new device has no queue yet: the kernel refuses a second device of the same name. */
        if (op->kind == OPERATION_CREATE)
                return worker_start_or_finish(op);

        head = hashmap_get_u64(q->by_device, op->devnum);
        if (head) {
                while (head->next_on_device)
                        head = head->next_on_device;
                head->next_on_device = op;
                log_debug("%s waits behind %s on %s.", operation_kind_to_string(op->kind), operation_kind_to_string(head->kind),
                          op->label ?: "its device");
                return;
        }
        if (hashmap_put_u64(q->by_device, op->devnum, op) < 0)
                return operation_finish_with(op, -ENOMEM, "Out of memory; nothing was done.");
        worker_start_or_finish(op);
}

/* What follows an operation on its device expects what it made of the device. */
static void device_queue_follow(Operation *done) {
        const char *name = done->kind == OPERATION_RENAME ? done->name : NULL;
        const char *uuid = done->kind == OPERATION_SET_UUID ? done->uuid : NULL;

        if (done->result < 0 || (!name && !uuid))
                return;
        for (Operation *op = done->next_on_device; op; op = op->next_on_device) {
                /* Out of memory: the old value stays, and the operation answers NotFound. */
                (void) free_and_strdup(name ? &op->expected_name : &op->expected_uuid, name ?: uuid);
        }
}

/* The device's next operation, if any, starts once the one before it is back. */
static void device_queue_advance(OperationQueue *q, Operation *done) {
        Operation *next = done->next_on_device;

        device_queue_follow(done);
        if (!next) {
                (void) hashmap_remove_u64(q->by_device, done->devnum);
                return;
        }
        (void) hashmap_put_u64(q->by_device, done->devnum, next);     /* replaces: no allocation */
        worker_start_or_finish(next);
}

static void wait_for_refresh(Operation *op) {
        op->state = STATE_WAITING_FOR_REFRESH;
        op->timeout_source = sd_event_source_disable_unref(op->timeout_source);
        op->queue->callbacks.mark(op->devnum, op->queue->userdata);
}

static int on_udev_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Operation *op = userdata;

        op->udev_timed_out = true;
        wait_for_refresh(op);
        return 0;
}

static uint64_t seen_key(dev_t devnum, UeventKind kind) {
        return (uint64_t) devnum << 2 | kind;
}

static bool udev_done_with(OperationQueue *q, const Operation *op) {
        /* None seen since the first operation of this busy spell began. */
        if (!q->udev_seen)
                return false;
        return (uint64_t) (uintptr_t) hashmap_get_u64(q->udev_seen, seen_key(op->devnum, op->awaited_uevent)) > op->uevent_seqnum_floor;
}

/* Back from the worker: what the kernel did must reach udev and the graph before the answer. */
static void operation_returned(void *returned, void *userdata) {
        Operation *op = returned;
        OperationQueue *q = userdata;
        int r;

        q->n_running--;
        op->cancel_source = sd_event_source_disable_unref(op->cancel_source);
        if (op->kind != OPERATION_CREATE)
                device_queue_advance(q, op);

        /* Nothing was made: nothing to wait for. */
        if (op->devnum == 0)
                return operation_finish(op);

        op->next_waiting = q->waiting;
        q->waiting = op;
        if (op->awaited_uevent == UEVENT_NONE || udev_done_with(q, op))
                return wait_for_refresh(op);

        op->state = STATE_WAITING_FOR_UDEV;
        r = sd_event_add_time_relative(q->event, &op->timeout_source, CLOCK_MONOTONIC,
                                       op->udev_timeout_usec, 0, on_udev_timeout, op);
        if (r >= 0)
                (void) sd_event_source_set_priority(op->timeout_source, EVENT_PRIORITY_KERNEL);
        if (r < 0) {
                log_warning_errno(r, "Cannot time the wait for udev, not waiting: %m");
                wait_for_refresh(op);
        }
}

void operation_queue_udev_event(OperationQueue *q, const UdevEvent *event) {
        assert(q);
        assert(event);

        if (q->n_active == 0)
                return;
        if (!q->udev_seen) {
                q->udev_seen = hashmap_new(HASHMAP_KEY_U64);
                if (!q->udev_seen)
                        return (void) log_oom();
        }
        if (hashmap_put_u64(q->udev_seen, seen_key(event->devnum, event->kind), (void *) (uintptr_t) event->seqnum) < 0)
                return (void) log_oom();

        for (Operation *op = q->waiting; op; op = op->next_waiting)
                if (op->state == STATE_WAITING_FOR_UDEV && op->devnum == event->devnum &&
                    op->awaited_uevent == event->kind && event->seqnum > op->uevent_seqnum_floor)
                        wait_for_refresh(op);
}

void operation_queue_refreshed(OperationQueue *q, const DevSet *devices) {
        Operation **p;

        assert(q);
        assert(devices);

        p = &q->waiting;
        while (*p) {
                Operation *op = *p;

                if (op->state == STATE_WAITING_FOR_REFRESH && devset_contains(devices, op->devnum)) {
                        *p = op->next_waiting;
                        operation_finish(op);
                } else
                        p = &op->next_waiting;
        }
}

void operation_queue_cancel_queued(OperationQueue *q) {
        Operation *cancelled = NULL, **tail = &cancelled, *head;

        assert(q);

        /* Taken out of every FIFO first, answered after: an answer may submit more (a stack rolling
         * back what it made), which changes by_device. */
        for (size_t i = 0; hashmap_iterate(q->by_device, &i, (void **) &head);) {
                *tail = TAKE_PTR(head->next_on_device);
                while (*tail)
                        tail = &(*tail)->next_on_device;
        }
        while (cancelled) {
                Operation *op = cancelled;

                cancelled = TAKE_PTR(op->next_on_device);
                operation_finish_with(op, -ESHUTDOWN, "The service is stopping; nothing was done.");
        }
}

size_t operation_queue_active(OperationQueue *q) {
        assert(q);

        return q->n_active;
}

bool operation_queue_waiting(OperationQueue *q) {
        assert(q);

        return q->waiting;
}

static void on_cancel_signal(int sig) {
}

int operation_queue_new(sd_event *event, int control_fd, const char *record_dir, const OperationQueueCallbacks *callbacks,
                        void *userdata, OperationQueue **ret) {
        _cleanup_(operation_queue_freep) OperationQueue *q = NULL;
        int r;

        assert(event);
        assert(control_fd >= 0);
        assert(record_dir);
        assert(callbacks);
        assert(ret);

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (OperationQueue) {
                .event = sd_event_ref(event),
                .callbacks = *callbacks,
                .userdata = userdata,
                .control_fd = -EBADF,
        };

        q->record_dir = strdup(record_dir);
        if (!q->record_dir)
                return -ENOMEM;
        q->by_device = hashmap_new(HASHMAP_KEY_U64);
        if (!q->by_device)
                return -ENOMEM;
        /* Without SA_RESTART: the poke of a cancel ends the worker's ioctl with EINTR. */
        if (sigaction(OPERATION_CANCEL_SIGNAL, &(struct sigaction) { .sa_handler = on_cancel_signal }, NULL) < 0)
                return -errno;
        /* Our own descriptor of the same open file: it must outlive the owner's if a worker does. */
        q->control_fd = fcntl(control_fd, F_DUPFD_CLOEXEC, 3);
        if (q->control_fd < 0)
                return -errno;
        r = handback_new(event, EVENT_PRIORITY_KERNEL, operation_returned, NULL, q, &q->workers);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(q);
        return 0;
}

OperationQueue *operation_queue_free(OperationQueue *q) {
        Operation *op;

        if (!q)
                return NULL;
        /* An operation a worker still runs stays its own. */
        q->workers = handback_free(q->workers);
        while ((op = q->waiting)) {
                q->waiting = op->next_waiting;
                operation_free(op);
        }
        /* What still waits for its device goes; what runs belongs to its worker. */
        if (q->by_device)
                for (size_t i = 0; hashmap_iterate(q->by_device, &i, (void **) &op);)
                        for (Operation *queued = op->next_on_device, *next; queued; queued = next) {
                                next = queued->next_on_device;
                                operation_free(queued);
                        }
        q->event = sd_event_unref(q->event);
        if (q->n_running > 0) {
                /* A worker blocked in the kernel (a suspend waiting for its I/O) still uses the
                 * control fd: leave it to the exit that follows. */
                log_info("Exiting with %zu operation(s) still in the kernel.", q->n_running);
                return NULL;
        }
        hashmap_free(q->by_device);
        hashmap_free(q->udev_seen);
        free(q->record_dir);
        if (q->control_fd >= 0)
                close(q->control_fd);
        return mfree(q);
}
