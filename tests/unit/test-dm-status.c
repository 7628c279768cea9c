/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "dm-status.h"

/* Status lines as the kernel writes them (Documentation/admin-guide/device-mapper). */
static DmStatus parse(const char *type, const char *line) {
        DmStatus s;

        g_assert_cmpint(dm_status_parse(type, line, &s), ==, 0);
        return s;
}

static void test_thin_pool(void) {
        DmStatus s = parse("thin-pool", "3 11/4096 799/1000 - rw discard_passdown queue_if_no_space - 1024");

        g_assert_cmpint(s.kind, ==, DM_STATUS_THIN_POOL);
        g_assert_cmpuint(s.thin_pool.transaction_id, ==, 3);
        g_assert_cmpuint(s.thin_pool.used_metadata_blocks, ==, 11);
        g_assert_cmpuint(s.thin_pool.total_metadata_blocks, ==, 4096);
        g_assert_cmpuint(s.thin_pool.used_data_blocks, ==, 799);
        g_assert_cmpuint(s.thin_pool.total_data_blocks, ==, 1000);
        g_assert_false(s.thin_pool.read_only || s.thin_pool.out_of_data_space || s.thin_pool.fail || s.thin_pool.needs_check);
        g_assert_cmpstr(s.thin_pool.discards, ==, "passdown");
        dm_status_done(&s);

        s = parse("thin-pool", "3 11/4096 1000/1000 - out_of_data_space no_discard_passdown error_if_no_space needs_check 1024");
        g_assert_true(s.thin_pool.out_of_data_space && s.thin_pool.error_if_no_space && s.thin_pool.needs_check);
        g_assert_cmpstr(s.thin_pool.discards, ==, "no_passdown");
        dm_status_done(&s);

        s = parse("thin-pool", "3 11/4096 799/1000 7 ro ignore_discard queue_if_no_space - 1024");
        g_assert_cmpuint(s.thin_pool.held_metadata_root, ==, 7);
        g_assert_true(s.thin_pool.read_only);
        g_assert_cmpstr(s.thin_pool.discards, ==, "ignore");
        dm_status_done(&s);

        s = parse("thin-pool", "Fail");
        g_assert_cmpint(s.kind, ==, DM_STATUS_THIN_POOL);
        g_assert_true(s.thin_pool.fail);
        dm_status_done(&s);

        /* Half a line is not shown at all. */
        s = parse("thin-pool", "3 11/");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("thin-pool", "3 -11/4096 799/1000");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("thin-pool", "3 11/4096 99999999999999999999/1000");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
}

static void test_thin_and_snapshot(void) {
        DmStatus s = parse("thin", "2048 2047");

        g_assert_cmpint(s.kind, ==, DM_STATUS_THIN);
        g_assert_cmpuint(s.thin.mapped_sectors, ==, 2048);
        g_assert_cmpuint(s.thin.highest_mapped_sector, ==, 2047);
        s = parse("thin", "0 -");
        g_assert_cmpint(s.kind, ==, DM_STATUS_THIN);
        g_assert_cmpuint(s.thin.highest_mapped_sector, ==, 0);
        s = parse("thin", "Fail");
        g_assert_true(s.thin.fail);
        s = parse("thin", "12");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);

        s = parse("snapshot", "16/2097152 16");
        g_assert_cmpint(s.kind, ==, DM_STATUS_SNAPSHOT);
        g_assert_cmpuint(s.snapshot.used_sectors, ==, 16);
        g_assert_cmpuint(s.snapshot.total_sectors, ==, 2097152);
        g_assert_true(s.snapshot.metadata_sectors.present);
        g_assert_cmpuint(s.snapshot.metadata_sectors.value, ==, 16);
        s = parse("snapshot", "Overflow");
        g_assert_true(s.snapshot.overflow);
        s = parse("snapshot", "Invalid");
        g_assert_true(s.snapshot.invalid);
        s = parse("snapshot", "Merge failed");
        g_assert_true(s.snapshot.merge_failed);
        /* A merge writes a snapshot's line, under its own kind. */
        s = parse("snapshot-merge", "1016/131072 16");
        g_assert_cmpint(s.kind, ==, DM_STATUS_SNAPSHOT_MERGE);
        g_assert_cmpuint(s.snapshot_merge.used_sectors, ==, 1016);
        g_assert_cmpuint(s.snapshot_merge.metadata_sectors.value, ==, 16);
        s = parse("snapshot-merge", "Merge failed");
        g_assert_true(s.snapshot_merge.merge_failed);
        s = parse("snapshot-merge", "x/y");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("snapshot", "16/2097152");
        g_assert_false(s.snapshot.metadata_sectors.present);
        s = parse("snapshot", "16");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
}

static void test_cache(void) {
        DmStatus s = parse("cache", "8 27/2048 128 10/8192 5 6 7 8 0 0 3 1 writeback 2 migration_threshold 2048 smq 0 rw -");

        g_assert_cmpint(s.kind, ==, DM_STATUS_CACHE);
        g_assert_cmpuint(s.cache.metadata_block_size, ==, 8);
        g_assert_cmpuint(s.cache.metadata_used_blocks, ==, 27);
        g_assert_cmpuint(s.cache.block_size, ==, 128);
        g_assert_cmpuint(s.cache.used_blocks, ==, 10);
        g_assert_cmpuint(s.cache.total_blocks, ==, 8192);
        g_assert_cmpuint(s.cache.read_hits, ==, 5);
        g_assert_cmpuint(s.cache.write_misses, ==, 8);
        g_assert_cmpuint(s.cache.dirty_blocks, ==, 3);
        g_assert_cmpstr(s.cache.policy, ==, "smq");
        g_assert_false(s.cache.read_only || s.cache.needs_check || s.cache.fail);
        dm_status_done(&s);

        s = parse("cache", "8 27/2048 128 10/8192 5 6 7 8 0 0 3 1 writeback 2 migration_threshold 2048 smq 0 ro needs_check");
        g_assert_true(s.cache.read_only && s.cache.needs_check);
        dm_status_done(&s);
        s = parse("cache", "8 27/2048 128 10/8192 5 6 7 8 0 0 3 1 writeback 2 migration_threshold 2048 smq 0 Fail -");
        g_assert_true(s.cache.fail);
        dm_status_done(&s);
        s = parse("cache", "Error");
        g_assert_true(s.cache.fail && s.cache.error);
        dm_status_done(&s);
        /* Counts that run past the line's end. */
        s = parse("cache", "8 27/2048 128 10/8192 5 6 7 8 0 0 3 4294967295 writeback");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
}

static void test_mirror_and_raid(void) {
        DmStatus s = parse("mirror", "2 7:0 7:1 32/32 1 AD 1 core");

        g_assert_cmpint(s.kind, ==, DM_STATUS_MIRROR);
        g_assert_cmpuint(s.mirror.dev_count, ==, 2);
        g_assert_cmpuint(s.mirror.insync_regions, ==, 32);
        g_assert_cmpstr(s.mirror.dev_health, ==, "AD");
        g_assert_cmpstr(s.mirror.log_type, ==, "core");
        g_assert_cmpint(s.mirror.failed_leg.health, ==, 'D');
        g_assert_cmpuint(s.mirror.failed_leg.major, ==, 7);
        g_assert_cmpuint(s.mirror.failed_leg.minor, ==, 1);
        g_assert_cmpint(s.mirror.failed_log.health, ==, 0);
        dm_status_done(&s);

        s = parse("mirror", "2 7:0 7:1 32/32 1 AA 3 disk 7:2 D");
        g_assert_cmpint(s.mirror.failed_leg.health, ==, 0);
        g_assert_cmpint(s.mirror.failed_log.health, ==, 'D');
        g_assert_cmpuint(s.mirror.failed_log.minor, ==, 2);
        g_assert_cmpstr(s.mirror.log_type, ==, "disk");
        dm_status_done(&s);
        s = parse("mirror", "2 7:0 7:1 32/32 1 AD");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("mirror", "3 7:0 7:1 32/32 1 AAA 1 core");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("mirror", "2 7:0 7:1 32/32 1 AAA 1 core");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);

        s = parse("raid", "raid1 2 Aa 100/131072 recover 0 0 -");
        g_assert_cmpint(s.kind, ==, DM_STATUS_RAID);
        g_assert_cmpstr(s.raid.raid_type, ==, "raid1");
        g_assert_cmpuint(s.raid.dev_count, ==, 2);
        g_assert_cmpstr(s.raid.dev_health, ==, "Aa");
        g_assert_cmpuint(s.raid.insync_regions, ==, 100);
        g_assert_cmpuint(s.raid.total_regions, ==, 131072);
        g_assert_cmpstr(s.raid.sync_action, ==, "recover");
        dm_status_done(&s);

        /* Lines that crash libdevmapper's parser: too short, a device count that is not the
         * health's: refused. */
        s = parse("raid", "raid1 2 Aa 0/0");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("raid", "raid1 2 Aa 10/10 recover");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("raid", "raid1 4294967295 Aa 10/10 recover 0 0 -");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);

        /* A table's bytes quoted back are escaped as names are. */
        s = parse("raid", "raid1\xff 2 AA 1/1 idle 0 0 -");
        g_assert_cmpstr(s.raid.raid_type, ==, "raid1\\xff");
        dm_status_done(&s);
}

static void test_few_words(void) {
        DmStatus s = parse("integrity", "3 131072 -");

        g_assert_cmpint(s.kind, ==, DM_STATUS_INTEGRITY);
        g_assert_cmpuint(s.integrity.mismatches, ==, 3);
        g_assert_cmpuint(s.integrity.provided_data_sectors, ==, 131072);
        g_assert_false(s.integrity.recalculate_sector.present);
        s = parse("integrity", "0 129160 32768");
        g_assert_true(s.integrity.recalculate_sector.present);
        g_assert_cmpuint(s.integrity.recalculate_sector.value, ==, 32768);
        /* Before 4.19: two words. */
        s = parse("integrity", "0 129160");
        g_assert_cmpint(s.kind, ==, DM_STATUS_INTEGRITY);
        s = parse("integrity", "0 129160 12x");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("integrity", "0");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("verity", "C");
        g_assert_true(s.verity.corrupted);
        s = parse("verity", "V");
        g_assert_false(s.verity.corrupted);
        s = parse("verity", "");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
        s = parse("multipath", "0 0 1 1 A 0 2 1 7:0 A 0 0 7:1 F 1 0");
        g_assert_cmpint(s.kind, ==, DM_STATUS_MULTIPATH);
        g_assert_cmpuint(s.multipath.paths, ==, 2);
        g_assert_cmpuint(s.multipath.failed_paths, ==, 1);
        s = parse("linear", "");
        g_assert_cmpint(s.kind, ==, DM_STATUS_NONE);
}

static void test_kinds(void) {
        g_assert_cmpint(dm_status_kind_from_target_type("thin-pool"), ==, DM_STATUS_THIN_POOL);
        g_assert_cmpint(dm_status_kind_from_target_type("crypt"), ==, DM_STATUS_NONE);
        g_assert_cmpstr(dm_status_kind_to_target_type(DM_STATUS_RAID), ==, "raid");
        g_assert_cmpstr(dm_status_kind_to_target_type(DM_STATUS_VERITY), ==, "verity");
}

static void test_equal(void) {
        DmStatus a = parse("raid", "raid1 2 AA 1/1 idle 0 0 -"), b = parse("raid", "raid1 2 AA 1/1 idle 0 0 -");
        DmStatus c = parse("raid", "raid1 2 AA 1/1 check 0 0 -"), none = {};

        g_assert_true(dm_status_equal(&a, &b));
        g_assert_false(dm_status_equal(&a, &c));
        g_assert_false(dm_status_equal(&a, &none));
        g_assert_true(dm_status_equal(&none, &none));
        dm_status_done(&a);
        dm_status_done(&b);
        dm_status_done(&c);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/dm-status/thin-pool", test_thin_pool);
        g_test_add_func("/dm-status/thin-and-snapshot", test_thin_and_snapshot);
        g_test_add_func("/dm-status/cache", test_cache);
        g_test_add_func("/dm-status/mirror-and-raid", test_mirror_and_raid);
        g_test_add_func("/dm-status/few-words", test_few_words);
        g_test_add_func("/dm-status/kinds", test_kinds);
        g_test_add_func("/dm-status/equal", test_equal);
        return g_test_run();
}
