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

static void test_usage(void) {
        StatusField pool[] = {
                { "target_type", STATUS_FIELD_STRING, .s = "thin-pool" },
                { "used_metadata_blocks", STATUS_FIELD_U64, .u64 = 10 },
                { "total_metadata_blocks", STATUS_FIELD_U64, .u64 = 1000 },
                { "used_data_blocks", STATUS_FIELD_U64, .u64 = 799 },
                { "total_data_blocks", STATUS_FIELD_U64, .u64 = 1000 },
        };
        StatusField snapshot[] = {
                { "target_type", STATUS_FIELD_STRING, .s = "snapshot" },
                { "used_sectors", STATUS_FIELD_U64, .u64 = 64 },
                { "total_sectors", STATUS_FIELD_U64, .u64 = 64 },
        };
        StatusField linear_like[] = {
                { "target_type", STATUS_FIELD_STRING, .s = "mirror" },
        };
        DmDevice dm = { .parsed_status = pool, .n_parsed_status = G_N_ELEMENTS(pool) };
        Usage u = dm_device_usage(&dm);

        g_assert_true(u.has_data && u.has_metadata);
        g_assert_cmpuint(u.data, ==, 79);        /* floored: 79.9 % is not yet 80 */
        g_assert_cmpuint(u.metadata, ==, 1);
        g_assert_true(dm_device_has_usage(&dm));

        dm = (DmDevice) { .parsed_status = snapshot, .n_parsed_status = G_N_ELEMENTS(snapshot) };
        u = dm_device_usage(&dm);
        g_assert_true(u.has_data && !u.has_metadata);
        g_assert_cmpuint(u.data, ==, 100);

        dm = (DmDevice) { .parsed_status = linear_like, .n_parsed_status = G_N_ELEMENTS(linear_like) };
        g_assert_false(dm_device_has_usage(&dm));
        dm = (DmDevice) {};
        g_assert_false(dm_device_has_usage(&dm));
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
        g_test_add_func("/health/usage", test_usage);
        g_test_add_func("/health/thresholds-crossed", test_thresholds_crossed);
        return g_test_run();
}
