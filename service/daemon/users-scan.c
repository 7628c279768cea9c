/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>

#include "alloc-util.h"
#include "event-priority.h"
#include "handback.h"
#include "list.h"
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
        LIST_FIELDS(UsersScanRequest, requests);
};

/* One scan's input and output, its thread's until it is handed back. */
typedef struct ScanJob {
        dev_t *devnums;
        size_t n_devnums;
        BlockUser *users;
        size_t n_users;
        int error;
} ScanJob;

struct UsersScan {
        sd_event *event;
        Handback *handback;
        bool running;
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

static void scan_job_free(void *userdata) {
        ScanJob *job = userdata;

        if (!job)
                return;
        block_users_free(job->users, job->n_users);
        free(job->devnums);
        free(job);
}

static void request_free(UsersScanRequest *r) {
        free(r->devnums);
        free(r);
}

static void scan_run(void *userdata) {
        ScanJob *job = userdata;

        job->error = block_users_scan(job->devnums, job->n_devnums, &job->users, &job->n_users);
}

/* The union of the pending requests' devices, scanned on a new thread; they wait in flight. */
static void start_next(UsersScan *s) {
        ScanJob *job;
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
        LIST_FOREACH(requests, q, s->pending)
                n += q->n_devnums;
        if (job)
                job->devnums = malloc(MAX(n, (size_t) 1) * sizeof(dev_t));
        if (!job || !job->devnums) {
                scan_job_free(job);
                r = -ENOMEM;
                goto fail;
        }
        LIST_FOREACH(requests, q, s->pending) {
                memcpy(job->devnums + job->n_devnums, q->devnums, q->n_devnums * sizeof(dev_t));
                job->n_devnums += q->n_devnums;
        }
        r = handback_start(s->handback, scan_run, job);
        if (r < 0) {
                scan_job_free(job);
                goto fail;
        }
        s->running = true;
        s->started_usec = now_usec();
        LIST_MOVE(requests, s->in_flight, s->pending);
        LIST_FOREACH(requests, q, s->in_flight)
                q->in_flight = true;
        s->n_pending = s->n_pending_privileged = 0;
        return;

fail:
        log_warning_errno(r, "Cannot start a scan for the users of devices: %m");
        while (s->pending) {
                UsersScanRequest *q = s->pending;

                LIST_REMOVE(requests, q);
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

static void on_scan_done(void *returned, void *userdata) {
        UsersScan *s = userdata;
        ScanJob *job = returned;

        s->running = false;
        s->rested_usec = 2 * now_usec() - s->started_usec;
        while (s->in_flight) {
                UsersScanRequest *q = s->in_flight;

                LIST_REMOVE(requests, q);
                answer(q, job);
                request_free(q);
        }
        scan_job_free(job);
        start_next(s);
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
        r = handback_new(event, EVENT_PRIORITY_KERNEL, on_scan_done, scan_job_free, s, &s->handback);
        if (r < 0)
                return r;
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
        if (!s)
                return NULL;
        /* A scan still running frees its job on its thread. */
        s->handback = handback_free(s->handback);
        s->rest_source = sd_event_source_disable_unref(s->rest_source);
        for (UsersScanRequest **list = &s->pending; list; list = list == &s->pending ? &s->in_flight : NULL)
                while (*list) {
                        UsersScanRequest *q = *list;

                        LIST_REMOVE(requests, q);
                        request_free(q);
                }
        s->event = sd_event_unref(s->event);
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
        LIST_PREPEND(requests, s->pending, q);
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
        LIST_REMOVE(requests, q);
        request_free(q);
}
