/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "bus-error.h"
#include "device-bus.h"
#include "log.h"
#include "operation-bus.h"
#include "operation.h"
#include "polkit.h"
#include "udev-sysfs.h"
#include "validate.h"

/* The mutating methods: everything a caller sent is read and checked here, on the main loop and
 * before any ioctl, so that bad input changes nothing; then the caller is authorized, then the
 * operation is submitted (operation.c). */

/* udev takes ~0.1 s per event on an idle machine; seconds leave room for a busy one. */
#define UDEV_TIMEOUT_MSEC_DEFAULT 5000
#define UDEV_TIMEOUT_MSEC_MAX (10 * 60 * 1000)

typedef struct OptionSpec {
        const char *key;
        char type;              /* 'b' (bool) or 'u' (uint32) */
        void *value;
} OptionSpec;

static const char *type_name(char type) {
        return type == 'b' ? "a boolean (b)" : "an unsigned 32-bit integer (u)";
}

/* Reads the a{sv}: every key must be one of specs, with its type. */
static int read_options(sd_bus_message *message, const OptionSpec *specs, size_t n_specs, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(message, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
                const OptionSpec *spec = NULL;
                const char *key, *contents;
                char type;

                r = sd_bus_message_read(message, "s", &key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_specs && !spec; i++)
                        if (strcmp(specs[i].key, key) == 0)
                                spec = &specs[i];
                if (!spec) {
                        char known[256] = "";

                        for (size_t i = 0; i < n_specs; i++)
                                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "", specs[i].key);
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "Unknown option \"%s\"; %s takes: %s.",
                                                 key, sd_bus_message_get_member(message), known);
                }
                r = sd_bus_message_peek_type(message, &type, &contents);
                if (r < 0)
                        return r;
                if (contents[0] != spec->type || contents[1] != 0)
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "The option \"%s\" must be %s, not \"%s\".",
                                                 key, type_name(spec->type), contents);
                if (spec->type == 'b') {
                        int b;

                        r = sd_bus_message_read(message, "v", "b", &b);
                        *(bool *) spec->value = b;
                } else
                        r = sd_bus_message_read(message, "v", "u", (uint32_t *) spec->value);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(message);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(message);
}

/* Options every method takes. */
typedef struct CommonOptions {
        bool no_user_interaction;
        uint32_t udev_timeout_msec;
} CommonOptions;

static int apply_common_options(Operation *op, const CommonOptions *c, sd_bus_error *error) {
        if (c->udev_timeout_msec == 0 || c->udev_timeout_msec > UDEV_TIMEOUT_MSEC_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                         "udev-timeout-ms must be between 1 and %d (ten minutes).", UDEV_TIMEOUT_MSEC_MAX);
        op->udev_timeout_usec = (uint64_t) c->udev_timeout_msec * 1000;
        return 0;
}

static int check_device_reference(const char *reference, void *userdata) {
        sd_bus_error *error = userdata;
        unsigned maj, min;
        struct stat st;

        if (reference[0] == '/') {
                /* stat() reads the inode, never the device. */
                if (stat(reference, &st) < 0 || !S_ISBLK(st.st_mode))
                        return sd_bus_error_setf(error, DMBUS_ERROR_NOT_FOUND, "The table refers to %s, which is not a block device.", reference);
                return 0;
        }
        if (sscanf(reference, "%u:%u", &maj, &min) != 2 || devnum_invalid_reason(maj, min) || !block_device_exists(makedev(maj, min)))
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_FOUND, "The table refers to the device %s, which does not exist.", reference);
        return 0;
}

/* Reads the a(ttss) into op->rows (strings stay in the request) and checks it. */
static int read_table(sd_bus_message *message, Operation *op, sd_bus_error *error) {
        size_t allocated = 0;
        char reason[256];
        const char *invalid;
        int r;

        /* A table may hold a key: sd-bus wipes the request's memory when it is freed. */
        (void) sd_bus_message_sensitive(message);

        r = sd_bus_message_enter_container(message, 'a', "(ttss)");
        if (r < 0)
                return r;
        for (;;) {
                DmTableRow row;

                r = sd_bus_message_read(message, "(ttss)", &row.start, &row.length, &row.type, &row.params);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (op->n_rows == TABLE_ROWS_MAX)
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "The table has more than %d rows.", TABLE_ROWS_MAX);
                if (op->n_rows == allocated) {
                        allocated = allocated ? allocated * 2 : 8;
                        DmTableRow *grown = reallocarray(op->rows, allocated, sizeof(DmTableRow));
                        if (!grown)
                                return -ENOMEM;
                        op->rows = grown;
                }
                op->rows[op->n_rows++] = row;
        }
        r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;

        invalid = table_invalid_reason(op->rows, op->n_rows, reason, sizeof(reason));
        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        return table_foreach_device_reference(op->rows, op->n_rows, check_device_reference, error);
}

static void on_authorized(void *userdata, const char *error_name, const char *error_message) {
        Operation *op = userdata;

        if (error_name)
                return operation_fail(op, error_name, "%s", error_message);
        operation_submit(op);
}

/* Hands op on to polkit and then to the queue; the method's reply comes from there. */
static int authorize_and_submit(Operation *op, const CommonOptions *c) {
        int r;

        r = polkit_authorize(op->request, DMBUS_POLKIT_ACTION_MANAGE, !c->no_user_interaction, on_authorized, op);
        if (r < 0)
                operation_fail(op, DMBUS_ERROR_NOT_AUTHORIZED, "Cannot tell who is calling (%s): not authorized.", strerror(-r));
        return 1;
}

/* Reads the options (the method's own, then the common ones), checks them, and submits. */
static int finish_method(sd_bus_message *message, Operation *op_owned, const OptionSpec *own, size_t n_own,
                         sd_bus_error *error) {
        _cleanup_(operation_freep) Operation *op = op_owned;
        CommonOptions c = { .udev_timeout_msec = UDEV_TIMEOUT_MSEC_DEFAULT };
        OptionSpec specs[n_own + 2];
        int r;

        for (size_t i = 0; i < n_own; i++)
                specs[i] = own[i];
        specs[n_own] = (OptionSpec) { "auth.no_user_interaction", 'b', &c.no_user_interaction };
        specs[n_own + 1] = (OptionSpec) { "udev-timeout-ms", 'u', &c.udev_timeout_msec };
        r = read_options(message, specs, n_own + 2, error);
        if (r < 0)
                return r;
        r = apply_common_options(op, &c, error);
        if (r < 0)
                return r;
        return authorize_and_submit(TAKE_PTR(op), &c);
}

/* A name or UUID to give a device: well-formed, and nobody's yet (the kernel has the last word). */
static int check_new_name(Manager *m, const char *name, sd_bus_error *error) {
        const char *invalid = dm_name_new_invalid_reason(name);

        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        if (graph_get_by_name(m->graph, name))
                return sd_bus_error_setf(error, DMBUS_ERROR_ALREADY_EXISTS, "A device named \"%s\" exists already.", name);
        return 0;
}

static int check_new_uuid(Manager *m, const char *uuid, sd_bus_error *error) {
        const char *invalid = dm_uuid_new_invalid_reason(uuid);

        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        if (graph_get_by_uuid(m->graph, uuid))
                return sd_bus_error_setf(error, DMBUS_ERROR_ALREADY_EXISTS, "A device with the UUID \"%s\" exists already.", uuid);
        return 0;
}

int method_create(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(operation_freep) Operation *op = NULL;
        Manager *m = userdata;
        const char *name, *uuid;
        int r;

        r = sd_bus_message_read(message, "ss", &name, &uuid);
        if (r < 0)
                return r;
        r = check_new_name(m, name, error);
        if (r >= 0 && uuid[0])
                r = check_new_uuid(m, uuid, error);
        if (r < 0)
                return r;

        op = operation_new(m, OPERATION_CREATE, message);
        if (!op)
                return -ENOMEM;
        op->name = name;
        op->uuid = uuid[0] ? uuid : NULL;
        r = read_table(message, op, error);
        if (r < 0)
                return r;
        Operation *o = TAKE_PTR(op);    /* finish_method() owns it now */
        return finish_method(message, o, (const OptionSpec[]) {
                { "read-only", 'b', &o->read_only },
                { "activate", 'b', &o->activate },
        }, 2, error);
}

/* The Device methods: the object path names the device; the options come last. */
static int device_operation_new(sd_bus_message *message, Manager *m, OperationKind kind, Operation **ret,
                                BlockDevice **ret_device, sd_bus_error *error) {
        _cleanup_(operation_freep) Operation *op = NULL;
        BlockDevice *d;
        dev_t devnum;

        if (block_object_path_parse(sd_bus_message_get_path(message), &devnum) < 0 ||
            !(d = graph_get(m->graph, devnum)) || !d->dm)
                return sd_bus_error_set(error, DMBUS_ERROR_NOT_FOUND, "The device is gone.");
        op = operation_new(m, kind, message);
        if (!op)
                return -ENOMEM;
        op->devnum = devnum;
        if (asprintf(&op->label, "\"%s\" (%u:%u)", d->dm->name, major(devnum), minor(devnum)) < 0) {
                op->label = NULL;
                return -ENOMEM;
        }
        *ret = TAKE_PTR(op);
        if (ret_device)
                *ret_device = d;
        return 0;
}

/* Load, Reload, ClearInactive, Suspend, Resume and Remove: a table or not, then their flags. */
typedef struct DeviceMethod {
        const char *member;
        OperationKind kind;
        bool takes_table;
        struct {
                const char *key;
                size_t offset;          /* of a bool in Operation */
        } flags[3];
} DeviceMethod;

#define FLAG(key, field) { key, offsetof(Operation, field) }

static const DeviceMethod device_methods[] = {
        { "Load", OPERATION_LOAD, true, { FLAG("read-only", read_only) } },
        { "Reload", OPERATION_RELOAD, true, { FLAG("read-only", read_only), FLAG("noflush", noflush), FLAG("nolockfs", nolockfs) } },
        { "ClearInactive", OPERATION_CLEAR_INACTIVE, false, {} },
        { "Suspend", OPERATION_SUSPEND, false, { FLAG("noflush", noflush), FLAG("nolockfs", nolockfs) } },
        { "Resume", OPERATION_RESUME, false, {} },
        { "Remove", OPERATION_REMOVE, false, { FLAG("retry", retry), FLAG("deferred", deferred), FLAG("force", force) } },
};

int method_device_operation(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const DeviceMethod *method = NULL;
        OptionSpec flags[ELEMENTSOF(method->flags)];
        size_t n_flags = 0;
        Operation *op;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(device_methods) && !method; i++)
                if (strcmp(device_methods[i].member, sd_bus_message_get_member(message)) == 0)
                        method = &device_methods[i];
        if (!method)
                return -EOPNOTSUPP;

        r = device_operation_new(message, userdata, method->kind, &op, NULL, error);
        if (r < 0)
                return r;
        if (method->takes_table) {
                r = read_table(message, op, error);
                if (r < 0) {
                        operation_free(op);
                        return r;
                }
        }
        for (; n_flags < ELEMENTSOF(method->flags) && method->flags[n_flags].key; n_flags++)
                flags[n_flags] = (OptionSpec) { method->flags[n_flags].key, 'b', (char *) op + method->flags[n_flags].offset };
        return finish_method(message, op, flags, n_flags, error);
}

int method_rename(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        Operation *op;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0)
                r = check_new_name(m, name, error);
        if (r < 0)
                return r;
        r = device_operation_new(message, m, OPERATION_RENAME, &op, NULL, error);
        if (r < 0)
                return r;
        op->name = name;
        return finish_method(message, op, NULL, 0, error);
}

int method_set_uuid(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *uuid;
        BlockDevice *d;
        Operation *op;
        int r;

        r = sd_bus_message_read(message, "s", &uuid);
        if (r >= 0)
                r = check_new_uuid(m, uuid, error);
        if (r < 0)
                return r;
        r = device_operation_new(message, m, OPERATION_SET_UUID, &op, &d, error);
        if (r < 0)
                return r;
        if (d->dm->uuid[0]) {
                r = sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                      "%s has the UUID \"%s\" already; the kernel sets a UUID only once.", op->label, d->dm->uuid);
                operation_free(op);
                return r;
        }
        op->uuid = uuid;
        return finish_method(message, op, NULL, 0, error);
}

int method_send_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *text, *invalid;
        uint64_t sector;
        Operation *op;
        int r;

        /* A message may carry a key (dm-crypt's "key set"). */
        (void) sd_bus_message_sensitive(message);
        r = sd_bus_message_read(message, "ts", &sector, &text);
        if (r < 0)
                return r;
        invalid = target_message_invalid_reason(text);
        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        r = device_operation_new(message, userdata, OPERATION_MESSAGE, &op, NULL, error);
        if (r < 0)
                return r;
        op->sector = sector;
        op->message = text;
        return finish_method(message, op, NULL, 0, error);
}
