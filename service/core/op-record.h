/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* A record of a device that an operation has left, for a moment, in a transient state: created but
 * not yet loaded or resumed, an inactive table loaded, suspended, an error table in place. Written
 * before such a step (atomically, under /run/dmbus, which a restart of the service keeps) and
 * removed once the operation ended clean, so that a service killed in between finds, at its next
 * start, what to settle. One small text file each, "key=value" lines; names and UUIDs as the bus
 * shows them (utf8-escape.h), so that a line stays a line. Never a table: it may hold a key. */

#define OP_RECORD_DIR "/run/dmbus"
/* Ids are "op-PID-N" for an operation's steps, "op-lease-MAJ-MIN" for a lease (one per device). */
#define OP_RECORD_ID_MAX 48

typedef enum OpRecordUndo {
        OP_RECORD_REMOVE = 1 << 0,      /* a device this service was making, or removing by force */
        OP_RECORD_CLEAR  = 1 << 1,      /* an inactive table this service may have loaded */
        OP_RECORD_RESUME = 1 << 2,      /* a device this service may have suspended */
} OpRecordUndo;

typedef struct OpRecord {
        dev_t devnum;
        /* The kernel's number for this disk (sysfs "diskseq", Linux 5.15 and later), never the
         * same for a device made again under the same number and name; 0 when not known (no
         * table loaded yet, or an older kernel). */
        uint64_t diskseq;
        char *name;
        char *uuid;
        char *operation;                /* "Create", "CreateStack" (a device of one), "Reload", "Remove" */
        unsigned undo;                  /* OpRecordUndo bits */
        /* A Suspend with a lease: when the lease ends (CLOCK_REALTIME, us), and the bus name of the
         * caller, whose leaving ends it too. Until then the record is a lease, not yet to settle. */
        uint64_t lease_until;
        char *owner;
} OpRecord;

void op_record_done(OpRecord *r);

/* The file's text, and back: 0, or -EINVAL for text that is not a record, -ENOMEM. */
int op_record_format(const OpRecord *r, char **ret);
int op_record_parse(const char *text, OpRecord *ret);

/* The id of the record of the lease on devnum. */
void op_record_lease_id(dev_t devnum, char *buf, size_t size);

/* Writes (replaces) the record id in dir, atomically; removes it. 0 or -errno. */
int op_record_write(const char *dir, const char *id, const OpRecord *r);
int op_record_remove(const char *dir, const char *id);

/* The ids ("op-...") of the records in dir: a NULL-terminated list, or NULL when there are none
 * (or no dir). -errno. */
int op_record_list(const char *dir, char ***ret);
int op_record_read(const char *dir, const char *id, OpRecord *ret);
