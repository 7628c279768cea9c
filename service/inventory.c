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
#include "log.h"
#include "time-util.h"

/* A DM device is read from its ioctls, which give all but udev's symlinks: the kernel names it
 * dm-MINOR, INFO has its read-only flag, the live table its size and DEPS its dependencies. Since
 * Linux 5.14 a DM device gets its block device only when its first table is loaded: before, it
 * has nothing in sysfs or /dev, and udev knows nothing of it. */
static int read_dm_device(UdevSysfs *u, dev_t devnum, BlockDevice **ret) {
        _cleanup_(block_device_freep) BlockDevice *d = NULL;
        int r;

        d = calloc(1, sizeof(BlockDevice));
        if (!d)
                return -ENOMEM;
        d->devnum = devnum;
        r = dm_kernel_query(devnum, &d->dm, &d->deps, &d->n_deps);
        if (r < 0)
                return r;

        r = udev_sysfs_read_dm_links(u, minor(devnum), &d->symlinks);
        if (r < 0 && r != -ENODEV)
                return r;
        if (asprintf(&d->kernel_name, "dm-%u", minor(devnum)) < 0) {
                d->kernel_name = NULL;
                return -ENOMEM;
        }
        if (r == -ENODEV)
                d->devnode = strdup("");
        else if (asprintf(&d->devnode, "/dev/%s", d->kernel_name) < 0)
                d->devnode = NULL;
        if (!d->devnode)
                return -ENOMEM;

        for (size_t i = 0; i < d->dm->n_table; i++)
                d->size += d->dm->table[i].length * 512;
        d->read_only = d->dm->info.read_only;
        /* Seen suspended now; the refresh keeps an earlier sighting (refresh.c). */
        if (d->dm->info.suspended)
                d->dm->suspended_since = realtime_usec();

        *ret = TAKE_PTR(d);
        return 0;
}

int inventory_read_device(UdevSysfs *u, dev_t devnum, BlockDevice **ret) {
        assert(u);
        assert(ret);

        if (dm_kernel_is_dm_major(major(devnum)))
                return read_dm_device(u, devnum, ret);
        /* A plain disk or loop device under a stack: sysfs has it all, and they are few. */
        return udev_sysfs_read_block(u, devnum, ret);
}

static int add_device(Graph *g, UdevSysfs *u, dev_t devnum) {
        BlockDevice *d;
        int r;

        r = inventory_read_device(u, devnum, &d);
        if (r == -ENXIO || r == -ENODEV) {
                log_debug("Block device %u:%u went away while being read.", major(devnum), minor(devnum));
                return 0;
        }
        if (r < 0)
                return log_debug_errno(r, "Cannot read block device %u:%u: %m", major(devnum), minor(devnum));
        return graph_put(g, d);
}

/* Adds whatever the graph's devices depend on and the graph lacks, until nothing is missing but
 * devices that went away while we looked. */
static int add_missing_dependencies(Graph *g, UdevSysfs *u) {
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
                        r = add_device(g, u, missing.items[i]);
                        if (r < 0)
                                return r;
                        if (!graph_get(g, missing.items[i]) && devset_add(&gone, missing.items[i]) < 0)
                                return -ENOMEM;
                }
        }
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

        for (size_t i = 0; i < n; i++) {
                r = add_device(g, u, list[i].devnum);
                if (r < 0)
                        break;
        }
        dm_list_free(list, n);
        if (r < 0)
                return r;

        return add_missing_dependencies(g, u);
}
