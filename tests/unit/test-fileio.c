/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "fileio.h"

static void test_read_small_file(void) {
        g_autofree char *dir = g_dir_make_tmp("dmbus-fileio-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "attr", NULL);
        char buf[8];

        g_assert_true(g_file_set_contents(path, "254:3\n", -1, NULL));
        g_assert_cmpint(read_small_file(path, buf, sizeof(buf)), ==, 6);
        g_assert_cmpstr(buf, ==, "254:3\n");

        /* Longer than the buffer: the start, NUL-terminated. */
        g_assert_true(g_file_set_contents(path, "0123456789", -1, NULL));
        g_assert_cmpint(read_small_file(path, buf, sizeof(buf)), ==, 7);
        g_assert_cmpstr(buf, ==, "0123456");

        g_assert_true(g_file_set_contents(path, "", -1, NULL));
        g_assert_cmpint(read_small_file(path, buf, sizeof(buf)), ==, 0);
        g_assert_cmpstr(buf, ==, "");

        g_assert_cmpint(g_unlink(path), ==, 0);
        g_assert_cmpint(read_small_file(path, buf, sizeof(buf)), ==, -ENOENT);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fileio/read-small-file", test_read_small_file);
        return g_test_run();
}
