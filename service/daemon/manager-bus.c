/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "dev-path.h"
#include "device-bus.h"
#include "doctor-bus.h"
#include "job-bus.h"
#include "dmbus-names.h"
#include "log-control-bus.h"
#include "log.h"
#include "manager-bus.h"
#include "object-path.h"
#include "operation-bus.h"
#include "stack.h"
#include "validate.h"
#include "wait-bus.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_device_count(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        return sd_bus_message_append(reply, "u", (uint32_t) graph_dm_count(m->graph));
}

static int reply_with_device(sd_bus_message *message, const BlockDevice *d) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_reply_method_return(message, "o", block_object_path(d->devnum, buf));
}

/* The one string argument, if invalid_reason finds nothing wrong with it. */
static int read_valid_string(sd_bus_message *message, const char *(*invalid_reason)(const char *), const char **ret,
                             sd_bus_error *error) {
        const char *invalid;
        int r;

        r = sd_bus_message_read(message, "s", ret);
        if (r < 0)
                return r;
        invalid = invalid_reason(*ret);
        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        return 0;
}

/* ResolveName and ResolveUUID: validate the string, look it up, name what was not found. */
static int resolve_string(sd_bus_message *message, Manager *m, sd_bus_error *error,
                          const char *(*invalid_reason)(const char *),
                          BlockDevice *(*lookup)(const Graph *g, const char *key),
                          const char *not_found_format) {
        const char *key;
        BlockDevice *d;
        int r;

        r = read_valid_string(message, invalid_reason, &key, error);
        if (r < 0)
                return r;
        d = lookup(m->graph, key);
        if (!d)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_FOUND, not_found_format, key);
        return reply_with_device(message, d);
}

static int method_resolve_name(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return resolve_string(message, userdata, error, dm_name_invalid_reason, graph_get_by_name,
                              "No device-mapper device is named \"%s\".");
}

static int method_resolve_uuid(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return resolve_string(message, userdata, error, dm_uuid_invalid_reason, graph_get_by_uuid,
                              "No device-mapper device has the UUID \"%s\".");
}

static int method_resolve_devnum(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint32_t maj, min;
        const char *invalid;
        BlockDevice *d;
        int r;

        r = sd_bus_message_read(message, "uu", &maj, &min);
        if (r < 0)
                return r;
        invalid = devnum_invalid_reason(maj, min);
        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        d = graph_get(m->graph, makedev(maj, min));
        if (!d)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_FOUND,
                                         "No device-mapper device, nor a device under one, has the number %u:%u.", maj, min);
        return reply_with_device(message, d);
}

static int method_resolve_path(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *path;
        BlockDevice *d;
        dev_t devnum;
        int r;

        r = read_valid_string(message, path_invalid_reason, &path, error);
        if (r < 0)
                return r;
        r = dev_path_resolve(path, &devnum);
        if (r == -ENOENT || r == -ENOTDIR)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_FOUND, "Nothing exists at %s.", path);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "%s leads out of /dev.", path);
        if (r == -ENOTBLK)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "%s is not a block device.", path);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot look at %s: %m", path);
        d = graph_get(m->graph, devnum);
        if (!d)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_FOUND,
                                         "%s (%u:%u) is not a device-mapper device, nor a device under one.",
                                         path, major(devnum), minor(devnum));
        return reply_with_device(message, d);
}

/* GetDevices and GetTree: the graph's devices in dev_t order, each written by append_one. */
static int reply_with_devices(sd_bus_message *message, Manager *m, bool dm_only, const char *signature,
                              int (*append_one)(sd_bus_message *reply, Manager *m, const BlockDevice *d)) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) BlockDevice **list = NULL;
        ssize_t n;
        int r;

        /* One loop turn, one graph: the reply is a consistent snapshot by construction. */
        n = graph_list(m->graph, dm_only, &list);
        if (n < 0)
                return n;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', signature);
        if (r < 0)
                return r;
        for (ssize_t i = 0; i < n; i++) {
                r = append_one(reply, m, list[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int append_device_path(sd_bus_message *reply, Manager *m, const BlockDevice *d) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_message_append(reply, "o", block_object_path(d->devnum, buf));
}

static int append_device_and_dependencies(sd_bus_message *reply, Manager *m, const BlockDevice *d) {
        int r;

        r = sd_bus_message_open_container(reply, 'r', "oao");
        if (r < 0)
                return r;
        r = append_device_path(reply, m, d);
        if (r < 0)
                return r;
        r = block_object_paths_append(reply, m->graph, d->deps, d->n_deps);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_get_devices(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return reply_with_devices(message, userdata, true, "o", append_device_path);
}

static int method_get_tree(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return reply_with_devices(message, userdata, false, "(oao)", append_device_and_dependencies);
}

/* The kernel's target types as last read (manager_read_target_types()): never an ioctl here. */
static int method_get_targets(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(s(uuu))");
        for (size_t i = 0; r >= 0 && i < m->n_target_types; i++) {
                const DmTargetType *t = &m->target_types[i];

                r = sd_bus_message_append(reply, "(s(uuu))", t->name, t->version[0], t->version[1], t->version[2]);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_wait_for_device(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return wait_bus_wait_for_device(userdata, message, error);
}

static int method_check(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return doctor_bus_check(userdata, message, error);
}

static int method_repair(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return doctor_bus_repair(userdata, message, error);
}

static int method_create(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(operation_freep) Operation *op = NULL;
        Manager *m = userdata;
        const char *name, *uuid;
        int r;

        r = sd_bus_message_read(message, "ss", &name, &uuid);
        if (r < 0)
                return r;
        r = operation_bus_check_new_name(m->graph, name, error);
        if (r < 0)
                return r;
        if (uuid[0]) {
                r = operation_bus_check_new_uuid(m->graph, uuid, error);
                if (r < 0)
                        return r;
        }

        op = operation_new(m->operations, OPERATION_CREATE, message);
        if (!op)
                return -ENOMEM;
        op->name = name;
        op->uuid = uuid[0] ? uuid : NULL;
        const BusOption options[] = {
                { .key = DMBUS_OPTION_READ_ONLY, .type = 'b', .value = &op->read_only },
                { .key = DMBUS_OPTION_ACTIVATE, .type = 'b', .value = &op->activate },
        };
        return operation_bus_submit(m, TAKE_PTR(op), true, options, ELEMENTSOF(options), NULL, error);
}

/* The devices, their tables and options are read and checked by operation-bus.c, a slice a turn
 * for a caller that is not root; stack.c makes them. */
static int method_create_stack(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Operation *op;

        op = operation_new(m->operations, OPERATION_CREATE_STACK, message);
        if (!op)
                return -ENOMEM;
        op->label = strdup("the stack");
        if (!op->label) {
                operation_free(op);
                return -ENOMEM;
        }
        return operation_bus_submit(m, op, true, NULL, 0, stack_start, error);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DriverVersion", "s", NULL, offsetof(Manager, driver_version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("LibraryVersion", "s", NULL, offsetof(Manager, library_version), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceCount", "u", property_get_device_count, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("ResolveName", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", device),
                                method_resolve_name, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResolveUUID", SD_BUS_ARGS("s", uuid), SD_BUS_RESULT("o", device),
                                method_resolve_uuid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResolveDevNum", SD_BUS_ARGS("u", major, "u", minor), SD_BUS_RESULT("o", device),
                                method_resolve_devnum, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResolvePath", SD_BUS_ARGS("s", path), SD_BUS_RESULT("o", device),
                                method_resolve_path, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDevices", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", devices),
                                method_get_devices, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetTree", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(oao)", tree),
                                method_get_tree, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetTargets", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(s(uuu))", targets),
                                method_get_targets, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("WaitForDevice", SD_BUS_ARGS("s", device, "s", state, "a{sv}", options),
                                SD_BUS_RESULT("o", object), method_wait_for_device, SD_BUS_VTABLE_UNPRIVILEGED),
        /* Open to everyone on the bus: polkit decides (operation-bus.c). The table may carry a key:
         * sd-bus wipes the call and its reply. */
        SD_BUS_METHOD_WITH_ARGS("Create", SD_BUS_ARGS("s", name, "s", uuid, "a(ttss)", table, "a{sv}", options),
                                SD_BUS_RESULT("o", device), method_create, SD_BUS_VTABLE_UNPRIVILEGED|SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Check", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("a(ossa{sv})", problems),
                                method_check, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Repair", SD_BUS_ARGS("ao", objects, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_repair, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateStack", SD_BUS_ARGS("a(ssa(ttss)a{sv})", devices, "a{sv}", options),
                                SD_BUS_RESULT("ao", made), method_create_stack, SD_BUS_VTABLE_UNPRIVILEGED|SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_VTABLE_END
};

int manager_bus_register(Manager *m) {
        int r;

        assert(m);

        r = sd_bus_add_object_manager(m->bus, NULL, DMBUS_ROOT_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add the object manager: %m");

        r = sd_bus_add_object_vtable(m->bus, NULL, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, manager_vtable, m);
        if (r >= 0)
                r = read_queue_add_vtable(m->reads, DMBUS_MANAGER_INTERFACE, manager_vtable);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Manager object: %m");

        r = log_control_bus_register(m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to register the LogControl1 object: %m");

        r = device_bus_register(m);
        if (r < 0)
                return r;
        return job_bus_register(m);
}

int manager_bus_emit_device_count(sd_bus *bus) {
        return sd_bus_emit_properties_changed(bus, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "DeviceCount", NULL);
}
