/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc-util.h"
#include "ctl.h"

/* show and targets: a device's stack as create-stack reads it, and the kernel's target types. */

/* The DM devices DEVICE stands on, and DEVICE, each once, every device after those it maps onto:
 * the order to make them in. */
static int collect_stack(const Node *nodes, size_t n, const Node *node, const Node **stack, size_t *n_stack, unsigned depth) {
        if (depth > NODE_DEPTH_MAX)
                return -ELOOP;
        for (size_t i = 0; i < *n_stack; i++)
                if (stack[i] == node)
                        return 0;
        for (char **d = node->dependencies; d && *d; d++) {
                const Node *below = node_find(nodes, n, *d);
                int r;

                if (below && below->is_dm) {
                        r = collect_stack(nodes, n, below, stack, n_stack, depth + 1);
                        if (r < 0)
                                return r;
                }
        }
        stack[(*n_stack)++] = node;
        return 0;
}

/* A table's reference to a device of the stack, MAJ:MIN, as /dev/mapper/NAME: the stack can be
 * made again elsewhere, where its devices get other minors. */
static const char *member_reference(const Node **stack, size_t n_stack, const char *word, size_t len) {
        for (size_t i = 0; i < n_stack; i++) {
                char devnum[32];

                snprintf(devnum, sizeof(devnum), "%u:%u", stack[i]->major, stack[i]->minor);
                if (strlen(devnum) == len && strncmp(word, devnum, len) == 0)
                        return stack[i]->name;
        }
        return NULL;
}

/* Prints s; with concise, ',', ';' and '\' escaped as dmsetup's concise format wants them. */
static void print_text(const char *s, size_t len, bool concise) {
        for (size_t i = 0; i < len; i++) {
                if (concise && strchr(",;\\", s[i]))
                        putchar('\\');
                putchar(s[i]);
        }
}

static void print_params(const Node **stack, size_t n_stack, const char *params, bool concise) {
        for (const char *p = params; *p;) {
                size_t len = strcspn(p, " ");
                const char *name = member_reference(stack, n_stack, p, len);

                if (name) {
                        print_text("/dev/mapper/", strlen("/dev/mapper/"), concise);
                        print_text(name, strlen(name), concise);
                } else
                        print_text(p, len, concise);
                p += len;
                if (*p)
                        putchar(*p++);
        }
}

static void print_device(const Node **stack, size_t n_stack, const Node *node, bool concise) {
        bool read_only = node->read_only;

        if (concise) {
                print_text(node->name, strlen(node->name), true);
                putchar(',');
                print_text(node->uuid ?: "", strlen(node->uuid ?: ""), true);
                printf(",,%s", read_only ? "ro" : "rw");
        } else {
                printf("name=%s\n", node->name);
                if (node->uuid && node->uuid[0])
                        printf("uuid=%s\n", node->uuid);
                if (read_only)
                        printf("read-only=yes\n");
        }
        for (size_t i = 0; i < node->table.n; i++) {
                const TableRow *row = &node->table.rows[i];

                printf(concise ? ",%" PRIu64 " %" PRIu64 " " : "%" PRIu64 " %" PRIu64 " ", row->start, row->length);
                print_text(row->type, strlen(row->type), concise);
                if (row->params[0])
                        putchar(' ');
                print_params(stack, n_stack, row->params, concise);
                if (!concise)
                        putchar('\n');
        }
}

int verb_show(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) const Node **stack = NULL;
        _cleanup_(freep) char *path = NULL;
        bool concise = verb_call_has(call, "concise");
        size_t n = 0, n_stack = 0, masked = 0;
        const Node *node;
        Node *nodes = NULL;
        int r;

        r = open_device(call->args[0], &bus, &path);
        if (r == 0)
                r = load_nodes(bus, &nodes, &n);
        if (r != 0)
                return r;
        node = node_find(nodes, n, path);
        if (!node || !node->is_dm) {
                nodes_free(nodes, n);
                return usage_error("%s is not a device-mapper device", call->args[0]);
        }
        stack = calloc(n, sizeof(const Node *));
        r = stack ? collect_stack(nodes, n, node, stack, &n_stack, 0) : -ENOMEM;
        if (r < 0) {
                nodes_free(nodes, n);
                return failure_exit(r, "cannot walk the stack");
        }
        for (size_t i = 0; i < n_stack; i++) {
                if (i > 0)
                        printf(concise ? ";" : "\n");
                print_device(stack, n_stack, stack[i], concise);
                for (size_t t = 0; t < stack[i]->table.n; t++)
                        masked += strstr(stack[i]->table.rows[t].params, "<masked>") != NULL;
        }
        if (concise)
                printf("\n");
        if (masked > 0)
                fprintf(stderr, "dmbusctl: %zu table line(s) hold a key shown as <masked>: put the key back before making the stack from this.\n",
                        masked);
        nodes_free(nodes, n);
        return 0;
}

int verb_targets(const VerbCall *call) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *name;
        uint32_t major, minor, patch;
        int r;

        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "GetTargets", &error, &reply, NULL);
        if (r < 0)
                return bus_error_exit(&error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(s(uuu))");
        if (arg_json)
                printf("[");
        for (bool first = true; r >= 0 && (r = sd_bus_message_read(reply, "(s(uuu))", &name, &major, &minor, &patch)) > 0; first = false) {
                if (!arg_json) {
                        printf("%-16s v%" PRIu32 ".%" PRIu32 ".%" PRIu32 "\n", name, major, minor, patch);
                        continue;
                }
                printf(arg_json_pretty ? "%s\n  {\"name\": " : "%s{\"name\": ", first ? "" : ",");
                json_string(stdout, name);
                printf(", \"version\": [%" PRIu32 ", %" PRIu32 ", %" PRIu32 "]}", major, minor, patch);
        }
        if (r < 0)
                return failure_exit(r, "cannot read the reply");
        if (arg_json)
                printf(arg_json_pretty ? "\n]\n" : "]\n");
        return 0;
}
