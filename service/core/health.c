/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <string.h>

#include "health.h"
#include "string-table.h"

static const char *const health_table[_HEALTH_MAX] = {
        [HEALTH_OK] = "ok",
        [HEALTH_DEGRADED] = "degraded",
        [HEALTH_SUSPENDED] = "suspended",
        [HEALTH_FAILED] = "failed",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(health, Health);

Health dm_device_health(const DmDevice *dm) {
        assert(dm);

        if (dm->suspended_too_long && dm->target_health < HEALTH_SUSPENDED)
                return HEALTH_SUSPENDED;
        return dm->target_health;
}

static const StatusField *field(const DmDevice *dm, const char *key) {
        for (size_t i = 0; i < dm->n_parsed_status; i++)
                if (strcmp(dm->parsed_status[i].key, key) == 0)
                        return &dm->parsed_status[i];
        return NULL;
}

/* used/total in whole percent, floored; false when the fields are missing or total is 0. */
static bool percent(const DmDevice *dm, const char *used_key, const char *total_key, unsigned *ret) {
        const StatusField *used = field(dm, used_key), *total = field(dm, total_key);

        if (!used || !total || total->u64 == 0)
                return false;
        *ret = (unsigned) (used->u64 >= total->u64 ? 100 : (used->u64 * 100) / total->u64);
        return true;
}

Usage dm_device_usage(const DmDevice *dm) {
        const StatusField *type;
        Usage u = {};

        assert(dm);

        type = field(dm, "target_type");
        if (!type || type->type != STATUS_FIELD_STRING)
                return u;
        if (strcmp(type->s, "thin-pool") == 0) {
                u.has_data = percent(dm, "used_data_blocks", "total_data_blocks", &u.data);
                u.has_metadata = percent(dm, "used_metadata_blocks", "total_metadata_blocks", &u.metadata);
        } else if (strcmp(type->s, "snapshot") == 0)
                u.has_data = percent(dm, "used_sectors", "total_sectors", &u.data);
        else if (strcmp(type->s, "cache") == 0) {
                u.has_data = percent(dm, "used_blocks", "total_blocks", &u.data);
                u.has_metadata = percent(dm, "metadata_used_blocks", "metadata_total_blocks", &u.metadata);
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
