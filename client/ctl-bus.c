/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dmbus-errors.h"

int bus_connect(sd_bus **ret) {
        int r = sd_bus_open_system(ret);

        if (r < 0) {
                fprintf(stderr, "dmbusctl: cannot connect to the system bus: %s\n", strerror(-r));
                return EXIT_NO_SERVICE;
        }
        return 0;
}

int failure_exit(int r, const char *what) {
        fprintf(stderr, "dmbusctl: %s: %s\n", what, strerror(-r));
        return EXIT_FAILED;
}

int usage_error(const char *format, ...) {
        va_list ap;

        fputs("dmbusctl: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputs(" (see --help)\n", stderr);
        return EXIT_USAGE;
}

/* Errors of the bus itself, as the service's error that says the same. */
static const struct {
        const char *bus_error;
        const char *service_error;
} bus_errors[] = {
        { SD_BUS_ERROR_ACCESS_DENIED, DMBUS_ERROR_NOT_AUTHORIZED },
        { SD_BUS_ERROR_UNKNOWN_OBJECT, DMBUS_ERROR_NOT_FOUND },
};

int bus_error_exit(const sd_bus_error *error, int r) {
        const char *name;
        int status;

        if (!sd_bus_error_is_set(error)) {
                fprintf(stderr, "dmbusctl: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        fprintf(stderr, "dmbusctl: %s\n", error->message ?: error->name);
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return EXIT_NO_SERVICE;
        name = error->name;
        for (size_t i = 0; i < ELEMENTSOF(bus_errors); i++)
                if (sd_bus_error_has_name(error, bus_errors[i].bus_error))
                        name = bus_errors[i].service_error;
        status = dmbus_error_exit_status(name);
        return status ?: EXIT_FAILED;
}

static bool is_devnum(const char *s, unsigned *maj, unsigned *min) {
        int consumed = 0;

        return sscanf(s, "%u:%u%n", maj, min, &consumed) == 2 && s[consumed] == 0 && s[0] >= '0' && s[0] <= '9';
}

static int call_resolve(sd_bus *bus, const char *method, sd_bus_error *error, char **ret_path, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        const char *path;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &call, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, method);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_appendv(call, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, call, 0, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret_path = strdup(path);
        return *ret_path ? 0 : -ENOMEM;
}

/* Returns 0, or an exit code after saying what went wrong. */
int resolve_device(sd_bus *bus, const char *device, char **ret_path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        unsigned maj, min;
        int r;

        if (strncmp(device, DMBUS_ROOT_PATH "/", strlen(DMBUS_ROOT_PATH "/")) == 0) {
                *ret_path = strdup(device);
                return *ret_path ? 0 : failure_exit(-ENOMEM, "cannot copy the path");
        }
        if (device[0] == '/')
                r = call_resolve(bus, "ResolvePath", &error, ret_path, "s", device);
        else if (is_devnum(device, &maj, &min))
                r = call_resolve(bus, "ResolveDevNum", &error, ret_path, "uu", maj, min);
        else {
                /* A name, or else a UUID. */
                r = call_resolve(bus, "ResolveName", &error, ret_path, "s", device);
                if (r < 0 && sd_bus_error_has_name(&error, DMBUS_ERROR_NOT_FOUND)) {
                        _cleanup_(sd_bus_error_free) sd_bus_error by_uuid = SD_BUS_ERROR_NULL;

                        r = call_resolve(bus, "ResolveUUID", &by_uuid, ret_path, "s", device);
                        if (r < 0 && !sd_bus_error_has_name(&by_uuid, DMBUS_ERROR_NOT_FOUND))
                                return bus_error_exit(&by_uuid, r);
                        if (r < 0) {
                                sd_bus_error_free(&error);
                                sd_bus_error_setf(&error, DMBUS_ERROR_NOT_FOUND,
                                                  "No device-mapper device is named \"%s\", nor has it as its UUID.", device);
                        }
                }
        }
        if (r < 0)
                return bus_error_exit(&error, r);
        return 0;
}

int open_device(const char *device, sd_bus **ret_bus, char **ret_path) {
        int r;

        r = bus_connect(ret_bus);
        if (r != 0)
                return r;
        return resolve_device(*ret_bus, device, ret_path);
}

int append_common_options(sd_bus_message *m) {
        if (arg_ask_password)
                return sd_bus_message_append(m, "a{sv}", 0);
        return sd_bus_message_append(m, "a{sv}", 1, DMBUS_OPTION_NO_USER_INTERACTION, "b", 1);
}

int call_as_polkit_allows(sd_bus *bus, sd_bus_message *m, uint64_t timeout_usec, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_set_allow_interactive_authorization(m, arg_ask_password);
        if (r < 0)
                return failure_exit(r, "cannot build the call");
        polkit_agent_open_if_enabled();
        r = call_following_job(bus, m, timeout_usec, ret_reply, &error);
        return r < 0 ? bus_error_exit(&error, r) : 0;
}
