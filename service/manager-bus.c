/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "log.h"
#include "manager-bus.h"

static int property_get_version(
                sd_bus *bus,
                const char *path,
                const char *interface,
                const char *property,
                sd_bus_message *reply,
                void *userdata,
                sd_bus_error *error) {

        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_string(
                sd_bus *bus,
                const char *path,
                const char *interface,
                const char *property,
                sd_bus_message *reply,
                void *userdata,
                sd_bus_error *error) {

        char **s = userdata;

        return sd_bus_message_append(reply, "s", *s);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DriverVersion", "s", property_get_string, offsetof(Manager, driver_version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LibraryVersion", "s", property_get_string, offsetof(Manager, library_version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

int manager_bus_register(Manager *m) {
        int r;

        r = sd_bus_add_object_manager(m->bus, NULL, DMBUS_ROOT_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add the object manager: %m");

        r = sd_bus_add_object_vtable(m->bus, NULL, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Manager object: %m");

        return 0;
}
