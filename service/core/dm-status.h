/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* One target's status line, typed. The line is kernel input (a table may hold any bytes, and some
 * targets quote them back): every parser takes any string, refuses a line that is not wholly what
 * its target writes, and escapes every string it keeps as names are (utf8-escape.h). Our own
 * parsers, not libdevmapper's: the fuzzer (fuzz-dm-status) crashed its raid and cache parsers,
 * which trust the line's counts. The fields keep libdevmapper's names. */

/* The fields a kind shows in ParsedStatus, in order: X(TYPE, member, "key"), the key kebab-case as
 * every key of the contract's dictionaries. TYPE is U64, BOOL, STRING (owned, escaped) or
 * OPTIONAL_U64 (shown only when the line had it). */
#define DM_STATUS_THIN_POOL_FIELDS(X)                                           \
        X(U64, transaction_id, "transaction-id")                                \
        X(U64, used_metadata_blocks, "used-metadata-blocks")                    \
        X(U64, total_metadata_blocks, "total-metadata-blocks")                  \
        X(U64, used_data_blocks, "used-data-blocks")                            \
        X(U64, total_data_blocks, "total-data-blocks")                          \
        X(U64, held_metadata_root, "held-metadata-root")                        \
        X(BOOL, read_only, "read-only")                                         \
        X(BOOL, out_of_data_space, "out-of-data-space")                         \
        X(BOOL, fail, "fail")                                                   \
        X(BOOL, needs_check, "needs-check")                                     \
        X(BOOL, error_if_no_space, "error-if-no-space")                         \
        X(STRING, discards, "discards")

#define DM_STATUS_THIN_FIELDS(X)                                                \
        X(U64, mapped_sectors, "mapped-sectors")                                \
        X(U64, highest_mapped_sector, "highest-mapped-sector")                  \
        X(BOOL, fail, "fail")

#define DM_STATUS_SNAPSHOT_FIELDS(X)                                            \
        X(U64, used_sectors, "used-sectors")                                    \
        X(U64, total_sectors, "total-sectors")                                  \
        X(OPTIONAL_U64, metadata_sectors, "metadata-sectors")                   \
        X(BOOL, invalid, "invalid")                                             \
        X(BOOL, merge_failed, "merge-failed")                                   \
        X(BOOL, overflow, "overflow")

#define DM_STATUS_CACHE_FIELDS(X)                                               \
        X(U64, metadata_block_size, "metadata-block-size")                      \
        X(U64, metadata_used_blocks, "metadata-used-blocks")                    \
        X(U64, metadata_total_blocks, "metadata-total-blocks")                  \
        X(U64, block_size, "block-size")                                        \
        X(U64, used_blocks, "used-blocks")                                      \
        X(U64, dirty_blocks, "dirty-blocks")                                    \
        X(U64, total_blocks, "total-blocks")                                    \
        X(U64, read_hits, "read-hits")                                          \
        X(U64, read_misses, "read-misses")                                      \
        X(U64, write_hits, "write-hits")                                        \
        X(U64, write_misses, "write-misses")                                    \
        X(U64, demotions, "demotions")                                          \
        X(U64, promotions, "promotions")                                        \
        X(STRING, policy, "policy")                                             \
        X(BOOL, read_only, "read-only")                                         \
        X(BOOL, needs_check, "needs-check")                                     \
        X(BOOL, fail, "fail")                                                   \
        X(BOOL, error, "error")

#define DM_STATUS_MIRROR_FIELDS(X)                                              \
        X(U64, total_regions, "total-regions")                                  \
        X(U64, insync_regions, "insync-regions")                                \
        X(U64, dev_count, "dev-count")                                          \
        X(STRING, dev_health, "dev-health")                                     \
        X(STRING, log_type, "log-type")

#define DM_STATUS_RAID_FIELDS(X)                                                \
        X(STRING, raid_type, "raid-type")                                       \
        X(U64, dev_count, "dev-count")                                          \
        X(STRING, dev_health, "dev-health")                                     \
        X(U64, total_regions, "total-regions")                                  \
        X(U64, insync_regions, "insync-regions")                                \
        X(STRING, sync_action, "sync-action")                                   \
        X(U64, mismatch_count, "mismatch-count")

/* Integrity, verity and multipath: only what their health and their work need. */
#define DM_STATUS_INTEGRITY_FIELDS(X)                                           \
        X(U64, mismatches, "mismatches")                                        \
        X(U64, provided_data_sectors, "provided-data-sectors")                  \
        X(OPTIONAL_U64, recalculate_sector, "recalculate-sector")

#define DM_STATUS_VERITY_FIELDS(X)                                              \
        X(BOOL, corrupted, "corrupted")

#define DM_STATUS_MULTIPATH_FIELDS(X)                                           \
        X(U64, paths, "paths")                                                  \
        X(U64, failed_paths, "failed-paths")

/* X(KIND, name, "target type", FIELDS): each kind once. ParsedStatus shows the first row of a kind. */
#define DM_STATUS_KINDS(X)                                                             \
        X(THIN_POOL, thin_pool, "thin-pool", DM_STATUS_THIN_POOL_FIELDS)              \
        X(THIN, thin, "thin", DM_STATUS_THIN_FIELDS)                                   \
        X(SNAPSHOT, snapshot, "snapshot", DM_STATUS_SNAPSHOT_FIELDS)                   \
        X(SNAPSHOT_MERGE, snapshot_merge, "snapshot-merge", DM_STATUS_SNAPSHOT_FIELDS) \
        X(CACHE, cache, "cache", DM_STATUS_CACHE_FIELDS)                               \
        X(MIRROR, mirror, "mirror", DM_STATUS_MIRROR_FIELDS)                           \
        X(RAID, raid, "raid", DM_STATUS_RAID_FIELDS)                                   \
        X(INTEGRITY, integrity, "integrity", DM_STATUS_INTEGRITY_FIELDS)               \
        X(VERITY, verity, "verity", DM_STATUS_VERITY_FIELDS)                           \
        X(MULTIPATH, multipath, "multipath", DM_STATUS_MULTIPATH_FIELDS)

typedef enum DmStatusKind {
        DM_STATUS_NONE,         /* a target we do not read, or a line its parser refused */
#define DM_STATUS_KIND_ENUM(KIND, name, type, FIELDS) DM_STATUS_##KIND,
        DM_STATUS_KINDS(DM_STATUS_KIND_ENUM)
#undef DM_STATUS_KIND_ENUM
        _DM_STATUS_KIND_MAX,
} DmStatusKind;

typedef struct DmStatusOptionalU64 {
        bool present;
        uint64_t value;
} DmStatusOptionalU64;

#define DM_STATUS_CTYPE_U64 uint64_t
#define DM_STATUS_CTYPE_BOOL bool
#define DM_STATUS_CTYPE_STRING char *
#define DM_STATUS_CTYPE_OPTIONAL_U64 DmStatusOptionalU64
#define DM_STATUS_FIELD_DECLARE(TYPE, member, key) DM_STATUS_CTYPE_##TYPE member;

/* A mirror's leg or log that is not alive ('D' dead, 'R' read error, ...): health 0 when all are. */
typedef struct DmStatusMirrorFault {
        char health;
        uint32_t major, minor;
} DmStatusMirrorFault;

/* A snapshot's exception store; a snapshot-merge writes the same line as it merges it back. */
typedef struct DmStatusSnapshot {
        DM_STATUS_SNAPSHOT_FIELDS(DM_STATUS_FIELD_DECLARE)
} DmStatusSnapshot;

typedef struct DmStatus {
        DmStatusKind kind;
        union {
                struct { DM_STATUS_THIN_POOL_FIELDS(DM_STATUS_FIELD_DECLARE) } thin_pool;
                struct { DM_STATUS_THIN_FIELDS(DM_STATUS_FIELD_DECLARE) } thin;
                DmStatusSnapshot snapshot, snapshot_merge;
                struct { DM_STATUS_CACHE_FIELDS(DM_STATUS_FIELD_DECLARE) } cache;
                struct {
                        DM_STATUS_MIRROR_FIELDS(DM_STATUS_FIELD_DECLARE)
                        /* The first failed leg and log, for the health's reason. */
                        DmStatusMirrorFault failed_leg, failed_log;
                } mirror;
                struct { DM_STATUS_RAID_FIELDS(DM_STATUS_FIELD_DECLARE) } raid;
                struct { DM_STATUS_INTEGRITY_FIELDS(DM_STATUS_FIELD_DECLARE) } integrity;
                struct { DM_STATUS_VERITY_FIELDS(DM_STATUS_FIELD_DECLARE) } verity;
                struct { DM_STATUS_MULTIPATH_FIELDS(DM_STATUS_FIELD_DECLARE) } multipath;
        };
} DmStatus;

/* The kind that reads a target type's status; DM_STATUS_NONE for the others. */
DmStatusKind dm_status_kind_from_target_type(const char *type) _pure_;
const char *dm_status_kind_to_target_type(DmStatusKind kind) _pure_;

/* Parses one status line of a target type. ret is DM_STATUS_NONE (and 0 returned) for a type we do
 * not read or a line its parser refused, so that nothing half-read is ever shown. -ENOMEM. */
int dm_status_parse(const char *target_type, const char *params, DmStatus *ret);
void dm_status_done(DmStatus *s);
/* The same kind with the same listed fields. */
bool dm_status_equal(const DmStatus *a, const DmStatus *b) _pure_;
