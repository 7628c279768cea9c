/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-util.h"
#include "links-scan.h"
#include "strv.h"

/* Three are plenty: beyond that the ioctls on the caller's thread are the longer part. */
#define WORKERS_MAX 3
/* A thread costs about as much to start as this many devices' links. */
#define DEVICES_PER_WORKER 32

typedef struct LinksResult {
        int r;
        char **links;
} LinksResult;

struct LinksScan {
        unsigned *minors;
        LinksResult *results;
        size_t n;
        atomic_size_t next;
        pthread_t workers[WORKERS_MAX];
        size_t n_workers;
        bool finished;
};

static void read_remaining(LinksScan *s, UdevSysfs *u) {
        for (;;) {
                size_t i = atomic_fetch_add(&s->next, 1);

                if (i >= s->n)
                        return;
                s->results[i].r = udev_sysfs_read_dm_links(u, s->minors[i], &s->results[i].links);
        }
}

/* libudev wants a context per thread. Without one, this worker leaves its share to the others. */
static void *worker(void *userdata) {
        _cleanup_(udev_sysfs_freep) UdevSysfs *u = NULL;

        if (udev_sysfs_new(&u) >= 0)
                read_remaining(userdata, u);
        return NULL;
}

static size_t workers_wanted(size_t n) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t w = cpus > 1 ? (size_t) cpus - 1 : 0;

        if (w > WORKERS_MAX)
                w = WORKERS_MAX;
        if (w > n / DEVICES_PER_WORKER)
                w = n / DEVICES_PER_WORKER;
        return w;
}

int links_scan_start(const unsigned *minors, size_t n, LinksScan **ret) {
        _cleanup_(links_scan_freep) LinksScan *s = NULL;
        size_t wanted = workers_wanted(n);
        sigset_t all, saved;

        assert(minors || n == 0);
        assert(ret);

        s = calloc(1, sizeof(LinksScan));
        if (!s)
                return -ENOMEM;
        s->minors = malloc((n ?: 1) * sizeof(unsigned));
        s->results = calloc(n ?: 1, sizeof(LinksResult));
        if (!s->minors || !s->results)
                return -ENOMEM;
        if (n > 0)
                memcpy(s->minors, minors, n * sizeof(unsigned));
        s->n = n;
        atomic_init(&s->next, 0);

        /* Signals are the main loop's business. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        while (s->n_workers < wanted && pthread_create(&s->workers[s->n_workers], NULL, worker, s) == 0)
                s->n_workers++;
        pthread_sigmask(SIG_SETMASK, &saved, NULL);

        *ret = TAKE_PTR(s);
        return 0;
}

static void join_workers(LinksScan *s) {
        for (size_t i = 0; i < s->n_workers; i++)
                pthread_join(s->workers[i], NULL);
        s->n_workers = 0;
}

void links_scan_finish(LinksScan *s, UdevSysfs *u) {
        assert(s);
        assert(u);

        read_remaining(s, u);
        join_workers(s);
        s->finished = true;
}

int links_scan_take(LinksScan *s, size_t i, char ***ret) {
        assert(s);
        assert(s->finished);
        assert(i < s->n);
        assert(ret);

        if (s->results[i].r < 0)
                return s->results[i].r;
        *ret = TAKE_PTR(s->results[i].links);
        return 0;
}

LinksScan *links_scan_free(LinksScan *s) {
        if (!s)
                return NULL;
        /* Unfinished, nobody will take the results: stop handing out work, then wait. */
        atomic_store(&s->next, s->n);
        join_workers(s);
        for (size_t i = 0; i < s->n; i++)
                strv_free(s->results[i].links);
        free(s->results);
        free(s->minors);
        return mfree(s);
}
