/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "graph.h"

/* The device-mapper read layer: raw ioctls on its own control fd, with small buffers kept across
 * calls, and libdevmapper's versions and settings (its status parsers are core/dm-status.c's).
 * libdevmapper is not thread-safe, and the buffers are the DmKernel's, so every call into this
 * layer happens on the main loop's thread. No call here does block I/O on a DM device: only
 * control ioctls, and STATUS without a flush. */

typedef struct DmKernel DmKernel;

/* Sets libdevmapper up for a daemon (its messages go to our debug log, names are taken as the
 * kernel has them, no udev cookie semaphores are ever taken and no /dev nodes are ever made by the
 * library: udev and our rules own /dev) and opens our own handle on /dev/mapper/control.
 *
 * Nothing here logs above debug level: every call returns -errno and its caller says what failed. */
int dm_kernel_new(DmKernel **ret);
DmKernel *dm_kernel_free(DmKernel *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(DmKernel *, dm_kernel_free);

/* The kernel's DM ioctl interface version (e.g. "4.47.0") and libdevmapper's own version. */
int dm_kernel_get_versions(char **ret_driver, char **ret_library);

typedef struct DmListEntry {
        dev_t devnum;
        uint32_t event_nr;
        char *name;
} DmListEntry;

void dm_list_free(DmListEntry *list, size_t n);

/* One DM_LIST_DEVICES: every DM device with its event counter. */
int dm_kernel_list(DmKernel *k, DmListEntry **ret, size_t *ret_n);

/* DM_LIST_VERSIONS: the target types the kernel has (loaded modules), as dmsetup targets. */
typedef struct DmTargetType {
        char *name;
        uint32_t version[3];
} DmTargetType;

void dm_target_types_free(DmTargetType *types, size_t n);
int dm_kernel_list_target_types(DmKernel *k, DmTargetType **ret, size_t *ret_n);

/* TABLE, STATUS, the inactive table and DEPS of one device (raw ioctls on k's fd), as one consistent reading. Table
 * parameters come with their secrets masked. Returns -ENXIO when the device does not exist (any
 * more). */
int dm_kernel_query(DmKernel *k, dev_t devnum, DmDevice **ret_dm, dev_t **ret_deps, size_t *ret_n_deps);

bool dm_kernel_is_dm_major(unsigned major);

/* The control fd becomes readable when the kernel issues a DM event (a device created, removed,
 * renamed, resumed, a target's event). Arm it before reading the state, so that no event falls
 * between the reading and the next wakeup. Other ioctls on it leave the poll state alone, so the
 * operations' workers may share it (dm-ops.h). */
int dm_kernel_control_fd(DmKernel *k);
int dm_kernel_arm_poll(DmKernel *k);

/* INFO of one device: flags and counters only (one cheap ioctl). -ENXIO when it is gone. */
int dm_kernel_info(DmKernel *k, dev_t devnum, DmInfo *ret);
