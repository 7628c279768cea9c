/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "ctl.h"
#include "mountinfo.h"
#include "strv.h"

/* Every block device the service knows, read with one GetManagedObjects: what tree, health, top
 * and metrics show. */

static void nodes_free_one(Node *node) {
        free(node->path);
        free(node->health);
        free(node->health_reason);
        strv_free(node->mount_points);
        free(node->kernel_name);
        free(node->name);
        free(node->uuid);
        free(node->subsystem);
        strv_free(node->parsed_status);
        free(node->lvm_volume_group);
        free(node->lvm_logical_volume);
        free(node->types);
        table_done(&node->table);
        strv_free(node->dependencies);
        strv_free(node->holders);
}

void nodes_free(Node *nodes, size_t n) {
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

/* The rows of a Table, and its distinct target types, "linear,crypt". */
static int read_variant_table(sd_bus_message *m, Table *table, char **ret_types) {
        uint64_t start, length;
        const char *type, *params;
        char buf[256] = "";
        int r;

        r = sd_bus_message_enter_container(m, 'v', "a(ttss)");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(ttss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ttss)", &start, &length, &type, &params)) > 0) {
                size_t len = strlen(type);
                bool seen = false;

                if (GREEDY_REALLOC(table->rows, table->allocated, table->n + 1) < 0)
                        return -ENOMEM;
                table->rows[table->n] = (TableRow) { .start = start, .length = length, .params = strdup(params) };
                if (!table->rows[table->n].params)
                        return -ENOMEM;
                snprintf(table->rows[table->n++].type, sizeof(table->rows[0].type), "%s", type);

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
        *ret_types = strdup(buf);
        return *ret_types ? 0 : -ENOMEM;
}

/* ParsedStatus's a{sv}, as pairs of strings: its values are t, b and s. */
static int read_variant_parsed_status(sd_bus_message *m, char ***ret) {
        int r;

        r = sd_bus_message_enter_container(m, 'v', "a{sv}");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *contents, *s;
                char buf[256];
                uint64_t t = 0;
                int b = 0;

                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                buf[0] = 0;
                if (strcmp(contents, "t") == 0) {
                        r = read_variant(m, "t", &t);
                        snprintf(buf, sizeof(buf), "%" PRIu64, t);
                } else if (strcmp(contents, "b") == 0) {
                        r = read_variant(m, "b", &b);
                        snprintf(buf, sizeof(buf), "%d", !!b);
                } else if (strcmp(contents, "s") == 0) {
                        r = read_variant(m, "s", &s);
                        if (r >= 0)
                                snprintf(buf, sizeof(buf), "%s", s);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                if (buf[0] && (strv_extend(ret, key) < 0 || strv_extend(ret, buf) < 0))
                        return -ENOMEM;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
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
                return read_variant_table(m, &n->table, &n->types);
        if (strcmp(name, "UUID") == 0)
                return read_variant_string(m, &n->uuid);
        if (strcmp(name, "Subsystem") == 0)
                return read_variant_string(m, &n->subsystem);
        if (strcmp(name, "OpenCount") == 0)
                return read_variant(m, "i", &n->open_count);
        if (strcmp(name, "SuspendedSince") == 0)
                return read_variant(m, "t", &n->suspended_since);
        if (strcmp(name, "ParsedStatus") == 0)
                return read_variant_parsed_status(m, &n->parsed_status);
        if (strcmp(name, "LvmVolumeGroup") == 0)
                return read_variant_string(m, &n->lvm_volume_group);
        if (strcmp(name, "LvmLogicalVolume") == 0)
                return read_variant_string(m, &n->lvm_logical_volume);
        if (strcmp(name, "Health") == 0)
                return read_variant_string(m, &n->health);
        if (strcmp(name, "HealthReason") == 0)
                return read_variant_string(m, &n->health_reason);
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

typedef struct NodeList {
        Node *nodes;
        size_t n;
} NodeList;

static int add_mount_point(unsigned maj, unsigned min, const char *mount_point, void *userdata) {
        NodeList *l = userdata;

        for (size_t i = 0; i < l->n; i++)
                if (l->nodes[i].major == maj && l->nodes[i].minor == min)
                        return strv_extend(&l->nodes[i].mount_points, mount_point);
        return 0;
}

/* Every block device the service knows, in dev_t order. */
int load_nodes(sd_bus *bus, Node **ret, size_t *ret_n) {
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
        /* Where each is mounted, as lsblk finds it: our own mount table, by MAJ:MIN. */
        r = mountinfo_for_each("/proc/self/mountinfo", add_mount_point, &(NodeList) { nodes, n });
        if (r == -ENOENT)
                r = 0;
        if (r < 0) {
                nodes_free(nodes, n);
                return failure_exit(r, "cannot read the mount table");
        }
        *ret = nodes;
        *ret_n = n;
        return 0;
}

const Node *node_find(const Node *nodes, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(nodes[i].path, path) == 0)
                        return &nodes[i];
        return NULL;
}

const char *node_parsed_status(const Node *node, const char *key) {
        for (char **p = node->parsed_status; p && p[0] && p[1]; p += 2)
                if (strcmp(p[0], key) == 0)
                        return p[1];
        return NULL;
}

bool node_is_root(const Node *node) {
        return !node->holders || !node->holders[0];
}


static void walk(const Node *nodes, size_t n, const Node *node, const char *prefix, bool last, unsigned depth, NodeLine line,
                 void *userdata) {
        char label[4 * NODE_DEPTH_MAX + 1024], child_prefix[4 * NODE_DEPTH_MAX + 1];
        size_t n_deps = 0;

        snprintf(label, sizeof(label), "%s%s%s (%u:%u)", prefix, depth == 0 ? "" : last ? "└─" : "├─",
                 node->is_dm ? node->name : node->kernel_name, node->major, node->minor);
        line(node, label, userdata);
        if (depth >= NODE_DEPTH_MAX)
                return;
        snprintf(child_prefix, sizeof(child_prefix), "%s%s", prefix, depth == 0 ? "" : last ? "  " : "│ ");
        for (char **d = node->dependencies; d && *d; d++)
                n_deps++;
        for (size_t i = 0; i < n_deps; i++) {
                const Node *child = node_find(nodes, n, node->dependencies[i]);

                if (child)
                        walk(nodes, n, child, child_prefix, i == n_deps - 1, depth + 1, line, userdata);
        }
}

void nodes_walk_forest(const Node *nodes, size_t n, NodeLine line, void *userdata) {
        for (size_t i = 0; i < n; i++)
                if (node_is_root(&nodes[i]))
                        walk(nodes, n, &nodes[i], "", true, 0, line, userdata);
}
