/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "bus-error.h"
#include "device-bus.h"
#include "log.h"
#include "operation-bus.h"
#include "strv.h"

char *block_object_path(dev_t devnum, char buf[static BLOCK_OBJECT_PATH_MAX]) {
        snprintf(buf, BLOCK_OBJECT_PATH_MAX, DMBUS_BLOCK_PREFIX "/%u_%u", major(devnum), minor(devnum));
        return buf;
}

int block_object_path_parse(const char *path, dev_t *ret) {
        unsigned maj, min;
        int consumed = 0;

        if (strncmp(path, DMBUS_BLOCK_PREFIX "/", strlen(DMBUS_BLOCK_PREFIX "/")) != 0)
                return -EINVAL;
        path += strlen(DMBUS_BLOCK_PREFIX "/");
        /* Only the canonical spelling: digits, '_', digits, nothing after. */
        if (path[0] < '0' || path[0] > '9' ||
            sscanf(path, "%u_%u%n", &maj, &min, &consumed) != 2 || path[consumed] != 0)
                return -EINVAL;
        *ret = makedev(maj, min);
        return 0;
}

static BlockDevice *device_at(Manager *m, const char *path) {
        dev_t devnum;

        if (block_object_path_parse(path, &devnum) < 0)
                return NULL;
        return graph_get(m->graph, devnum);
}

static int block_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error) {
        Manager *m = userdata;

        if (!device_at(m, path))
                return 0;
        *found = m;
        return 1;
}

static int dm_device_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error) {
        Manager *m = userdata;
        BlockDevice *d = device_at(m, path);

        if (!d || !d->dm)
                return 0;
        *found = m;
        return 1;
}

static int block_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error) {
        _cleanup_(strv_freep) char **list = NULL;
        Manager *m = userdata;
        BlockDevice *d;
        size_t n = 0;

        list = calloc(graph_size(m->graph) + 1, sizeof(char *));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; graph_iterate(m->graph, &i, &d);) {
                char buf[BLOCK_OBJECT_PATH_MAX];

                list[n] = strdup(block_object_path(d->devnum, buf));
                if (!list[n++])
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(list);
        return 1;
}

/* Every getter finds its device by the object path; the find callbacks vouched for it. */
#define DEVICE_GETTER(name, body)                                                               \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,    \
                                       const char *property, sd_bus_message *reply,             \
                                       void *userdata, sd_bus_error *error) {                   \
                Manager *m = userdata;                                                          \
                BlockDevice *d = device_at(m, path);                                            \
                if (!d)                                                                         \
                        return sd_bus_error_set(error, DMBUS_ERROR_NOT_FOUND, "The device is gone."); \
                body                                                                            \
        }

int block_object_paths_append(sd_bus_message *reply, Manager *m, const dev_t *devs, size_t n) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char buf[BLOCK_OBJECT_PATH_MAX];

                /* Only objects that exist: a dependency that vanished has no path to follow. */
                if (!graph_get(m->graph, devs[i]))
                        continue;
                r = sd_bus_message_append(reply, "o", block_object_path(devs[i], buf));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int append_targets(sd_bus_message *reply, const DmTarget *targets, size_t n) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ttss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(reply, "(ttss)", targets[i].start, targets[i].length,
                                          targets[i].type, targets[i].params);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int append_status_fields(sd_bus_message *reply, const StatusField *fields, size_t n) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const StatusField *f = &fields[i];

                switch (f->type) {
                case STATUS_FIELD_U64:
                        r = sd_bus_message_append(reply, "{sv}", f->key, "t", f->u64);
                        break;
                case STATUS_FIELD_BOOL:
                        r = sd_bus_message_append(reply, "{sv}", f->key, "b", (int) f->b);
                        break;
                case STATUS_FIELD_STRING:
                        r = sd_bus_message_append(reply, "{sv}", f->key, "s", f->s);
                        break;
                }
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

DEVICE_GETTER(kernel_name, return sd_bus_message_append(reply, "s", d->kernel_name);)
DEVICE_GETTER(device_node, return sd_bus_message_append(reply, "s", d->devnode);)
DEVICE_GETTER(preferred_device, return sd_bus_message_append(reply, "s", block_device_preferred_device(d));)
DEVICE_GETTER(device_number, return sd_bus_message_append(reply, "t", (uint64_t) d->devnum);)
DEVICE_GETTER(major, return sd_bus_message_append(reply, "u", major(d->devnum));)
DEVICE_GETTER(minor, return sd_bus_message_append(reply, "u", minor(d->devnum));)
DEVICE_GETTER(size, return sd_bus_message_append(reply, "t", d->size);)
DEVICE_GETTER(block_read_only, return sd_bus_message_append(reply, "b", (int) d->read_only);)
DEVICE_GETTER(symlinks, return sd_bus_message_append_strv(reply, d->symlinks ?: (char *[]) { NULL });)
DEVICE_GETTER(dependencies, return block_object_paths_append(reply, m, d->deps, d->n_deps);)
DEVICE_GETTER(holders,
        const dev_t *holders;
        size_t n;
        graph_get_holders(m->graph, d->devnum, &holders, &n);
        return block_object_paths_append(reply, m, holders, n);)

static const sd_bus_vtable block_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("KernelName", "s", property_get_kernel_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceNode", "s", property_get_device_node, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PreferredDevice", "s", property_get_preferred_device, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DeviceNumber", "t", property_get_device_number, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Major", "u", property_get_major, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Minor", "u", property_get_minor, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Size", "t", property_get_size, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ReadOnly", "b", property_get_block_read_only, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Symlinks", "as", property_get_symlinks, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Dependencies", "ao", property_get_dependencies, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Holders", "ao", property_get_holders, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

/* The UUID's prefix up to the first '-' names who made the device: CRYPT, LVM, mpath, ... */
static int append_subsystem(sd_bus_message *reply, const char *uuid) {
        const char *dash = strchr(uuid, '-');

        if (!dash)
                return sd_bus_message_append(reply, "s", "");
        char prefix[dash - uuid + 1];
        memcpy(prefix, uuid, dash - uuid);
        prefix[dash - uuid] = 0;
        return sd_bus_message_append(reply, "s", prefix);
}

DEVICE_GETTER(name, return sd_bus_message_append(reply, "s", d->dm->name);)
DEVICE_GETTER(uuid, return sd_bus_message_append(reply, "s", d->dm->uuid);)
DEVICE_GETTER(subsystem, return append_subsystem(reply, d->dm->uuid);)
DEVICE_GETTER(suspended, return sd_bus_message_append(reply, "b", (int) d->dm->suspended);)
DEVICE_GETTER(live_table, return sd_bus_message_append(reply, "b", (int) d->dm->live_table);)
DEVICE_GETTER(inactive_table, return sd_bus_message_append(reply, "b", (int) d->dm->inactive_table);)
DEVICE_GETTER(dm_read_only, return sd_bus_message_append(reply, "b", (int) d->dm->read_only);)
DEVICE_GETTER(open_count, return sd_bus_message_append(reply, "i", d->dm->open_count);)
DEVICE_GETTER(event_number, return sd_bus_message_append(reply, "u", d->dm->event_nr);)
DEVICE_GETTER(target_count, return sd_bus_message_append(reply, "u", d->dm->target_count);)
DEVICE_GETTER(deferred_remove, return sd_bus_message_append(reply, "b", (int) d->dm->deferred_remove);)
DEVICE_GETTER(table, return append_targets(reply, d->dm->table, d->dm->n_table);)
DEVICE_GETTER(status, return append_targets(reply, d->dm->status, d->dm->n_status);)
DEVICE_GETTER(parsed_status, return append_status_fields(reply, d->dm->parsed_status, d->dm->n_parsed_status);)

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UUID", "s", property_get_uuid, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Subsystem", "s", property_get_subsystem, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Suspended", "b", property_get_suspended, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LiveTable", "b", property_get_live_table, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InactiveTable", "b", property_get_inactive_table, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ReadOnly", "b", property_get_dm_read_only, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("OpenCount", "i", property_get_open_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("EventNumber", "u", property_get_event_number, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TargetCount", "u", property_get_target_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DeferredRemove", "b", property_get_deferred_remove, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Table", "a(ttss)", property_get_table, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Status", "a(ttss)", property_get_status, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ParsedStatus", "a{sv}", property_get_parsed_status, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* The mutations (operation-bus.c): open to everyone on the bus, polkit decides. */
        SD_BUS_METHOD_WITH_NAMES("Load", "a(ttss)a{sv}", SD_BUS_PARAM(table) SD_BUS_PARAM(options), NULL,,
                                 method_device_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ClearInactive", "a{sv}", SD_BUS_PARAM(options), NULL,,
                                 method_device_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Suspend", "a{sv}", SD_BUS_PARAM(options), NULL,,
                                 method_device_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Resume", "a{sv}", SD_BUS_PARAM(options), NULL,,
                                 method_device_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Reload", "a(ttss)a{sv}", SD_BUS_PARAM(table) SD_BUS_PARAM(options), NULL,,
                                 method_device_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Remove", "a{sv}", SD_BUS_PARAM(options), NULL,,
                                 method_device_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("Rename", "sa{sv}", SD_BUS_PARAM(new_name) SD_BUS_PARAM(options), NULL,,
                                 method_rename, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SetUUID", "sa{sv}", SD_BUS_PARAM(uuid) SD_BUS_PARAM(options), NULL,,
                                 method_set_uuid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SendMessage", "tsa{sv}", SD_BUS_PARAM(sector) SD_BUS_PARAM(message) SD_BUS_PARAM(options),
                                 "s", SD_BUS_PARAM(reply), method_send_message, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_NAMES("Event", "u", SD_BUS_PARAM(event_nr), 0),
        SD_BUS_VTABLE_END
};

int device_bus_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, DMBUS_BLOCK_PREFIX, DMBUS_BLOCK_INTERFACE, block_vtable, block_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Block interface: %m");
        r = sd_bus_add_fallback_vtable(m->bus, NULL, DMBUS_BLOCK_PREFIX, DMBUS_DEVICE_INTERFACE, device_vtable, dm_device_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Device interface: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, DMBUS_BLOCK_PREFIX, block_enumerate, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the block device enumerator: %m");
        return 0;
}

int device_bus_emit_added(Manager *m, dev_t devnum) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_emit_object_added(m->bus, block_object_path(devnum, buf));
}

int device_bus_emit_removed(Manager *m, dev_t devnum) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_emit_object_removed(m->bus, block_object_path(devnum, buf));
}

/* Property names by change bit, in bit order. */
static const char *const block_properties[] = {
        "DeviceNode", "PreferredDevice", "Size", "ReadOnly", "Symlinks", "Dependencies",
};
static const char *const device_properties[] = {
        "Name", "UUID", "Suspended", "LiveTable", "InactiveTable", "ReadOnly", "OpenCount",
        "EventNumber", "TargetCount", "DeferredRemove", "Table", "Status", "ParsedStatus",
};

static int emit_changed(Manager *m, const char *path, const char *interface, const char *const *names,
                        size_t n_names, unsigned changes, const char *extra, const char *extra2) {
        const char *list[n_names + 3];
        size_t n = 0;

        for (size_t i = 0; i < n_names; i++)
                if (changes & (1u << i))
                        list[n++] = names[i];
        if (extra)
                list[n++] = extra;
        if (extra2)
                list[n++] = extra2;
        if (n == 0)
                return 0;
        list[n] = NULL;
        return sd_bus_emit_properties_changed_strv(m->bus, path, interface, (char **) list);
}

int device_bus_emit_changed(Manager *m, dev_t devnum, unsigned block_changes, unsigned device_changes, bool holders) {
        char buf[BLOCK_OBJECT_PATH_MAX];
        int r;

        block_object_path(devnum, buf);
        r = emit_changed(m, buf, DMBUS_BLOCK_INTERFACE, block_properties, ELEMENTSOF(block_properties),
                         block_changes, holders ? "Holders" : NULL, NULL);
        if (r < 0)
                return r;
        return emit_changed(m, buf, DMBUS_DEVICE_INTERFACE, device_properties, ELEMENTSOF(device_properties),
                            device_changes, NULL, device_changes & DEVICE_CHANGE_UUID ? "Subsystem" : NULL);
}

int device_bus_emit_event(Manager *m, dev_t devnum, uint32_t event_nr) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_emit_signal(m->bus, block_object_path(devnum, buf), DMBUS_DEVICE_INTERFACE, "Event", "u", event_nr);
}
