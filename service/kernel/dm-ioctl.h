/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include <linux/dm-ioctl.h>

#include "macro.h"

/* Raw device-mapper ioctls on /dev/mapper/control, without libdevmapper: what dm-kernel.c (the
 * reads) and dm-ops.c (the changes, on worker threads) share. No state, so any thread may
 * call it. */

#define DM_ALIGN8(x) (((x) + 7) & ~(size_t) 7)

/* The control fd, or -errno. */
int dm_control_open(void);

/* Sets up a zeroed buffer of size bytes (8-aligned, at least the header) as an ioctl on the device
 * devnum (0: none); the payload starts 8-aligned after the header. */
void dm_ioctl_init(struct dm_ioctl *io, size_t size, dev_t devnum);
/* The same, allocated: NULL on ENOMEM. size is rounded up to hold the header. */
struct dm_ioctl *dm_ioctl_new(size_t size, dev_t devnum);
/* Wipes the buffer, which may hold a table's or a message's key, and frees it. */
void dm_ioctl_freep(struct dm_ioctl **io);

static inline void *dm_ioctl_payload(struct dm_ioctl *io) {
        return (char *) io + io->data_start;
}

/* 0, or -errno from the kernel. */
int dm_ioctl_run(int fd, unsigned long request, struct dm_ioctl *io);
