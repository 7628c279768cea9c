/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "health.h"

static void test_health(void) {
        DmDevice dm = { .target_health = HEALTH_OK };

        g_assert_cmpstr(health_to_string(dm_device_health(&dm)), ==, "ok");
        dm.suspended_too_long = true;
        g_assert_cmpstr(health_to_string(dm_device_health(&dm)), ==, "suspended");
        dm.target_health = HEALTH_DEGRADED;
        g_assert_cmpstr(health_to_string(dm_device_health(&dm)), ==, "suspended");
        /* Failed is worse than a long suspend. */
        dm.target_health = HEALTH_FAILED;
        g_assert_cmpstr(health_to_string(dm_device_health(&dm)), ==, "failed");
        dm.suspended_too_long = false;
        dm.target_health = HEALTH_DEGRADED;
        g_assert_cmpstr(health_to_string(dm_device_health(&dm)), ==, "degraded");
}

/* A device whose status rows are (type, line) pairs, read as the daemon reads them. */
static DmDevice *device_with_status(const char *const *rows, size_t n) {
        DmDevice *dm = g_new0(DmDevice, 1);

        dm->status = g_new0(DmTarget, n);
        dm->n_status = n;
        for (size_t i = 0; i < n; i++)
                dm->status[i] = (DmTarget) { .type = g_strdup(rows[2 * i]), .params = g_strdup(rows[2 * i + 1]) };
        g_assert_cmpint(dm_device_read_status(dm), ==, 0);
        return dm;
}

#define DEVICE_WITH_STATUS(...)                                                                  \
        ({                                                                                       \
                static const char *const _rows_[] = { __VA_ARGS__ };                            \
                device_with_status(_rows_, G_N_ELEMENTS(_rows_) / 2);                            \
        })

static void assert_judged(DmDevice *dm, Health health, const char *reason) {
        g_assert_cmpstr(health_to_string(dm->target_health), ==, health_to_string(health));
        g_assert_cmpstr(dm->health_reason, ==, reason);
        dm_device_free(dm);
}

static void test_judged(void) {
        assert_judged(DEVICE_WITH_STATUS("linear", ""), HEALTH_OK, "");
        assert_judged(DEVICE_WITH_STATUS("thin-pool", "0 1/10 10/10 - out_of_data_space discard_passdown queue_if_no_space - 1"),
                      HEALTH_FAILED, "thin-pool: out of data space");
        assert_judged(DEVICE_WITH_STATUS("thin-pool", "0 1/10 1/10 - ro discard_passdown queue_if_no_space needs_check 1"),
                      HEALTH_DEGRADED, "thin-pool: read-only (metadata)");
        assert_judged(DEVICE_WITH_STATUS("snapshot", "Overflow"), HEALTH_FAILED, "snapshot: overflowed (its exception store is full)");
        assert_judged(DEVICE_WITH_STATUS("snapshot-merge", "Merge failed"), HEALTH_DEGRADED, "snapshot-merge: merge failed");
        assert_judged(DEVICE_WITH_STATUS("raid", "raid1 2 AD 1/1 idle 0 0 -"), HEALTH_DEGRADED, "raid1: 1 of 2 members failed (AD)");
        assert_judged(DEVICE_WITH_STATUS("raid", "raid1 2 DD 1/1 idle 0 0 -"), HEALTH_FAILED, "raid1: every member failed (DD)");
        /* Behind but syncing will catch up; behind and idle will not. */
        assert_judged(DEVICE_WITH_STATUS("raid", "raid1 2 Aa 1/2 recover 0 0 -"), HEALTH_OK, "");
        assert_judged(DEVICE_WITH_STATUS("raid", "raid1 2 Aa 1/2 idle 0 0 -"), HEALTH_DEGRADED,
                      "raid1: 1 member(s) out of sync and not syncing (Aa, idle)");
        assert_judged(DEVICE_WITH_STATUS("mirror", "2 7:0 7:1 32/32 1 AD 1 core"), HEALTH_DEGRADED, "mirror: leg 7:1 failed ('D')");
        assert_judged(DEVICE_WITH_STATUS("cache", "8 27/2048 128 10/8192 5 6 7 8 0 0 3 1 writeback 2 migration_threshold 2048 smq 0 rw needs_check"),
                      HEALTH_DEGRADED, "cache: needs a check (cache_check)");
        assert_judged(DEVICE_WITH_STATUS("integrity", "2 131072 -"), HEALTH_DEGRADED, "integrity: 2 checksum mismatch(es)");
        assert_judged(DEVICE_WITH_STATUS("verity", "C"), HEALTH_FAILED, "verity: corruption detected");
        assert_judged(DEVICE_WITH_STATUS("multipath", "0 0 1 1 A 0 2 1 7:0 A 0 0 7:1 F 1 0"), HEALTH_DEGRADED,
                      "multipath: 1 of 2 paths failed");
        /* The worst row wins, with its reason. */
        assert_judged(DEVICE_WITH_STATUS("integrity", "2 131072 -", "verity", "C", "linear", ""), HEALTH_FAILED,
                      "verity: corruption detected");
}

static void test_shown(void) {
        /* The first row of a kind ParsedStatus shows: a linear row is none. */
        DmDevice *dm = DEVICE_WITH_STATUS("linear", "", "thin", "8 7", "snapshot", "16/64 16");

        g_assert_cmpint(dm->parsed_status.kind, ==, DM_STATUS_THIN);
        g_assert_cmpuint(dm->parsed_status.thin.mapped_sectors, ==, 8);
        dm_device_free(dm);
        dm = DEVICE_WITH_STATUS("integrity", "3 131072 -");
        g_assert_cmpint(dm->parsed_status.kind, ==, DM_STATUS_INTEGRITY);
        g_assert_cmpuint(dm->parsed_status.integrity.mismatches, ==, 3);
        dm_device_free(dm);
        /* A line its parser refused shows nothing. */
        dm = DEVICE_WITH_STATUS("thin-pool", "garbage");
        g_assert_cmpint(dm->parsed_status.kind, ==, DM_STATUS_NONE);
        dm_device_free(dm);
}

static void test_usage(void) {
        DmDevice *dm = DEVICE_WITH_STATUS("thin-pool", "0 10/1000 799/1000 - rw discard_passdown queue_if_no_space - 1");
        Usage u = dm_device_usage(dm);

        g_assert_true(u.has_data && u.has_metadata);
        g_assert_cmpuint(u.data, ==, 79);        /* floored: 79.9 % is not yet 80 */
        g_assert_cmpuint(u.metadata, ==, 1);
        g_assert_true(dm_device_has_usage(dm));
        dm_device_free(dm);

        dm = DEVICE_WITH_STATUS("snapshot", "64/64 16");
        u = dm_device_usage(dm);
        g_assert_true(u.has_data && !u.has_metadata);
        g_assert_cmpuint(u.data, ==, 100);
        dm_device_free(dm);

        dm = DEVICE_WITH_STATUS("mirror", "2 7:0 7:1 32/32 1 AA 1 core");
        g_assert_false(dm_device_has_usage(dm));
        dm_device_free(dm);
        dm = DEVICE_WITH_STATUS("linear", "");
        g_assert_false(dm_device_has_usage(dm));
        dm_device_free(dm);
}

/* The kernel's own work: what runs, what is left of how much, and whether any is left undone. */
static void assert_work(DmDevice *dm, const char *kind, guint64 left, guint64 total, gboolean unfinished) {
        g_assert_cmpstr(kernel_work_kind_to_string(dm->kernel_work.kind), ==, kind);
        g_assert_cmpuint(dm->kernel_work.left, ==, left);
        g_assert_cmpuint(dm->kernel_work.total, ==, total);
        g_assert_cmpint(dm->kernel_work.unfinished, ==, unfinished);
        dm_device_free(dm);
}

static void test_kernel_work(void) {
        /* raid: each sync action that moves the ratio; idle or frozen mid-way is left undone. */
        assert_work(DEVICE_WITH_STATUS("raid", "raid1 2 aa 16640/131072 resync 0 0 -"), "raid-resync", 114432, 131072, TRUE);
        assert_work(DEVICE_WITH_STATUS("raid", "raid1 2 Aa 100/200 recover 0 0 -"), "raid-recover", 100, 200, TRUE);
        assert_work(DEVICE_WITH_STATUS("raid", "raid1 2 AA 8320/131072 check 0 0 -"), "raid-check", 122752, 131072, TRUE);
        assert_work(DEVICE_WITH_STATUS("raid", "raid5 3 AAA 1/2 repair 0 0 -"), "raid-repair", 1, 2, TRUE);
        assert_work(DEVICE_WITH_STATUS("raid", "raid5 3 AAA 1/2 reshape 0 0 -"), "raid-reshape", 1, 2, TRUE);
        assert_work(DEVICE_WITH_STATUS("raid", "raid1 2 aa 100/200 frozen 0 0 -"), "none", 0, 0, TRUE);
        assert_work(DEVICE_WITH_STATUS("raid", "raid1 2 AA 131072/131072 idle 0 0 -"), "none", 0, 0, FALSE);
        /* mirror: syncing while its legs live. */
        assert_work(DEVICE_WITH_STATUS("mirror", "2 7:0 7:1 74/128 1 AA 1 core"), "mirror-sync", 54, 128, TRUE);
        assert_work(DEVICE_WITH_STATUS("mirror", "2 7:0 7:1 74/128 1 AD 1 core"), "none", 0, 0, TRUE);
        assert_work(DEVICE_WITH_STATUS("mirror", "2 7:0 7:1 128/128 1 AA 1 core"), "none", 0, 0, FALSE);
        /* snapshot-merge: counts down to the metadata; no total. */
        assert_work(DEVICE_WITH_STATUS("snapshot-merge", "1016/131072 16"), "snapshot-merge", 1000, 0, TRUE);
        assert_work(DEVICE_WITH_STATUS("snapshot-merge", "16/131072 16"), "none", 0, 0, FALSE);
        assert_work(DEVICE_WITH_STATUS("snapshot-merge", "Merge failed"), "none", 0, 0, TRUE);
        /* A plain snapshot fills; it does not work towards an end. */
        assert_work(DEVICE_WITH_STATUS("snapshot", "1016/131072 16"), "none", 0, 0, FALSE);
        /* integrity: recalculating up to the provided sectors. */
        assert_work(DEVICE_WITH_STATUS("integrity", "0 129160 32768"), "integrity-recalculate", 96392, 129160, TRUE);
        assert_work(DEVICE_WITH_STATUS("integrity", "0 129160 129160"), "none", 0, 0, FALSE);
        assert_work(DEVICE_WITH_STATUS("integrity", "0 129160 -"), "none", 0, 0, FALSE);
        /* cache: only the cleaner drains dirty blocks. */
        assert_work(DEVICE_WITH_STATUS("cache", "8 10/1024 128 66/256 93 131 64 0 0 0 64 1 writeback 2 migration_threshold 2048 cleaner 0 rw -"),
                    "cache-clean", 64, 0, TRUE);
        assert_work(DEVICE_WITH_STATUS("cache", "8 10/1024 128 66/256 93 131 64 0 0 0 64 1 writeback 2 migration_threshold 2048 smq 0 rw -"),
                    "none", 0, 0, FALSE);
        /* The first row that runs is the device's work; any row left undone counts. */
        assert_work(DEVICE_WITH_STATUS("linear", "", "raid", "raid1 2 aa 1/2 frozen 0 0 -", "integrity", "0 100 50"),
                    "integrity-recalculate", 50, 100, TRUE);
}

static void test_thresholds_crossed(void) {
        const unsigned thresholds[] = { 80, 90, 95 };
        unsigned crossed[3];

        g_assert_cmpuint(thresholds_crossed(0, 79, thresholds, 3, crossed), ==, 0);
        g_assert_cmpuint(thresholds_crossed(79, 80, thresholds, 3, crossed), ==, 1);
        g_assert_cmpuint(crossed[0], ==, 80);
        /* Once: staying above raises nothing. */
        g_assert_cmpuint(thresholds_crossed(80, 85, thresholds, 3, crossed), ==, 0);
        /* A jump past several raises each. */
        g_assert_cmpuint(thresholds_crossed(50, 96, thresholds, 3, crossed), ==, 3);
        g_assert_cmpuint(crossed[2], ==, 95);
        /* Falling raises nothing; rising again does. */
        g_assert_cmpuint(thresholds_crossed(96, 70, thresholds, 3, crossed), ==, 0);
        g_assert_cmpuint(thresholds_crossed(70, 91, thresholds, 3, crossed), ==, 2);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/health/health", test_health);
        g_test_add_func("/health/judged", test_judged);
        g_test_add_func("/health/shown", test_shown);
        g_test_add_func("/health/usage", test_usage);
        g_test_add_func("/health/kernel-work", test_kernel_work);
        g_test_add_func("/health/thresholds-crossed", test_thresholds_crossed);
        return g_test_run();
}
