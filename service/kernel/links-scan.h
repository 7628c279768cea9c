/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "macro.h"
#include "udev-sysfs.h"

/* udev's symlinks of many DM devices, read by worker threads while the caller does the ioctls:
 * at start-up the links cost about twice the ioctls, and the DM layer stays on the main thread
 * while libudev may run on any thread that has a context of its own. The workers take devices
 * one at a time from a shared counter, and the caller joins them when its own work is done, so
 * the work balances whatever the number of CPUs. */

typedef struct LinksScan LinksScan;

/* Starts reading the links of dm-MINOR for each of minors[0..n) (copied). With no CPU to spare,
 * or no thread to be had, no worker starts and links_scan_finish does it all. */
int links_scan_start(const unsigned *minors, size_t n, LinksScan **ret);
/* Reads what the workers have not taken yet, with the caller's context u, then waits for them. */
void links_scan_finish(LinksScan *s, UdevSysfs *u);
/* After links_scan_finish: device i's result as udev_sysfs_read_dm_links gives it (0, -ENODEV
 * when it has no block device, or another -errno); on 0 the links move to *ret. */
int links_scan_take(LinksScan *s, size_t i, char ***ret);
/* Unfinished, it waits for what the workers are reading and drops the rest. */
LinksScan *links_scan_free(LinksScan *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(LinksScan *, links_scan_free);
