/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A table as callers send it: rows of (start, length, target type, parameters), in sectors. */
typedef struct DmTableRow {
        uint64_t start, length;
        const char *type;
        const char *params;
} DmTableRow;

/* Bounds far above any real table (lvm2's biggest are thousands of rows, a few hundred bytes of
 * parameters each) and far below what would strain the daemon or the kernel. */
#define TABLE_ROWS_MAX 100000
#define TABLE_PARAMS_MAX 4096
#define TARGET_TYPE_MAX 15      /* bytes; the kernel's DM_MAX_TYPE_NAME holds 16 with the NUL */
#define TARGET_MESSAGE_MAX 4096

/* NULL when the table can be handed to the kernel, else a sentence for the caller, in buf: rows
 * must tile the device from sector 0 with no gap or overlap, no row may be empty, and types and
 * parameters must be short printable text. Whether the types exist is the kernel's to say. */
const char *table_invalid_reason(const DmTableRow *rows, size_t n, char *buf, size_t size);

/* Calls cb for each parameter that names a device, "MAJOR:MINOR" or a path under /dev, with the
 * token as a NUL-terminated string; stops at the first negative return and returns it. */
int table_foreach_device_reference(const DmTableRow *rows, size_t n,
                                   int (*cb)(const char *reference, void *userdata), void *userdata);

/* NULL when a target message is short printable text, else why not. */
const char *target_message_invalid_reason(const char *message);
