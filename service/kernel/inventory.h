/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "dm-kernel.h"
#include "graph.h"
#include "udev-sysfs.h"

/* Fills the graph from the kernel: one DM_DEVICE_LIST, then every DM device (ioctls, and udev's
 * symlinks) and every block device under one (udev and sysfs). Devices that vanish meanwhile are left out. Logs at debug
 * level only: the caller says what failed. */
int inventory_scan(Graph *g, DmKernel *k, UdevSysfs *u);

/* Reads one block device afresh: a DM device from the ioctls and udev's symlinks, another from
 * udev and sysfs. event_links (may be NULL): a DM device's links as its latest udev event carried
 * them, taken instead of reading udev's database.
 * Returns -ENXIO/-ENODEV when it is gone. */
int inventory_read_device(DmKernel *k, UdevSysfs *u, dev_t devnum, char ***event_links, BlockDevice **ret);
