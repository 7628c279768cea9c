/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bus-error.h"
#include "device-bus.h"
#include "hashmap.h"
#include "log.h"
#include "operation.h"
#include "refresh.h"

enum {
        STATE_QUEUED,           /* behind another operation on its device */
        STATE_RUNNING,          /* on its worker thread */
        STATE_WAITING_FOR_UDEV,
        STATE_WAITING_FOR_REFRESH,
};

/* The operations under way, owned by the main loop, except done_list, which workers append to. */
struct OperationQueue {
        int control_fd;         /* shared by the workers: the kernel serializes per device */
        int done_fd;            /* eventfd: a worker handed an operation back */
        sd_event_source *done_source;
        pthread_mutex_t done_lock;
        Operation *done_list;

        Hashmap *by_device;     /* dev_t -> the operation running on it, the head of its FIFO */
        Operation *waiting;     /* for udev or for a refresh */
        size_t n_active;        /* submitted and not yet answered */
        size_t n_running;       /* on worker threads */
        /* (dev_t, UeventKind) -> the latest processed event's seqnum, kept while operations are
         * active: udev may be done with an operation's event before its worker is back. */
        Hashmap *udev_seen;
};

static const char *const kind_names[] = {
        [OPERATION_CREATE] = "Create",
        [OPERATION_LOAD] = "Load",
        [OPERATION_CLEAR_INACTIVE] = "ClearInactive",
        [OPERATION_SUSPEND] = "Suspend",
        [OPERATION_RESUME] = "Resume",
        [OPERATION_RELOAD] = "Reload",
        [OPERATION_REMOVE] = "Remove",
        [OPERATION_RENAME] = "Rename",
        [OPERATION_SET_UUID] = "SetUUID",
        [OPERATION_MESSAGE] = "SendMessage",
};

Operation *operation_new(Manager *m, OperationKind kind, sd_bus_message *request) {
        Operation *op = calloc(1, sizeof(Operation));

        if (!op)
                return NULL;
        op->kind = kind;
        op->manager = m;
        op->request = sd_bus_message_ref(request);
        op->activate = true;
        return op;
}

Operation *operation_free(Operation *op) {
        if (!op)
                return NULL;
        sd_bus_message_unref(op->request);
        sd_event_source_disable_unref(op->timeout_source);
        free(op->rows);
        free(op->label);
        free(op->error_message);
        free(op->description);
        if (op->reply_text)
                explicit_bzero(op->reply_text, strlen(op->reply_text));
        free(op->reply_text);
        return mfree(op);
}

/* Written on whichever path an operation leaves by, so the service's log tells what was done. */
static void log_outcome(const Operation *op, const char *outcome) {
        log_info("%s from %s: %s", kind_names[op->kind], sd_bus_message_get_sender(op->request) ?: "?", outcome);
}

void operation_fail(Operation *op, const char *error_name, const char *format, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *text = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&text, format, ap);
        va_end(ap);
        if (r < 0)
                text = NULL;
        log_outcome(op, text ?: "out of memory");
        (void) sd_bus_error_set(&error, error_name, text ?: "Out of memory.");
        (void) sd_bus_reply_method_error(op->request, &error);
        operation_free(op);
}

static int reply_success(Operation *op) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        switch (op->kind) {
        case OPERATION_CREATE:
                return sd_bus_reply_method_return(op->request, "o", block_object_path(op->devnum, buf));
        case OPERATION_MESSAGE:
                return sd_bus_reply_method_return(op->request, "s", op->reply_text);
        default:
                return sd_bus_reply_method_return(op->request, NULL);
        }
}

/* The end of a submitted operation: the answer, then its place in the books. */
static void operation_answer(Operation *op) {
        struct OperationQueue *q = op->manager->operations;

        if (op->error_name)
                operation_fail(op, op->error_name, "%s", op->error_message ?: "Out of memory.");
        else if (op->udev_timed_out)
                operation_fail(op, DMBUS_ERROR_TIMEOUT,
                               "%s, but udev did not report the device processed within %" PRIu64 " ms: its links in /dev "
                               "may be missing or stale. Is systemd-udevd running?",
                               op->description ?: "It was done", op->udev_timeout_usec / 1000);
        else {
                log_outcome(op, op->description ?: "done");
                (void) reply_success(op);
                operation_free(op);
        }
        /* Nothing waits for a udev event any more: forget the ones seen. */
        if (--q->n_active == 0)
                q->udev_seen = hashmap_free(q->udev_seen);
}

static void *worker(void *userdata) {
        Operation *op = userdata;
        struct OperationQueue *q = op->manager->operations;

        operation_run(op, q->control_fd);

        pthread_mutex_lock(&q->done_lock);
        op->next_done = q->done_list;
        q->done_list = op;
        pthread_mutex_unlock(&q->done_lock);
        (void) eventfd_write(q->done_fd, 1);
        return NULL;
}

static int start_worker(Operation *op) {
        struct OperationQueue *q = op->manager->operations;
        pthread_attr_t attr;
        pthread_t thread;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0) {
                op->state = STATE_RUNNING;
                q->n_running++;
                r = pthread_create(&thread, &attr, worker, op);
                if (r != 0)
                        q->n_running--;
        }
        pthread_attr_destroy(&attr);
        return -r;
}

static void device_queue_advance(struct OperationQueue *q, Operation *done);

static void start_or_answer(Operation *op) {
        int r = start_worker(op);

        if (r < 0) {
                op->error_name = DMBUS_ERROR_FAILED;
                if (asprintf(&op->error_message, "Cannot start a worker thread: %s.", strerror(-r)) < 0)
                        op->error_message = NULL;
                /* Its place at the head of its device's queue goes to the next one. */
                if (op->kind != OPERATION_CREATE)
                        device_queue_advance(op->manager->operations, op);
                operation_answer(op);
        }
}

#define OPERATIONS_ACTIVE_MAX 1024

void operation_submit(Operation *op) {
        struct OperationQueue *q = op->manager->operations;
        Operation *head;

        if (q->n_active >= OPERATIONS_ACTIVE_MAX) {
                operation_fail(op, DMBUS_ERROR_BUSY, "%d operations are under way already; try again later.", OPERATIONS_ACTIVE_MAX);
                return;
        }
        q->n_active++;
        op->state = STATE_QUEUED;

        /* A new device has no queue yet: the kernel refuses a second device of the same name. */
        if (op->kind == OPERATION_CREATE) {
                start_or_answer(op);
                return;
        }
        head = hashmap_get_u64(q->by_device, op->devnum);
        if (head) {
                while (head->next_on_device)
                        head = head->next_on_device;
                head->next_on_device = op;
                return;
        }
        if (hashmap_put_u64(q->by_device, op->devnum, op) < 0) {
                op->error_name = DMBUS_ERROR_FAILED;
                operation_answer(op);
                return;
        }
        start_or_answer(op);
}

/* The device's next operation, if any, starts once the one before it is back. */
static void device_queue_advance(struct OperationQueue *q, Operation *done) {
        Operation *next = done->next_on_device;

        if (!next) {
                (void) hashmap_remove_u64(q->by_device, done->devnum);
                return;
        }
        (void) hashmap_put_u64(q->by_device, done->devnum, next);     /* replaces: no allocation */
        start_or_answer(next);
}

static void wait_for_refresh(Operation *op) {
        op->state = STATE_WAITING_FOR_REFRESH;
        op->timeout_source = sd_event_source_disable_unref(op->timeout_source);
        refresh_mark(op->manager, op->devnum);
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

static bool udev_done_with(struct OperationQueue *q, const Operation *op) {
        /* None seen since the first operation of this busy spell began. */
        if (!q->udev_seen)
                return false;
        return (uint64_t) (uintptr_t) hashmap_get_u64(q->udev_seen, seen_key(op->devnum, op->awaited_uevent)) > op->uevent_seqnum_floor;
}

/* Back from the worker: what the kernel did must reach udev and the graph before the answer. */
static void operation_returned(Operation *op) {
        struct OperationQueue *q = op->manager->operations;
        int r;

        q->n_running--;
        if (op->kind != OPERATION_CREATE)
                device_queue_advance(q, op);

        /* Nothing was made: nothing to wait for. */
        if (op->devnum == 0) {
                operation_answer(op);
                return;
        }

        op->next_waiting = q->waiting;
        q->waiting = op;
        if (op->awaited_uevent == UEVENT_NONE || udev_done_with(q, op)) {
                wait_for_refresh(op);
                return;
        }
        op->state = STATE_WAITING_FOR_UDEV;
        r = sd_event_add_time_relative(op->manager->event, &op->timeout_source, CLOCK_MONOTONIC,
                                       op->udev_timeout_usec, 0, on_udev_timeout, op);
        if (r < 0) {
                log_warning_errno(r, "Cannot time the wait for udev, not waiting: %m");
                wait_for_refresh(op);
        }
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct OperationQueue *q = userdata;
        Operation *list;
        eventfd_t value;

        (void) eventfd_read(q->done_fd, &value);
        pthread_mutex_lock(&q->done_lock);
        list = TAKE_PTR(q->done_list);
        pthread_mutex_unlock(&q->done_lock);

        while (list) {
                Operation *op = list;

                list = op->next_done;
                operation_returned(op);
        }
        return 0;
}

void operations_udev_event(Manager *m, const UdevEvent *event) {
        struct OperationQueue *q = m->operations;

        if (!q || q->n_active == 0)
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

void operations_refreshed(Manager *m, const DevSet *devices) {
        struct OperationQueue *q = m->operations;
        Operation **p = &q->waiting;

        while (*p) {
                Operation *op = *p;

                if (op->state == STATE_WAITING_FOR_REFRESH && devset_contains(devices, op->devnum)) {
                        *p = op->next_waiting;
                        operation_answer(op);
                } else
                        p = &op->next_waiting;
        }
}

int operations_start(Manager *m) {
        struct OperationQueue *q;
        int r;

        q = calloc(1, sizeof(*q));
        if (!q)
                return log_oom();
        m->operations = q;
        q->control_fd = q->done_fd = -EBADF;
        pthread_mutex_init(&q->done_lock, NULL);

        q->by_device = hashmap_new(HASHMAP_KEY_U64);
        if (!q->by_device)
                return log_oom();
        q->control_fd = dm_ops_open_control();
        if (q->control_fd < 0)
                return log_error_errno(q->control_fd, "Failed to open /dev/mapper/control for the workers: %m");
        q->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->done_fd < 0)
                return log_error_errno(errno, "Failed to make the workers' eventfd: %m");
        r = sd_event_add_io(m->event, &q->done_source, q->done_fd, EPOLLIN, on_done, q);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the workers' eventfd: %m");
        return 0;
}

void operations_stop(Manager *m) {
        struct OperationQueue *q = TAKE_PTR(m->operations);
        Operation *op;

        if (!q)
                return;
        q->done_source = sd_event_source_disable_unref(q->done_source);
        while ((op = q->waiting)) {
                q->waiting = op->next_waiting;
                operation_free(op);
        }
        /* What still waits for its device goes; what runs belongs to its worker. */
        for (size_t i = 0; hashmap_iterate(q->by_device, &i, (void **) &op);)
                for (Operation *queued = op->next_on_device, *next; queued; queued = next) {
                        next = queued->next_on_device;
                        operation_free(queued);
                }
        if (q->n_running > 0) {
                /* A worker blocked in the kernel (a suspend waiting for its I/O) still holds q:
                 * leave it to the exit that follows. */
                log_info("Exiting with %zu operation(s) still in the kernel.", q->n_running);
                return;
        }
        hashmap_free(q->by_device);
        hashmap_free(q->udev_seen);
        if (q->control_fd >= 0)
                close(q->control_fd);
        if (q->done_fd >= 0)
                close(q->done_fd);
        pthread_mutex_destroy(&q->done_lock);
        free(q);
}
