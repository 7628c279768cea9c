/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "alloc-util.h"
#include "ctl.h"

/* health, who and list: what the service knows of devices' condition and users. */

int verb_health(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool first = true;
        Node *nodes = NULL;
        size_t n = 0, unwell = 0;
        int r;

        r = bus_connect(&bus);
        if (r == 0)
                r = load_nodes(bus, &nodes, &n);
        if (r != 0)
                return r;
        if (arg_json)
                printf("[");
        for (size_t i = 0; i < n; i++) {
                const Node *node = &nodes[i];

                if (!node->is_dm || !node->health || strcmp(node->health, "ok") == 0)
                        continue;
                unwell++;
                if (!arg_json) {
                        printf("%s (%u:%u) %s: %s\n", node->name, node->major, node->minor, node->health, node->health_reason ?: "");
                        continue;
                }
                printf(arg_json_pretty ? "%s\n  {\"name\": " : "%s{\"name\": ", first ? "" : ",");
                json_string(stdout, node->name);
                printf(", \"major\": %u, \"minor\": %u, \"health\": ", node->major, node->minor);
                json_string(stdout, node->health);
                printf(", \"health_reason\": ");
                json_string(stdout, node->health_reason ?: "");
                printf("}");
                first = false;
        }
        if (arg_json)
                printf(arg_json_pretty && !first ? "\n]\n" : "]\n");
        nodes_free(nodes, n);
        return unwell > 0 ? EXIT_FAILED : 0;
}

int verb_list(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Node *nodes = NULL;
        size_t n = 0;
        int r;

        r = bus_connect(&bus);
        if (r == 0)
                r = load_nodes(bus, &nodes, &n);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (nodes[i].is_dm)
                        printf("%s\n", nodes[i].name);
        nodes_free(nodes, n);
        return 0;
}

int print_kind_and_details(sd_bus_message *reply, bool first) {
        const char *kind;
        int r;

        r = sd_bus_message_enter_container(reply, 'r', "sa{sv}");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(reply, "s", &kind);
        if (r < 0)
                return r;
        if (arg_json) {
                printf(arg_json_pretty ? "%s\n  {\"kind\": " : "%s{\"kind\": ", first ? "" : ",");
                json_string(stdout, kind);
                printf(", \"details\": ");
        } else
                printf("%-8s ", kind);
        r = value_print(reply, stdout, arg_json, "");
        if (r < 0)
                return r;
        printf(arg_json ? "}" : "\n");
        r = sd_bus_message_exit_container(reply);
        return r < 0 ? r : 1;
}

int verb_who(const VerbCall *call) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = open_device(call->args[0], &bus, &path);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, path, DMBUS_DEVICE_INTERFACE, "GetUsers", &error, &reply, NULL);
        if (r < 0)
                return bus_error_exit(&error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(sa{sv})");
        if (arg_json)
                printf("[");
        for (bool first = true; r >= 0 && (r = print_kind_and_details(reply, first)) > 0; first = false)
                ;
        if (r < 0)
                return failure_exit(r, "cannot read the reply");
        if (arg_json)
                printf(arg_json_pretty ? "\n]\n" : "]\n");
        return 0;
}
