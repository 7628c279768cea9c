/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "macro.h"

/* The journal's view of the service: a MESSAGE_ID for each kind of line a person or a tool looks
 * for, explained in data/dmbus.catalog (journalctl -x), and the fields that tie a line to its
 * device and its caller, so that `journalctl -u dmbusd DM_NAME=vg-root` is one device's history. */

/* X(ID, "128-bit id", "what it is"): each kind once; test-journal-fields checks the catalog. */
#define JOURNAL_MESSAGES(X)                                                                     \
        X(OPERATION_DONE, "672bd456cec34445b0b90267e3fc7ea5", "operation done")                 \
        X(OPERATION_FAILED, "c6bb0f0fe4af4e5ab068e00375830b6c", "operation failed")             \
        X(FAILURE, "cca3e80851a84bd0adca756debebcf36", "failure detected")                      \
        X(RECORD_SETTLED, "253f07edfe8341b49acbbbc1fdd77a5c", "record settled at start")        \
        X(SUSPENDED_TOO_LONG, "76a6c36cc0784ce4aef2d572d20e4da8", "suspended too long")        \
        X(REPAIR_DONE, "0b1f6a1d2c8e4f6a9d3b5e7c1a2f4d60", "repair done")

#define _JOURNAL_MESSAGE_ID(id, hex, what) static const char JOURNAL_MESSAGE_##id[] = "MESSAGE_ID=" hex;
JOURNAL_MESSAGES(_JOURNAL_MESSAGE_ID)
#undef _JOURNAL_MESSAGE_ID

/* message_id (one of JOURNAL_MESSAGE_*), then the device's DM_NAME, DM_UUID (where it has one)
 * and DM_DEVNUM ("MAJ:MIN"), for log_struct_errno(). NULL when out of memory: the line then
 * goes without its fields. Free with strv_free(). */
char **journal_fields_device(const char *message_id, const char *name, const char *uuid, dev_t devnum);
/* Appends "KEY=value" built from format; out of memory leaves the fields as they were. */
void journal_fields_add(char ***fields, const char *format, ...) _printf_(2, 3);
