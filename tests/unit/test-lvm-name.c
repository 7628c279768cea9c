/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "lvm-name.h"

static void assert_split(const char *name, const char *vg, const char *lv, const char *layer) {
        g_autofree char *v = NULL, *l = NULL, *y = NULL;

        g_assert_cmpint(lvm_name_split(name, &v, &l, &y), ==, 0);
        g_assert_cmpstr(v, ==, vg);
        g_assert_cmpstr(l, ==, lv);
        g_assert_cmpstr(y, ==, layer);
}

/* As `dmsetup splitname NAME` prints them. */
static void test_split(void) {
        assert_split("vg-root", "vg", "root", "");
        assert_split("my--vg-my--lv", "my-vg", "my-lv", "");
        assert_split("vg-pool_tdata", "vg", "pool_tdata", "");
        assert_split("vg-lv-real", "vg", "lv", "real");
        assert_split("vg-lv-cow-extra", "vg", "lv", "cow");
        assert_split("vg", "vg", "", "");
        assert_split("vg-", "vg-", "", "");
        assert_split("a---b", "a-", "b", "");
        assert_split("", "", "", "");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/lvm-name/split", test_split);
        return g_test_run();
}
