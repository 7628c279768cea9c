/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <glib.h>

#include "config.h"

static void collect(unsigned line, const char *why, void *userdata) {
        g_string_append_printf(userdata, "%u: %s\n", line, why);
}

static void test_defaults(void) {
        Config c;

        config_defaults(&c);
        g_assert_cmpuint(c.poll_interval_usec, ==, 10 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.suspended_alert_usec, ==, 30 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.n_thresholds, ==, 3);
        g_assert_cmpuint(c.thresholds[0], ==, 80);
        g_assert_cmpuint(c.thresholds[2], ==, 95);
        /* An empty file, or one of comments, changes nothing. */
        g_assert_cmpuint(config_parse("", &c, NULL, NULL), ==, 0);
        g_assert_cmpuint(config_parse("# dmbusd.conf\n; nothing\n\n[Monitor]\n", &c, NULL, NULL), ==, 0);
        g_assert_cmpuint(c.n_thresholds, ==, 3);
}

static void test_values(void) {
        Config c;

        config_defaults(&c);
        g_assert_cmpuint(config_parse("[Monitor]\n PollIntervalSec = 2 \nSuspendedAlertSec=5\nThresholds=50 75  99\n", &c, NULL, NULL), ==, 0);
        g_assert_cmpuint(c.poll_interval_usec, ==, 2 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.suspended_alert_usec, ==, 5 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.n_thresholds, ==, 3);
        g_assert_cmpuint(c.thresholds[1], ==, 75);
        /* None at all: no signals. */
        g_assert_cmpuint(config_parse("[Monitor]\nThresholds=\n", &c, NULL, NULL), ==, 0);
        g_assert_cmpuint(c.n_thresholds, ==, 0);
        g_assert_cmpuint(c.suspend_lease_usec, ==, 0);
        g_assert_cmpuint(config_parse("[Operations]\nSuspendLeaseSec=120\n", &c, NULL, NULL), ==, 0);
        g_assert_cmpuint(c.suspend_lease_usec, ==, 120 * G_USEC_PER_SEC);
}

static void test_bad_lines_passed_over(void) {
        g_autoptr(GString) warnings = g_string_new("");
        Config c;

        config_defaults(&c);
        g_assert_cmpuint(config_parse("[Monitor]\n"
                                      "PollIntervalSec=0\n"
                                      "PollIntervalSec=-3\n"
                                      "PollIntervalSec=10s\n"
                                      "Thresholds=90 80\n"
                                      "Thresholds=101\n"
                                      "Thresholds=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
                                      "Colour=blue\n"
                                      "no equals sign\n"
                                      "[Other]\n"
                                      "PollIntervalSec=1\n"
                                      "[Monitor]\n"
                                      "SuspendedAlertSec=86401\n"
                                      "SuspendedAlertSec=60\n"
                                      "[Operations]\n"
                                      "SuspendLeaseSec=86401\n"
                                      "PollIntervalSec=1\n",
                                      &c, collect, warnings), ==, 12);
        /* What was valid still applies; the rest kept its defaults. */
        g_assert_cmpuint(c.poll_interval_usec, ==, 10 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.suspended_alert_usec, ==, 60 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.n_thresholds, ==, 3);
        g_assert_nonnull(strstr(warnings->str, "2: expects a whole number of seconds in range\n"));
        g_assert_nonnull(strstr(warnings->str, "5: expects percentages in rising order, each once\n"));
        g_assert_nonnull(strstr(warnings->str, "7: takes at most 16 percentages\n"));
        g_assert_nonnull(strstr(warnings->str, "8: is a key [Monitor] does not know\n"));
        g_assert_nonnull(strstr(warnings->str, "9: is not KEY=VALUE\n"));
        g_assert_nonnull(strstr(warnings->str, "10: is a section this version does not know"));
        g_assert_null(strstr(warnings->str, "11:"));
        g_assert_nonnull(strstr(warnings->str, "16: expects a whole number of seconds in range\n"));
        g_assert_nonnull(strstr(warnings->str, "17: is a key [Operations] does not know\n"));
        g_assert_cmpuint(c.suspend_lease_usec, ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/defaults", test_defaults);
        g_test_add_func("/config/values", test_values);
        g_test_add_func("/config/bad-lines-passed-over", test_bad_lines_passed_over);
        return g_test_run();
}
