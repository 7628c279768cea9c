/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <libdevmapper.h>

#include "bench-util.h"

double bench_now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct dm_info run_task(int type, const char *name, unsigned sectors, const char *target, const char *params) {
        struct dm_task *dmt = dm_task_create(type);
        struct dm_info info = {};

        g_assert_nonnull(dmt);
        g_assert_true(dm_task_set_name(dmt, name));
        if (type == DM_DEVICE_CREATE) {
                char uuid[160];

                snprintf(uuid, sizeof(uuid), "BENCH-%s", name);
                g_assert_true(dm_task_set_uuid(dmt, uuid));
        }
        if (target)
                g_assert_true(dm_task_add_target(dmt, 0, sectors, target, params));
        /* udev may still be probing a device just made: retry for a moment, as dmsetup --retry. */
        if (type == DM_DEVICE_REMOVE)
                g_assert_true(dm_task_retry_remove(dmt));
        if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info))
                g_error("device-mapper task %d on %s failed", type, name);
        dm_task_destroy(dmt);
        return info;
}

dev_t bench_create_device(const char *name, unsigned sectors, const char *type, const char *params) {
        struct dm_info info;

        dm_udev_set_sync_support(0);
        info = run_task(DM_DEVICE_CREATE, name, sectors, type, params);
        return makedev(info.major, info.minor);
}

void bench_remove_device(const char *name) {
        run_task(DM_DEVICE_REMOVE, name, 0, NULL, NULL);
}

void bench_reload_device(const char *name, unsigned sectors, const char *type, const char *params) {
        run_task(DM_DEVICE_RELOAD, name, sectors, type, params);
        run_task(DM_DEVICE_RESUME, name, 0, NULL, NULL);
}

double bench_cpu_seconds(pid_t pid) {
        unsigned long utime = 0, stime = 0;
        char path[64];
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        g_assert_nonnull(f);
        /* Fields 14 and 15; the command name (field 2) has no spaces here. */
        g_assert_cmpint(fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime), ==, 2);
        fclose(f);
        return (double) (utime + stime) / sysconf(_SC_CLK_TCK);
}

static long status_kib(pid_t pid, const char *field) {
        char path[64], line[256];
        size_t len = strlen(field);
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        g_assert_nonnull(f);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, len) == 0 && line[len] == ':' && sscanf(line + len + 1, "%ld", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

long bench_rss_kib(pid_t pid) {
        return status_kib(pid, "VmRSS");
}

long bench_anon_kib(pid_t pid) {
        return status_kib(pid, "RssAnon");
}

static int compare_doubles(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n) {
        qsort(v, n, sizeof(double), compare_doubles);
        return v[n / 2];
}
