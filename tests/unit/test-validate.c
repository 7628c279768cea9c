/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <glib.h>

#include "name-mangle.h"
#include "secret-mask.h"
#include "validate.h"

static void test_names(void) {
        char name[200];

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
        name[127] = 'x';
        name[128] = 0;
        g_assert_nonnull(dm_name_invalid_reason(name));
}

static void test_uuids_devnums_paths(void) {
        char uuid[200];

        g_assert_null(dm_uuid_invalid_reason("CRYPT-LUKS2-0123-x"));
        g_assert_nonnull(dm_uuid_invalid_reason(""));
        memset(uuid, 'u', 129);
        uuid[129] = 0;
        g_assert_nonnull(dm_uuid_invalid_reason(uuid));
        uuid[128] = 0;
        g_assert_null(dm_uuid_invalid_reason(uuid));

        g_assert_null(devnum_invalid_reason(254, 0));
        g_assert_null(devnum_invalid_reason(0, 5));
        g_assert_nonnull(devnum_invalid_reason(0, 0));
        g_assert_nonnull(devnum_invalid_reason(4096, 0));
        g_assert_nonnull(devnum_invalid_reason(254, 1u << 20));

        g_assert_null(path_invalid_reason("/dev/mapper/x"));
        g_assert_nonnull(path_invalid_reason("dev/mapper/x"));
        g_assert_nonnull(path_invalid_reason(""));
}

static void assert_masked(const char *type, const char *params, const char *expected) {
        char *masked = secret_mask_params(type, params);

        g_assert_cmpstr(masked, ==, expected);
        free(masked);
}

static void test_secret_mask(void) {
        assert_masked("crypt", "aes-xts-plain64 0123456789abcdef0123456789abcdef 0 7:0 0",
                      "aes-xts-plain64 " SECRET_MASK " 0 7:0 0");
        assert_masked("crypt", "aes-xts-plain64 :64:logon:cryptsetup:abc 0 7:0 0 1 allow_discards",
                      "aes-xts-plain64 " SECRET_MASK " 0 7:0 0 1 allow_discards");
        assert_masked("crypt", "capi:cbc(aes)-plain 00ff 0 /dev/loop0 8",
                      "capi:cbc(aes)-plain " SECRET_MASK " 0 /dev/loop0 8");
        assert_masked("integrity", "7:0 0 32 J 3 internal_hash:hmac(sha256):00112233 journal_crypt:ctr(aes):aabb block_size:4096",
                      "7:0 0 32 J 3 internal_hash:hmac(sha256):" SECRET_MASK " journal_crypt:ctr(aes):" SECRET_MASK " block_size:4096");
        assert_masked("integrity", "7:0 0 32 J 1 internal_hash:crc32c", "7:0 0 32 J 1 internal_hash:crc32c");
        assert_masked("verity", "1 7:0 7:1 4096 4096 256 1 sha256 aa bb 2 root_hash_sig_key_desc sigkey",
                      "1 7:0 7:1 4096 4096 256 1 sha256 aa bb 2 root_hash_sig_key_desc " SECRET_MASK);
        assert_masked("linear", "7:0 2048", "7:0 2048");
        assert_masked("crypt", "", "");
}

static void assert_mangled(const char *name, const char *expected) {
        char *mangled = dm_string_mangle(name);

        g_assert_cmpstr(mangled, ==, expected);
        free(mangled);
}

static void test_name_mangling(void) {
        assert_mangled("vg-root", "vg-root");
        assert_mangled("CRYPT-LUKS2-0123#x+y.z:a=b@c_d", "CRYPT-LUKS2-0123#x+y.z:a=b@c_d");
        assert_mangled("my dev", "my\\x20dev");
        assert_mangled("a'b\"c", "a\\x27b\\x22c");
        assert_mangled("caf\xc3\xa9", "caf\\xc3\\xa9");
        /* Already mangled: kept. Mixed: mangled whole, the backslash too. */
        assert_mangled("my\\x20dev", "my\\x20dev");
        assert_mangled("my\\x20dev two", "my\\x5cx20dev\\x20two");
        assert_mangled("", "");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/validate/names", test_names);
        g_test_add_func("/validate/uuids-devnums-paths", test_uuids_devnums_paths);
        g_test_add_func("/validate/secret-mask", test_secret_mask);
        g_test_add_func("/validate/name-mangling", test_name_mangling);
        return g_test_run();
}
