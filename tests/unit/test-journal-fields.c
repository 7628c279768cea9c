/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/sysmacros.h>

#include <glib.h>

#include "journal-fields.h"
#include "strv.h"

#define _ID_OF(id, hex, what) hex,
static const char *const message_ids[] = { JOURNAL_MESSAGES(_ID_OF) };
#undef _ID_OF

/* The catalog explains every MESSAGE_ID the service logs, once, and no other. */
static void test_catalog_matches_ids(void) {
        g_autofree char *text = NULL;
        g_auto(GStrv) lines = NULL;
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GError) error = NULL;
        const char *current = NULL;
        bool subject = false;

        g_assert_true(g_file_get_contents(DMBUS_SOURCE_ROOT "/data/dmbus.catalog", &text, NULL, &error));
        lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                if (g_str_has_prefix(*l, "-- ")) {
                        g_assert_true(!current || subject);
                        current = *l + 3;
                        subject = false;
                        g_assert_cmpuint(strlen(current), ==, 32);
                        g_assert_false(g_hash_table_contains(seen, current));
                        g_hash_table_add(seen, (char *) current);
                        continue;
                }
                if (current && g_str_has_prefix(*l, "Subject: "))
                        subject = true;
        }
        g_assert_true(current && subject);

        g_assert_cmpuint(g_hash_table_size(seen), ==, G_N_ELEMENTS(message_ids));
        for (size_t i = 0; i < G_N_ELEMENTS(message_ids); i++)
                g_assert_true(g_hash_table_contains(seen, message_ids[i]));
}

static void test_ids_are_distinct_and_well_formed(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(message_ids); i++) {
                g_assert_cmpuint(strlen(message_ids[i]), ==, 32);
                g_assert_cmpuint(strspn(message_ids[i], "0123456789abcdef"), ==, 32);
                for (size_t j = 0; j < i; j++)
                        g_assert_cmpstr(message_ids[i], !=, message_ids[j]);
        }
}

static void test_device_fields(void) {
        _cleanup_(strv_freep) char **fields = NULL;

        fields = journal_fields_device(JOURNAL_MESSAGE_FAILURE, "vg-root", "LVM-abc", makedev(254, 3));
        journal_fields_add(&fields, "DMBUS_FAILURE=%s", "snapshot-invalid");
        g_assert_nonnull(fields);
        g_assert_cmpuint(strv_length(fields), ==, 5);
        g_assert_cmpstr(fields[0], ==, "MESSAGE_ID=cca3e80851a84bd0adca756debebcf36");
        g_assert_cmpstr(fields[1], ==, "DM_NAME=vg-root");
        g_assert_cmpstr(fields[2], ==, "DM_UUID=LVM-abc");
        g_assert_cmpstr(fields[3], ==, "DM_DEVNUM=254:3");
        g_assert_cmpstr(fields[4], ==, "DMBUS_FAILURE=snapshot-invalid");
        strv_free(fields);

        /* No UUID, no number (a record of a device that is gone): no empty fields. */
        fields = journal_fields_device(JOURNAL_MESSAGE_RECORD_SETTLED, "x", "", 0);
        g_assert_cmpuint(strv_length(fields), ==, 2);
        g_assert_cmpstr(fields[1], ==, "DM_NAME=x");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/journal-fields/catalog-matches-ids", test_catalog_matches_ids);
        g_test_add_func("/journal-fields/ids-well-formed", test_ids_are_distinct_and_well_formed);
        g_test_add_func("/journal-fields/device-fields", test_device_fields);
        return g_test_run();
}
