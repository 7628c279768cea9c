/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <systemd/sd-bus.h>

#include "bus-options.h"
#include "dmbus-names.h"

/* A bus on one end of a socketpair, started but never connected: enough to build messages and
 * read them back, with no bus daemon. */
static sd_bus *test_bus(int fds[2]) {
        sd_bus *bus = NULL;

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
        g_assert_cmpint(sd_bus_new(&bus), >=, 0);
        g_assert_cmpint(sd_bus_set_fd(bus, fds[0], fds[0]), >=, 0);
        g_assert_cmpint(sd_bus_start(bus), >=, 0);
        return bus;
}

/* A method call whose body is options, built by append, sealed and ready to read. */
static sd_bus_message *options_message(sd_bus *bus, void (*append)(sd_bus_message *m)) {
        sd_bus_message *m = NULL;

        g_assert_cmpint(sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH,
                                                       DMBUS_MANAGER_INTERFACE, "Create"), >=, 0);
        g_assert_cmpint(sd_bus_message_open_container(m, 'a', "{sv}"), >=, 0);
        append(m);
        g_assert_cmpint(sd_bus_message_close_container(m), >=, 0);
        g_assert_cmpint(sd_bus_message_seal(m, 1, 0), >=, 0);
        g_assert_cmpint(sd_bus_message_rewind(m, true), >=, 0);
        return m;
}

static void append_none(sd_bus_message *m) {
}

static void append_good(sd_bus_message *m) {
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "read-only", "b", 1), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "udev-timeout-ms", "u", 1234), >=, 0);
}

static void append_unknown(sd_bus_message *m) {
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "frobnicate", "b", 1), >=, 0);
}

static void append_wrong_type(sd_bus_message *m) {
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "read-only", "s", "yes"), >=, 0);
}

static void append_wrong_type_u(sd_bus_message *m) {
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "udev-timeout-ms", "t", (uint64_t) 5), >=, 0);
}

/* The other spelling, then both. */
static void append_alias(sd_bus_message *m) {
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "read_only", "b", 1), >=, 0);
}

static void append_both_spellings(sd_bus_message *m) {
        append_alias(m);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "read-only", "b", 0), >=, 0);
}

/* What a hostile caller sends: the same key over and over, as many as fit in a message. */
#define DUPLICATES 200000

static void append_duplicates(sd_bus_message *m) {
        for (unsigned i = 0; i < DUPLICATES; i++)
                g_assert_cmpint(sd_bus_message_append(m, "{sv}", "read-only", "b", 0), >=, 0);
}

static int read_options(sd_bus *bus, void (*append)(sd_bus_message *m), bool *read_only, uint32_t *timeout,
                        sd_bus_error *error) {
        const BusOption options[] = {
                { .key = "read-only", .type = 'b', .value = read_only, .alias = "read_only" },
                { .key = "udev-timeout-ms", .type = 'u', .value = timeout },
        };
        sd_bus_message *m = options_message(bus, append);
        int r = bus_message_read_options(m, options, G_N_ELEMENTS(options), error);

        sd_bus_message_unref(m);
        return r;
}

static void test_options(void) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        bool read_only = false;
        uint32_t timeout = 7;
        int fds[2];
        sd_bus *bus = test_bus(fds);

        g_assert_cmpint(read_options(bus, append_none, &read_only, &timeout, &error), >=, 0);
        g_assert_false(read_only);
        g_assert_cmpuint(timeout, ==, 7);

        g_assert_cmpint(read_options(bus, append_good, &read_only, &timeout, &error), >=, 0);
        g_assert_true(read_only);
        g_assert_cmpuint(timeout, ==, 1234);

        g_assert_cmpint(read_options(bus, append_unknown, &read_only, &timeout, &error), <, 0);
        g_assert_cmpstr(error.name, ==, DMBUS_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error.message, "\"frobnicate\""));
        g_assert_nonnull(strstr(error.message, "read-only, udev-timeout-ms"));
        sd_bus_error_free(&error);

        g_assert_cmpint(read_options(bus, append_wrong_type, &read_only, &timeout, &error), <, 0);
        g_assert_cmpstr(error.name, ==, DMBUS_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error.message, "boolean"));
        sd_bus_error_free(&error);

        g_assert_cmpint(read_options(bus, append_wrong_type_u, &read_only, &timeout, &error), <, 0);
        g_assert_cmpstr(error.name, ==, DMBUS_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error.message, "unsigned 32-bit"));
        g_assert_cmpuint(timeout, ==, 1234);
        sd_bus_error_free(&error);

        read_only = false;
        g_assert_cmpint(read_options(bus, append_alias, &read_only, &timeout, &error), >=, 0);
        g_assert_true(read_only);
        g_assert_cmpint(read_options(bus, append_both_spellings, &read_only, &timeout, &error), <, 0);
        g_assert_nonnull(strstr(error.message, "\"read-only\" is given twice"));
        sd_bus_error_free(&error);

        /* Refused at the second entry, whatever follows it. */
        g_assert_cmpint(read_options(bus, append_duplicates, &read_only, &timeout, &error), <, 0);
        g_assert_cmpstr(error.name, ==, DMBUS_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error.message, "\"read-only\" is given twice"));
        sd_bus_error_free(&error);

        /* No flush: nobody reads the other end. */
        sd_bus_close_unref(bus);
        close(fds[1]);
}

static void append_u64(sd_bus_message *m) {
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "timeout-usec", "t", UINT64_C(5000000000)), >=, 0);
}

static void test_u64(void) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t timeout = 0;
        const BusOption options[] = { { .key = "timeout-usec", .type = 't', .value = &timeout } };
        int fds[2];
        sd_bus *bus = test_bus(fds);
        sd_bus_message *m = options_message(bus, append_u64);

        g_assert_cmpint(bus_message_read_options(m, options, G_N_ELEMENTS(options), &error), >=, 0);
        g_assert_cmpuint(timeout, ==, UINT64_C(5000000000));
        sd_bus_message_unref(m);
        m = options_message(bus, append_good);
        g_assert_cmpint(bus_message_read_options(m, options, G_N_ELEMENTS(options), &error), <, 0);
        g_assert_nonnull(strstr(error.message, "Unknown option \"read-only\""));
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        sd_bus_close_unref(bus);
        close(fds[1]);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bus-options/read", test_options);
        g_test_add_func("/bus-options/u64", test_u64);
        return g_test_run();
}
