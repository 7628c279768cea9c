/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inventory benchmark, run in the guest (tests/vm/run): N zero-target DM devices (flat, and
 * in chains of 10), then dmbusd's start-up, its big replies, its Resolve rates and its memory,
 * next to floors: the same ioctls from one process with no bus, and GetManagedObjects' bytes
 * echoed by a minimal sd-bus service (bench-echo). Prints figures; asserts nothing about them. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>


#include <libdevmapper.h>

#include "bench-util.h"
#include "dm-kernel.h"
#include "graph.h"
#include "inventory.h"
#include "udev-sysfs.h"
#include "vm-util.h"

#define CHAIN 10

static void create_flat(unsigned from, unsigned to) {
        for (unsigned i = from; i < to; i++) {
                char name[32];

                snprintf(name, sizeof(name), "bench-%05u", i);
                bench_create_device(name, 2048, "zero", "");
        }
}

/* Chains of CHAIN: a zero device at the bottom, each next one linear on the one before, named by
 * dev_t (udev may not have made the /dev/mapper link yet). */
static void create_chains(unsigned n) {
        dev_t below = 0;

        for (unsigned i = 0; i < n; i++) {
                char name[32], params[48];

                snprintf(name, sizeof(name), "chain-%05u", i);
                if (i % CHAIN == 0)
                        below = bench_create_device(name, 2048, "zero", "");
                else {
                        snprintf(params, sizeof(params), "%u:%u 0", major(below), minor(below));
                        below = bench_create_device(name, 2048, "linear", params);
                }
        }
}

static DmKernel *kernel;

static double floor_ioctls(size_t *ret_n) {
        double start = bench_now();
        DmListEntry *list;
        size_t n;

        g_assert_cmpint(dm_kernel_list(kernel, &list, &n), ==, 0);
        for (size_t i = 0; i < n; i++) {
                DmDevice *dm;
                dev_t *deps;
                size_t n_deps;

                g_assert_cmpint(dm_kernel_query(kernel, list[i].devnum, &dm, &deps, &n_deps), ==, 0);
                dm_device_free(dm);
                free(deps);
        }
        dm_list_free(list, n);
        *ret_n = n;
        return bench_now() - start;
}

/* The same reads as dmsetup makes them, through libdevmapper's tasks (a 16 KiB buffer each):
 * the floor before dmbusd read with raw ioctls, kept as a fixed reference. */
static void libdevmapper_read(int type, dev_t devnum) {
        struct dm_task *dmt = dm_task_create(type);
        struct dm_info info;

        g_assert_nonnull(dmt);
        g_assert_true(dm_task_set_major_minor(dmt, major(devnum), minor(devnum), 0));
        if (type == DM_DEVICE_TABLE)
                g_assert_true(dm_task_secure_data(dmt));
        if (type == DM_DEVICE_STATUS)
                g_assert_true(dm_task_no_flush(dmt));
        g_assert_true(dm_task_run(dmt));
        g_assert_true(dm_task_get_info(dmt, &info));
        dm_task_destroy(dmt);
}

static double floor_libdevmapper(void) {
        double start = bench_now();
        DmListEntry *list;
        size_t n;

        g_assert_cmpint(dm_kernel_list(kernel, &list, &n), ==, 0);
        for (size_t i = 0; i < n; i++) {
                libdevmapper_read(DM_DEVICE_TABLE, list[i].devnum);
                libdevmapper_read(DM_DEVICE_STATUS, list[i].devnum);
                libdevmapper_read(DM_DEVICE_DEPS, list[i].devnum);
        }
        dm_list_free(list, n);
        return bench_now() - start;
}

static double floor_with_udev(void) {
        double start = bench_now();
        UdevSysfs *u;
        Graph *g = graph_new();

        g_assert_cmpint(udev_sysfs_new(&u), ==, 0);
        g_assert_cmpint(inventory_scan(g, kernel, u), ==, 0);
        graph_free(g);
        udev_sysfs_free(u);
        return bench_now() - start;
}

#define RUNS 5

/* The median of RUNS round trips of one call, and the reply's size. */
static double call_median(const char *path, const char *interface, const char *method, const char *type, gsize *ret_bytes) {
        double t[RUNS];

        for (unsigned i = 0; i < RUNS; i++) {
                g_autoptr(GError) error = NULL;
                double start = bench_now();
                g_autoptr(GVariant) reply = vm_call(path, interface, method, NULL, type, &error);

                t[i] = bench_now() - start;
                g_assert_no_error(error);
                *ret_bytes = g_variant_get_size(reply);
        }
        return bench_median(t, RUNS);
}

typedef GVariant *(*ResolveArgs)(const DmListEntry *device);

static GVariant *name_args(const DmListEntry *device) {
        return g_variant_new("(s)", device->name);
}

static GVariant *uuid_args(const DmListEntry *device) {
        g_autofree char *uuid = g_strdup_printf("BENCH-%s", device->name);
        return g_variant_new("(s)", uuid);
}

static GVariant *devnum_args(const DmListEntry *device) {
        return g_variant_new("(uu)", major(device->devnum), minor(device->devnum));
}

static GVariant *path_args(const DmListEntry *device) {
        g_autofree char *path = g_strdup_printf("/dev/mapper/%s", device->name);
        return g_variant_new("(s)", path);
}

static const struct {
        const char *method;
        ResolveArgs args;
} resolvers[] = {
        { "ResolveName", name_args },
        { "ResolveUUID", uuid_args },
        { "ResolveDevNum", devnum_args },
        { "ResolvePath", path_args },
};

static double timed_call(GDBusConnection *bus, const char *interface, const char *method, GVariant *args, const char *type) {
        g_autoptr(GError) error = NULL;
        double start = bench_now();
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, interface, method,
                                                                args, G_VARIANT_TYPE(type), G_DBUS_CALL_FLAGS_NONE, 10000,
                                                                NULL, &error);

        g_assert_no_error(error);
        return bench_now() - start;
}

/* Synchronous round trips for random devices, each followed by a Peer.Ping, which sd-bus answers
 * in dmbusd's loop without looking at the graph: 1 s a run. The median of RUNS runs of the rate,
 * and of the time a call takes against a Ping's (the guest's speed drifts over a run; the ratio
 * does not). */
static double resolve_rate(const char *method, ResolveArgs args, const DmListEntry *list, size_t n, double *ret_per_ping) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        double rates[RUNS], per_ping[RUNS];

        for (unsigned run = 0; run < RUNS; run++) {
                double resolving = 0, pinging = 0;
                unsigned calls = 0;

                do {
                        resolving += timed_call(bus, DMBUS_MANAGER_INTERFACE, method, args(&list[g_random_int_range(0, n)]), "(o)");
                        pinging += timed_call(bus, "org.freedesktop.DBus.Peer", "Ping", NULL, "()");
                        calls++;
                } while (resolving + pinging < 1.0);
                rates[run] = calls / resolving;
                per_ping[run] = resolving / pinging;
        }
        *ret_per_ping = bench_median(per_ping, RUNS);
        return bench_median(rates, RUNS);
}

static char *echo_binary;

static void expect_line(FILE *in, const char *expected) {
        char line[64];

        g_assert_nonnull(fgets(line, sizeof(line), in));
        line[strcspn(line, "\n")] = 0;
        g_assert_cmpstr(line, ==, expected);
}

/* The echo floor (bench-echo): dmbusd's reply fetched once, then dmbusd stopped and every call
 * answered with a copy of those bytes. Stops d. Returns the median round trip. */
static double echo_floor(VmDaemon *d) {
        g_autoptr(GError) error = NULL;
        const char *argv[] = { echo_binary, NULL };
        GPid pid;
        int out;
        gsize bytes;
        double t;

        g_assert_true(g_spawn_async_with_pipes(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &pid, NULL, &out, NULL,
                                               &error));
        g_assert_no_error(error);
        FILE *in = fdopen(out, "r");
        g_assert_nonnull(in);
        expect_line(in, "fetched");
        g_assert_cmpint(vm_daemon_stop(d), ==, 0);
        expect_line(in, "ready");

        t = call_median(DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "(a{oa{sa{sv}}})", &bytes);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        g_spawn_close_pid(pid);
        fclose(in);
        return t;
}

typedef struct Memory {
        long rss, anon;         /* KiB */
} Memory;

static Memory memory_of(pid_t pid) {
        return (Memory) { bench_rss_kib(pid), bench_anon_kib(pid) };
}

static void print_memory(const char *when, Memory m, Memory baseline, unsigned n) {
        printf("%s %ld KiB (anonymous %ld), %.2f KiB/device (anonymous %.2f)", when, m.rss, m.anon,
               (double) (m.rss - baseline.rss) / n, (double) (m.anon - baseline.anon) / n);
}

static void measure(const char *label, unsigned n, Memory baseline) {
        DmListEntry *list;
        size_t listed;
        double ioctls = floor_ioctls(&listed);
        double libdevmapper = floor_libdevmapper();
        double with_udev = floor_with_udev();
        gsize objects_bytes, tree_bytes;
        double start, startup, startup_cpu, objects, echo, tree, rates[ELEMENTSOF(resolvers)], per_ping[ELEMENTSOF(resolvers)];
        VmDaemon *d;
        Memory started, after_calls;

        g_assert_cmpint(dm_kernel_list(kernel, &list, &listed), ==, 0);
        start = bench_now();
        d = vm_daemon_start();
        startup = bench_now() - start;
        startup_cpu = bench_cpu_seconds(d->pid);
        started = memory_of(d->pid);
        objects = call_median(DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "(a{oa{sa{sv}}})",
                              &objects_bytes);
        tree = call_median(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "GetTree", "(a(oao))", &tree_bytes);
        for (size_t i = 0; i < ELEMENTSOF(resolvers); i++)
                rates[i] = resolve_rate(resolvers[i].method, resolvers[i].args, list, listed, &per_ping[i]);
        after_calls = memory_of(d->pid);
        echo = echo_floor(d);
        vm_daemon_free(d);

        printf("%-8s N=%-5u devices=%-5zu start %7.3f s, CPU %7.3f s | floor ioctls %7.3f s (x%.2f, CPU x%.2f) | "
               "through libdevmapper %7.3f s (x%.2f) | floor ioctls+udev %7.3f s (x%.2f)\n",
               label, n, listed, startup, startup_cpu, ioctls, startup / ioctls, startup_cpu / ioctls, libdevmapper,
               startup / libdevmapper, with_udev, startup / with_udev);
        printf("%-8s N=%-5u GetManagedObjects %7.3f s, %zu KiB, %zu bytes/device | echo floor %7.3f s (x%.2f) | GetTree %7.3f s %6zu KiB\n",
               label, n, objects, objects_bytes / 1024, objects_bytes / listed, echo, objects / echo, tree, tree_bytes / 1024);
        printf("%-8s N=%-5u calls/s, median of %d runs:", label, n, RUNS);
        for (size_t i = 0; i < ELEMENTSOF(resolvers); i++)
                printf(" %s %.0f (x%.3f of a Ping)", resolvers[i].method, rates[i], per_ping[i]);
        print_memory(" | RSS started", started, baseline, n);
        print_memory("; after the calls", after_calls, baseline, n);
        printf("\n");
        fflush(stdout);
        dm_list_free(list, listed);
}

int main(int argc, char *argv[]) {
        unsigned sizes[8] = { 100, 1000, 5000, 10000 };
        size_t n_sizes = 4;
        const char *only = g_getenv("BENCH_SIZES");
        unsigned have = 0;
        Memory baseline;
        VmDaemon *d;

        g_test_init(&argc, &argv, NULL);
        vm_require_guest();
        g_autofree char *dir = g_path_get_dirname(argv[0]);
        echo_binary = g_build_filename(dir, "bench-echo", NULL);
        g_assert_cmpint(dm_kernel_new(&kernel), ==, 0);
        g_setenv("DMBUSD_ARGS", "", TRUE);

        vm_do("dmsetup --noudevsync remove_all");
        d = vm_daemon_start();
        baseline = memory_of(d->pid);
        vm_daemon_stop(d);
        vm_daemon_free(d);
        printf("dmbusd with no devices: RSS %ld KiB (anonymous %ld KiB)\n", baseline.rss, baseline.anon);

        /* BENCH_SIZES="1000 5000": other flat sizes, growing, and no chains. */
        if (only) {
                g_auto(GStrv) words = g_strsplit(only, " ", G_N_ELEMENTS(sizes));
                n_sizes = 0;
                for (char **w = words; *w && n_sizes < G_N_ELEMENTS(sizes); w++)
                        if (**w)
                                sizes[n_sizes++] = strtoul(*w, NULL, 10);
        }
        for (size_t i = 0; i < n_sizes; i++) {
                double start = bench_now();

                create_flat(have, sizes[i]);
                have = sizes[i];
                vm_do("udevadm settle --timeout=600");
                printf("created %u flat devices (udev settled) in %.1f s total\n", sizes[i], bench_now() - start);
                measure("flat", sizes[i], baseline);
        }
        vm_do("dmsetup --noudevsync remove_all");
        vm_do("udevadm settle --timeout=600");
        if (only) {
                dm_kernel_free(kernel);
                return 0;
        }

        create_chains(1000);
        vm_do("udevadm settle --timeout=600");
        measure("chains10", 1000, baseline);
        vm_do("dmsetup --noudevsync remove_all");
        dm_kernel_free(kernel);
        return 0;
}
