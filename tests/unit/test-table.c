/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What callers may send as tables, names, UUIDs and messages, checked before any ioctl. */
#include <string.h>

#include <errno.h>

#include <sys/sysmacros.h>

#include <glib.h>

#include "strv.h"
#include "table.h"
#include "validate.h"

#define ROW(s, l, t, p) { .start = (s), .length = (l), .type = (t), .params = (p) }

static const char *reason(const DmTableRow *rows, size_t n) {
        static char buf[256];

        return table_invalid_reason(rows, n, buf, sizeof(buf));
}

static void test_valid_tables(void) {
        const DmTableRow one[] = { ROW(0, 2048, "linear", "/dev/loop0 0") };
        const DmTableRow two[] = { ROW(0, 100, "zero", ""), ROW(100, 28, "thin-pool", "7:0 7:1 128 0") };

        g_assert_null(reason(one, 1));
        g_assert_null(reason(two, 2));
}

static void test_invalid_tables(void) {
        const DmTableRow not_at_zero[] = { ROW(8, 8, "zero", "") };
        const DmTableRow gap[] = { ROW(0, 8, "zero", ""), ROW(16, 8, "zero", "") };
        const DmTableRow overlap[] = { ROW(0, 8, "zero", ""), ROW(4, 8, "zero", "") };
        const DmTableRow empty_row[] = { ROW(0, 0, "zero", "") };
        const DmTableRow wraps[] = { ROW(0, 8, "zero", ""), ROW(8, UINT64_MAX - 4, "zero", "") };
        const DmTableRow long_type[] = { ROW(0, 8, "abcdefghijklmnop", "") };
        const DmTableRow bad_type[] = { ROW(0, 8, "zero;rm", "") };
        const DmTableRow no_type[] = { ROW(0, 8, "", "") };
        const DmTableRow newline[] = { ROW(0, 8, "linear", "/dev/loop0 0\n0 8 zero") };
        char long_params[TABLE_PARAMS_MAX + 2];

        g_assert_nonnull(reason(NULL, 0));
        g_assert_nonnull(strstr(reason(not_at_zero, 1), "sector 0"));
        g_assert_nonnull(strstr(reason(gap, 2), "gap"));
        g_assert_nonnull(strstr(reason(overlap, 2), "overlapping"));
        g_assert_nonnull(strstr(reason(empty_row, 1), "length 0"));
        g_assert_nonnull(reason(wraps, 2));
        g_assert_nonnull(reason(long_type, 1));
        g_assert_nonnull(reason(bad_type, 1));
        g_assert_nonnull(reason(no_type, 1));
        g_assert_nonnull(strstr(reason(newline, 1), "control characters"));

        memset(long_params, 'p', sizeof(long_params) - 1);
        long_params[sizeof(long_params) - 1] = 0;
        g_assert_nonnull(reason((const DmTableRow[]) { ROW(0, 8, "zero", long_params) }, 1));
        long_params[TABLE_PARAMS_MAX] = 0;
        g_assert_null(reason((const DmTableRow[]) { ROW(0, 8, "zero", long_params) }, 1));
}

static void test_device_references(void) {
        const DmTableRow rows[] = {
                ROW(0, 8, "linear", "/dev/mapper/base 0"),
                ROW(8, 8, "striped", "2 128 7:0 0  254:3 0"),
                ROW(16, 8, "crypt", "aes-xts-plain64 :64:logon:dmbus:key 0 8:1 0 1 allow_discards"),
                ROW(24, 8, "zero", ""),
                ROW(32, 8, "linear", "7:0 8"),                  /* the same device again */
        };
        _cleanup_(strv_freep) char **refs = NULL;
        char buf[256];

        g_assert_cmpint(table_collect_references(rows, G_N_ELEMENTS(rows), &refs, buf, sizeof(buf)), ==, 0);
        g_assert_cmpuint(strv_length(refs), ==, 4);
        g_assert_cmpstr(refs[0], ==, "/dev/mapper/base");
        g_assert_cmpstr(refs[1], ==, "7:0");
        g_assert_cmpstr(refs[2], ==, "254:3");
        g_assert_cmpstr(refs[3], ==, "8:1");
}

static void assert_references_refused(const char *params, int error) {
        const DmTableRow rows[] = { ROW(0, 8, "linear", params) };
        _cleanup_(strv_freep) char **refs = NULL;
        char buf[256];

        g_assert_cmpint(table_collect_references(rows, 1, &refs, buf, sizeof(buf)), ==, error);
        g_assert_null(refs);
}

static void test_device_references_refused(void) {
        GString *many = g_string_new(NULL);

        assert_references_refused("/etc/passwd 0", -EINVAL);
        assert_references_refused("/root/secret/x 0", -EINVAL);
        /* The kernel would look these up from /. */
        assert_references_refused("dev/loop0 0", -EINVAL);
        assert_references_refused("dev/../run/x 0", -EINVAL);
        assert_references_refused("proc/self/fd/3 0", -EINVAL);
        assert_references_refused("4096:0 0", -EINVAL);
        assert_references_refused("7:1048576 0", -EINVAL);
        assert_references_refused("7:4294967296 0", -EINVAL);
        assert_references_refused("0:0 0", -EINVAL);
        /* The same device a million times is one device; 1025 distinct ones are too many. */
        for (unsigned i = 0; i < 100000; i++)
                g_string_append(many, "7:0 ");
        {
                const DmTableRow rows[] = { ROW(0, 8, "linear", many->str) };
                _cleanup_(strv_freep) char **refs = NULL;
                char buf[256];

                g_assert_cmpint(table_collect_references(rows, 1, &refs, buf, sizeof(buf)), ==, 0);
                g_assert_cmpuint(strv_length(refs), ==, 1);
        }
        g_string_truncate(many, 0);
        for (unsigned i = 0; i <= TABLE_REFERENCES_MAX; i++)
                g_string_append_printf(many, "7:%u ", i);
        assert_references_refused(many->str, -E2BIG);
        g_string_free(many, true);
}

static void test_paths_substituted(void) {
        DmTableRow rows[] = {
                ROW(0, 8, "linear", "/dev/mapper/base 0"),
                ROW(8, 8, "crypt", "aes-xts-plain64 :64:logon:dmbus:key 0 /dev/loop0 0 1 allow_discards"),
                ROW(16, 8, "mirror", "core 1 1024 2  /dev/loop0 0 /dev/mapper/base 0"),
                ROW(24, 8, "linear", "7:1 0"),
        };
        const char *untouched = rows[3].params;
        _cleanup_(strv_freep) char **refs = NULL, **owned = NULL;
        dev_t devnums[4] = {};
        char buf[256];

        g_assert_cmpint(table_collect_references(rows, G_N_ELEMENTS(rows), &refs, buf, sizeof(buf)), ==, 0);
        g_assert_cmpuint(strv_length(refs), ==, 3);
        devnums[0] = makedev(254, 3);   /* /dev/mapper/base */
        devnums[1] = makedev(7, 0);     /* /dev/loop0 */
        g_assert_cmpint(table_substitute_paths(rows, G_N_ELEMENTS(rows), refs, devnums, &owned), ==, 0);
        g_assert_cmpstr(rows[0].params, ==, "254:3 0");
        g_assert_cmpstr(rows[1].params, ==, "aes-xts-plain64 :64:logon:dmbus:key 0 7:0 0 1 allow_discards");
        g_assert_cmpstr(rows[2].params, ==, "core 1 1024 2  7:0 0 254:3 0");
        g_assert_true(rows[3].params == untouched);
        g_assert_cmpuint(strv_length(owned), ==, 3);
}

static void test_new_names_and_uuids(void) {
        g_assert_null(dm_name_new_invalid_reason("my dev"));
        g_assert_null(dm_name_new_invalid_reason("vg-lv_1.2+x@y"));
        g_assert_nonnull(dm_name_new_invalid_reason("tab\there"));
        g_assert_nonnull(dm_name_new_invalid_reason("new\nline"));
        g_assert_nonnull(dm_name_new_invalid_reason("back\\x20slash"));
        g_assert_nonnull(dm_name_new_invalid_reason("control"));
        g_assert_null(dm_uuid_new_invalid_reason("CRYPT-PLAIN-x"));
        g_assert_nonnull(dm_uuid_new_invalid_reason("a\x7f"));
}

static void test_messages(void) {
        char long_message[TARGET_MESSAGE_MAX + 2];

        g_assert_null(target_message_invalid_reason("create_thin 0"));
        g_assert_nonnull(target_message_invalid_reason(""));
        g_assert_nonnull(target_message_invalid_reason("a\nb"));
        memset(long_message, 'm', sizeof(long_message) - 1);
        long_message[sizeof(long_message) - 1] = 0;
        g_assert_nonnull(target_message_invalid_reason(long_message));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/table/valid", test_valid_tables);
        g_test_add_func("/table/invalid", test_invalid_tables);
        g_test_add_func("/table/device-references", test_device_references);
        g_test_add_func("/table/device-references-refused", test_device_references_refused);
        g_test_add_func("/table/paths-substituted", test_paths_substituted);
        g_test_add_func("/table/new-names-and-uuids", test_new_names_and_uuids);
        g_test_add_func("/table/messages", test_messages);
        return g_test_run();
}
