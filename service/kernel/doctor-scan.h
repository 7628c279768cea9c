/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "doctor.h"
#include "udev-sysfs.h"

/* What Manager.Check compares, read from /dev and udev's database, and Repair's one way of asking
 * udev to look again. No ioctl and no block I/O: a link's target is stat()ed, never opened. */

/* Every link in /dev/mapper (but control) and /dev/disk/by-id/dm-name-*, dm-uuid-*, with where
 * it leads. */
int doctor_scan_links(DoctorLink **ret, size_t *ret_n);
void doctor_links_free(DoctorLink *links, size_t n);

/* What udev's database says of dm-MINOR: d's udev_* fields. */
int doctor_scan_udev(UdevSysfs *u, unsigned minor, DoctorDevice *d);

/* Since when the device's node exists (devtmpfs makes it as the kernel adds the disk), in µs of
 * CLOCK_REALTIME; 0 when unknown. */
uint64_t doctor_scan_created(dev_t devnum);

/* The block major of DM devices, from /proc/devices; 0 when it has none. */
unsigned doctor_scan_dm_major(void);

/* Whether udev has events still to process (as udevadm settle asks it). */
bool doctor_scan_udev_busy(void);
/* Waits until it has none: -ETIMEDOUT after timeout_usec. */
int doctor_wait_udev_idle(uint64_t timeout_usec);

/* Waits until udev's database entry of the device was written after since (µs CLOCK_REALTIME):
 * udev has processed an event of the device's since then. -ETIMEDOUT after timeout_usec. */
int doctor_wait_udev_entry(dev_t devnum, uint64_t since, uint64_t timeout_usec);
/* Waits until udev has dropped the device's entry, as it does when it processes its removal. */
int doctor_wait_udev_entry_gone(dev_t devnum, uint64_t timeout_usec);

/* A synthetic "change" uevent for the device carrying SYNTH_ARG_DMBUS=reannounce, which the
 * project's rules take as a resume: written to its uevent file in sysfs. */
int doctor_reannounce(dev_t devnum);
