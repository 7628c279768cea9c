/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdatomic.h>

#include <glib.h>

#include "handback.h"

#define JOBS 64

typedef struct Counts {
        atomic_int ran, returned, discarded;
        sd_event *event;
} Counts;

static void run(void *job) {
        Counts *c = job;

        g_usleep(g_random_int_range(0, 2000));
        atomic_fetch_add(&c->ran, 1);
}

static void on_returned(void *job, void *userdata) {
        Counts *c = userdata;

        g_assert_true(job == c);
        if (atomic_fetch_add(&c->returned, 1) + 1 == JOBS)
                (void) sd_event_exit(c->event, 0);
}

static void on_discard(void *job) {
        Counts *c = job;

        atomic_fetch_add(&c->discarded, 1);
}

/* Every job runs on a thread, and comes back on the loop once. */
static void test_every_job_returns(void) {
        Counts c = {};
        Handback *h;

        g_assert_cmpint(sd_event_new(&c.event), >=, 0);
        g_assert_cmpint(handback_new(c.event, 0, on_returned, on_discard, &c, &h), ==, 0);
        for (unsigned i = 0; i < JOBS; i++)
                g_assert_cmpint(handback_start(h, run, &c), ==, 0);
        g_assert_cmpint(sd_event_loop(c.event), ==, 0);
        g_assert_cmpint(c.ran, ==, JOBS);
        g_assert_cmpint(c.returned, ==, JOBS);
        g_assert_cmpint(c.discarded, ==, 0);
        handback_free(h);
        sd_event_unref(c.event);
}

static void run_until_released(void *job) {
        GMutex *release = job;

        g_mutex_lock(release);
        g_mutex_unlock(release);
}

static atomic_int discarded_after_owner;

static void count_discard(void *job) {
        atomic_fetch_add(&discarded_after_owner, 1);
}

static void never_returned(void *job, void *userdata) {
        g_assert_not_reached();
}

/* The owner goes while jobs run: each is discarded on its thread once it ends, never returned. */
static void test_owner_goes_first(void) {
        GMutex release;
        sd_event *event;
        Handback *h;

        g_mutex_init(&release);
        g_mutex_lock(&release);
        g_assert_cmpint(sd_event_new(&event), >=, 0);
        g_assert_cmpint(handback_new(event, 0, never_returned, count_discard, NULL, &h), ==, 0);
        for (unsigned i = 0; i < 4; i++)
                g_assert_cmpint(handback_start(h, run_until_released, &release), ==, 0);
        handback_free(h);
        sd_event_unref(event);
        g_mutex_unlock(&release);
        for (unsigned i = 0; i < 5000 && atomic_load(&discarded_after_owner) < 4; i++)
                g_usleep(1000);
        g_assert_cmpint(atomic_load(&discarded_after_owner), ==, 4);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/handback/every-job-returns", test_every_job_returns);
        g_test_add_func("/handback/owner-goes-first", test_owner_goes_first);
        return g_test_run();
}
