/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "ctl.h"
#include "strv.h"

/* "suspended,read-only,inactive-table"; "" when none applies. */
static void node_state(const Node *node, char buf[static 64]) {
        snprintf(buf, 64, "%s%s%s%s", node->suspended ? ",suspended" : "", node->read_only ? ",read-only" : "",
                 node->inactive_table ? ",inactive-table" : "", node->is_dm && !node->live_table ? ",no-live-table" : "");
        memmove(buf, buf + (buf[0] == ','), strlen(buf) + 1);
}

static void print_line(const Node *node, const char *label, void *userdata) {
        char size[16], state[64];

        size_human(node->size, size);
        node_state(node, state);
        printf("%s %s%s%s%s%s%s", label, size, node->types && node->types[0] ? " " : "", node->types ?: "",
               state[0] ? " [" : "", state, state[0] ? "]" : "");
        if (node->lvm_volume_group && node->lvm_volume_group[0])
                printf(" lvm %s/%s", node->lvm_volume_group, node->lvm_logical_volume);
        if (node->health && strcmp(node->health, "ok") != 0)
                printf(" %s: %s", node->health, node->health_reason ?: "");
        for (char **m = node->mount_points; m && *m; m++)
                printf("%s%s", m == node->mount_points ? " on " : ", ", *m);
        printf("\n");
}

static void print_json(const Node *nodes, size_t n, const Node *node, unsigned depth) {
        char state[64];

        node_state(node, state);
        printf("{\"path\": ");
        json_string(stdout, node->path);
        printf(", \"kernel_name\": ");
        json_string(stdout, node->kernel_name ?: "");
        printf(", \"name\": ");
        if (node->is_dm)
                json_string(stdout, node->name);
        else
                printf("null");
        printf(", \"major\": %u, \"minor\": %u, \"size\": %" PRIu64 ", \"read_only\": %s", node->major, node->minor, node->size,
               node->read_only ? "true" : "false");
        if (node->is_dm) {
                printf(", \"suspended\": %s, \"live_table\": %s, \"inactive_table\": %s, \"target_types\": [",
                       node->suspended ? "true" : "false", node->live_table ? "true" : "false", node->inactive_table ? "true" : "false");
                for (const char *t = node->types; t && *t;) {
                        size_t len = strcspn(t, ",");
                        printf("%s\"%.*s\"", t == node->types ? "" : ", ", (int) len, t);
                        t += len + (t[len] == ',');
                }
                printf("]");
        }
        if (node->is_dm && node->lvm_volume_group && node->lvm_volume_group[0]) {
                printf(", \"lvm_volume_group\": ");
                json_string(stdout, node->lvm_volume_group);
                printf(", \"lvm_logical_volume\": ");
                json_string(stdout, node->lvm_logical_volume);
        }
        if (node->is_dm) {
                printf(", \"health\": ");
                json_string(stdout, node->health ?: "");
                printf(", \"health_reason\": ");
                json_string(stdout, node->health_reason ?: "");
        }
        printf(", \"mount_points\": [");
        for (char **m = node->mount_points; m && *m; m++) {
                printf("%s", m == node->mount_points ? "" : ", ");
                json_string(stdout, *m);
        }
        printf("], \"dependencies\": [");
        for (char **d = node->dependencies; d && *d && depth < NODE_DEPTH_MAX; d++) {
                const Node *child = node_find(nodes, n, *d);
                if (!child)
                        continue;
                if (d != node->dependencies)
                        printf(", ");
                print_json(nodes, n, child, depth + 1);
        }
        printf("]}");
}

static void dot_string(const char *s) {
        for (; *s; s++)
                printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
}

static void print_dot(const Node *nodes, size_t n) {
        printf("digraph dmbus {\n\trankdir=TB;\n\tnode [shape=box, fontname=\"monospace\"];\n");
        for (size_t i = 0; i < n; i++) {
                char size[16], state[64];

                size_human(nodes[i].size, size);
                node_state(&nodes[i], state);
                printf("\t\"%u:%u\" [label=\"", nodes[i].major, nodes[i].minor);
                dot_string(nodes[i].is_dm ? nodes[i].name : nodes[i].kernel_name ?: "?");
                printf("\\n%u:%u %s", nodes[i].major, nodes[i].minor, size);
                if (nodes[i].types && nodes[i].types[0])
                        printf("\\n%s", nodes[i].types);
                if (state[0])
                        printf("\\n[%s]", state);
                printf("\"%s];\n", nodes[i].is_dm ? "" : ", style=dashed");
        }
        for (size_t i = 0; i < n; i++)
                for (char **d = nodes[i].dependencies; d && *d; d++) {
                        const Node *child = node_find(nodes, n, *d);
                        if (child)
                                printf("\t\"%u:%u\" -> \"%u:%u\";\n", nodes[i].major, nodes[i].minor, child->major, child->minor);
                }
        printf("}\n");
}

/* Each device that nothing is stacked on, with what lies under it: text, or a JSON array. */
static void print_forest(const Node *nodes, size_t n) {
        bool first = true;

        if (!arg_json)
                return nodes_walk_forest(nodes, n, print_line, NULL);
        printf("[");
        for (size_t i = 0; i < n; i++) {
                if (!node_is_root(&nodes[i]))
                        continue;
                printf(first ? "" : ", ");
                print_json(nodes, n, &nodes[i], 0);
                first = false;
        }
        printf("]\n");
}

typedef struct Forest {
        const Node *nodes;
        size_t n;
} Forest;

static int print_forest_of(const void *userdata) {
        const Forest *forest = userdata;

        print_forest(forest->nodes, forest->n);
        return 0;
}

int verb_tree(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool dot = verb_call_has(call, "dot");
        Node *nodes = NULL;
        size_t n = 0;
        int r;

        if (dot && arg_json)
                return usage_error("--json and --dot exclude each other");
        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = load_nodes(bus, &nodes, &n);
        if (r != 0)
                return r;

        if (dot)
                print_dot(nodes, n);
        else if (arg_json_pretty)
                r = print_json_indented(print_forest_of, &(Forest) { nodes, n });
        else
                print_forest(nodes, n);
        nodes_free(nodes, n);
        return r;
}
