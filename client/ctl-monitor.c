/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "ctl.h"

/* Every signal of the service, one line each as it arrives: devices added and removed, changed
 * properties with their new values, DM events, failures, thresholds crossed, jobs completed. */

static void line_start(const char *signal, const char *path) {
        char now[32];

        timestamp_now(now);
        if (arg_json) {
                printf("{\"time\": \"%s\", \"signal\": \"%s\", \"path\": ", now, signal);
                json_string(stdout, path);
        } else
                printf("%s %s %s", now, signal, path);
}

/* The ObjectManager's signals name the object first. */
static int object_line_start(sd_bus_message *m, const char *signal) {
        const char *path;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        line_start(signal, path);
        return 0;
}

/* InterfacesAdded (oa{sa{sv}}): the new object's properties. */
static int print_added(sd_bus_message *m) {
        int r = object_line_start(m, "added");

        if (r < 0)
                return r;
        printf(arg_json ? ", \"interfaces\": " : " ");
        return value_print(m, stdout, arg_json, "");
}

/* InterfacesRemoved (oas). */
static int print_removed(sd_bus_message *m) {
        return object_line_start(m, "removed");
}

/* PropertiesChanged (sa{sv}as): the new values. */
static int print_changed(sd_bus_message *m) {
        const char *interface;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0)
                return r;
        line_start("changed", sd_bus_message_get_path(m));
        if (arg_json) {
                printf(", \"interface\": ");
                json_string(stdout, interface);
                printf(", \"properties\": ");
        } else
                printf(" %s ", strrchr(interface, '.') + 1);
        return value_print(m, stdout, arg_json, "");
}

/* Event (u): the device's DM event counter. */
static int print_event(sd_bus_message *m) {
        uint32_t event_nr;
        int r;

        r = sd_bus_message_read(m, "u", &event_nr);
        if (r < 0)
                return r;
        line_start("event", sd_bus_message_get_path(m));
        printf(arg_json ? ", \"event_nr\": %u" : " event_nr=%u", event_nr);
        return 0;
}

/* Failure (sa{sv}): its kind and details. */
static int print_failure(sd_bus_message *m) {
        const char *kind;
        int r;

        r = sd_bus_message_read(m, "s", &kind);
        if (r < 0)
                return r;
        line_start("failure", sd_bus_message_get_path(m));
        if (arg_json) {
                printf(", \"kind\": ");
                json_string(stdout, kind);
                printf(", \"details\": ");
        } else
                printf(" %s ", kind);
        return value_print(m, stdout, arg_json, "");
}

/* ThresholdCrossed (su). */
static int print_threshold(sd_bus_message *m) {
        const char *what;
        uint32_t percent;
        int r;

        r = sd_bus_message_read(m, "su", &what, &percent);
        if (r < 0)
                return r;
        line_start("threshold", sd_bus_message_get_path(m));
        if (arg_json) {
                printf(", \"what\": ");
                json_string(stdout, what);
                printf(", \"percent\": %u", percent);
        } else
                printf(" %s %u%%", what, percent);
        return 0;
}

/* Job.Completed (bs). */
static int print_completed(sd_bus_message *m) {
        const char *message;
        int success, r;

        r = sd_bus_message_read(m, "bs", &success, &message);
        if (r < 0)
                return r;
        line_start("completed", sd_bus_message_get_path(m));
        if (arg_json) {
                printf(", \"success\": %s, \"message\": ", success ? "true" : "false");
                json_string(stdout, message);
        } else
                printf(" %s %s", success ? "success" : "failed", message);
        return 0;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        static const struct {
                const char *member;
                int (*print)(sd_bus_message *m);
        } printers[] = {
                { "InterfacesAdded", print_added },
                { "InterfacesRemoved", print_removed },
                { "PropertiesChanged", print_changed },
                { "Event", print_event },
                { "Failure", print_failure },
                { "ThresholdCrossed", print_threshold },
                { "Completed", print_completed },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(printers); i++)
                if (strcmp(sd_bus_message_get_member(m), printers[i].member) == 0) {
                        r = printers[i].print(m);
                        printf(arg_json ? "}\n" : "\n");
                        fflush(stdout);
                        if (r < 0)
                                fprintf(stderr, "dmbusctl: cannot read a %s signal: %s\n", printers[i].member, strerror(-r));
                        return 0;
                }
        return 0;
}

int verb_monitor(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = sd_bus_add_match(bus, NULL, "type='signal',sender='" DMBUS_SERVICE_NAME "',path_namespace='" DMBUS_ROOT_PATH "'", on_signal, NULL);
        if (r < 0) {
                fprintf(stderr, "dmbusctl: cannot subscribe to the service's signals: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        /* The match is in place once the bus said so: a line on stderr tells scripts to go on. */
        fprintf(stderr, "Monitoring " DMBUS_SERVICE_NAME ".\n");
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r > 0)
                        continue;
                if (r >= 0)
                        r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0) {
                        fprintf(stderr, "dmbusctl: lost the bus: %s\n", strerror(-r));
                        return EXIT_FAILED;
                }
        }
}
