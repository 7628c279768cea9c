/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

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
/* Types and parameters of all rows together: lvm2's most fragmented volumes stay far below, and
 * it bounds the work before authorization and what a request waiting for it holds. */
#define TABLE_TEXT_MAX (1024 * 1024)
#define TARGET_TYPE_MAX 15      /* bytes; the kernel's DM_MAX_TYPE_NAME holds 16 with the NUL */
#define TARGET_MESSAGE_MAX 4096

/* NULL when the table can be handed to the kernel, else a sentence for the caller, in buf: rows
 * must tile the device from sector 0 with no gap or overlap, no row may be empty, and types and
 * parameters must be short printable text, TABLE_TEXT_MAX bytes in all. Whether the types exist is the kernel's to say. */
const char *table_invalid_reason(const DmTableRow *rows, size_t n, char *buf, size_t size);
/* The same checks for row i alone, whose start must be expected_start (where the row before
 * ended): for a table read a part at a time. The counts (rows, bytes in all) are the caller's. */
const char *table_row_invalid_reason(const DmTableRow *row, size_t i, uint64_t expected_start, char *buf, size_t size);

/* At most this many distinct devices under one table: far above real stacks (a striped or raid
 * table names tens), and a bound on what a caller makes us hold and, once authorized, look at. */
#define TABLE_REFERENCES_MAX 1024

/* The distinct devices the parameters name: every token that is "MAJOR:MINOR" or a path (it
 * starts with '/'), each checked for form only: a dev_t in the kernel's range, a path under
 * /dev. Linear in the table's size, no syscall. Returns 0 with a NULL-terminated list (or NULL
 * when there is none), or -EINVAL or -E2BIG with a sentence for the caller in buf. */
int table_collect_references(const DmTableRow *rows, size_t n, char ***ret, char *buf, size_t size);

/* Puts "MAJOR:MINOR" in the place of every path among paths (a NULL-terminated list, as
 * table_collect_references() gives) in the rows' parameters, devnums[i] for paths[i]: so the
 * kernel loads the device that was checked, not what the path leads to by then. A row that
 * changes points to a new string appended to *ret_owned, which the caller wipes (it may hold a
 * key) and frees. 0, or -ENOMEM. */
int table_substitute_paths(DmTableRow *rows, size_t n, char *const *paths, const dev_t *devnums, char ***ret_owned);

/* NULL when a target message is short printable text, else why not. */
const char *target_message_invalid_reason(const char *message);
