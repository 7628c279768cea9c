/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "graph.h"
#include "macro.h"

/* The udev/sysfs layer: the only file that talks to libudev. It reads what udev and sysfs know
 * of a block device (names, size, read-only flag, the links udev made, slaves), never the
 * device's data. */

typedef struct UdevSysfs UdevSysfs;

int udev_sysfs_new(UdevSysfs **ret);
UdevSysfs *udev_sysfs_free(UdevSysfs *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(UdevSysfs *, udev_sysfs_free);

/* A new BlockDevice for devnum with kernel name, node, size, read-only flag and udev's symlinks
 * filled in (dm and deps left empty), and the dev_t of its sysfs slaves/. Returns -ENODEV when
 * there is no such block device. */
int udev_sysfs_read_block(UdevSysfs *u, dev_t devnum, BlockDevice **ret, dev_t **ret_slaves, size_t *ret_n_slaves);
