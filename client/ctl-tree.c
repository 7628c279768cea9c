/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "ctl.h"
#include "strv.h"

/* What tree shows of one block device, from GetManagedObjects. */
typedef struct Node {
        char *path, *kernel_name, *name, *types;
        uint32_t major, minor;
        uint64_t size;
        bool is_dm, read_only, suspended, live_table, inactive_table;
        char **dependencies, **holders;
} Node;

static void nodes_free_one(Node *node) {
        free(node->path);
        free(node->kernel_name);
        free(node->name);
        free(node->types);
        strv_free(node->dependencies);
        strv_free(node->holders);
}

static void nodes_free(Node *nodes, size_t n) {
        for (size_t i = 0; i < n; i++)
                nodes_free_one(&nodes[i]);
        free(nodes);
}

static int read_variant(sd_bus_message *m, const char *type, void *value) {
        return sd_bus_message_read(m, "v", type, value);
}

static int read_variant_string(sd_bus_message *m, char **ret) {
        const char *s;
        int r = read_variant(m, "s", &s);

        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int read_variant_bool(sd_bus_message *m, bool *ret) {
        int b, r = read_variant(m, "b", &b);

        *ret = b;
        return r;
}

static int read_variant_strv(sd_bus_message *m, char ***ret) {
        int r = sd_bus_message_enter_container(m, 'v', "ao");

        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, ret);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* The distinct target types of a Table, "linear,crypt". */
static int read_variant_types(sd_bus_message *m, char **ret) {
        char buf[256] = "";
        const char *type;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "a(ttss)");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(ttss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ttss)", NULL, NULL, &type, NULL)) > 0) {
                size_t len = strlen(type);
                bool seen = false;

                for (const char *p = buf; (p = strstr(p, type)); p += len)
                        seen = seen || ((p == buf || p[-1] == ',') && (p[len] == ',' || p[len] == 0));
                if (!seen && strlen(buf) + len + 2 < sizeof(buf))
                        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? "," : "", type);
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int read_property(sd_bus_message *m, Node *n, const char *name) {
        if (strcmp(name, "KernelName") == 0)
                return read_variant_string(m, &n->kernel_name);
        if (strcmp(name, "Major") == 0)
                return read_variant(m, "u", &n->major);
        if (strcmp(name, "Minor") == 0)
                return read_variant(m, "u", &n->minor);
        if (strcmp(name, "Size") == 0)
                return read_variant(m, "t", &n->size);
        if (strcmp(name, "Dependencies") == 0)
                return read_variant_strv(m, &n->dependencies);
        if (strcmp(name, "Holders") == 0)
                return read_variant_strv(m, &n->holders);
        if (strcmp(name, "Name") == 0) {
                n->is_dm = true;
                return read_variant_string(m, &n->name);
        }
        if (strcmp(name, "Suspended") == 0)
                return read_variant_bool(m, &n->suspended);
        if (strcmp(name, "LiveTable") == 0)
                return read_variant_bool(m, &n->live_table);
        if (strcmp(name, "InactiveTable") == 0)
                return read_variant_bool(m, &n->inactive_table);
        if (strcmp(name, "ReadOnly") == 0) {
                bool ro;
                int r = read_variant_bool(m, &ro);
                n->read_only = n->read_only || ro;     /* the block layer's or DM's own */
                return r;
        }
        if (strcmp(name, "Table") == 0)
                return read_variant_types(m, &n->types);
        return sd_bus_message_skip(m, "v");
}

static int read_object(sd_bus_message *m, Node *n) {
        const char *path;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        n->path = strdup(path);
        if (!n->path)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                r = sd_bus_message_skip(m, "s");
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'a', "{sv}");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                        const char *name;

                        r = sd_bus_message_read(m, "s", &name);
                        if (r >= 0)
                                r = read_property(m, n, name);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int compare_nodes(const void *a, const void *b) {
        const Node *x = a, *y = b;

        return x->major != y->major ? (x->major > y->major) - (x->major < y->major) : (x->minor > y->minor) - (x->minor < y->minor);
}

/* Every block device the service knows, in dev_t order. */
static int load_nodes(sd_bus *bus, Node **ret, size_t *ret_n) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Node *nodes = NULL;
        size_t n = 0, allocated = 0;
        int r;

        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               &error, &reply, NULL);
        if (r < 0)
                return bus_error_exit(&error, r);
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                if (GREEDY_REALLOC(nodes, allocated, n + 1) < 0) {
                        r = -ENOMEM;
                        break;
                }
                nodes[n++] = (Node) {};
                r = read_object(reply, &nodes[n - 1]);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                /* Block devices only: the Manager is an object too. */
                if (r >= 0 && !nodes[n - 1].kernel_name)
                        nodes_free_one(&nodes[--n]);
        }
        if (r < 0) {
                nodes_free(nodes, n);
                return failure_exit(r, "cannot read the service's objects");
        }
        qsort(nodes, n, sizeof(Node), compare_nodes);
        *ret = nodes;
        *ret_n = n;
        return 0;
}

static const Node *node_find(const Node *nodes, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(nodes[i].path, path) == 0)
                        return &nodes[i];
        return NULL;
}

static bool is_root(const Node *node) {
        return !node->holders || !node->holders[0];
}

/* "suspended,read-only,inactive-table"; "" when none applies. */
static void node_state(const Node *node, char buf[static 64]) {
        snprintf(buf, 64, "%s%s%s%s", node->suspended ? ",suspended" : "", node->read_only ? ",read-only" : "",
                 node->inactive_table ? ",inactive-table" : "", node->is_dm && !node->live_table ? ",no-live-table" : "");
        memmove(buf, buf + (buf[0] == ','), strlen(buf) + 1);
}

/* Stacks deeper than this are a loop in the data, not a stack. */
#define DEPTH_MAX 64

static void print_text(const Node *nodes, size_t n, const Node *node, const char *prefix, bool last, unsigned depth) {
        char size[16], state[64], child_prefix[4 * DEPTH_MAX + 1];
        size_t n_deps = 0;

        size_human(node->size, size);
        node_state(node, state);
        printf("%s%s%s (%u:%u) %s%s%s%s%s%s\n", prefix, depth == 0 ? "" : last ? "└─" : "├─",
               node->is_dm ? node->name : node->kernel_name, node->major, node->minor, size,
               node->types && node->types[0] ? " " : "", node->types ?: "",
               state[0] ? " [" : "", state, state[0] ? "]" : "");
        if (depth >= DEPTH_MAX)
                return;
        snprintf(child_prefix, sizeof(child_prefix), "%s%s", prefix, depth == 0 ? "" : last ? "  " : "│ ");
        for (char **d = node->dependencies; d && *d; d++)
                n_deps++;
        for (size_t i = 0; i < n_deps; i++) {
                const Node *child = node_find(nodes, n, node->dependencies[i]);
                if (child)
                        print_text(nodes, n, child, child_prefix, i == n_deps - 1, depth + 1);
        }
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
        printf(", \"dependencies\": [");
        for (char **d = node->dependencies; d && *d && depth < DEPTH_MAX; d++) {
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

        if (arg_json)
                printf("[");
        for (size_t i = 0; i < n; i++) {
                if (!is_root(&nodes[i]))
                        continue;
                if (arg_json) {
                        printf(first ? "" : ", ");
                        print_json(nodes, n, &nodes[i], 0);
                } else
                        print_text(nodes, n, &nodes[i], "", true, 0);
                first = false;
        }
        if (arg_json)
                printf("]\n");
}

static int help_tree(void) {
        printf("dmbusctl tree [--json | --dot]\n\n"
               "The block devices the service knows, as a forest: each device that nothing is stacked on, with\n"
               "what it maps onto below it: name (or kernel name), MAJ:MIN, size, target types, [state].\n\n"
               "  --json   one JSON array of trees\n"
               "  --dot    a Graphviz digraph, holder -> dependency\n");
        return 0;
}

int verb_tree(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                { "dot", no_argument, NULL, 'd' },
                { "no-ask-password", no_argument, NULL, 'P' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        bool dot = false;
        Node *nodes = NULL;
        size_t n = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': return help_tree();
                case 'j': arg_json = true; break;
                case 'd': dot = true; break;
                case 'P': break;
                default: return EXIT_USAGE;
                }
        if (optind < argc)
                return usage_error("tree takes no arguments");
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
        else
                print_forest(nodes, n);
        nodes_free(nodes, n);
        return 0;
}

