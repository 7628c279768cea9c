/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include <systemd/sd-bus.h>

/* The a{sv} of options that every mutating method takes last. */

/* One key: 'b' (a bool at value), 'u' (a uint32_t) or 't' (a uint64_t). alias: another spelling that is
 * accepted as well (one that callers already send), or NULL. */
typedef struct BusOption {
        const char *key;
        char type;
        void *value;
        const char *alias;
} BusOption;

/* Reads an a{sv} whose keys must each be one of options (at most 32), with its type, into their
 * values. A key that is not known, has another type or comes twice (under either spelling) is
 * org.dmbus.DeviceMapper1.Error.InvalidArgument with a sentence that names what the method takes:
 * so the reading stops after n_options entries at most, however long the dict. */
int bus_message_read_options(sd_bus_message *message, const BusOption *options, size_t n_options, sd_bus_error *error);
