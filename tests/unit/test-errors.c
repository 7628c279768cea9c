/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "dmbus-errors.h"
#include "dmbus-names.h"

/* The table, with each row's errnos as written, to find them in the documents. */
static const struct {
        const char *name;
        int exit_status;
        const char *errno_names;
        int errnos[4];
} rows[] = {
#define ROW(name, exit_status, ...) { name, exit_status, #__VA_ARGS__, { __VA_ARGS__ } },
        DMBUS_ERRORS(ROW)
#undef ROW
};

static void test_lookups(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
                g_assert_true(g_str_has_prefix(rows[i].name, DMBUS_ERROR_PREFIX));
                g_assert_cmpint(dmbus_error_exit_status(rows[i].name), ==, rows[i].exit_status);
                g_assert_true(rows[i].exit_status != 0 && rows[i].exit_status != 2 && rows[i].exit_status != 10);
                for (size_t j = 0; j < G_N_ELEMENTS(rows[i].errnos) && rows[i].errnos[j] != 0; j++)
                        g_assert_cmpstr(dmbus_error_from_errno(-rows[i].errnos[j]), ==, rows[i].name);
                for (size_t k = 0; k < i; k++) {
                        g_assert_cmpstr(rows[k].name, !=, rows[i].name);
                        g_assert_cmpint(rows[k].exit_status, !=, rows[i].exit_status);
                }
        }
        g_assert_cmpstr(dmbus_error_from_errno(-EIO), ==, DMBUS_ERROR_FAILED);
        g_assert_cmpstr(dmbus_error_from_errno(0), ==, DMBUS_ERROR_FAILED);
        g_assert_cmpint(dmbus_error_exit_status("org.freedesktop.DBus.Error.Failed"), ==, 0);
}

static char *read_source(const char *path) {
        g_autofree char *full = g_build_filename(DMBUS_SOURCE_ROOT, path, NULL);
        g_autoptr(GError) error = NULL;
        char *text;

        g_assert_true(g_file_get_contents(full, &text, NULL, &error));
        return text;
}

/* What follows start in text, to the end of its line and of the lines after it that are indented
 * deeper than the XML's list (NULL when start is not found). */
static char *entry_from(const char *text, const char *start) {
        const char *at = strstr(text, start), *end;

        if (!at)
                return NULL;
        at += strlen(start);
        end = strchrnul(at, '\n');
        while (g_str_has_prefix(end, "\n      "))
                end = strchrnul(end + 1, '\n');
        return g_strndup(at, end - at);
}

static void assert_errnos_in(const char *line, const char *errno_names, const char *where, const char *name) {
        g_auto(GStrv) names = g_strsplit(errno_names, ", ", -1);

        if (!line)
                g_error("%s does not list %s", where, name);
        for (char **n = names; *n && **n; n++)
                if (!strstr(line, *n))
                        g_error("%s says of %s \"%s\", without %s", where, name, line, *n);
}

/* dmbusd(8) and the XML name each error with its errnos, dmbusctl(1) with its exit status. */
static void test_documents_agree(void) {
        g_autofree char *daemon_man = read_source("data/man/dmbusd.8");
        g_autofree char *ctl_man = read_source("data/man/dmbusctl.1");
        g_autofree char *xml = read_source("dbus/org.dmbus.DeviceMapper1.xml");

        for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
                const char *suffix = rows[i].name + strlen(DMBUS_ERROR_PREFIX);
                g_autofree char *man_start = g_strdup_printf(".B %s\n", suffix);
                g_autofree char *xml_start = g_strdup_printf("\n    %s ", suffix);
                g_autofree char *status_start = g_strdup_printf(".B %d\n", rows[i].exit_status);
                g_autofree char *xml_line = entry_from(xml, xml_start);
                g_autofree char *status_line = entry_from(ctl_man, status_start);

                if (rows[i].errnos[0] != 0) {
                        g_autofree char *man_line = entry_from(daemon_man, man_start);

                        assert_errnos_in(man_line, rows[i].errno_names, "dmbusd(8)", suffix);
                }
                assert_errnos_in(xml_line, rows[i].errno_names, "the XML", suffix);
                if (!status_line || !strstr(status_line, suffix))
                        g_error("dmbusctl(1) does not give %s exit status %d", suffix, rows[i].exit_status);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/errors/lookups", test_lookups);
        g_test_add_func("/errors/documents-agree", test_documents_agree);
        return g_test_run();
}
