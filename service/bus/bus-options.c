/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bus-options.h"
#include "dmbus-names.h"

static const char *option_type_name(char type) {
        return type == 'b' ? "a boolean (b)" : type == 'u' ? "an unsigned 32-bit integer (u)" : "an unsigned 64-bit integer (t)";
}

static int unknown_option(sd_bus_message *message, const char *key, const BusOption *options, size_t n_options,
                          sd_bus_error *error) {
        char known[256] = "";

        for (size_t i = 0; i < n_options; i++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "", options[i].key);
        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "Unknown option \"%s\"; %s takes: %s.",
                                 key, sd_bus_message_get_member(message) ?: "the method", known);
}

/* One {sv} entry, entered already; seen has a bit for each option read before. */
static int read_option(sd_bus_message *message, const BusOption *options, size_t n_options, uint32_t *seen,
                       sd_bus_error *error) {
        const BusOption *option = NULL;
        const char *key, *contents;
        char type;
        int b, r;

        r = sd_bus_message_read(message, "s", &key);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_options && !option; i++)
                if (strcmp(options[i].key, key) == 0 || (options[i].alias && strcmp(options[i].alias, key) == 0))
                        option = &options[i];
        if (!option)
                return unknown_option(message, key, options, n_options, error);
        if (*seen & (1u << (option - options)))
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "The option \"%s\" is given twice.", key);
        *seen |= 1u << (option - options);
        r = sd_bus_message_peek_type(message, &type, &contents);
        if (r < 0)
                return r;
        if (contents[0] != option->type || contents[1] != 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "The option \"%s\" must be %s, not \"%s\".",
                                         key, option_type_name(option->type), contents);
        if (option->type == 'u')
                return sd_bus_message_read(message, "v", "u", (uint32_t *) option->value);
        if (option->type == 't')
                return sd_bus_message_read(message, "v", "t", (uint64_t *) option->value);
        r = sd_bus_message_read(message, "v", "b", &b);
        if (r >= 0)
                *(bool *) option->value = b;
        return r;
}

int bus_message_read_options(sd_bus_message *message, const BusOption *options, size_t n_options, sd_bus_error *error) {
        uint32_t seen = 0;
        int r;

        assert(message);
        assert(options || n_options == 0);
        assert(n_options <= 32);

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                r = read_option(message, options, n_options, &seen, error);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

