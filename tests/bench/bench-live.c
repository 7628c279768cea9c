/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The live benchmark, run in the guest (tests/vm/run): with N devices present, the latency from an
 * outside table swap (load + resume) to the PropertiesChanged on the bus, split into the time
 * until the kernel's and udev's events reached dmbusd, dmbusd's own time, and the delivery to the
 * client; then the daemon's CPU time per device during a storm. Prints figures; asserts nothing
 * about them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <libdevmapper.h>

#include "bench-util.h"
#include "vm-util.h"

#define ROUNDS 25

static double signal_at;
static char *watched_path;

static void on_properties_changed(GDBusConnection *c, const char *sender, const char *path, const char *interface,
                                  const char *member, GVariant *parameters, gpointer user_data) {
        const char *iface;

        g_variant_get(parameters, "(&s@a{sv}@as)", &iface, NULL, NULL);
        if (g_str_equal(path, watched_path) && g_str_equal(iface, DMBUS_SERVICE_NAME ".Device") && signal_at == 0)
                signal_at = bench_now();
}

/* The daemon's "Refreshed ..." debug line of the batch that sent the signal (the last one whose
 * signals went out before the client got one): when the first event was taken in, when the
 * refresh began, when its signals were sent (CLOCK_MONOTONIC, s) and the refresh's CPU time (ms). */
typedef struct RefreshTimes {
        double in, begun, out, cpu_ms;
} RefreshTimes;

static void refresh_before(VmDaemon *d, double received, RefreshTimes *ret) {
        g_autofree char *log = vm_daemon_log(d);
        gboolean found = FALSE;

        for (const char *line = log; (line = strstr(line, "taken in at ")); line++) {
                uint64_t in, begun, out, total, cpu;

                if (sscanf(line, "taken in at %" SCNu64 " us, refresh begun at %" SCNu64 " us, signals sent at %" SCNu64
                           " us (%" SCNu64 " us in dmbusd, the refresh %" SCNu64, &in, &begun, &out, &total, &cpu) == 5 &&
                    out / 1e6 <= received) {
                        *ret = (RefreshTimes) { in / 1e6, begun / 1e6, out / 1e6, cpu / 1e3 };
                        found = TRUE;
                }
        }
        g_assert_true(found);
}

static void latency(unsigned n) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        double to_daemon[ROUNDS], waiting[ROUNDS], own[ROUNDS], own_cpu[ROUNDS], to_client[ROUNDS], total[ROUNDS];
        char target[32];
        VmDaemon *d;
        dev_t devnum;

        for (unsigned i = 0; i < n; i++) {
                char name[32];
                snprintf(name, sizeof(name), "live-%05u", i);
                devnum = bench_create_device(name, 2048, "zero", "");
                if (i == n / 2)
                        watched_path = g_strdup_printf(DMBUS_ROOT_PATH "/block/%u_%u", major(devnum), minor(devnum));
        }
        snprintf(target, sizeof(target), "live-%05u", n / 2);
        vm_do("udevadm settle --timeout=600");

        g_setenv("DMBUSD_ARGS", "-v", TRUE);
        d = vm_daemon_start();
        guint id = g_dbus_connection_signal_subscribe(bus, DMBUS_SERVICE_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                                      NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed, NULL, NULL);

        for (unsigned r = 0; r < ROUNDS; r++) {
                RefreshTimes t = {};
                double start;

                signal_at = 0;
                start = bench_now();
                bench_reload_device(target, r % 2 ? 2048 : 4096, "zero", "");
                while (signal_at == 0)
                        g_main_context_iteration(NULL, TRUE);
                /* Let the batch finish and its log line land. */
                vm_do("udevadm settle");
                g_usleep(200 * 1000);
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                refresh_before(d, signal_at, &t);
                to_daemon[r] = (t.in - start) * 1e3;
                waiting[r] = (t.begun - t.in) * 1e3;
                own[r] = (t.out - t.in) * 1e3;
                own_cpu[r] = t.cpu_ms;
                to_client[r] = (signal_at - t.out) * 1e3;
                total[r] = (signal_at - start) * 1e3;
        }
        g_dbus_connection_signal_unsubscribe(bus, id);

        printf("N=%-5u table swap -> PropertiesChanged, median of %d: total %.2f ms = kernel/udev to dmbusd %.2f ms"
               " + dmbusd %.2f ms (of which waiting for the refresh to begin %.2f ms; the refresh's CPU %.2f ms)"
               " + bus to client %.2f ms\n",
               n, ROUNDS, bench_median(total, ROUNDS), bench_median(to_daemon, ROUNDS), bench_median(own, ROUNDS),
               bench_median(waiting, ROUNDS), bench_median(own_cpu, ROUNDS), bench_median(to_client, ROUNDS));

        /* A storm on top of the N devices: CPU per device created and removed. */
        double cpu = bench_cpu_seconds(d->pid);
        long rss = bench_rss_kib(d->pid);
        for (unsigned i = 0; i < 300; i++) {
                char name[32];
                snprintf(name, sizeof(name), "storm-%05u", i);
                bench_create_device(name, 8, "zero", "");
        }
        for (unsigned i = 0; i < 300; i++) {
                char name[32];
                snprintf(name, sizeof(name), "storm-%05u", i);
                bench_remove_device(name);
        }
        vm_do("udevadm settle --timeout=600");
        /* The daemon is done when its count is back. */
        for (;;) {
                g_autoptr(GVariant) count = vm_get_property(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "DeviceCount", "u");
                if (g_variant_get_uint32(count) == n)
                        break;
                g_usleep(100 * 1000);
        }
        printf("N=%-5u storm of 300 devices created and removed: dmbusd CPU %.1f ms per device (3 uevents and 2 DM "
               "events each), RSS %ld -> %ld KiB\n",
               n, (bench_cpu_seconds(d->pid) - cpu) * 1e3 / 300, rss, bench_rss_kib(d->pid));
        fflush(stdout);

        g_assert_cmpint(vm_daemon_stop(d), ==, 0);
        vm_daemon_free(d);
        g_clear_pointer(&watched_path, g_free);
        vm_do("dmsetup --noudevsync remove_all && udevadm settle --timeout=600");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        vm_require_guest();
        dm_udev_set_sync_support(0);
        vm_do("dmsetup --noudevsync remove_all");
        /* BENCH_SIZES="100 5000": other sizes. */
        g_auto(GStrv) sizes = g_strsplit(g_getenv("BENCH_SIZES") ?: "100 1000 5000", " ", 0);
        for (char **size = sizes; *size; size++)
                if (**size)
                        latency(strtoul(*size, NULL, 10));
        return 0;
}
