/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's cost, run in the guest (tests/vm/run): N zero-target DM devices, then the INFO of
 * every one (what each tick does first, one ioctl a device) timed from one process, and dmbusd's
 * own CPU time over ticks of one second with those devices and a handful of thin-pools (read
 * again every tick). Prints figures; asserts nothing about them. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-util.h"
#include "dm-kernel.h"
#include "vm-util.h"

#define POOLS 4
#define TICKS 20

static double info_sweep(DmKernel *kernel, size_t *ret_n) {
        double start = bench_now();
        DmListEntry *list;
        size_t n;

        g_assert_cmpint(dm_kernel_list(kernel, &list, &n), ==, 0);
        for (size_t i = 0; i < n; i++) {
                DmInfo info;

                g_assert_cmpint(dm_kernel_info(kernel, list[i].devnum, &info), ==, 0);
        }
        dm_list_free(list, n);
        *ret_n = n;
        return bench_now() - start;
}

int main(int argc, char *argv[]) {
        unsigned sizes[] = { 100, 1000, 5000 };
        unsigned have = 0;
        DmKernel *kernel;

        g_test_init(&argc, &argv, NULL);
        vm_require_guest();
        g_assert_cmpint(dm_kernel_new(&kernel), ==, 0);
        g_setenv("DMBUSD_ARGS", "", TRUE);
        vm_do("mkdir -p /etc/dmbus && printf '[Monitor]\\nPollIntervalSec=1\\n' >/etc/dmbus/dmbusd.conf");
        for (unsigned p = 0; p < POOLS; p++) {
                g_autofree char *meta = vm_loop_new(16), *data = vm_loop_new(16);

                vm_do("dmsetup create mon-pool%u --table '0 16384 thin-pool %s %s 128 0'", p, meta, data);
        }

        for (unsigned s = 0; s < G_N_ELEMENTS(sizes); s++) {
                double sweeps[5], cpu_before, cpu_after, start;
                size_t n = 0;
                VmDaemon *d;

                for (unsigned i = have; i < sizes[s]; i++) {
                        char name[32];

                        snprintf(name, sizeof(name), "mon-%05u", i);
                        (void) bench_create_device(name, 8, "zero", "");
                }
                have = sizes[s];
                vm_do("udevadm settle --timeout=1200");
                for (unsigned k = 0; k < G_N_ELEMENTS(sweeps); k++)
                        sweeps[k] = info_sweep(kernel, &n);
                double sweep = bench_median(sweeps, G_N_ELEMENTS(sweeps));

                d = vm_daemon_start();
                sleep(2);
                cpu_before = bench_cpu_seconds(d->pid);
                start = bench_now();
                sleep(TICKS);
                cpu_after = bench_cpu_seconds(d->pid);
                printf("N=%-5zu INFO of every device: median %.1f ms (%.1f us each) | dmbusd CPU %.1f ms a tick over %.0f s "
                       "(%u thin-pools read again each tick)\n",
                       n, sweep * 1000, sweep * 1e6 / n, (cpu_after - cpu_before) * 1000 / (bench_now() - start),
                       bench_now() - start, POOLS);
                fflush(stdout);
                g_assert_cmpint(vm_daemon_stop(d), ==, 0);
                vm_daemon_free(d);
        }
        vm_do("dmsetup --noudevsync remove_all; rm -f /etc/dmbus/dmbusd.conf");
        dm_kernel_free(kernel);
        return 0;
}
