/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* info and resolve: one device, named any way the service resolves. */

static int print_interface(sd_bus *bus, const char *path, const char *interface, bool *first_interface) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *short_name = strrchr(interface, '.') + 1;
        bool first = true;
        int r;

        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply,
                               "s", interface);
        if (r < 0) {
                /* Not every block device is a DM device. */
                if (sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.UnknownInterface"))
                        return 0;
                return bus_error_exit(&error, r);
        }
        if (arg_json)
                printf("%s\"%s\": {", *first_interface ? "" : ", ", short_name);
        else
                printf("%s:\n", short_name);
        *first_interface = false;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        break;
                if (arg_json) {
                        printf("%s\"%s\": ", first ? "" : ", ", name);
                        r = value_print(reply, stdout, true, "");
                } else {
                        char indent[64];
                        uint64_t size = 0;

                        snprintf(indent, sizeof(indent), "%*s", (int) strlen(name) + 4, "");
                        printf("  %s: ", name);
                        if (strcmp(name, "Size") == 0 && sd_bus_message_read(reply, "v", "t", &size) >= 0) {
                                char human[16];
                                size_human(size, human);
                                printf("%" PRIu64 " (%s)", size, human);
                        } else
                                r = value_print(reply, stdout, false, indent);
                        printf("\n");
                }
                first = false;
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return failure_exit(r, "cannot read the device's properties");
        if (arg_json)
                printf("}");
        return 0;
}

typedef struct Device {
        sd_bus *bus;
        const char *path;
} Device;

static int print_device(const void *userdata) {
        const Device *device = userdata;
        const char *path = device->path;
        bool first = true;
        int r;

        if (arg_json) {
                printf("{\"path\": ");
                json_string(stdout, path);
                first = false;
        } else
                printf("Path: %s\n", path);
        r = print_interface(device->bus, path, DMBUS_BLOCK_INTERFACE, &first);
        if (r == 0)
                r = print_interface(device->bus, path, DMBUS_DEVICE_INTERFACE, &first);
        if (r != 0)
                return r;
        if (arg_json)
                printf("}\n");
        return 0;
}

int verb_info(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = open_device(call->args[0], &bus, &path);
        if (r != 0)
                return r;
        if (arg_json_pretty)
                return print_json_indented(print_device, &(Device) { bus, path });
        return print_device(&(Device) { bus, path });
}

int verb_resolve(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = open_device(call->args[0], &bus, &path);
        if (r != 0)
                return r;
        printf("%s\n", path);
        return 0;
}
