/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "log.h"

/* Runs fn with stderr sent to a pipe and returns what it wrote. */
static char *capture_stderr(void (*fn)(int *ret), int *ret) {
        int pipefd[2], saved;
        char buf[8192];
        ssize_t n;

        g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
        saved = dup(STDERR_FILENO);
        g_assert_cmpint(dup2(pipefd[1], STDERR_FILENO), ==, STDERR_FILENO);
        close(pipefd[1]);

        fn(ret);

        g_assert_cmpint(dup2(saved, STDERR_FILENO), ==, STDERR_FILENO);
        close(saved);
        n = read(pipefd[0], buf, sizeof(buf) - 1);
        close(pipefd[0]);
        g_assert_cmpint(n, >=, 0);
        buf[n] = 0;
        return g_strdup(buf);
}

static void log_with_errno(int *ret) {
        *ret = log_error_errno(ENOENT, "Cannot open %s: %m", "/x");
}

static void test_prefix_and_errno(void) {
        g_autofree char *out = NULL;
        g_autofree char *expected = NULL;
        int r;

        out = capture_stderr(log_with_errno, &r);
        expected = g_strdup_printf("<3>Cannot open /x: %s\n", g_strerror(ENOENT));
        g_assert_cmpstr(out, ==, expected);
        g_assert_cmpint(r, ==, -ENOENT);
}

static void log_below_level(int *ret) {
        log_set_max_level(LOG_INFO);
        *ret = log_debug_errno(-EBUSY, "not shown");
}

static void test_below_max_level(void) {
        g_autofree char *out = NULL;
        int r;

        out = capture_stderr(log_below_level, &r);
        g_assert_cmpstr(out, ==, "");
        g_assert_cmpint(r, ==, -EBUSY);
}

static void log_long_line(int *ret) {
        char big[5000];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        *ret = log_warning("%s", big);
}

static void test_long_line_is_one_line(void) {
        g_autofree char *out = NULL;
        int r;

        out = capture_stderr(log_long_line, &r);
        g_assert_true(g_str_has_prefix(out, "<4>aaaa"));
        g_assert_true(g_str_has_suffix(out, "a\n"));
        g_assert_true(strchr(out, '\n') == out + strlen(out) - 1);
        g_assert_cmpuint(strlen(out), <=, 2048);
        g_assert_cmpint(r, ==, 0);
}

static void log_with_fields(int *ret) {
        char *fields[] = { (char *) "MESSAGE_ID=672bd456cec34445b0b90267e3fc7ea5", (char *) "DM_NAME=x", NULL };

        *ret = log_struct_errno(LOG_NOTICE, EIO, fields, "%s done", "Create");
}

/* Without the journal's stream (main() drops JOURNAL_STREAM), the fields are dropped and the line is plain. */
static void test_fields_on_stderr(void) {
        g_autofree char *out = NULL;
        int r;

        out = capture_stderr(log_with_fields, &r);
        g_assert_cmpstr(out, ==, "<5>Create done\n");
        g_assert_cmpint(r, ==, -EIO);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        /* Lines go to stderr here even when the tests run under a service. */
        g_unsetenv("JOURNAL_STREAM");
        g_test_add_func("/log/prefix-and-errno", test_prefix_and_errno);
        g_test_add_func("/log/below-max-level", test_below_max_level);
        g_test_add_func("/log/long-line-is-one-line", test_long_line_is_one_line);
        g_test_add_func("/log/fields-on-stderr", test_fields_on_stderr);
        return g_test_run();
}
