/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include <glib.h>

#include "utf8-escape.h"

static void assert_escaped(const char *s, const char *expected) {
        char *escaped = utf8_escape_invalid(s);

        g_assert_cmpstr(escaped, ==, expected);
        g_assert_true(g_utf8_validate(escaped, -1, NULL));
        free(escaped);
}

static void test_escape(void) {
        assert_escaped("vg-root", "vg-root");
        assert_escaped("my\\x20dev", "my\\x20dev");             /* libdevmapper's mangled form stays */
        assert_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe");
        assert_escaped("\xff\xfe", "\\xff\\xfe");
        assert_escaped("a\nb", "a\\x0ab");
        assert_escaped("tab\there\x7f", "tab\\x09here\\x7f");
        assert_escaped("half \xc3", "half \\xc3");              /* truncated sequence */
        assert_escaped("\xc0\xaf", "\\xc0\\xaf");               /* overlong '/' */
        assert_escaped("\xed\xa0\x80", "\\xed\\xa0\\x80");      /* a surrogate */
        assert_escaped("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
        assert_escaped("", "");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/utf8-escape/escape", test_escape);
        return g_test_run();
}
