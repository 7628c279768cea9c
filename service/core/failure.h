/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "macro.h"

/* A target's new failure: what a read of a DM device shows that the read before did not. Each
 * failure is reported once, as it happens, never again while it lasts; a count that rises (an
 * integrity mismatch, a failed path) is a new failure each time. */

/* X(ID, "kind"): the kind as Device.Failure names it. */
#define FAILURE_KINDS(X)                                                        \
        X(VERITY_CORRUPTION, "verity-corruption")                               \
        X(INTEGRITY_MISMATCH, "integrity-mismatch")                             \
        X(RAID_MEMBER_FAILED, "raid-member-failed")                             \
        X(MIRROR_LEG_FAILED, "mirror-leg-failed")                               \
        X(MULTIPATH_PATH_FAILED, "multipath-path-failed")                       \
        X(THIN_POOL_OUT_OF_DATA_SPACE, "thin-pool-out-of-data-space")           \
        X(THIN_POOL_METADATA_READ_ONLY, "thin-pool-metadata-read-only")         \
        X(THIN_POOL_NEEDS_CHECK, "thin-pool-needs-check")                       \
        X(THIN_POOL_FAILED, "thin-pool-failed")                                 \
        X(SNAPSHOT_INVALID, "snapshot-invalid")                                 \
        X(CACHE_FAILED, "cache-failed")

#define _FAILURE_KIND_ENUM(id, name) FAILURE_##id,
typedef enum FailureKind {
        FAILURE_KINDS(_FAILURE_KIND_ENUM)
        _FAILURE_KIND_MAX,
} FailureKind;
#undef _FAILURE_KIND_ENUM

typedef struct Failure {
        FailureKind kind;
        size_t row;                     /* the table row whose target failed */
        /* Details, each set only for the kinds that have it. */
        bool has_block;                 /* verity: the block the kernel's uevent named */
        uint64_t block;
        const char *block_type;         /* "data", "metadata" */
        uint64_t count, added;          /* integrity: mismatches; multipath: failed paths */
        uint64_t paths;                 /* multipath */
        bool has_member;                /* raid member, mirror leg: its index, health, device */
        uint32_t member;
        char health;
        char device[24];                /* "MAJ:MIN" from the table, "" when unknown */
        const char *reason;             /* snapshot, cache: which of their states */
} Failure;

const char *failure_kind_to_string(FailureKind kind) _pure_;

/* The failures now shows that before did not, row by row where both have a row of the same
 * target type at the same place, plus one verity corruption for each of verity_errors (the values
 * of DM_VERITY_ERR_BLOCK_NR, "TYPE,BLOCK", of the device's uevents since before): those carry
 * their block, and a corruption seen without one is reported without it. *ret is allocated
 * (free()) and may be NULL when *ret_n is 0. -ENOMEM. */
int failures_between(const DmDevice *before, const DmDevice *now, char *const *verity_errors, Failure **ret, size_t *ret_n);

/* One sentence for a person and the log: "raid1 member 1 (254:3) failed ('D')". */
void failure_describe(const Failure *f, char *buf, size_t size);
