/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <glib.h>

#include "operation.h"

/* The queue's state machine on the host, with a fake worker: what the kernel and udev would do is
 * the test's. */

#define DEVICES 3
#define PER_DEVICE 4

typedef struct Fixture {
        sd_event *event;
        sd_bus *bus;
        sd_bus_message *request;
        OperationQueue *queue;
        char *record_dir;
        sd_event_source *refresh_source;
        DevSet marked;                  /* what the "refresh" reads next */
        unsigned finished[DEVICES];     /* per device, in the order they finished */
        int order[DEVICES][PER_DEVICE];
        int results[DEVICES * PER_DEVICE];
        unsigned n_finished, n_expected;
        GMutex hold;                    /* the fake worker waits on it while holding is set */
        atomic_bool holding;
} Fixture;

static Fixture fx;
static atomic_int running[DEVICES];
static atomic_int overlaps;

static unsigned device_index(dev_t devnum) {
        return minor(devnum);
}

/* The worker: one at a time on each device, never two. */
static void fake_run(Operation *op, int control_fd) {
        unsigned d = device_index(op->devnum);

        if (atomic_fetch_add(&running[d], 1) != 0)
                atomic_fetch_add(&overlaps, 1);
        if (atomic_load(&fx.holding)) {
                g_mutex_lock(&fx.hold);
                g_mutex_unlock(&fx.hold);
        }
        g_usleep(g_random_int_range(0, 3000));
        op->result = 0;
        op->awaited_uevent = UEVENT_NONE;
        atomic_fetch_sub(&running[d], 1);
}

static int on_refresh(sd_event_source *s, void *userdata) {
        DevSet batch = fx.marked;

        fx.marked = (DevSet) {};
        operation_queue_refreshed(fx.queue, &batch);
        devset_done(&batch);
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* As the refresh does: read later in the loop, then tell the queue. */
static void on_mark(dev_t devnum, void *userdata) {
        g_assert_cmpint(devset_add(&fx.marked, devnum), >=, 0);
        g_assert_cmpint(sd_event_source_set_enabled(fx.refresh_source, SD_EVENT_ONESHOT), >=, 0);
}

static void on_active_changed(void *userdata) {
}

static void on_ended(void *userdata) {
        if (fx.n_finished == fx.n_expected && operation_queue_active(fx.queue) == 0)
                (void) sd_event_exit(fx.event, 0);
}

static void on_finished(Operation *op, void *userdata) {
        unsigned d = device_index(op->devnum), nth = (unsigned) (uintptr_t) userdata;

        fx.order[d][fx.finished[d]++] = (int) nth;
        fx.results[d * PER_DEVICE + nth] = op->result;
        fx.n_finished++;
        operation_free(op);
}

static void fixture_set_up(void) {
        static const OperationQueueCallbacks callbacks = {
                .run = fake_run,
                .mark = on_mark,
                .active_changed = on_active_changed,
                .ended = on_ended,
        };
        int pair[2], control_fd;

        fx = (Fixture) {};
        g_mutex_init(&fx.hold);
        g_assert_cmpint(sd_event_new(&fx.event), >=, 0);
        /* A started bus, so that a request can be made; nothing answers at the other end. */
        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
        g_assert_cmpint(sd_bus_new(&fx.bus), >=, 0);
        g_assert_cmpint(sd_bus_set_fd(fx.bus, pair[0], pair[0]), >=, 0);
        g_assert_cmpint(sd_bus_start(fx.bus), >=, 0);
        close(pair[1]);
        g_assert_cmpint(sd_bus_message_new_method_call(fx.bus, &fx.request, "org.example", "/", "org.example", "Call"), >=, 0);
        fx.record_dir = g_dir_make_tmp("test-operation-queue-XXXXXX", NULL);
        g_assert_nonnull(fx.record_dir);
        control_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        g_assert_cmpint(control_fd, >=, 0);
        g_assert_cmpint(operation_queue_new(fx.event, control_fd, fx.record_dir, &callbacks, NULL, &fx.queue), ==, 0);
        close(control_fd);
        g_assert_cmpint(sd_event_add_defer(fx.event, &fx.refresh_source, on_refresh, NULL), >=, 0);
        g_assert_cmpint(sd_event_source_set_enabled(fx.refresh_source, SD_EVENT_OFF), >=, 0);
}

static void fixture_tear_down(void) {
        sd_event_source_disable_unref(fx.refresh_source);
        operation_queue_free(fx.queue);
        devset_done(&fx.marked);
        sd_bus_message_unref(fx.request);
        sd_bus_flush_close_unref(fx.bus);
        sd_event_unref(fx.event);
        g_assert_cmpint(rmdir(fx.record_dir), ==, 0);
        g_free(fx.record_dir);
        g_mutex_clear(&fx.hold);
}

static void submit(unsigned device, unsigned nth) {
        Operation *op = operation_new(fx.queue, OPERATION_SUSPEND, fx.request);

        g_assert_nonnull(op);
        op->devnum = makedev(254, device);
        op->finished = on_finished;
        op->finished_userdata = (void *) (uintptr_t) nth;
        operation_submit(op);
}

/* Each device's operations run one at a time, in the order they came, each answered once the
 * refresh has read its device; the devices go side by side. */
static void test_one_at_a_time_per_device(void) {
        fixture_set_up();
        fx.n_expected = DEVICES * PER_DEVICE;
        for (unsigned nth = 0; nth < PER_DEVICE; nth++)
                for (unsigned d = 0; d < DEVICES; d++)
                        submit(d, nth);
        g_assert_cmpuint(operation_queue_active(fx.queue), ==, DEVICES * PER_DEVICE);
        g_assert_cmpint(sd_event_loop(fx.event), ==, 0);

        g_assert_cmpint(atomic_load(&overlaps), ==, 0);
        for (unsigned d = 0; d < DEVICES; d++)
                for (unsigned nth = 0; nth < PER_DEVICE; nth++) {
                        g_assert_cmpint(fx.order[d][nth], ==, (int) nth);
                        g_assert_cmpint(fx.results[d * PER_DEVICE + nth], ==, 0);
                }
        g_assert_cmpuint(operation_queue_active(fx.queue), ==, 0);
        fixture_tear_down();
}

/* A stop: what waits behind a running operation ends at once, with -ESHUTDOWN; the running one
 * completes. */
static void test_cancel_queued(void) {
        fixture_set_up();
        fx.n_expected = PER_DEVICE;
        atomic_store(&fx.holding, true);
        g_mutex_lock(&fx.hold);
        for (unsigned nth = 0; nth < PER_DEVICE; nth++)
                submit(0, nth);
        operation_queue_cancel_queued(fx.queue);
        g_assert_cmpuint(fx.n_finished, ==, PER_DEVICE - 1);
        g_mutex_unlock(&fx.hold);
        g_assert_cmpint(sd_event_loop(fx.event), ==, 0);

        g_assert_cmpint(fx.results[0], ==, 0);
        for (unsigned nth = 1; nth < PER_DEVICE; nth++)
                g_assert_cmpint(fx.results[nth], ==, -ESHUTDOWN);
        g_assert_cmpint(fx.order[0][PER_DEVICE - 1], ==, 0);
        fixture_tear_down();
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/operation-queue/one-at-a-time-per-device", test_one_at_a_time_per_device);
        g_test_add_func("/operation-queue/cancel-queued", test_cancel_queued);
        return g_test_run();
}
