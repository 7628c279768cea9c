/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "string-table.h"
#include "utf8-escape.h"

static const char *const health_table[_HEALTH_MAX] = {
        [HEALTH_OK] = "ok",
        [HEALTH_DEGRADED] = "degraded",
        [HEALTH_SUSPENDED] = "suspended",
        [HEALTH_FAILED] = "failed",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(health, Health);

/* The worst health seen over the rows, with its reason. */
typedef struct Judgement {
        Health health;
        char reason[256];
} Judgement;

_printf_(3, 4)
static void judge(Judgement *j, Health health, const char *format, ...) {
        va_list ap;

        if (health <= j->health)
                return;
        j->health = health;
        va_start(ap, format);
        vsnprintf(j->reason, sizeof(j->reason), format, ap);
        va_end(ap);
}

static void judge_thin_pool(const DmStatus *s, Judgement *j) {
        if (s->thin_pool.fail)
                judge(j, HEALTH_FAILED, "thin-pool: failed");
        else if (s->thin_pool.out_of_data_space)
                judge(j, HEALTH_FAILED, "thin-pool: out of data space");
        else if (s->thin_pool.read_only)
                judge(j, HEALTH_DEGRADED, "thin-pool: read-only (metadata)");
        if (s->thin_pool.needs_check)
                judge(j, HEALTH_DEGRADED, "thin-pool: needs a check (thin_check)");
}

static void judge_thin(const DmStatus *s, Judgement *j) {
        if (s->thin.fail)
                judge(j, HEALTH_FAILED, "thin: failed");
}

static void judge_snapshot_fields(const char *type, const DmStatusSnapshot *s, Judgement *j) {
        if (s->overflow)
                judge(j, HEALTH_FAILED, "%s: overflowed (its exception store is full)", type);
        else if (s->invalid)
                judge(j, HEALTH_FAILED, "%s: invalid", type);
        else if (s->merge_failed)
                judge(j, HEALTH_DEGRADED, "%s: merge failed", type);
}

static void judge_snapshot(const DmStatus *s, Judgement *j) {
        judge_snapshot_fields("snapshot", &s->snapshot, j);
}

static void judge_snapshot_merge(const DmStatus *s, Judgement *j) {
        judge_snapshot_fields("snapshot-merge", &s->snapshot_merge, j);
}

static void judge_cache(const DmStatus *s, Judgement *j) {
        if (s->cache.fail)
                judge(j, HEALTH_FAILED, "cache: failed");
        else if (s->cache.needs_check)
                judge(j, HEALTH_DEGRADED, "cache: needs a check (cache_check)");
        else if (s->cache.read_only)
                judge(j, HEALTH_DEGRADED, "cache: read-only (metadata)");
}

static void judge_mirror(const DmStatus *s, Judgement *j) {
        const DmStatusMirrorFault *leg = &s->mirror.failed_leg, *log = &s->mirror.failed_log;

        if (leg->health)
                judge(j, HEALTH_DEGRADED, "mirror: leg %u:%u failed ('%c')", leg->major, leg->minor, leg->health);
        else if (log->health)
                judge(j, HEALTH_DEGRADED, "mirror: log %u:%u failed ('%c')", log->major, log->minor, log->health);
}

static void judge_raid(const DmStatus *s, Judgement *j) {
        const char *health = s->raid.dev_health, *action = s->raid.sync_action;
        size_t dead = 0, behind = 0, n = strlen(health);

        for (size_t i = 0; i < n; i++) {
                dead += health[i] == 'D';
                behind += health[i] == 'a';
        }
        if (dead > 0 && dead == n)
                return judge(j, HEALTH_FAILED, "%s: every member failed (%s)", s->raid.raid_type, health);
        if (dead > 0)
                return judge(j, HEALTH_DEGRADED, "%s: %zu of %zu members failed (%s)", s->raid.raid_type, dead, n, health);
        /* Not in sync while nothing syncs it: it will not catch up by itself. */
        if (behind > 0 && (strcmp(action, "idle") == 0 || strcmp(action, "frozen") == 0))
                judge(j, HEALTH_DEGRADED, "%s: %zu member(s) out of sync and not syncing (%s, %s)", s->raid.raid_type, behind,
                      health, action);
}

static void judge_integrity(const DmStatus *s, Judgement *j) {
        if (s->integrity.mismatches > 0)
                judge(j, HEALTH_DEGRADED, "integrity: %" PRIu64 " checksum mismatch(es)", s->integrity.mismatches);
}

static void judge_verity(const DmStatus *s, Judgement *j) {
        if (s->verity.corrupted)
                judge(j, HEALTH_FAILED, "verity: corruption detected");
}

static void judge_multipath(const DmStatus *s, Judgement *j) {
        uint64_t failed = s->multipath.failed_paths, paths = s->multipath.paths;

        if (failed > 0)
                judge(j, failed == paths ? HEALTH_FAILED : HEALTH_DEGRADED, "multipath: %" PRIu64 " of %" PRIu64 " paths failed",
                      failed, paths);
}

static void judge_status(const DmStatus *s, Judgement *j) {
        static void (*const judges[_DM_STATUS_KIND_MAX])(const DmStatus *s, Judgement *j) = {
#define JUDGE_ENTRY(KIND, name, type, FIELDS) [DM_STATUS_##KIND] = judge_##name,
                DM_STATUS_KINDS(JUDGE_ENTRY)
#undef JUDGE_ENTRY
        };

        if (s->kind != DM_STATUS_NONE)
                judges[s->kind](s, j);
}

int dm_device_read_status(DmDevice *dm) {
        Judgement j = {};

        assert(dm);

        for (size_t i = 0; i < dm->n_status; i++) {
                _cleanup_(dm_status_done) DmStatus s = {};
                int r;

                r = dm_status_parse(dm->status[i].type, dm->status[i].params, &s);
                if (r < 0)
                        return r;
                judge_status(&s, &j);
                kernel_work_add(&dm->kernel_work, &s);
                /* The others raise a DM event or a uevent as they fail: raid, mirror, multipath,
                 * thin-pool, snapshot and cache a table event, verity a uevent for each bad block. */
                dm->silent_health = dm->silent_health || s.kind == DM_STATUS_INTEGRITY;
                if (dm->parsed_status.kind == DM_STATUS_NONE)
                        dm->parsed_status = TAKE_STRUCT(s);
        }
        dm->target_health = j.health;
        /* It may quote the status line's words, and be cut inside a character. */
        dm->health_reason = utf8_escape_invalid(j.reason);
        return dm->health_reason ? 0 : -ENOMEM;
}

Health dm_device_health(const DmDevice *dm) {
        assert(dm);

        if (dm->suspended_too_long && dm->target_health < HEALTH_SUSPENDED)
                return HEALTH_SUSPENDED;
        return dm->target_health;
}

/* used/total in whole percent, floored; false when total is 0. */
static bool percent(uint64_t used, uint64_t total, unsigned *ret) {
        if (total == 0)
                return false;
        *ret = (unsigned) (used >= total ? 100 : (used * 100) / total);
        return true;
}

Usage dm_device_usage(const DmDevice *dm) {
        const DmStatus *s;
        Usage u = {};

        assert(dm);

        s = &dm->parsed_status;
        switch (s->kind) {
        case DM_STATUS_THIN_POOL:
                u.has_data = percent(s->thin_pool.used_data_blocks, s->thin_pool.total_data_blocks, &u.data);
                u.has_metadata = percent(s->thin_pool.used_metadata_blocks, s->thin_pool.total_metadata_blocks, &u.metadata);
                break;
        case DM_STATUS_SNAPSHOT:
                u.has_data = percent(s->snapshot.used_sectors, s->snapshot.total_sectors, &u.data);
                break;
        case DM_STATUS_CACHE:
                u.has_data = percent(s->cache.used_blocks, s->cache.total_blocks, &u.data);
                u.has_metadata = percent(s->cache.metadata_used_blocks, s->cache.metadata_total_blocks, &u.metadata);
                break;
        default:
                break;
        }
        return u;
}

bool dm_device_has_usage(const DmDevice *dm) {
        Usage u = dm_device_usage(dm);

        return u.has_data || u.has_metadata;
}

size_t thresholds_crossed(unsigned before, unsigned now, const unsigned *thresholds, size_t n, unsigned *ret) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                if (before < thresholds[i] && thresholds[i] <= now)
                        ret[k++] = thresholds[i];
        return k;
}
