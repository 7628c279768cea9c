/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/sysmacros.h>

#include <glib.h>

#include "devset.h"

static void test_add_contains_order(void) {
        DevSet s = {};

        g_assert_false(devset_contains(&s, makedev(7, 0)));
        g_assert_cmpint(devset_add(&s, makedev(254, 3)), ==, 1);
        g_assert_cmpint(devset_add(&s, makedev(7, 0)), ==, 1);
        g_assert_cmpint(devset_add(&s, makedev(254, 3)), ==, 0);
        g_assert_cmpuint(s.n, ==, 2);
        g_assert_true(s.items[0] == makedev(254, 3));
        g_assert_true(s.items[1] == makedev(7, 0));
        g_assert_true(devset_contains(&s, makedev(7, 0)));
        g_assert_false(devset_contains(&s, makedev(7, 1)));
        devset_done(&s);
        g_assert_cmpuint(s.n, ==, 0);
        g_assert_false(devset_contains(&s, makedev(7, 0)));
}

static void test_many(void) {
        DevSet s = {};

        /* Past every growth step of the array and the index. */
        for (unsigned i = 0; i < 5000; i++)
                g_assert_cmpint(devset_add(&s, makedev(254, i)), ==, 1);
        for (unsigned i = 0; i < 5000; i += 7)
                g_assert_cmpint(devset_add(&s, makedev(254, i)), ==, 0);
        g_assert_cmpuint(s.n, ==, 5000);
        for (unsigned i = 0; i < 5000; i++)
                g_assert_true(s.items[i] == makedev(254, i));
        devset_done(&s);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/devset/add-contains-order", test_add_contains_order);
        g_test_add_func("/devset/many", test_many);
        return g_test_run();
}
