/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "graph.h"
#include "macro.h"

/* What a DM device's state says about its health, and how full its pools are: pure functions of
 * what the graph holds, its targets' typed status (dm-status.h). */

/* Reads every status row of dm once (dm->status): judges the targets' health (the worst row wins,
 * with its reason), keeps the typed status of the first row that ParsedStatus shows, and what
 * long work of the kernel's they show (kernel-work.h). */
int dm_device_read_status(DmDevice *dm);

/* "ok", "degraded", "suspended", "failed". */
const char *health_to_string(Health health) _pure_;
/* The worse of the targets' health and of a suspend that lasted too long. */
Health dm_device_health(const DmDevice *dm) _pure_;

/* How full a target with usage is, in whole percent, from its typed status: a thin-pool's data and
 * metadata, a snapshot's exception store (data), a cache's blocks (data) and metadata. */
typedef struct Usage {
        bool has_data, has_metadata;
        unsigned data, metadata;
} Usage;

Usage dm_device_usage(const DmDevice *dm) _pure_;
/* Whether the targets are ones whose usage moves without a DM event: the ones to poll. */
bool dm_device_has_usage(const DmDevice *dm) _pure_;

/* The thresholds (ascending) that usage rose past from before to now: from < t <= now. Returns how
 * many were written to ret (at most n). */
size_t thresholds_crossed(unsigned before, unsigned now, const unsigned *thresholds, size_t n, unsigned *ret);
