/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include <glib.h>

#include "secret-mask.h"

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

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/secret-mask/params", test_secret_mask);
        return g_test_run();
}
