/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include <glib.h>

#include "name-mangle.h"

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
        g_test_add_func("/name-mangle/auto", test_name_mangling);
        return g_test_run();
}
