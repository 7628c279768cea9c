/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An options dict built from the fuzz bytes: each entry a key (from a short list, or any string)
 * with a value of a type the bytes choose, nested containers too. The reader accepts it or names
 * what is wrong; it never fails otherwise. */
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "bus-options.h"
#include "dmbus-names.h"
#include "fuzz-util.h"

static sd_bus *bus;

static sd_bus *test_bus(void) {
        int fds[2];

        if (bus)
                return bus;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&bus) < 0 ||
            sd_bus_set_fd(bus, fds[0], fds[0]) < 0 || sd_bus_start(bus) < 0)
                abort();
        return bus;
}

static uint8_t take(const uint8_t **data, size_t *size) {
        uint8_t b = 0;

        if (*size > 0) {
                b = **data;
                (*data)++;
                (*size)--;
        }
        return b;
}

/* A string of up to 15 bytes from the input, made valid UTF-8 by keeping it ASCII. */
static void take_string(const uint8_t **data, size_t *size, char buf[static 16]) {
        size_t n = take(data, size) % 16;

        for (size_t i = 0; i < n; i++)
                buf[i] = (char) (0x20 + take(data, size) % 0x5f);
        buf[n] = 0;
}

static int append_value(sd_bus_message *m, const uint8_t **data, size_t *size) {
        char s[16];

        switch (take(data, size) % 6) {
        case 0:
                return sd_bus_message_append(m, "v", "b", take(data, size) & 1);
        case 1:
                return sd_bus_message_append(m, "v", "u", (uint32_t) take(data, size) << 8 | take(data, size));
        case 2:
                take_string(data, size, s);
                return sd_bus_message_append(m, "v", "s", s);
        case 3:
                return sd_bus_message_append(m, "v", "t", (uint64_t) take(data, size));
        case 4:
                return sd_bus_message_append(m, "v", "i", (int32_t) take(data, size) - 128);
        default:
                return sd_bus_message_append(m, "v", "a{sv}", 1, "nested", "b", 1);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const keys[] = { "read-only", "udev-timeout-ms", "activate", "" };
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL;
        bool read_only = false, activate = true;
        uint32_t timeout = 0;
        const BusOption options[] = {
                { .key = "read-only", .type = 'b', .value = &read_only },
                { .key = "udev-timeout-ms", .type = 'u', .value = &timeout },
                { .key = "activate", .type = 'b', .value = &activate },
        };
        int r;

        if (sd_bus_message_new_method_call(test_bus(), &m, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH,
                                           DMBUS_MANAGER_INTERFACE, "Create") < 0 ||
            sd_bus_message_open_container(m, 'a', "{sv}") < 0)
                abort();
        for (unsigned entries = take(&data, &size) % 8; entries > 0; entries--) {
                uint8_t k = take(&data, &size);
                char key[16];

                if (k % 5 < 4)
                        strcpy(key, keys[k % 5]);
                else
                        take_string(&data, &size, key);
                if (sd_bus_message_open_container(m, 'e', "sv") < 0 || sd_bus_message_append(m, "s", key) < 0 ||
                    append_value(m, &data, &size) < 0 || sd_bus_message_close_container(m) < 0)
                        abort();
        }
        if (sd_bus_message_close_container(m) < 0 || sd_bus_message_seal(m, 1, 0) < 0 || sd_bus_message_rewind(m, true) < 0)
                abort();

        r = bus_message_read_options(m, options, sizeof(options) / sizeof(options[0]), &error);
        if (r < 0 && !sd_bus_error_has_name(&error, DMBUS_ERROR_INVALID_ARGUMENT))
                abort();
        sd_bus_error_free(&error);
        sd_bus_message_unref(m);
        return 0;
}
