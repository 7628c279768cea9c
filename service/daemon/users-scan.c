/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/param.h>
#include <unistd.h>

#include "alloc-util.h"
#include "event-priority.h"
#include "log.h"
#include "time-util.h"
#include "users-scan.h"

/* Unprivileged requests waiting at once: each holds a few dev_t until the next scan. */
#define USERS_SCAN_PENDING_MAX 256

struct UsersScanRequest {
        UsersScan *scan;
        dev_t *devnums;
        size_t n_devnums;
        UsersScanCallback callback;
        void *userdata;
        bool privileged;
        bool in_flight;
        UsersScanRequest *next, **pprev;
};

/* One scan's input and output, owned by its thread until it is handed back through done_fd. */
typedef struct ScanJob {
        dev_t *devnums;
        size_t n_devnums;
        BlockUser *users;
        size_t n_users;
        int error;
        int done_fd;
        pthread_mutex_t *lock;
        bool *orphaned;         /* the scanner went away: the thread frees what is left */
} ScanJob;

struct UsersScan {
        sd_event *event;
        int done_fd;
        sd_event_source *done_source;
        pthread_mutex_t lock;
        bool running;
        bool orphaned;
        ScanJob *job;
        UsersScanRequest *pending;      /* for the next scan */
        UsersScanRequest *in_flight;    /* answered by the running one */
        size_t n_pending;               /* unprivileged ones */
        size_t n_pending_privileged;
        /* A scan for unprivileged requests alone starts no sooner than this: after one, the thread
         * rests as long as it worked. */
        uint64_t rested_usec;
        uint64_t started_usec;
        sd_event_source *rest_source;
};

static void scan_job_free(ScanJob *job) {
        if (!job)
                return;
        block_users_free(job->users, job->n_users);
        free(job->devnums);
        free(job);
}

static void request_unlink(UsersScanRequest *r) {
        *r->pprev = r->next;
        if (r->next)
                r->next->pprev = r->pprev;
}

static void request_link(UsersScanRequest **head, UsersScanRequest *r) {
        r->next = *head;
        if (*head)
                (*head)->pprev = &r->next;
        r->pprev = head;
        *head = r;
}

static void request_free(UsersScanRequest *r) {
        free(r->devnums);
        free(r);
}

static void *scan_thread(void *userdata) {
        ScanJob *job = userdata;
        bool orphaned;

        job->error = block_users_scan(job->devnums, job->n_devnums, &job->users, &job->n_users);

        pthread_mutex_lock(job->lock);
        orphaned = *job->orphaned;
        pthread_mutex_unlock(job->lock);
        if (orphaned)
                scan_job_free(job);
        else
                (void) eventfd_write(job->done_fd, 1);
        return NULL;
}

/* The union of the pending requests' devices, scanned on a new thread; they wait in flight. */
static void start_next(UsersScan *s) {
        ScanJob *job;
        pthread_attr_t attr;
        pthread_t thread;
        size_t n = 0;
        int r;

        if (s->running || !s->pending)
                return;
        if (s->n_pending_privileged == 0 && now_usec() < s->rested_usec) {
                r = sd_event_source_set_time(s->rest_source, s->rested_usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->rest_source, SD_EVENT_ONESHOT);
                if (r >= 0)
                        return;
        }
        job = calloc(1, sizeof(ScanJob));
        for (UsersScanRequest *q = s->pending; q; q = q->next)
                n += q->n_devnums;
        if (job)
                job->devnums = malloc(MAX(n, (size_t) 1) * sizeof(dev_t));
        if (!job || !job->devnums) {
                scan_job_free(job);
                r = -ENOMEM;
                goto fail;
        }
        for (UsersScanRequest *q = s->pending; q; q = q->next) {
                memcpy(job->devnums + job->n_devnums, q->devnums, q->n_devnums * sizeof(dev_t));
                job->n_devnums += q->n_devnums;
        }
        job->done_fd = s->done_fd;
        job->lock = &s->lock;
        job->orphaned = &s->orphaned;

        r = -pthread_attr_init(&attr);
        if (r == 0) {
                r = -pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                if (r == 0)
                        r = -pthread_create(&thread, &attr, scan_thread, job);
                pthread_attr_destroy(&attr);
        }
        if (r < 0) {
                scan_job_free(job);
                goto fail;
        }
        s->job = job;
        s->running = true;
        s->started_usec = now_usec();
        s->in_flight = TAKE_PTR(s->pending);
        if (s->in_flight)
                s->in_flight->pprev = &s->in_flight;
        for (UsersScanRequest *q = s->in_flight; q; q = q->next)
                q->in_flight = true;
        s->n_pending = s->n_pending_privileged = 0;
        return;

fail:
        log_warning_errno(r, "Cannot start a scan for the users of devices: %m");
        while (s->pending) {
                UsersScanRequest *q = s->pending;

                request_unlink(q);
                q->callback(NULL, 0, r, q->userdata);
                request_free(q);
        }
        s->n_pending = s->n_pending_privileged = 0;
}

/* Hands each request in flight the users of its own devices. */
static void answer(UsersScanRequest *q, const ScanJob *job) {
        _cleanup_(freep) BlockUser *mine = NULL;
        size_t n = 0;

        if (job->error < 0)
                return q->callback(NULL, 0, job->error, q->userdata);
        mine = malloc(MAX(job->n_users, (size_t) 1) * sizeof(BlockUser));
        if (!mine)
                return q->callback(NULL, 0, -ENOMEM, q->userdata);
        /* Shallow copies: the strings stay the job's. */
        for (size_t i = 0; i < job->n_users; i++)
                for (size_t k = 0; k < q->n_devnums; k++)
                        if (job->users[i].devnum == q->devnums[k]) {
                                mine[n++] = job->users[i];
                                break;
                        }
        q->callback(mine, n, 0, q->userdata);
}

static int on_scan_done(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        UsersScan *s = userdata;
        ScanJob *job = TAKE_PTR(s->job);
        eventfd_t value;

        (void) eventfd_read(s->done_fd, &value);
        s->running = false;
        s->rested_usec = 2 * now_usec() - s->started_usec;
        while (s->in_flight) {
                UsersScanRequest *q = s->in_flight;

                request_unlink(q);
                answer(q, job);
                request_free(q);
        }
        scan_job_free(job);
        start_next(s);
        return 0;
}

static int on_rested(sd_event_source *source, uint64_t usec, void *userdata) {
        start_next(userdata);
        return 0;
}

int users_scan_new(sd_event *event, UsersScan **ret) {
        _cleanup_(users_scan_freep) UsersScan *s = NULL;
        int r;

        assert(event);
        assert(ret);

        s = calloc(1, sizeof(UsersScan));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        pthread_mutex_init(&s->lock, NULL);
        s->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->done_fd < 0)
                return -errno;
        r = sd_event_add_io(event, &s->done_source, s->done_fd, EPOLLIN, on_scan_done, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_priority(s->done_source, EVENT_PRIORITY_KERNEL);
        r = sd_event_add_time(event, &s->rest_source, CLOCK_MONOTONIC, 0, 0, on_rested, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->rest_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

UsersScan *users_scan_free(UsersScan *s) {
        bool running;

        if (!s)
                return NULL;
        s->done_source = sd_event_source_disable_unref(s->done_source);
        s->rest_source = sd_event_source_disable_unref(s->rest_source);
        for (UsersScanRequest **list = &s->pending; list; list = list == &s->pending ? &s->in_flight : NULL)
                while (*list) {
                        UsersScanRequest *q = *list;

                        request_unlink(q);
                        request_free(q);
                }
        s->event = sd_event_unref(s->event);
        pthread_mutex_lock(&s->lock);
        running = s->running;
        s->orphaned = true;
        pthread_mutex_unlock(&s->lock);
        /* A scan still running frees its job; the lock and the fd go with the process. */
        if (running)
                return NULL;
        if (s->done_fd >= 0)
                close(s->done_fd);
        pthread_mutex_destroy(&s->lock);
        return mfree(s);
}

int users_scan_request(UsersScan *s, const dev_t *devnums, size_t n, bool privileged, UsersScanCallback callback,
                       void *userdata, UsersScanRequest **ret) {
        UsersScanRequest *q;

        assert(s);
        assert(devnums || n == 0);
        assert(callback);

        if (!privileged && s->n_pending >= USERS_SCAN_PENDING_MAX)
                return -EBUSY;
        q = calloc(1, sizeof(UsersScanRequest));
        if (!q)
                return -ENOMEM;
        q->devnums = malloc(MAX(n, (size_t) 1) * sizeof(dev_t));
        if (!q->devnums) {
                free(q);
                return -ENOMEM;
        }
        memcpy(q->devnums, devnums, n * sizeof(dev_t));
        *q = (UsersScanRequest) { .scan = s, .devnums = q->devnums, .n_devnums = n, .callback = callback, .userdata = userdata,
                                  .privileged = privileged };
        request_link(&s->pending, q);
        if (privileged)
                s->n_pending_privileged++;
        else
                s->n_pending++;
        if (ret)
                *ret = q;
        start_next(s);
        return 0;
}

void users_scan_request_cancel(UsersScanRequest *q) {
        if (!q)
                return;
        if (!q->in_flight && q->privileged)
                q->scan->n_pending_privileged--;
        else if (!q->in_flight)
                q->scan->n_pending--;
        request_unlink(q);
        request_free(q);
}
