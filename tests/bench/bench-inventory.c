/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inventory benchmark, run in the guest (tests/vm/run): N zero-target DM devices (flat, and
 * in chains of 10), then dmbusd's start-up, its big replies, its Resolve rate and its memory,
 * next to the floor: the same ioctls from one process with no bus. Prints figures; asserts
 * nothing about them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

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

                g_assert_cmpint(dm_kernel_query(list[i].devnum, &dm, &deps, &n_deps), ==, 0);
                dm_device_free(dm);
                free(deps);
        }
        dm_list_free(list, n);
        *ret_n = n;
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

static double call_bytes(const char *path, const char *interface, const char *method, const char *type, gsize *ret_bytes) {
        g_autoptr(GError) error = NULL;
        double start = bench_now();
        g_autoptr(GVariant) reply = vm_call(path, interface, method, NULL, type, &error);
        double elapsed = bench_now() - start;

        g_assert_no_error(error);
        *ret_bytes = g_variant_get_size(reply);
        return elapsed;
}

static double resolve_rate(const char *prefix, unsigned n) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        unsigned calls = 0;
        double start = bench_now(), elapsed;

        do {
                g_autoptr(GError) error = NULL;
                char name[32];

                snprintf(name, sizeof(name), "%s-%05u", prefix, g_random_int_range(0, n));
                g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                                bus, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "ResolveName",
                                g_variant_new("(s)", name), G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
                g_assert_no_error(error);
                calls++;
                elapsed = bench_now() - start;
        } while (elapsed < 2.0);
        return calls / elapsed;
}

static void measure(const char *label, const char *prefix, unsigned n, long baseline_rss) {
        size_t listed;
        double ioctls = floor_ioctls(&listed);
        double with_udev = floor_with_udev();
        gsize objects_bytes, tree_bytes;
        double start, startup, objects, tree, rate;
        VmDaemon *d;
        long rss;

        start = bench_now();
        d = vm_daemon_start();
        startup = bench_now() - start;
        objects = call_bytes(DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "(a{oa{sa{sv}}})", &objects_bytes);
        tree = call_bytes(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "GetTree", "(a(oao))", &tree_bytes);
        rate = resolve_rate(prefix, n);
        rss = bench_rss_kib(d->pid);
        g_assert_cmpint(vm_daemon_stop(d), ==, 0);
        vm_daemon_free(d);

        printf("%-8s N=%-5u devices=%-5zu start %7.3f s | floor ioctls %7.3f s (x%.2f) | floor ioctls+udev %7.3f s (x%.2f)\n",
               label, n, listed, startup, ioctls, startup / ioctls, with_udev, startup / with_udev);
        printf("%-8s N=%-5u GetManagedObjects %7.3f s %8zu KiB | GetTree %7.3f s %6zu KiB | ResolveName %6.0f/s | RSS %ld KiB, %.2f KiB/device\n",
               label, n, objects, objects_bytes / 1024, tree, tree_bytes / 1024, rate, rss,
               (double) (rss - baseline_rss) / n);
        fflush(stdout);
}

int main(int argc, char *argv[]) {
        unsigned sizes[] = { 100, 1000, 5000 };
        unsigned have = 0;
        long baseline_rss;
        VmDaemon *d;

        g_test_init(&argc, &argv, NULL);
        vm_require_guest();
        g_assert_cmpint(dm_kernel_new(&kernel), ==, 0);
        g_setenv("DMBUSD_ARGS", "", TRUE);

        vm_do("dmsetup --noudevsync remove_all");
        d = vm_daemon_start();
        baseline_rss = bench_rss_kib(d->pid);
        vm_daemon_stop(d);
        vm_daemon_free(d);
        printf("dmbusd with no devices: RSS %ld KiB\n", baseline_rss);

        for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
                double start = bench_now();

                create_flat(have, sizes[i]);
                have = sizes[i];
                vm_do("udevadm settle --timeout=600");
                printf("created %u flat devices (udev settled) in %.1f s total\n", sizes[i], bench_now() - start);
                measure("flat", "bench", sizes[i], baseline_rss);
        }
        vm_do("dmsetup --noudevsync remove_all");
        vm_do("udevadm settle --timeout=600");

        create_chains(1000);
        vm_do("udevadm settle --timeout=600");
        measure("chains10", "chain", 1000, baseline_rss);
        vm_do("dmsetup --noudevsync remove_all");
        dm_kernel_free(kernel);
        return 0;
}
