/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dm-status.h"
#include "macro.h"

/* The kernel's own long work on a device, read from its targets' typed status (dm-status.h): a
 * raid's resync, recovery, check, repair or reshape, a mirror's sync, a snapshot-merge, an
 * integrity recalculation, a cache's cleaning. The daemon shows each as a job (job-bus.h). */

typedef enum KernelWorkKind {
        KERNEL_WORK_NONE,
        KERNEL_WORK_RAID_RESYNC,
        KERNEL_WORK_RAID_RECOVER,
        KERNEL_WORK_RAID_CHECK,
        KERNEL_WORK_RAID_REPAIR,
        KERNEL_WORK_RAID_RESHAPE,
        KERNEL_WORK_MIRROR_SYNC,
        KERNEL_WORK_SNAPSHOT_MERGE,
        KERNEL_WORK_INTEGRITY_RECALCULATE,
        KERNEL_WORK_CACHE_CLEAN,
        _KERNEL_WORK_KIND_MAX,
} KernelWorkKind;

typedef struct KernelWork {
        KernelWorkKind kind;    /* what runs now, the first row's that runs; NONE when none */
        /* Of what runs: units still to do and units in all, 0 when the line does not say (a merge
         * and a cleaning only count down: their job counts from what it first saw). */
        uint64_t left, total;
        /* Some row has work left undone, running or not (a raid frozen mid-resync): a job that
         * ends so did not succeed. */
        bool unfinished;
} KernelWork;

/* As Job.Operation names them: "raid-resync", "mirror-sync", "snapshot-merge", ... */
const char *kernel_work_kind_to_string(KernelWorkKind kind) _pure_;

/* Adds one status row's work to w (zero-initialized before the first row). */
void kernel_work_add(KernelWork *w, const DmStatus *s);
