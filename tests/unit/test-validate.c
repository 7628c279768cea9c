/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <glib.h>

#include "validate.h"

static void test_names(void) {
        char name[600];

        g_assert_null(dm_name_invalid_reason("vg-root"));
        g_assert_null(dm_name_invalid_reason("luks-0a1b2c3d"));
        g_assert_nonnull(dm_name_invalid_reason(""));
        g_assert_nonnull(dm_name_invalid_reason("."));
        g_assert_nonnull(dm_name_invalid_reason(".."));
        g_assert_nonnull(dm_name_invalid_reason("control"));
        g_assert_nonnull(dm_name_invalid_reason("a/b"));
        memset(name, 'x', 127);
        name[127] = 0;
        g_assert_null(dm_name_invalid_reason(name));
        g_assert_null(dm_name_new_invalid_reason(name));
        name[127] = 'x';
        name[128] = 0;
        g_assert_nonnull(dm_name_invalid_reason(name));
        g_assert_nonnull(dm_name_new_invalid_reason(name));
        /* A lookup takes the escaped form of a 127-byte name: "\\xNN" is one byte. */
        for (unsigned i = 0; i < 127; i++)
                memcpy(name + 4 * i, "\\xff", 4);
        name[4 * 127] = 0;
        g_assert_null(dm_name_invalid_reason(name));
        g_assert_nonnull(dm_name_new_invalid_reason(name));
}

static void test_uuids_devnums_paths(void) {
        char uuid[200];

        g_assert_null(dm_uuid_invalid_reason("CRYPT-LUKS2-0123-x"));
        g_assert_nonnull(dm_uuid_invalid_reason(""));
        memset(uuid, 'u', 129);
        uuid[129] = 0;
        g_assert_nonnull(dm_uuid_invalid_reason(uuid));
        g_assert_nonnull(dm_uuid_new_invalid_reason(uuid));
        uuid[128] = 0;
        g_assert_null(dm_uuid_invalid_reason(uuid));
        g_assert_null(dm_uuid_new_invalid_reason(uuid));

        g_assert_null(devnum_invalid_reason(254, 0));
        g_assert_null(devnum_invalid_reason(0, 5));
        g_assert_nonnull(devnum_invalid_reason(0, 0));
        g_assert_nonnull(devnum_invalid_reason(4096, 0));
        g_assert_nonnull(devnum_invalid_reason(254, 1u << 20));

        g_assert_null(path_invalid_reason("/dev/mapper/x"));
        g_assert_nonnull(path_invalid_reason("dev/mapper/x"));
        g_assert_nonnull(path_invalid_reason(""));
        g_assert_nonnull(path_invalid_reason("/etc/passwd"));
        g_assert_nonnull(path_invalid_reason("/dev/"));
        g_assert_nonnull(path_invalid_reason("/device"));
}

static void test_control_characters(void) {
        g_assert_false(string_has_control_characters(""));
        g_assert_false(string_has_control_characters("caf\xc3\xa9 ~"));
        g_assert_true(string_has_control_characters("a\nb"));
        g_assert_true(string_has_control_characters("\t"));
        g_assert_true(string_has_control_characters("del\x7f"));
        g_assert_nonnull(dm_name_new_invalid_reason("a\x01b"));
        g_assert_nonnull(dm_name_new_invalid_reason("a\\x20b"));
        g_assert_null(dm_name_new_invalid_reason("a b"));
        g_assert_nonnull(dm_uuid_new_invalid_reason("u\n"));
}

static void test_bus_unique_names(void) {
        g_assert_true(bus_unique_name_is_valid(":1.42"));
        g_assert_true(bus_unique_name_is_valid(":a-b.c_d.9"));
        g_assert_false(bus_unique_name_is_valid(NULL));
        g_assert_false(bus_unique_name_is_valid(":1"));
        g_assert_false(bus_unique_name_is_valid("1.42"));
        g_assert_false(bus_unique_name_is_valid(":1..2"));
        g_assert_false(bus_unique_name_is_valid(":1.2."));
        g_assert_false(bus_unique_name_is_valid(":1.2\n"));
        g_assert_false(bus_unique_name_is_valid("org.example.Name"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/validate/names", test_names);
        g_test_add_func("/validate/uuids-devnums-paths", test_uuids_devnums_paths);
        g_test_add_func("/validate/control-characters", test_control_characters);
        g_test_add_func("/validate/bus-unique-names", test_bus_unique_names);
        return g_test_run();
}
