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

/* Since Linux 5.14 a DM device gets its block device only when its first table is loaded: before,
 * it is a DM device with a kernel name (dm-MINOR) and nothing in sysfs or /dev. */
static int unregistered_dm_device(dev_t devnum, BlockDevice **ret) {
        _cleanup_(block_device_freep) BlockDevice *d = calloc(1, sizeof(BlockDevice));

        if (!d)
                return -ENOMEM;
        d->devnum = devnum;
        if (asprintf(&d->kernel_name, "dm-%u", minor(devnum)) < 0) {
                d->kernel_name = NULL;
                return -ENOMEM;
        }
        d->devnode = strdup("");
        if (!d->devnode)
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

int inventory_read_device(UdevSysfs *u, dev_t devnum, BlockDevice **ret) {
        _cleanup_(block_device_freep) BlockDevice *d = NULL;
        _cleanup_(freep) dev_t *slaves = NULL;
        size_t n_slaves = 0;
        bool is_dm = dm_kernel_is_dm_major(major(devnum));
        int r;

        assert(u);
        assert(ret);

        r = udev_sysfs_read_block(u, devnum, &d, &slaves, &n_slaves);
        if (r == -ENODEV && is_dm)
                r = unregistered_dm_device(devnum, &d);
        if (r < 0)
                return r;

        if (is_dm) {
                r = dm_kernel_query(devnum, &d->dm, &d->deps, &d->n_deps);
                if (r < 0)
                        return r;
                /* Seen suspended now; the refresh keeps an earlier sighting (refresh.c). */
                if (d->dm->info.suspended)
                        d->dm->suspended_since = realtime_usec();
                /* DEPS is what the live table maps onto; sysfs says the same once a table change
                 * has settled, so a difference is worth a debug line, not more. */
                if (!devnums_equal(d->deps, d->n_deps, slaves, n_slaves))
                        log_debug("%s: sysfs slaves/ (%zu) disagree with DM_DEPS (%zu); using DM_DEPS.",
                                   d->kernel_name, n_slaves, d->n_deps);
        }

        *ret = TAKE_PTR(d);
        return 0;
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
