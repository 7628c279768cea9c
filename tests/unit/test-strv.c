/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "alloc-util.h"
#include "strv.h"

static void test_extend_length_equal(void) {
        _cleanup_(strv_freep) char **a = NULL, **b = NULL;

        g_assert_cmpuint(strv_length(a), ==, 0);
        g_assert_true(strv_equal(a, b));
        g_assert_cmpint(strv_extend(&a, "x"), ==, 0);
        g_assert_cmpint(strv_extend(&a, "y"), ==, 0);
        g_assert_cmpuint(strv_length(a), ==, 2);
        g_assert_cmpstr(a[1], ==, "y");
        g_assert_null(a[2]);
        g_assert_false(strv_equal(a, b));
        g_assert_cmpint(strv_extend(&b, "x"), ==, 0);
        g_assert_false(strv_equal(a, b));
        g_assert_false(strv_equal(b, a));
        g_assert_cmpint(strv_extend(&b, "y"), ==, 0);
        g_assert_true(strv_equal(a, b));
        g_assert_null(strv_free(NULL));
}

static void test_greedy_realloc(void) {
        int *v = NULL;
        size_t allocated = 0;

        g_assert_cmpint(GREEDY_REALLOC(v, allocated, 1), ==, 0);
        g_assert_cmpuint(allocated, >=, 1);
        for (size_t n = 0; n < 1000; n++) {
                g_assert_cmpint(GREEDY_REALLOC(v, allocated, n + 1), ==, 0);
                v[n] = (int) n;
        }
        g_assert_cmpuint(allocated, >=, 1000);
        g_assert_cmpint(v[999], ==, 999);
        /* A size that cannot be: refused, nothing changed. */
        g_assert_cmpint(GREEDY_REALLOC(v, allocated, SIZE_MAX / 2), ==, -ENOMEM);
        g_assert_cmpint(v[999], ==, 999);
        free(v);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/strv/extend-length-equal", test_extend_length_equal);
        g_test_add_func("/alloc-util/greedy-realloc", test_greedy_realloc);
        return g_test_run();
}
