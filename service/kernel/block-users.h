/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* What keeps block devices in use, as the kernel shows it: sysfs holders/, the mount table, the
 * swap list and every process's open files. Reads of /sys and /proc only: no ioctl, never an open
 * of a device, no libudev, so any thread may scan (an operation's worker naming who holds its
 * device, the users scan's thread). A process's open files are followed with statx() and
 * AT_STATX_DONT_SYNC, so a file on a network filesystem is not asked of its server. Reading the
 * fds of another user's process takes CAP_SYS_PTRACE; without it such processes are not seen. */

typedef enum BlockUserKind {
        BLOCK_USER_HOLDER,      /* a device stacked on it (DM, md, bcache, ...) */
        BLOCK_USER_MOUNT,
        BLOCK_USER_SWAP,
        BLOCK_USER_PROCESS,
        _BLOCK_USER_KIND_MAX,
} BlockUserKind;

typedef struct BlockUser {
        dev_t devnum;           /* the device used */
        BlockUserKind kind;
        /* HOLDER: its kernel name ("dm-4"); MOUNT: the mount point; SWAP: the path /proc/swaps
         * gives; PROCESS: its comm. These and dm_name escaped as utf8-escape.h does: any bytes. */
        char *name;
        char *dm_name;          /* HOLDER: its DM name, when it is a DM device */
        dev_t holder;           /* HOLDER */
        pid_t pid;              /* PROCESS */
        uid_t uid;              /* PROCESS */
} BlockUser;

void block_users_free(BlockUser *users, size_t n);

/* Every user of the devices given, in the order holders, mounts, swap, processes (each process
 * once per device): 0, or -ENOMEM. What cannot be read (a process that exits meanwhile, /proc/swaps
 * missing) is passed over. */
int block_users_scan(const dev_t *devnums, size_t n_devnums, BlockUser **ret, size_t *ret_n);

/* "holder", "mount", "swap", "process". */
const char *block_user_kind_to_string(BlockUserKind kind) _pure_;
/* Whether viewer may learn who the user is: a process of another uid is root's to know (the scan
 * reads it with CAP_SYS_PTRACE, past hidepid= and ptrace rules), and its owner's. */
bool block_user_visible_to(const BlockUser *user, uid_t viewer) _pure_;
/* The user in words, for an error message to viewer: "held by \"top\" (dm-4)", "mounted on /mnt",
 * "used as swap", "held open by pid 1234 (dd)", or "held open by a process of another user" when
 * viewer may not know it. NULL when out of memory. */
char *block_user_describe(const BlockUser *user, uid_t viewer);
