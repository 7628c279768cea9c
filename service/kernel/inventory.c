/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "devset.h"
#include "dm-kernel.h"
#include "inventory.h"
#include "links-scan.h"
#include "log.h"
#include "strv.h"
#include "time-util.h"

/* A DM device is read from its ioctls, which give all but udev's symlinks: the kernel names it
 * dm-MINOR, INFO has its read-only flag, the live table its size and DEPS its dependencies. Since
 * Linux 5.14 a DM device gets its block device only when its first table is loaded: before, it
 * has nothing in sysfs or /dev, and udev knows nothing of it. */
static int dm_device_new(DmKernel *k, dev_t devnum, BlockDevice **ret) {
        _cleanup_(block_device_freep) BlockDevice *d = NULL;
        int r;

        d = calloc(1, sizeof(BlockDevice));
        if (!d)
                return -ENOMEM;
        d->devnum = devnum;
        r = dm_kernel_query(k, devnum, &d->dm, &d->deps, &d->n_deps);
        if (r < 0)
                return r;
        if (asprintf(&d->kernel_name, "dm-%u", minor(devnum)) < 0) {
                d->kernel_name = NULL;
                return -ENOMEM;
        }
        for (size_t i = 0; i < d->dm->n_table; i++)
                d->size += d->dm->table[i].length * 512;
        d->read_only = d->dm->info.read_only;
        /* Seen suspended now; the refresh keeps an earlier sighting (refresh.c). */
        if (d->dm->info.suspended)
                d->dm->suspended_since = realtime_usec();

        *ret = TAKE_PTR(d);
        return 0;
}

/* links_r is what reading the links gave: -ENODEV means no block device, so no node either. Takes
 * the links. */
static int dm_device_set_links(BlockDevice *d, int links_r, char ***links) {
        if (links_r < 0 && links_r != -ENODEV)
                return links_r;
        d->symlinks = TAKE_PTR(*links);
        if (links_r == -ENODEV)
                d->devnode = strdup("");
        else if (asprintf(&d->devnode, "/dev/%s", d->kernel_name) < 0)
                d->devnode = NULL;
        return d->devnode ? 0 : -ENOMEM;
}

static int read_dm_device(DmKernel *k, UdevSysfs *u, dev_t devnum, char ***event_links, BlockDevice **ret) {
        _cleanup_(block_device_freep) BlockDevice *d = NULL;
        _cleanup_(strv_freep) char **links = NULL;
        int r;

        r = dm_device_new(k, devnum, &d);
        if (r < 0)
                return r;
        if (event_links && *event_links) {
                /* An event came from its block device: it has one. */
                links = TAKE_PTR(*event_links);
                r = 0;
        } else
                r = udev_sysfs_read_dm_links(u, minor(devnum), &links);
        r = dm_device_set_links(d, r, &links);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

int inventory_read_device(DmKernel *k, UdevSysfs *u, dev_t devnum, char ***event_links, BlockDevice **ret) {
        assert(k);
        assert(u);
        assert(ret);

        if (dm_kernel_is_dm_major(major(devnum)))
                return read_dm_device(k, u, devnum, event_links, ret);
        /* A plain disk or loop device under a stack: sysfs has it all, and they are few. */
        return udev_sysfs_read_block(u, devnum, ret);
}

static int log_read_error(int r, dev_t devnum) {
        if (r == -ENXIO || r == -ENODEV) {
                log_debug("Block device %u:%u went away while being read.", major(devnum), minor(devnum));
                return 0;
        }
        return log_debug_errno(r, "Cannot read block device %u:%u: %m", major(devnum), minor(devnum));
}

static int add_device(Graph *g, DmKernel *k, UdevSysfs *u, dev_t devnum) {
        BlockDevice *d;
        int r;

        r = inventory_read_device(k, u, devnum, NULL, &d);
        if (r < 0)
                return log_read_error(r, devnum);
        return graph_put(g, d);
}

/* Adds whatever the graph's devices depend on and the graph lacks, until nothing is missing but
 * devices that went away while we looked. */
static int add_missing_dependencies(Graph *g, DmKernel *k, UdevSysfs *u) {
        _cleanup_(devset_done) DevSet gone = {};

        for (;;) {
                _cleanup_(devset_done) DevSet missing = {};
                BlockDevice *d;
                int r;

                for (size_t i = 0; graph_iterate(g, &i, &d);)
                        for (size_t j = 0; j < d->n_deps; j++)
                                if (!graph_get(g, d->deps[j]) && !devset_contains(&gone, d->deps[j]) &&
                                    devset_add(&missing, d->deps[j]) < 0)
                                        return -ENOMEM;
                if (missing.n == 0)
                        return 0;

                for (size_t i = 0; i < missing.n; i++) {
                        r = add_device(g, k, u, missing.items[i]);
                        if (r < 0)
                                return r;
                        if (!graph_get(g, missing.items[i]) && devset_add(&gone, missing.items[i]) < 0)
                                return -ENOMEM;
                }
        }
}

static void block_devices_free(BlockDevice **devices, size_t n) {
        for (size_t i = 0; i < n; i++)
                block_device_free(devices[i]);
        free(devices);
}

/* Every listed DM device: the ioctls here (the DM layer's thread) while workers read the links. */
static int add_dm_devices(Graph *g, DmKernel *k, UdevSysfs *u, const DmListEntry *list, size_t n) {
        _cleanup_(links_scan_freep) LinksScan *scan = NULL;
        _cleanup_(freep) unsigned *minors = NULL;
        BlockDevice **devices;
        int r = 0;

        minors = malloc((n ?: 1) * sizeof(unsigned));
        devices = calloc(n ?: 1, sizeof(BlockDevice *));
        if (!minors || !devices) {
                free(devices);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                minors[i] = minor(list[i].devnum);
        r = links_scan_start(minors, n, &scan);
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < n; i++) {
                r = dm_device_new(k, list[i].devnum, &devices[i]);
                if (r < 0) {
                        r = log_read_error(r, list[i].devnum);
                        if (r < 0)
                                goto finish;
                }
        }
        links_scan_finish(scan, u);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(strv_freep) char **links = NULL;

                if (!devices[i])
                        continue;
                r = links_scan_take(scan, i, &links);
                r = dm_device_set_links(devices[i], r, &links);
                if (r < 0) {
                        log_debug_errno(r, "Cannot read udev's links of %u:%u: %m", major(list[i].devnum),
                                        minor(list[i].devnum));
                        goto finish;
                }
                r = graph_put(g, TAKE_PTR(devices[i]));
                if (r < 0)
                        goto finish;
        }
finish:
        block_devices_free(devices, n);
        return r;
}

int inventory_scan(Graph *g, DmKernel *k, UdevSysfs *u) {
        DmListEntry *list;
        size_t n;
        int r;

        assert(g);
        assert(k);
        assert(u);

        r = dm_kernel_list(k, &list, &n);
        if (r < 0)
                return r;
        r = add_dm_devices(g, k, u, list, n);
        dm_list_free(list, n);
        if (r < 0)
                return r;

        return add_missing_dependencies(g, k, u);
}
