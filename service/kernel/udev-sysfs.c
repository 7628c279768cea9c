/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libudev.h>

#include "alloc-util.h"
#include "fileio.h"
#include "strv.h"
#include "udev-sysfs.h"

struct UdevSysfs {
        struct udev *udev;
        struct udev_monitor *monitor;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_device *, udev_device_unref);

int udev_sysfs_new(UdevSysfs **ret) {
        UdevSysfs *u = calloc(1, sizeof(UdevSysfs));

        assert(ret);

        if (!u)
                return -ENOMEM;
        u->udev = udev_new();
        if (!u->udev) {
                free(u);
                return -(errno ?: ENOMEM);
        }
        *ret = u;
        return 0;
}

UdevSysfs *udev_sysfs_free(UdevSysfs *u) {
        if (!u)
                return NULL;
        udev_monitor_unref(u->monitor);
        udev_unref(u->udev);
        return mfree(u);
}

int udev_sysfs_monitor_start(UdevSysfs *u, int *ret_fd) {
        int r;

        assert(u);
        assert(ret_fd);

        u->monitor = udev_monitor_new_from_netlink(u->udev, "udev");
        if (!u->monitor)
                return -(errno ?: ENOMEM);
        r = udev_monitor_filter_add_match_subsystem_devtype(u->monitor, "block", NULL);
        if (r < 0)
                return r;
        /* Big, as udevd's own clients make it: a storm must not overflow it. */
        (void) udev_monitor_set_receive_buffer_size(u->monitor, 128 * 1024 * 1024);
        r = udev_monitor_enable_receiving(u->monitor);
        if (r < 0)
                return r;
        *ret_fd = udev_monitor_get_fd(u->monitor);
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* udev's symlinks of the device, sorted; an empty list when it has none. */
static int read_links(struct udev_device *dev, char ***ret) {
        _cleanup_(strv_freep) char **links = NULL;
        struct udev_list_entry *link;
        size_t n;
        int r;

        udev_list_entry_foreach(link, udev_device_get_devlinks_list_entry(dev)) {
                r = strv_extend(&links, udev_list_entry_get_name(link));
                if (r < 0)
                        return r;
        }
        if (!links) {
                links = calloc(1, sizeof(char *));
                if (!links)
                        return -ENOMEM;
        }
        n = strv_length(links);
        if (n > 1)
                qsort(links, n, sizeof(char *), compare_strings);
        *ret = TAKE_PTR(links);
        return 0;
}

void udev_event_done(UdevEvent *e) {
        e->device = udev_device_unref(e->device);
}

int udev_event_read_links(const UdevEvent *e, char ***ret) {
        assert(e);
        assert(ret);

        /* A device from the monitor has its properties from the message: no database read. */
        if (strcmp(udev_device_get_action(e->device) ?: "", "remove") == 0) {
                *ret = NULL;
                return 0;
        }
        return read_links(e->device, ret);
}

const char *udev_event_get_property(const UdevEvent *e, const char *key) {
        assert(e);
        assert(key);

        return udev_device_get_property_value(e->device, key);
}

int udev_sysfs_monitor_receive(UdevSysfs *u, UdevEvent *ret) {
        struct udev_device *dev;

        assert(u);
        assert(ret);

        for (;;) {
                errno = 0;
                dev = udev_monitor_receive_device(u->monitor);
                if (!dev)
                        return errno == ENOBUFS ? -ENOBUFS : 0;
                /* Partitions and disks alike carry their dev_t; anything without one is noise. */
                if (major(udev_device_get_devnum(dev)) != 0)
                        break;
                udev_device_unref(dev);
        }
        *ret = (UdevEvent) {
                .devnum = udev_device_get_devnum(dev),
                .seqnum = udev_device_get_seqnum(dev),
                /* A change of the read-only flag, or a synthesized event, has no DM_COOKIE. */
                .kind = udev_device_get_property_value(dev, "DM_COOKIE") ? UEVENT_DM :
                        strcmp(udev_device_get_action(dev) ?: "", "add") == 0 ? UEVENT_ADD : UEVENT_OTHER,
                .device = dev,
        };
        return 1;
}

static int read_u64_file(const char *path, uint64_t *ret) {
        char buf[32];
        ssize_t n = read_small_file(path, buf, sizeof(buf));

        if (n <= 0)
                return n < 0 ? n : -EIO;
        *ret = strtoull(buf, NULL, 10);
        return 0;
}

int uevent_seqnum_read(uint64_t *ret) {
        return read_u64_file("/sys/kernel/uevent_seqnum", ret);
}

int block_device_read_size(dev_t devnum, uint64_t *ret_sectors) {
        char path[64];

        assert(ret_sectors);

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/size", major(devnum), minor(devnum));
        return read_u64_file(path, ret_sectors);
}

int block_device_read_diskseq(dev_t devnum, uint64_t *ret) {
        char path[64];

        assert(ret);

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/diskseq", major(devnum), minor(devnum));
        return read_u64_file(path, ret);
}

const char *const block_stat_names[BLOCK_STAT_MAX] = {
        "read-ios", "read-merges", "read-sectors", "read-ticks-ms",
        "write-ios", "write-merges", "write-sectors", "write-ticks-ms",
        "in-flight", "io-ticks-ms", "time-in-queue-ms",
        "discard-ios", "discard-merges", "discard-sectors", "discard-ticks-ms",
        "flush-ios", "flush-ticks-ms",
};

int block_device_read_stat(dev_t devnum, uint64_t ret[static BLOCK_STAT_MAX], size_t *ret_n) {
        char path[64], buf[512];
        const char *p = buf;
        size_t n = 0;
        ssize_t k;

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/stat", major(devnum), minor(devnum));
        k = read_small_file(path, buf, sizeof(buf));
        if (k < 0)
                return (int) k;
        /* Older kernels give fewer fields: as many as there are. */
        while (n < BLOCK_STAT_MAX) {
                char *end;
                unsigned long long v = strtoull(p, &end, 10);

                if (end == p)
                        break;
                ret[n++] = v;
                p = end;
        }
        *ret_n = n;
        return n > 0 ? 0 : -EIO;
}

bool block_device_exists(dev_t devnum) {
        char path[64];

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(devnum), minor(devnum));
        return access(path, F_OK) == 0;
}

/* Where the kernel puts every DM disk (it has no parent): libudev resolves each component of the
 * path it is given, and /sys/dev/block/MAJ:MIN would add a symlink and four more. */
static struct udev_device *dm_device_new(UdevSysfs *u, unsigned minor) {
        char syspath[64];

        snprintf(syspath, sizeof(syspath), "/sys/devices/virtual/block/dm-%u", minor);
        return udev_device_new_from_syspath(u->udev, syspath);
}

int udev_sysfs_read_dm_links(UdevSysfs *u, unsigned minor, char ***ret) {
        _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;

        assert(u);
        assert(ret);

        dev = dm_device_new(u, minor);
        if (!dev)
                return -ENODEV;
        return read_links(dev, ret);
}

static bool property_is_1(struct udev_device *dev, const char *key) {
        const char *value = udev_device_get_property_value(dev, key);

        return value && strcmp(value, "1") == 0;
}

int udev_sysfs_read_dm_entry(UdevSysfs *u, unsigned minor, UdevDmEntry *ret) {
        _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;

        assert(u);
        assert(ret);

        dev = dm_device_new(u, minor);
        if (!dev)
                return -ENODEV;
        *ret = (UdevDmEntry) {
                .initialized = udev_device_get_is_initialized(dev) > 0,
                .primary_source = property_is_1(dev, "DM_UDEV_PRIMARY_SOURCE_FLAG"),
                .no_dm_links = property_is_1(dev, "DM_UDEV_DISABLE_DM_RULES_FLAG"),
                .no_disk_links = property_is_1(dev, "DM_UDEV_DISABLE_DISK_RULES_FLAG"),
        };
        return 0;
}

int udev_sysfs_read_block(UdevSysfs *u, dev_t devnum, BlockDevice **ret) {
        _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;
        _cleanup_(block_device_freep) BlockDevice *d = NULL;
        const char *value;
        int r;

        assert(u);
        assert(ret);

        dev = udev_device_new_from_devnum(u->udev, 'b', devnum);
        if (!dev)
                return -ENODEV;

        d = calloc(1, sizeof(BlockDevice));
        if (!d)
                return -ENOMEM;
        d->devnum = devnum;
        d->kernel_name = strdup(udev_device_get_sysname(dev) ?: "");
        value = udev_device_get_devnode(dev);
        if (value)
                d->devnode = strdup(value);
        else if (asprintf(&d->devnode, "/dev/%s", udev_device_get_sysname(dev) ?: "") < 0)
                d->devnode = NULL;
        if (!d->kernel_name || !d->devnode)
                return -ENOMEM;

        /* sysfs counts 512-byte sectors whatever the logical block size. */
        value = udev_device_get_sysattr_value(dev, "size");
        d->size = value ? strtoull(value, NULL, 10) * 512 : 0;
        value = udev_device_get_sysattr_value(dev, "ro");
        d->read_only = value && value[0] == '1';

        r = read_links(dev, &d->symlinks);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}
