/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The operations benchmark, run in the guest (tests/vm/run): N devices created and then removed,
 * once by `dmsetup create/remove` with udev sync (each returns after udev is done, as the
 * service's calls do), once through dmbusd's Create and Remove one call at a time, and once with
 * all N calls in flight at once. Prints per-operation figures; asserts nothing about them. */
#include <stdio.h>
#include <stdlib.h>

#include "bench-util.h"
#include "vm-util.h"

#define N 100

static int compare_doubles(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static void print_row(const char *what, double *ms, size_t n, double total) {
        qsort(ms, n, sizeof(double), compare_doubles);
        printf("%-40s %9.1f %9.1f %9.1f %11.1f\n", what, ms[n / 2], ms[n * 9 / 10], ms[n - 1], total * 1000 / n);
}

/* dmsetup, one process per operation, timed around each. */
static void run_dmsetup(const char *verb, const char *args_format) {
        double ms[N], start = bench_now();
        g_autofree char *label = g_strdup_printf("dmsetup %s (udev sync)", verb);

        for (unsigned i = 0; i < N; i++) {
                g_autofree char *args = g_strdup_printf(args_format, i);
                double t0 = bench_now();

                vm_do("dmsetup %s %s", verb, args);
                ms[i] = (bench_now() - t0) * 1000;
        }
        print_row(label, ms, N, bench_now() - start);
}

static GVariant *zero_table(void) {
        return g_variant_new_parsed("[(uint64 0, uint64 8, 'zero', '')]");
}

/* With all calls at once, udev works through 2N events in a row: give it time. */
static GVariant *create_args(unsigned i) {
        g_autofree char *name = g_strdup_printf("bench-svc-%u", i);

        return g_variant_new("(ss@a(ttss)@a{sv})", name, "", zero_table(), g_variant_new_parsed("{'udev-timeout-ms': <uint32 120000>}"));
}

static void run_service_sequential(GDBusConnection *bus, char **paths) {
        double create_ms[N], remove_ms[N], start;

        start = bench_now();
        for (unsigned i = 0; i < N; i++) {
                g_autoptr(GError) error = NULL;
                double t0 = bench_now();
                g_autoptr(GVariant) reply = g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "Create",
                                                                        create_args(i), G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE,
                                                                        60000, NULL, &error);
                g_assert_no_error(error);
                create_ms[i] = (bench_now() - t0) * 1000;
                g_variant_get(reply, "(o)", &paths[i]);
        }
        print_row("dmbusd Create, one call at a time", create_ms, N, bench_now() - start);

        start = bench_now();
        for (unsigned i = 0; i < N; i++) {
                g_autoptr(GError) error = NULL;
                double t0 = bench_now();
                g_autoptr(GVariant) reply = g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, paths[i], DMBUS_SERVICE_NAME ".Device", "Remove",
                                                                        g_variant_new_parsed("({'udev-timeout-ms': <uint32 120000>},)"), NULL,
                                                                        G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &error);
                g_assert_no_error(error);
                remove_ms[i] = (bench_now() - t0) * 1000;
                g_clear_pointer(&paths[i], g_free);
        }
        print_row("dmbusd Remove, one call at a time", remove_ms, N, bench_now() - start);
}

typedef struct Pending {
        double sent, *ms;
        unsigned *left;
        char **path;
} Pending;

static void on_reply(GObject *source, GAsyncResult *result, gpointer userdata) {
        Pending *p = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

        g_assert_no_error(error);
        *p->ms = (bench_now() - p->sent) * 1000;
        if (p->path)
                g_variant_get(reply, "(o)", p->path);
        (*p->left)--;
        g_free(p);
}

/* All N calls sent at once; each timed from its sending to its reply. */
static void run_service_parallel(GDBusConnection *bus, char **paths) {
        double ms[N], start;
        unsigned left;

        for (unsigned remove = 0; remove <= 1; remove++) {
                start = bench_now();
                left = N;
                for (unsigned i = 0; i < N; i++) {
                        Pending *p = g_new(Pending, 1);

                        *p = (Pending) { .sent = bench_now(), .ms = &ms[i], .left = &left, .path = remove ? NULL : &paths[i] };
                        if (remove)
                                g_dbus_connection_call(bus, DMBUS_SERVICE_NAME, paths[i], DMBUS_SERVICE_NAME ".Device", "Remove",
                                                       g_variant_new_parsed("({'udev-timeout-ms': <uint32 120000>},)"), NULL, G_DBUS_CALL_FLAGS_NONE,
                                                       120000, NULL, on_reply, p);
                        else
                                g_dbus_connection_call(bus, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "Create",
                                                       create_args(i), G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE,
                                                       120000, NULL, on_reply, p);
                }
                while (left > 0)
                        g_main_context_iteration(NULL, TRUE);
                print_row(remove ? "dmbusd Remove, all calls at once" : "dmbusd Create, all calls at once", ms, N, bench_now() - start);
        }
        for (unsigned i = 0; i < N; i++)
                g_clear_pointer(&paths[i], g_free);
}

int main(int argc, char *argv[]) {
        g_autoptr(GDBusConnection) bus = NULL;
        char *paths[N] = {};
        VmDaemon *d;

        vm_require_guest();
        /* As a service runs: no debug log. */
        g_setenv("DMBUSD_ARGS", "", TRUE);
        d = vm_daemon_start();
        bus = vm_system_bus();

        printf("%u devices (0 8 zero), created then removed; dmbusd running throughout.\n", N);
        printf("%-40s %9s %9s %9s %11s\n", "ms per operation", "median", "p90", "max", "wall/op");
        run_dmsetup("create", "bench-dms-%u --table '0 8 zero'");
        run_dmsetup("remove", "bench-dms-%u");
        run_service_sequential(bus, paths);
        run_service_parallel(bus, paths);

        g_assert_cmpint(vm_daemon_stop(d), ==, 0);
        vm_daemon_free(d);
        return 0;
}
