/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <syslog.h>

#include "log-control-bus.h"
#include "log.h"
#include "string-table.h"

#define LOG_CONTROL_PATH "/org/freedesktop/LogControl1"
#define LOG_CONTROL_INTERFACE "org.freedesktop.LogControl1"
/* Lines go to stderr: under systemd, the journal's stream for the unit. */
#define LOG_TARGET "console"

static const char *const log_level_table[] = {
        [LOG_EMERG] = "emerg",
        [LOG_ALERT] = "alert",
        [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",
        [LOG_WARNING] = "warning",
        [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",
        [LOG_DEBUG] = "debug",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP(log_level, int);

static int property_get_log_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_level_to_string(log_get_max_level()));
}

static int property_set_log_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *value, void *userdata, sd_bus_error *error) {
        const char *level;
        int r;

        r = sd_bus_message_read(value, "s", &level);
        if (r < 0)
                return r;
        r = log_level_from_string(level);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Unknown log level; one of emerg, alert, crit, err, warning, notice, info, debug.");
        log_set_max_level(r);
        log_info("Log level set to %s.", log_level_to_string(r));
        return 0;
}

static int property_set_log_target(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *value, void *userdata, sd_bus_error *error) {
        const char *target;
        int r;

        r = sd_bus_message_read(value, "s", &target);
        if (r < 0)
                return r;
        if (strcmp(target, LOG_TARGET) != 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                        "dmbusd logs to its standard error only (\"" LOG_TARGET "\"): under systemd, the journal.");
        return 0;
}

/* The strings that never change, read by sd-bus's own getter. */
typedef struct LogControl {
        const char *target;
        const char *identifier;
} LogControl;

static const sd_bus_vtable log_control_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_WRITABLE_PROPERTY("LogLevel", "s", property_get_log_level, property_set_log_level, 0, 0),
        SD_BUS_WRITABLE_PROPERTY("LogTarget", "s", NULL, property_set_log_target, offsetof(LogControl, target), 0),
        SD_BUS_PROPERTY("SyslogIdentifier", "s", NULL, offsetof(LogControl, identifier), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

int log_control_bus_register(sd_bus *bus) {
        static LogControl log_control = { .target = LOG_TARGET };

        assert(bus);

        log_control.identifier = program_invocation_short_name;
        return sd_bus_add_object_vtable(bus, NULL, LOG_CONTROL_PATH, LOG_CONTROL_INTERFACE, log_control_vtable, &log_control);
}
