/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/dm-ioctl.h>

#include "table.h"

/* The device-mapper ioctls that change things, made directly on a control fd of the caller's.
 * Nothing here touches libdevmapper or any shared state, so worker threads may call it while the
 * main loop reads the kernel through dm-kernel.c. A suspend with flush, or a table load whose
 * targets read their metadata, can block for as long as the devices below take: which is why
 * these run off the main loop. No /dev node is ever made or removed here; udev does that.
 *
 * Every call takes the control fd (dm-ioctl.h) and returns 0 or a negative errno from the kernel.
 * DM_DEV_STATUS finds a device by its number; every call that changes one addresses it by UUID,
 * or by name when it has none (DmOpsDevice), as the kernel takes one key only: a number is reused
 * at once, so a device another tool made in between under the same number is never the one
 * changed. */

/* A device as the calls that change it address it: the kernel's bytes of its name and UUID, as
 * DM_DEV_STATUS gave them (or as DM_DEV_CREATE was given them). */
typedef struct DmOpsDevice {
        dev_t devnum;
        char name[DM_NAME_LEN];
        char uuid[DM_UUID_LEN];
} DmOpsDevice;

/* What an ioctl told us besides success. */
typedef struct DmOpsResult {
        bool uevent;            /* the kernel sent a uevent for it: udev will process one */
        bool deferred;          /* a deferred remove was left pending: the device is still open */
} DmOpsResult;

/* ret: the device made, to address the calls below by. */
int dm_ops_create(int fd, const char *name, const char *uuid, DmOpsDevice *ret);
/* The same at that number (DM_PERSISTENT_DEV_FLAG): -EBUSY when it is taken. */
int dm_ops_create_at(int fd, const char *name, const char *uuid, dev_t devnum, DmOpsDevice *ret);
int dm_ops_load(int fd, const DmOpsDevice *dev, const DmTableRow *rows, size_t n_rows, bool read_only);
int dm_ops_clear(int fd, const DmOpsDevice *dev);
int dm_ops_suspend(int fd, const DmOpsDevice *dev, bool noflush, bool nolockfs);
/* A resume swaps in the inactive table, if there is one. */
int dm_ops_resume(int fd, const DmOpsDevice *dev, bool noflush, DmOpsResult *ret);
int dm_ops_remove(int fd, const DmOpsDevice *dev, bool deferred, DmOpsResult *ret);
/* The same, trying again while the device is briefly open (udev's probe of a new device, a holder
 * going away), for up to attempts * DM_OPS_REMOVE_RETRY_INTERVAL_MSEC; libdevmapper's retry makes
 * DM_OPS_REMOVE_RETRY_ATTEMPTS, 5 s. -ECANCELED, before the next try, once *cancel is set (it may
 * be NULL). */
#define DM_OPS_REMOVE_RETRY_INTERVAL_MSEC 200u
#define DM_OPS_REMOVE_RETRY_ATTEMPTS 25u
int dm_ops_remove_retrying(int fd, const DmOpsDevice *dev, bool deferred, unsigned attempts, const atomic_bool *cancel,
                           DmOpsResult *ret);
/* The kernel renames by the current name only. */
int dm_ops_rename(int fd, const DmOpsDevice *dev, const char *new_name, DmOpsResult *ret);
int dm_ops_set_uuid(int fd, const DmOpsDevice *dev, const char *uuid, DmOpsResult *ret);
int dm_ops_message(int fd, const DmOpsDevice *dev, uint64_t sector, const char *message, char **ret_reply);
/* DM_DEV_STATUS: the device's current name and UUID (the kernel's bytes), state and open count. */
typedef struct DmOpsStatus {
        char name[DM_NAME_LEN];
        char uuid[DM_UUID_LEN];
        bool suspended;
        bool live_table;
        bool inactive_table;
        int32_t open_count;
} DmOpsStatus;
int dm_ops_status(int fd, dev_t devnum, DmOpsStatus *ret);
/* The device of that status, to address the calls above by. */
void dm_ops_device_from_status(DmOpsDevice *ret, dev_t devnum, const DmOpsStatus *status);
/* 1 when status has the name and UUID given as the bus shows them (utf8-escape.h), 0 if not;
 * -ENOMEM. */
int dm_ops_status_is(const DmOpsStatus *status, const char *name, const char *uuid);
/* 1 when the live table is the error target alone (what a forced remove loads), 0 when it is
 * anything else or there is none; -errno. */
int dm_ops_live_table_is_error(int fd, const DmOpsDevice *dev);
/* Asks the kernel for the target type, which loads its module if there is one: -ENOENT when the
 * kernel has no such target type. */
int dm_ops_target_type_check(int fd, const char *type);
