/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
 * Every call takes the control fd (dm-ioctl.h) and returns 0 or a negative errno from the kernel. Devices are named by dev_t, except
 * by DM_DEV_CREATE, which makes one. */

/* What an ioctl told us besides success. */
typedef struct DmOpsResult {
        bool uevent;            /* the kernel sent a uevent for it: udev will process one */
        bool deferred;          /* a deferred remove was left pending: the device is still open */
} DmOpsResult;

int dm_ops_create(int fd, const char *name, const char *uuid, dev_t *ret_devnum);
int dm_ops_load(int fd, dev_t devnum, const DmTableRow *rows, size_t n_rows, bool read_only);
int dm_ops_clear(int fd, dev_t devnum);
int dm_ops_suspend(int fd, dev_t devnum, bool noflush, bool nolockfs);
/* A resume swaps in the inactive table, if there is one. */
int dm_ops_resume(int fd, dev_t devnum, bool noflush, DmOpsResult *ret);
int dm_ops_remove(int fd, dev_t devnum, bool deferred, DmOpsResult *ret);
/* The same, trying again while the device is briefly open (udev's probe of a new device, a holder
 * going away), for up to attempts * 200 ms, as libdevmapper's retry does. */
int dm_ops_remove_retrying(int fd, dev_t devnum, bool deferred, unsigned attempts, DmOpsResult *ret);
/* The kernel renames only by the current name, which is read by dev_t first. */
int dm_ops_rename(int fd, dev_t devnum, const char *new_name, DmOpsResult *ret);
int dm_ops_set_uuid(int fd, dev_t devnum, const char *uuid, DmOpsResult *ret);
int dm_ops_message(int fd, dev_t devnum, uint64_t sector, const char *message, char **ret_reply);
/* DM_DEV_STATUS: the device's current name and UUID (the kernel's bytes), state and open count. */
typedef struct DmOpsStatus {
        char name[DM_NAME_LEN];
        char uuid[DM_UUID_LEN];
        bool suspended;
        bool inactive_table;
        int32_t open_count;
} DmOpsStatus;
int dm_ops_status(int fd, dev_t devnum, DmOpsStatus *ret);
/* 1 when status has the name and UUID given as the bus shows them (utf8-escape.h), 0 if not;
 * -ENOMEM. */
int dm_ops_status_is(const DmOpsStatus *status, const char *name, const char *uuid);
/* 1 when the live table is the error target alone (what a forced remove loads), 0 when it is
 * anything else or there is none; -errno. */
int dm_ops_live_table_is_error(int fd, dev_t devnum);
/* Asks the kernel for the target type, which loads its module if there is one: -ENOENT when the
 * kernel has no such target type. */
int dm_ops_target_type_check(int fd, const char *type);
