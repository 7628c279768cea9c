/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloc-util.h"
#include "handback.h"

typedef struct Job {
        Handback *handback;
        void (*run)(void *job);
        void *job;
        struct Job *next_returned;
} Job;

struct Handback {
        sd_event_source *source;        /* the owner's side, on the loop */
        void (*returned)(void *job, void *userdata);
        void (*discard)(void *job);
        void *userdata;

        /* Shared with the threads: under lock. */
        pthread_mutex_t lock;
        int fd;                         /* eventfd: a job ended */
        Job *returned_list;
        unsigned n_running;
        bool orphaned;                  /* the owner went: the last thread frees all */
};

static void handback_destroy(Handback *h) {
        if (h->fd >= 0)
                close(h->fd);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

static void *thread_main(void *userdata) {
        Job *job = userdata;
        Handback *h = job->handback;
        bool last;

        job->run(job->job);

        pthread_mutex_lock(&h->lock);
        if (!h->orphaned) {
                job->next_returned = h->returned_list;
                h->returned_list = TAKE_PTR(job);
                /* Under the lock: the owner cannot close the fd meanwhile. */
                (void) eventfd_write(h->fd, 1);
        }
        last = --h->n_running == 0 && h->orphaned;
        pthread_mutex_unlock(&h->lock);
        if (job) {
                if (h->discard)
                        h->discard(job->job);
                free(job);
        }
        if (last)
                handback_destroy(h);
        return NULL;
}

static int on_returned(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Handback *h = userdata;
        eventfd_t value;
        Job *list;

        (void) eventfd_read(h->fd, &value);
        pthread_mutex_lock(&h->lock);
        list = TAKE_PTR(h->returned_list);
        pthread_mutex_unlock(&h->lock);
        while (list) {
                Job *job = list;

                list = job->next_returned;
                h->returned(job->job, h->userdata);
                free(job);
        }
        return 0;
}

int handback_new(sd_event *event, int64_t priority, void (*returned)(void *job, void *userdata),
                 void (*discard)(void *job), void *userdata, Handback **ret) {
        _cleanup_(handback_freep) Handback *h = NULL;
        int r;

        assert(event);
        assert(returned);
        assert(ret);

        h = calloc(1, sizeof(Handback));
        if (!h)
                return -ENOMEM;
        *h = (Handback) { .returned = returned, .discard = discard, .userdata = userdata, .fd = -EBADF };
        pthread_mutex_init(&h->lock, NULL);
        h->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (h->fd < 0)
                return -errno;
        r = sd_event_add_io(event, &h->source, h->fd, EPOLLIN, on_returned, h);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(h->source, priority);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

Handback *handback_free(Handback *h) {
        bool running;
        Job *list;

        if (!h)
                return NULL;
        h->source = sd_event_source_disable_unref(h->source);
        pthread_mutex_lock(&h->lock);
        h->orphaned = true;
        running = h->n_running > 0;
        list = TAKE_PTR(h->returned_list);
        pthread_mutex_unlock(&h->lock);
        while (list) {
                Job *job = list;

                list = job->next_returned;
                if (h->discard)
                        h->discard(job->job);
                free(job);
        }
        if (!running)
                handback_destroy(h);
        return NULL;
}

int handback_start(Handback *h, void (*run)(void *job), void *job) {
        pthread_attr_t attr;
        pthread_t thread;
        Job *j;
        int r;

        assert(h);
        assert(run);

        j = malloc(sizeof(Job));
        if (!j)
                return -ENOMEM;
        *j = (Job) { .handback = h, .run = run, .job = job };
        r = pthread_attr_init(&attr);
        if (r != 0) {
                free(j);
                return -r;
        }
        r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* Counted first: a thread that ends at once finds itself counted. */
        pthread_mutex_lock(&h->lock);
        h->n_running++;
        pthread_mutex_unlock(&h->lock);
        if (r == 0)
                r = pthread_create(&thread, &attr, thread_main, j);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                pthread_mutex_lock(&h->lock);
                h->n_running--;
                pthread_mutex_unlock(&h->lock);
                free(j);
                return -r;
        }
        return 0;
}
