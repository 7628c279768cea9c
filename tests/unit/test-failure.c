/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "failure.h"

/* A device of one row: its target type, table parameters and status line. */
static DmDevice *device_new(const char *type, const char *table, const char *status) {
        DmDevice *dm = g_new0(DmDevice, 1);

        dm->table = g_new0(DmTarget, 1);
        dm->table[0] = (DmTarget) { .type = g_strdup(type), .params = g_strdup(table) };
        dm->n_table = 1;
        dm->status = g_new0(DmTarget, 1);
        dm->status[0] = (DmTarget) { .type = g_strdup(type), .params = g_strdup(status) };
        dm->n_status = 1;
        return dm;
}

/* The failures from before to now, described one a line. */
static char *between(const char *type, const char *table, const char *before, const char *now, char **verity_errors) {
        DmDevice *a = device_new(type, table, before), *b = device_new(type, table, now);
        GString *out = g_string_new(NULL);
        Failure *failures;
        size_t n;

        g_assert_cmpint(failures_between(a, b, verity_errors, &failures, &n), ==, 0);
        for (size_t i = 0; i < n; i++) {
                char what[160];

                failure_describe(&failures[i], what, sizeof(what));
                g_string_append_printf(out, "%s: %s\n", failure_kind_to_string(failures[i].kind), what);
        }
        free(failures);
        dm_device_free(a);
        dm_device_free(b);
        return g_string_free(out, FALSE);
}

#define ASSERT_BETWEEN(type, table, before, now, errors, want)                                   \
        do {                                                                                     \
                g_autofree char *_got_ = between(type, table, before, now, errors);             \
                g_assert_cmpstr(_got_, ==, want);                                                \
        } while (0)

static void test_members(void) {
        const char *raid = "raid1 3 0 region_size 1024 2 254:0 254:1 254:2 254:3";
        const char *mirror = "core 1 1024 2 7:0 0 7:1 0 1 handle_errors";

        ASSERT_BETWEEN("raid", raid, "raid1 2 AA 8/8 idle 0 0 -", "raid1 2 AD 8/8 idle 0 0 -", NULL,
                       "raid-member-failed: raid: member 1 (254:3) failed ('D')\n");
        /* Once: still failed is no news; a second member failing is. */
        ASSERT_BETWEEN("raid", raid, "raid1 2 AD 8/8 idle 0 0 -", "raid1 2 AD 8/8 idle 0 0 -", NULL, "");
        ASSERT_BETWEEN("raid", raid, "raid1 2 AD 8/8 idle 0 0 -", "raid1 2 DD 8/8 idle 0 0 -", NULL,
                       "raid-member-failed: raid: member 0 (254:1) failed ('D')\n");
        /* Out of sync is not failed. */
        ASSERT_BETWEEN("raid", raid, "raid1 2 AA 8/8 idle 0 0 -", "raid1 2 Aa 4/8 recover 0 0 -", NULL, "");
        /* A table that does not say: no device. */
        ASSERT_BETWEEN("raid", "raid1 1", "raid1 2 AA 8/8 idle 0 0 -", "raid1 2 DA 8/8 idle 0 0 -", NULL,
                       "raid-member-failed: raid: member 0 failed ('D')\n");
        ASSERT_BETWEEN("mirror", mirror, "2 7:0 7:1 8/8 1 AA 1 core", "2 7:0 7:1 8/8 1 AR 1 core", NULL,
                       "mirror-leg-failed: mirror: leg 1 (7:1) failed ('R')\n");
}

static void test_counts_and_states(void) {
        ASSERT_BETWEEN("integrity", "7:2 0 4 J 0", "0 64664 -", "127 64664 -", NULL,
                       "integrity-mismatch: integrity: 127 new checksum mismatch(es), 127 in all\n");
        ASSERT_BETWEEN("integrity", "7:2 0 4 J 0", "127 64664 -", "127 64664 -", NULL, "");
        ASSERT_BETWEEN("integrity", "7:2 0 4 J 0", "127 64664 -", "130 64664 -", NULL,
                       "integrity-mismatch: integrity: 3 new checksum mismatch(es), 130 in all\n");
        ASSERT_BETWEEN("multipath", "0 0 1 1 round-robin 0 2 1 7:0 1 7:1 1", "0 0 1 1 A 0 2 1 7:0 A 0 0 7:1 A 0 0",
                       "0 0 1 1 A 0 2 1 7:0 A 0 0 7:1 F 1 0", NULL,
                       "multipath-path-failed: multipath: 1 more path(s) failed, 1 of 2\n");
        ASSERT_BETWEEN("thin-pool", "7:0 7:1 128 0", "0 1/10 9/10 - rw discard_passdown error_if_no_space - 1",
                       "0 1/10 10/10 - out_of_data_space discard_passdown error_if_no_space - 1", NULL,
                       "thin-pool-out-of-data-space: thin-pool: out of data space\n");
        ASSERT_BETWEEN("thin-pool", "7:0 7:1 128 0", "0 1/10 9/10 - rw discard_passdown queue_if_no_space - 1",
                       "0 1/10 9/10 - ro discard_passdown queue_if_no_space needs_check 1", NULL,
                       "thin-pool-metadata-read-only: thin-pool: metadata went read-only\n"
                       "thin-pool-needs-check: thin-pool: needs a check (thin_check)\n");
        ASSERT_BETWEEN("thin-pool", "7:0 7:1 128 0", "0 1/10 9/10 - rw discard_passdown queue_if_no_space - 1", "Fail", NULL,
                       "thin-pool-failed: thin-pool: failed\n");
        ASSERT_BETWEEN("snapshot", "7:0 7:1 P 8", "64/64 16", "Overflow", NULL, "snapshot-invalid: snapshot: invalidated (overflow)\n");
        ASSERT_BETWEEN("snapshot", "7:0 7:1 P 8", "Invalid", "Overflow", NULL, "");
        ASSERT_BETWEEN("snapshot-merge", "7:0 7:1 P 8", "100/64 16", "Merge failed", NULL,
                       "snapshot-invalid: snapshot: invalidated (merge-failed)\n");
        ASSERT_BETWEEN("cache", "7:0 7:1 7:2 128 0 smq 0",
                       "8 27/2048 128 10/8192 5 6 7 8 0 0 3 1 writeback 2 migration_threshold 2048 smq 0 rw -", "Fail", NULL,
                       "cache-failed: cache: failed (fail)\n");
}

static void test_verity(void) {
        char *one[] = { (char *) "0,5", NULL };
        char *two[] = { (char *) "0,5", (char *) "1,77", (char *) "junk", (char *) "2,1", NULL };

        /* From the uevent, with its block, not again from the status. */
        ASSERT_BETWEEN("verity", "1 7:0 7:1 4096 4096 2048 1 sha256 00 00", "V", "C", one,
                       "verity-corruption: verity: data block 5 is corrupted\n");
        /* Each block the kernel names; what is not "TYPE,BLOCK" is passed over. */
        ASSERT_BETWEEN("verity", "1 7:0 7:1 4096 4096 2048 1 sha256 00 00", "C", "C", two,
                       "verity-corruption: verity: data block 5 is corrupted\n"
                       "verity-corruption: verity: metadata block 77 is corrupted\n");
        /* Seen by the status alone (an event lost): once, without a block. */
        ASSERT_BETWEEN("verity", "1 7:0 7:1 4096 4096 2048 1 sha256 00 00", "V", "C", NULL,
                       "verity-corruption: verity: corruption detected\n");
        ASSERT_BETWEEN("verity", "1 7:0 7:1 4096 4096 2048 1 sha256 00 00", "C", "C", NULL, "");
}

/* Rows compare only with a row of the same type at the same place (a reload may change them). */
static void test_rows_differ(void) {
        DmDevice *a = device_new("linear", "7:0 0", ""), *b = device_new("integrity", "7:2 0 4 J 0", "5 64664 -");
        Failure *failures;
        size_t n;

        g_assert_cmpint(failures_between(a, b, NULL, &failures, &n), ==, 0);
        g_assert_cmpuint(n, ==, 0);
        free(failures);
        dm_device_free(a);
        dm_device_free(b);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/failure/members", test_members);
        g_test_add_func("/failure/counts-and-states", test_counts_and_states);
        g_test_add_func("/failure/verity", test_verity);
        g_test_add_func("/failure/rows-differ", test_rows_differ);
        return g_test_run();
}
