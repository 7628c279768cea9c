/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "graph.h"
#include "macro.h"

/* The udev/sysfs layer: the only file that talks to libudev. It reads what udev and sysfs know
 * of a block device (names, size, read-only flag, the links udev made), never the
 * device's data. Nothing here logs: every call returns -errno for its caller to judge. */

typedef struct UdevSysfs UdevSysfs;
struct udev_device;

int udev_sysfs_new(UdevSysfs **ret);
UdevSysfs *udev_sysfs_free(UdevSysfs *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(UdevSysfs *, udev_sysfs_free);

/* Starts the monitor of processed udev events ("udev" netlink group, so rules have run and links
 * exist) on the block subsystem; returns its fd, for the event loop. */
int udev_sysfs_monitor_start(UdevSysfs *u, int *ret_fd);
/* A processed uevent, as far as waiting for one goes. */
typedef enum UeventKind {
        UEVENT_NONE,            /* (nothing to wait for) */
        UEVENT_OTHER,
        UEVENT_ADD,             /* a block device appeared */
        UEVENT_DM,              /* raised by a DM ioctl (resume, rename, remove): it carries DM_COOKIE */
} UeventKind;

typedef struct UdevEvent {
        dev_t devnum;
        uint64_t seqnum;        /* the kernel's sequence number of the uevent */
        UeventKind kind;
        struct udev_device *device;     /* libudev's, for udev_event_read_links() */
} UdevEvent;

void udev_event_done(UdevEvent *e);

/* udev's symlinks as the event carries them (DEVLINKS), sorted: what its database holds for the
 * device, with no read of it. NULL for a removal. */
int udev_event_read_links(const UdevEvent *e, char ***ret);

/* A property the event carries (DM_VERITY_ERR_BLOCK_NR), or NULL. */
const char *udev_event_get_property(const UdevEvent *e, const char *key);

/* The next event (udev_event_done() when done with it): 1, or 0 when none is queued, or -ENOBUFS
 * when the socket overflowed and events were lost. */
int udev_sysfs_monitor_receive(UdevSysfs *u, UdevEvent *ret);

/* Plain sysfs reads, without libudev, safe on any thread: */
/* The sequence number of the kernel's latest uevent: one read before an ioctl and one event of
 * the device's above it tell that udev has processed what the ioctl caused. */
int uevent_seqnum_read(uint64_t *ret);
bool block_device_exists(dev_t devnum);
/* The I/O counters of /sys/block/NAME/stat (Documentation/block/stat.rst), named as in
 * block_stat_names ("read-ios", "write-sectors", ...): as many as the kernel gives. */
#define BLOCK_STAT_MAX 17
extern const char *const block_stat_names[BLOCK_STAT_MAX];
int block_device_read_stat(dev_t devnum, uint64_t ret[static BLOCK_STAT_MAX], size_t *ret_n);
/* The size sysfs gives, in 512-byte sectors. */
int block_device_read_size(dev_t devnum, uint64_t *ret_sectors);
/* The disk's sequence number (Linux 5.15 and later): -ENOENT when there is none to read. */
int block_device_read_diskseq(dev_t devnum, uint64_t *ret);

/* What udev's database says of dm-MINOR: whether it has an entry, and the flags of the last
 * event that went through the rules (libdevmapper's, in DM_UDEV_*_FLAG). */
typedef struct UdevDmEntry {
        bool initialized;
        bool primary_source;            /* DM_UDEV_PRIMARY_SOURCE_FLAG: a resume's event */
        bool no_dm_links;               /* DM_UDEV_DISABLE_DM_RULES_FLAG */
        bool no_disk_links;             /* DM_UDEV_DISABLE_DISK_RULES_FLAG */
} UdevDmEntry;
int udev_sysfs_read_dm_entry(UdevSysfs *u, unsigned minor, UdevDmEntry *ret);

/* udev's symlinks of the DM device dm-MINOR, sorted: what exists nowhere but in udev's database.
 * -ENODEV when it has no block device. */
int udev_sysfs_read_dm_links(UdevSysfs *u, unsigned minor, char ***ret);

/* A new BlockDevice for devnum with kernel name, node, size, read-only flag and udev's symlinks
 * filled in (dm and deps left empty). Returns -ENODEV when there is no such block device. */
int udev_sysfs_read_block(UdevSysfs *u, dev_t devnum, BlockDevice **ret);
