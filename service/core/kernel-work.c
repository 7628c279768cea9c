/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <string.h>

#include "kernel-work.h"
#include "string-table.h"

static const char *const kernel_work_kind_table[_KERNEL_WORK_KIND_MAX] = {
        [KERNEL_WORK_NONE] = "none",
        [KERNEL_WORK_RAID_RESYNC] = "raid-resync",
        [KERNEL_WORK_RAID_RECOVER] = "raid-recover",
        [KERNEL_WORK_RAID_CHECK] = "raid-check",
        [KERNEL_WORK_RAID_REPAIR] = "raid-repair",
        [KERNEL_WORK_RAID_RESHAPE] = "raid-reshape",
        [KERNEL_WORK_MIRROR_SYNC] = "mirror-sync",
        [KERNEL_WORK_SNAPSHOT_MERGE] = "snapshot-merge",
        [KERNEL_WORK_INTEGRITY_RECALCULATE] = "integrity-recalculate",
        [KERNEL_WORK_CACHE_CLEAN] = "cache-clean",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(kernel_work_kind, KernelWorkKind);

/* md's sync_action words for work that moves the in-sync ratio; "idle" and "frozen" do not. */
static KernelWorkKind raid_work(const char *sync_action) {
        static const struct {
                const char *action;
                KernelWorkKind kind;
        } actions[] = {
                { "resync", KERNEL_WORK_RAID_RESYNC },
                { "recover", KERNEL_WORK_RAID_RECOVER },
                { "check", KERNEL_WORK_RAID_CHECK },
                { "repair", KERNEL_WORK_RAID_REPAIR },
                { "reshape", KERNEL_WORK_RAID_RESHAPE },
        };

        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (strcmp(sync_action, actions[i].action) == 0)
                        return actions[i].kind;
        return KERNEL_WORK_NONE;
}

static uint64_t regions_left(uint64_t insync, uint64_t total) {
        return insync < total ? total - insync : 0;
}

/* What the row says: the work that runs (NONE if none) and whether work is left undone. */
static KernelWork row_work(const DmStatus *s) {
        switch (s->kind) {
        case DM_STATUS_RAID: {
                uint64_t left = regions_left(s->raid.insync_regions, s->raid.total_regions);

                return (KernelWork) {
                        .kind = left > 0 ? raid_work(s->raid.sync_action) : KERNEL_WORK_NONE,
                        .left = left,
                        .total = s->raid.total_regions,
                        .unfinished = left > 0,
                };
        }
        case DM_STATUS_MIRROR: {
                uint64_t left = regions_left(s->mirror.insync_regions, s->mirror.total_regions);

                /* A failed leg stops the sync: left undone, not running. */
                return (KernelWork) {
                        .kind = left > 0 && !s->mirror.failed_leg.health ? KERNEL_WORK_MIRROR_SYNC : KERNEL_WORK_NONE,
                        .left = left,
                        .total = s->mirror.total_regions,
                        .unfinished = left > 0,
                };
        }
        case DM_STATUS_SNAPSHOT_MERGE: {
                const DmStatusSnapshot *m = &s->snapshot_merge;
                uint64_t metadata = m->metadata_sectors.present ? m->metadata_sectors.value : 0;
                uint64_t left = m->used_sectors > metadata ? m->used_sectors - metadata : 0;
                bool stopped = m->invalid || m->merge_failed || m->overflow;

                return (KernelWork) {
                        .kind = left > 0 && !stopped ? KERNEL_WORK_SNAPSHOT_MERGE : KERNEL_WORK_NONE,
                        .left = left,
                        .unfinished = left > 0 || stopped,
                };
        }
        case DM_STATUS_INTEGRITY: {
                const DmStatusOptionalU64 *at = &s->integrity.recalculate_sector;
                uint64_t provided = s->integrity.provided_data_sectors;
                uint64_t left = at->present && at->value < provided ? provided - at->value : 0;

                return (KernelWork) {
                        .kind = left > 0 ? KERNEL_WORK_INTEGRITY_RECALCULATE : KERNEL_WORK_NONE,
                        .left = left,
                        .total = provided,
                        .unfinished = left > 0,
                };
        }
        case DM_STATUS_CACHE: {
                /* Dirty blocks come and go under writeback; only the cleaner policy drains them. */
                bool cleaning = strcmp(s->cache.policy, "cleaner") == 0 && s->cache.dirty_blocks > 0;

                return (KernelWork) {
                        .kind = cleaning && !s->cache.fail ? KERNEL_WORK_CACHE_CLEAN : KERNEL_WORK_NONE,
                        .left = cleaning ? s->cache.dirty_blocks : 0,
                        .unfinished = cleaning,
                };
        }
        default:
                return (KernelWork) {};
        }
}

void kernel_work_add(KernelWork *w, const DmStatus *s) {
        KernelWork row;

        assert(w);
        assert(s);

        row = row_work(s);
        if (w->kind == KERNEL_WORK_NONE && row.kind != KERNEL_WORK_NONE) {
                w->kind = row.kind;
                w->left = row.left;
                w->total = row.total;
        }
        w->unfinished = w->unfinished || row.unfinished;
}
