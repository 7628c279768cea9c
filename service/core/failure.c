/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "failure.h"

static const char *const failure_kind_table[_FAILURE_KIND_MAX] = {
#define FAILURE_KIND_NAME(id, name) [FAILURE_##id] = name,
        FAILURE_KINDS(FAILURE_KIND_NAME)
#undef FAILURE_KIND_NAME
};

const char *failure_kind_to_string(FailureKind kind) {
        assert(kind >= 0 && kind < _FAILURE_KIND_MAX);
        return failure_kind_table[kind];
}

typedef struct Failures {
        Failure *items;
        size_t n, allocated;
} Failures;

static int add(Failures *fs, const Failure *f) {
        if (GREEDY_REALLOC(fs->items, fs->allocated, fs->n + 1) < 0)
                return -ENOMEM;
        fs->items[fs->n++] = *f;
        return 0;
}

/* The device of a raid member or a mirror leg as the table names it ("MAJ:MIN"): raid "TYPE
 * #PARAMS PARAM... #DEVS META DATA...", mirror "LOG_TYPE #LOG_ARGS ARG... #LEGS DEV OFFSET...". */
static void member_device(const char *params, bool raid, uint32_t member, char *buf, size_t size) {
        const char *p = params;
        char word[64];
        uint64_t skip, devs;
        int n;

        buf[0] = 0;
        if (sscanf(p, "%63s %" SCNu64 "%n", word, &skip, &n) != 2)
                return;
        for (p += n; skip > 0; skip--, p += n)
                if (sscanf(p, "%63s%n", word, &n) != 1)
                        return;
        if (sscanf(p, "%" SCNu64 "%n", &devs, &n) != 1 || member >= devs)
                return;
        p += n;
        /* raid: the data device is the second of each pair; mirror: the device is the first. */
        for (uint64_t i = 0; i <= 2 * (uint64_t) member + raid; i++, p += n)
                if (sscanf(p, "%63s%n", word, &n) != 1)
                        return;
        if (strlen(word) < size)
                strcpy(buf, word);
}

/* Members whose health character went from alive to failed: raid 'D'; a mirror leg anything but 'A'. */
static int members_failed(Failures *fs, size_t row, FailureKind kind, const char *before, const char *now, const char *params) {
        size_t n = strlen(now);
        bool raid = kind == FAILURE_RAID_MEMBER_FAILED;

        if (strlen(before) != n)
                return 0;
        for (size_t i = 0; i < n; i++) {
                bool was = raid ? before[i] == 'D' : before[i] != 'A', is = raid ? now[i] == 'D' : now[i] != 'A';
                Failure f = { .kind = kind, .row = row, .has_member = true, .member = (uint32_t) i, .health = now[i] };
                int r;

                if (was || !is)
                        continue;
                if (params)
                        member_device(params, raid, (uint32_t) i, f.device, sizeof(f.device));
                r = add(fs, &f);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool snapshot_broken(const DmStatusSnapshot *s, const char **reason) {
        *reason = s->overflow ? "overflow" : s->invalid ? "invalid" : s->merge_failed ? "merge-failed" : NULL;
        return *reason;
}

static int row_failures(Failures *fs, size_t row, const DmStatus *a, const DmStatus *b, const char *params) {
        const char *reason, *reason_before;
        int r = 0;

#define FAILED(k, ...) add(fs, &(Failure) { .kind = FAILURE_##k, .row = row, __VA_ARGS__ })
        switch (b->kind) {
        case DM_STATUS_VERITY:
                /* Said by the caller, with the uevent's block where there is one. */
                break;
        case DM_STATUS_INTEGRITY:
                if (b->integrity.mismatches > a->integrity.mismatches)
                        r = FAILED(INTEGRITY_MISMATCH, .count = b->integrity.mismatches,
                                   .added = b->integrity.mismatches - a->integrity.mismatches);
                break;
        case DM_STATUS_RAID:
                r = members_failed(fs, row, FAILURE_RAID_MEMBER_FAILED, a->raid.dev_health, b->raid.dev_health, params);
                break;
        case DM_STATUS_MIRROR:
                r = members_failed(fs, row, FAILURE_MIRROR_LEG_FAILED, a->mirror.dev_health, b->mirror.dev_health, params);
                break;
        case DM_STATUS_MULTIPATH:
                if (b->multipath.failed_paths > a->multipath.failed_paths)
                        r = FAILED(MULTIPATH_PATH_FAILED, .count = b->multipath.failed_paths,
                                   .added = b->multipath.failed_paths - a->multipath.failed_paths, .paths = b->multipath.paths);
                break;
        case DM_STATUS_THIN_POOL:
                if (b->thin_pool.fail && !a->thin_pool.fail)
                        r = FAILED(THIN_POOL_FAILED);
                if (r >= 0 && b->thin_pool.out_of_data_space && !a->thin_pool.out_of_data_space)
                        r = FAILED(THIN_POOL_OUT_OF_DATA_SPACE);
                if (r >= 0 && b->thin_pool.read_only && !a->thin_pool.read_only)
                        r = FAILED(THIN_POOL_METADATA_READ_ONLY);
                if (r >= 0 && b->thin_pool.needs_check && !a->thin_pool.needs_check)
                        r = FAILED(THIN_POOL_NEEDS_CHECK);
                break;
        case DM_STATUS_SNAPSHOT:
        case DM_STATUS_SNAPSHOT_MERGE: {
                const DmStatusSnapshot *sa = b->kind == DM_STATUS_SNAPSHOT ? &a->snapshot : &a->snapshot_merge;
                const DmStatusSnapshot *sb = b->kind == DM_STATUS_SNAPSHOT ? &b->snapshot : &b->snapshot_merge;

                if (snapshot_broken(sb, &reason) && !snapshot_broken(sa, &reason_before))
                        r = FAILED(SNAPSHOT_INVALID, .reason = reason);
                break;
        }
        case DM_STATUS_CACHE:
                if (b->cache.fail && !a->cache.fail)
                        r = FAILED(CACHE_FAILED, .reason = b->cache.error ? "error" : "fail");
                break;
        default:
                break;
        }
#undef FAILED
        return r;
}

/* "TYPE,BLOCK" as dm-verity puts it in its uevent: type 0 data, 1 metadata (a hash block). */
static bool parse_verity_error(const char *s, Failure *f) {
        unsigned type;
        uint64_t block;
        int n;

        if (sscanf(s, "%u,%" SCNu64 "%n", &type, &block, &n) != 2 || s[n] != 0 || type > 1 || s[0] == '-')
                return false;
        f->has_block = true;
        f->block = block;
        f->block_type = type == 0 ? "data" : "metadata";
        return true;
}

static size_t first_verity_row(const DmDevice *dm) {
        for (size_t i = 0; i < dm->n_status; i++)
                if (strcmp(dm->status[i].type, "verity") == 0)
                        return i;
        return SIZE_MAX;
}

static bool verity_corrupted(const DmDevice *dm, size_t row) {
        _cleanup_(dm_status_done) DmStatus s = {};

        if (row >= dm->n_status || dm_status_parse(dm->status[row].type, dm->status[row].params, &s) < 0)
                return false;
        return s.kind == DM_STATUS_VERITY && s.verity.corrupted;
}

static int verity_failures(Failures *fs, const DmDevice *before, const DmDevice *now, char *const *verity_errors) {
        size_t row = first_verity_row(now);
        size_t reported = 0;
        int r;

        if (row == SIZE_MAX)
                return 0;
        for (char *const *e = verity_errors; e && *e; e++) {
                Failure f = { .kind = FAILURE_VERITY_CORRUPTION, .row = row };

                if (!parse_verity_error(*e, &f))
                        continue;
                r = add(fs, &f);
                if (r < 0)
                        return r;
                reported++;
        }
        if (reported == 0 && verity_corrupted(now, row) && !verity_corrupted(before, row))
                return add(fs, &(Failure) { .kind = FAILURE_VERITY_CORRUPTION, .row = row });
        return 0;
}

int failures_between(const DmDevice *before, const DmDevice *now, char *const *verity_errors, Failure **ret, size_t *ret_n) {
        Failures fs = {};
        int r;

        assert(before);
        assert(now);
        assert(ret);
        assert(ret_n);

        for (size_t i = 0; i < now->n_status && i < before->n_status; i++) {
                const DmTarget *a = &before->status[i], *b = &now->status[i];
                _cleanup_(dm_status_done) DmStatus sa = {}, sb = {};
                /* The live table's row, for the members' devices. */
                const char *params = i < now->n_table && strcmp(now->table[i].type, b->type) == 0 ? now->table[i].params : NULL;

                /* The same line says nothing new: only rows that changed are parsed. */
                if (strcmp(a->type, b->type) != 0 || strcmp(a->params, b->params) == 0)
                        continue;
                r = dm_status_parse(a->type, a->params, &sa);
                if (r >= 0)
                        r = dm_status_parse(b->type, b->params, &sb);
                if (r >= 0 && sa.kind == sb.kind)
                        r = row_failures(&fs, i, &sa, &sb, params);
                if (r < 0)
                        goto fail;
        }
        r = verity_failures(&fs, before, now, verity_errors);
        if (r < 0)
                goto fail;
        *ret = fs.items;
        *ret_n = fs.n;
        return 0;

fail:
        free(fs.items);
        return r;
}

void failure_describe(const Failure *f, char *buf, size_t size) {
        switch (f->kind) {
        case FAILURE_VERITY_CORRUPTION:
                if (f->has_block)
                        snprintf(buf, size, "verity: %s block %" PRIu64 " is corrupted", f->block_type, f->block);
                else
                        snprintf(buf, size, "verity: corruption detected");
                break;
        case FAILURE_INTEGRITY_MISMATCH:
                snprintf(buf, size, "integrity: %" PRIu64 " new checksum mismatch(es), %" PRIu64 " in all", f->added, f->count);
                break;
        case FAILURE_RAID_MEMBER_FAILED:
        case FAILURE_MIRROR_LEG_FAILED:
                snprintf(buf, size, "%s %" PRIu32 "%s%s%s failed ('%c')", f->kind == FAILURE_RAID_MEMBER_FAILED ? "raid: member" : "mirror: leg",
                         f->member, f->device[0] ? " (" : "", f->device, f->device[0] ? ")" : "", f->health);
                break;
        case FAILURE_MULTIPATH_PATH_FAILED:
                snprintf(buf, size, "multipath: %" PRIu64 " more path(s) failed, %" PRIu64 " of %" PRIu64, f->added, f->count, f->paths);
                break;
        case FAILURE_THIN_POOL_OUT_OF_DATA_SPACE:
                snprintf(buf, size, "thin-pool: out of data space");
                break;
        case FAILURE_THIN_POOL_METADATA_READ_ONLY:
                snprintf(buf, size, "thin-pool: metadata went read-only");
                break;
        case FAILURE_THIN_POOL_NEEDS_CHECK:
                snprintf(buf, size, "thin-pool: needs a check (thin_check)");
                break;
        case FAILURE_THIN_POOL_FAILED:
                snprintf(buf, size, "thin-pool: failed");
                break;
        case FAILURE_SNAPSHOT_INVALID:
                snprintf(buf, size, "snapshot: invalidated (%s)", f->reason);
                break;
        case FAILURE_CACHE_FAILED:
                snprintf(buf, size, "cache: failed (%s)", f->reason);
                break;
        default:
                snprintf(buf, size, "%s", failure_kind_to_string(f->kind));
        }
}
