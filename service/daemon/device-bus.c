/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "device-bus.h"
#include "dmbus-names.h"
#include "health.h"
#include "lease.h"
#include "log.h"
#include "lvm-name.h"
#include "object-path.h"
#include "operation-bus.h"
#include "stack.h"
#include "strv.h"
#include "time-util.h"
#include "udev-sysfs.h"
#include "users-bus.h"

/* DeviceNumber is served straight from the field as a "t". */
_Static_assert(sizeof(dev_t) == sizeof(uint64_t), "dev_t is not 64 bits");

/* The find callbacks hand each handler its device; the Manager is the userdata its vtable was
 * registered with, which sd-bus keeps in the slot it is dispatching. */
static Manager *manager_of(sd_bus *bus) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(bus));
}

static BlockDevice *device_at(Manager *m, const char *path) {
        dev_t devnum;

        if (block_object_path_parse(path, &devnum) < 0)
                return NULL;
        return graph_get(m->graph, devnum);
}

static int block_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error) {
        BlockDevice *d = device_at(userdata, path);

        if (!d)
                return 0;
        *found = d;
        return 1;
}

static int dm_device_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error) {
        BlockDevice *d = device_at(userdata, path);

        if (!d || !d->dm)
                return 0;
        *found = d->dm;
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

int block_object_paths_append(sd_bus_message *reply, const Graph *g, const dev_t *devs, size_t n) {
        int r;

        assert(reply);
        assert(g);

        r = sd_bus_message_open_container(reply, 'a', "o");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                char buf[BLOCK_OBJECT_PATH_MAX];

                /* Only objects that exist: a dependency that vanished has no path to follow. */
                if (!graph_get(g, devs[i]))
                        continue;
                r = sd_bus_message_append(reply, "o", block_object_path(devs[i], buf));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* sd-bus's own getter reads an int for "b"; our flags are bools. */
static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", (int) *(bool *) userdata);
}

static int property_get_preferred_device(sd_bus *bus, const char *path, const char *interface, const char *property,
                                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", block_device_preferred_device(userdata));
}

static int property_get_major(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BlockDevice *d = userdata;

        return sd_bus_message_append(reply, "u", major(d->devnum));
}

static int property_get_minor(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BlockDevice *d = userdata;

        return sd_bus_message_append(reply, "u", minor(d->devnum));
}

static int property_get_dependencies(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BlockDevice *d = userdata;

        return block_object_paths_append(reply, manager_of(bus)->graph, d->deps, d->n_deps);
}

static int property_get_holders(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const Graph *g = manager_of(bus)->graph;
        BlockDevice *d = userdata;
        const dev_t *holders;
        size_t n;

        graph_get_holders(g, d->devnum, &holders, &n);
        return block_object_paths_append(reply, g, holders, n);
}

/* The kernel's I/O counters, read from sysfs when asked: a read of a file the block layer keeps, no
 * ioctl, nothing that waits on the device. */
static int method_get_statistics(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        BlockDevice *d = userdata;
        uint64_t stat[BLOCK_STAT_MAX];
        size_t n;
        int r;

        r = block_device_read_stat(d->devnum, stat, &n);
        if (r < 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_FAILED, "Cannot read the I/O counters of %s: %s.", d->kernel_name,
                                         strerror(-r));
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{st}");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "{st}", block_stat_names[i], stat[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

#define BLOCK_FIELD(field) offsetof(BlockDevice, field)

static const sd_bus_vtable block_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("KernelName", "s", NULL, BLOCK_FIELD(kernel_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("DeviceNode", "s", NULL, BLOCK_FIELD(devnode), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PreferredDevice", "s", property_get_preferred_device, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DeviceNumber", "t", NULL, BLOCK_FIELD(devnum), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Major", "u", property_get_major, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Minor", "u", property_get_minor, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Size", "t", NULL, BLOCK_FIELD(size), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ReadOnly", "b", property_get_bool, BLOCK_FIELD(read_only), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Symlinks", "as", NULL, BLOCK_FIELD(symlinks), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Dependencies", "ao", property_get_dependencies, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Holders", "ao", property_get_holders, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("GetStatistics", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{st}", statistics), method_get_statistics,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* The UUID's prefix up to the first '-' names who made the device: CRYPT, LVM, mpath, ... */
static int property_get_subsystem(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        DmDevice *dm = userdata;
        size_t n = dm_uuid_subsystem_length(dm->uuid);
        char prefix[n + 1];

        memcpy(prefix, dm->uuid, n);
        prefix[n] = 0;
        return sd_bus_message_append(reply, "s", prefix);
}

/* lvm2's volume group, logical volume and layer, split from the name of a device lvm2 owns ("" for
 * any other). */
static int property_get_lvm(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *vg = NULL, *lv = NULL, *layer = NULL;
        DmDevice *dm = userdata;
        int r;

        if (strncmp(dm->uuid, DM_UUID_PREFIX_LVM, strlen(DM_UUID_PREFIX_LVM)) != 0)
                return sd_bus_message_append(reply, "s", "");
        r = lvm_name_split(dm->name, &vg, &lv, &layer);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "s", strcmp(property, "LvmVolumeGroup") == 0 ? vg :
                                                 strcmp(property, "LvmLogicalVolume") == 0 ? lv : layer);
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

static int property_get_table(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        DmDevice *dm = userdata;

        return append_targets(reply, dm->table, dm->n_table);
}

static int property_get_inactive_table(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        DmDevice *dm = userdata;

        return append_targets(reply, dm->inactive_table, dm->n_inactive_table);
}

static int property_get_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        DmDevice *dm = userdata;

        return append_targets(reply, dm->status, dm->n_status);
}

#define APPEND_U64(key, v) sd_bus_message_append(reply, "{sv}", key, "t", (uint64_t) (v))
#define APPEND_BOOL(key, v) sd_bus_message_append(reply, "{sv}", key, "b", (int) (v))
#define APPEND_STRING(key, v) sd_bus_message_append(reply, "{sv}", key, "s", (v))
#define APPEND_OPTIONAL_U64(key, v) ((v).present ? APPEND_U64(key, (v).value) : 0)
#define APPEND_FIELD(TYPE, member, key)                                         \
        r = APPEND_##TYPE(key, f->member);                                      \
        if (r < 0)                                                              \
                return r;

/* The typed status as ParsedStatus shows it: "target-type", then the kind's fields. */
static int append_parsed_status(sd_bus_message *reply, const DmStatus *s) {
        int r;

        if (s->kind == DM_STATUS_NONE)
                return 0;
        r = APPEND_STRING("target-type", dm_status_kind_to_target_type(s->kind));
        if (r < 0)
                return r;
        switch (s->kind) {
#define KIND_APPEND(KIND, name, type, FIELDS)                            \
        case DM_STATUS_##KIND: {                                                \
                const __typeof__(s->name) *f = &s->name;                        \
                FIELDS(APPEND_FIELD)                                            \
                (void) f;                                                       \
                break;                                                          \
        }
        DM_STATUS_KINDS(KIND_APPEND)
#undef KIND_APPEND
        default:
                break;
        }
        return 0;
}

static int property_get_parsed_status(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        DmDevice *dm = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = append_parsed_status(reply, &dm->parsed_status);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_health(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", health_to_string(dm_device_health(userdata)));
}

static int property_get_suspend_lease_until(sd_bus *bus, const char *path, const char *interface, const char *property,
                                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        dev_t devnum;
        int r;

        r = block_object_path_parse(path, &devnum);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "t", leases_until(manager_of(bus)->leases, devnum));
}

static int property_get_health_reason(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *reason = NULL;
        DmDevice *dm = userdata;

        if (dm_device_health(dm) != HEALTH_SUSPENDED)
                return sd_bus_message_append(reply, "s", dm->health_reason ?: "");
        if (asprintf(&reason, "suspended for more than %" PRIu64 " s", manager_of(bus)->config.suspended_alert_usec / USEC_PER_SEC) < 0)
                return -ENOMEM;
        return sd_bus_message_append(reply, "s", reason);
}

/* The Device methods: the object names the device, the options come last. Each reads and checks
 * its input, then operation-bus.c authorizes and submits; the reply comes when it is done. */
static int device_operation_new(sd_bus_message *message, DmDevice *dm, OperationKind kind, Operation **ret) {
        _cleanup_(operation_freep) Operation *op = NULL;
        Manager *m = manager_of(sd_bus_message_get_bus(message));
        dev_t devnum;
        int r;

        /* The find callback parsed it already. */
        r = block_object_path_parse(sd_bus_message_get_path(message), &devnum);
        if (r < 0)
                return r;
        op = operation_new(m->operations, kind, message);
        if (!op)
                return -ENOMEM;
        op->devnum = devnum;
        op->expected_name = strdup(dm->name);
        op->expected_uuid = strdup(dm->uuid);
        if (!op->expected_name || !op->expected_uuid)
                return -ENOMEM;
        r = operation_set_label(op, dm->name);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(op);
        return 0;
}

/* Load, Reload, ClearInactive, Suspend, Resume and Remove: a table or not, then options, each
 * read into a field of the Operation. */
typedef struct FlagMethod {
        const char *member;
        OperationKind kind;
        bool takes_table;
        struct {
                const char *key;
                size_t offset;          /* of a field of Operation, a bool for 'b', a uint32_t for 'u' */
                char type;
        } flags[3];
} FlagMethod;

#define FLAG(key, field) { key, offsetof(Operation, field), 'b' }

static const FlagMethod flag_methods[] = {
        { "Load", OPERATION_LOAD, true, { FLAG(DMBUS_OPTION_READ_ONLY, read_only) } },
        { "Reload", OPERATION_RELOAD, true,
          { FLAG(DMBUS_OPTION_READ_ONLY, read_only), FLAG(DMBUS_OPTION_NOFLUSH, noflush), FLAG(DMBUS_OPTION_NOLOCKFS, nolockfs) } },
        { "ClearInactive", OPERATION_CLEAR_INACTIVE, false, {} },
        { "Suspend", OPERATION_SUSPEND, false,
          { FLAG(DMBUS_OPTION_NOFLUSH, noflush), FLAG(DMBUS_OPTION_NOLOCKFS, nolockfs),
            { DMBUS_OPTION_LEASE_SEC, offsetof(Operation, lease_sec), 'u' } } },
        { "Resume", OPERATION_RESUME, false, {} },
        { "Remove", OPERATION_REMOVE, false,
          { FLAG(DMBUS_OPTION_RETRY, retry), FLAG(DMBUS_OPTION_DEFERRED, deferred), FLAG(DMBUS_OPTION_FORCE, force) } },
};

static const FlagMethod *flag_method_find(const char *member) {
        for (size_t i = 0; i < ELEMENTSOF(flag_methods); i++)
                if (strcmp(flag_methods[i].member, member) == 0)
                        return &flag_methods[i];
        return NULL;
}

/* The handler of every member in flag_methods, which the vtable below lists. */
static int method_flag_operation(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const FlagMethod *method = flag_method_find(sd_bus_message_get_member(message));
        _cleanup_(operation_freep) Operation *op = NULL;
        BusOption flags[ELEMENTSOF(method->flags)];
        size_t n_flags = 0;
        int r;

        /* sd-bus routes only the members the vtable lists to this handler. */
        assert(method);

        r = device_operation_new(message, userdata, method->kind, &op);
        if (r < 0)
                return r;
        for (; n_flags < ELEMENTSOF(method->flags) && method->flags[n_flags].key; n_flags++)
                flags[n_flags] = (BusOption) { .key = method->flags[n_flags].key, .type = method->flags[n_flags].type,
                                               .value = (char *) op + method->flags[n_flags].offset };
        return operation_bus_submit(manager_of(sd_bus_message_get_bus(message)), TAKE_PTR(op), method->takes_table, flags, n_flags,
                                    NULL, error);
}

/* Rename and SetUUID: a new name or UUID, nobody's yet; the kernel sets a UUID only once. */
static int new_identifier_method(sd_bus_message *message, DmDevice *dm, OperationKind kind, sd_bus_error *error) {
        Manager *m = manager_of(sd_bus_message_get_bus(message));
        const char *value;
        Operation *op;
        int r;

        r = sd_bus_message_read(message, "s", &value);
        if (r < 0)
                return r;
        r = kind == OPERATION_RENAME ? operation_bus_check_new_name(m->graph, value, error)
                                     : operation_bus_check_new_uuid(m->graph, value, error);
        if (r < 0)
                return r;
        if (kind == OPERATION_SET_UUID && dm->uuid[0])
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                         "\"%s\" has the UUID \"%s\" already; the kernel sets a UUID only once.", dm->name, dm->uuid);
        r = device_operation_new(message, dm, kind, &op);
        if (r < 0)
                return r;
        if (kind == OPERATION_RENAME)
                op->name = value;
        else
                op->uuid = value;
        return operation_bus_submit(m, op, false, NULL, 0, NULL, error);
}

static int method_rename(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return new_identifier_method(message, userdata, OPERATION_RENAME, error);
}

static int method_set_uuid(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return new_identifier_method(message, userdata, OPERATION_SET_UUID, error);
}

static int method_send_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *text, *invalid;
        uint64_t sector;
        Operation *op;
        int r;

        r = sd_bus_message_read(message, "ts", &sector, &text);
        if (r < 0)
                return r;
        invalid = target_message_invalid_reason(text);
        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        r = device_operation_new(message, userdata, OPERATION_MESSAGE, &op);
        if (r < 0)
                return r;
        op->sector = sector;
        op->message = text;
        return operation_bus_submit(manager_of(sd_bus_message_get_bus(message)), op, false, NULL, 0, NULL, error);
}

static int method_get_users(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return users_bus_get_users(manager_of(sd_bus_message_get_bus(message)), message, error);
}

static int method_plan_remove_stack(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return users_bus_plan_remove_stack(manager_of(sd_bus_message_get_bus(message)), message, error);
}

/* The stack's members, top first, each with the name and UUID it has now. */
static int collect_stack(const Graph *g, dev_t devnum, Operation *op) {
        _cleanup_(freep) dev_t *devnums = NULL;
        size_t n;
        int r;

        r = graph_collect_dm_above(g, devnum, &devnums, &n);
        if (r < 0)
                return r;
        op->members = calloc(n, sizeof(StackMember));
        if (!op->members)
                return -ENOMEM;
        op->n_members_allocated = n;
        for (size_t i = 0; i < n; i++) {
                const DmDevice *dm = graph_get(g, devnums[i])->dm;

                op->members[op->n_members++] = (StackMember) {
                        .devnum = devnums[i],
                        .name = strdup(dm->name),
                        .uuid = strdup(dm->uuid),
                };
                if (!op->members[i].name || !op->members[i].uuid)
                        return -ENOMEM;
        }
        return 0;
}

/* This device and every DM device above it, as the graph has them now: each step checks again. */
static int method_remove_stack(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = manager_of(sd_bus_message_get_bus(message));
        _cleanup_(operation_freep) Operation *op = NULL;
        int r;

        r = device_operation_new(message, userdata, OPERATION_REMOVE_STACK, &op);
        if (r < 0)
                return r;
        r = collect_stack(m->graph, op->devnum, op);
        if (r < 0)
                return r;
        const BusOption options[] = {
                { .key = DMBUS_OPTION_DEFERRED, .type = 'b', .value = &op->deferred },
                { .key = DMBUS_OPTION_FORCE, .type = 'b', .value = &op->force },
        };
        return operation_bus_submit(m, TAKE_PTR(op), false, options, ELEMENTSOF(options), stack_start, error);
}

#define DM_FIELD(field) offsetof(DmDevice, field)

static const sd_bus_vtable device_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, DM_FIELD(name), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UUID", "s", NULL, DM_FIELD(uuid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Subsystem", "s", property_get_subsystem, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Suspended", "b", property_get_bool, DM_FIELD(info.suspended), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LiveTable", "b", property_get_bool, DM_FIELD(info.live_table), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InactiveTable", "b", property_get_bool, DM_FIELD(info.inactive_table), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ReadOnly", "b", property_get_bool, DM_FIELD(info.read_only), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("OpenCount", "i", NULL, DM_FIELD(info.open_count), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("EventNumber", "u", NULL, DM_FIELD(info.event_nr), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TargetCount", "u", NULL, DM_FIELD(info.target_count), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DeferredRemove", "b", property_get_bool, DM_FIELD(info.deferred_remove), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Table", "a(ttss)", property_get_table, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InactiveTableRows", "a(ttss)", property_get_inactive_table, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Status", "a(ttss)", property_get_status, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ParsedStatus", "a{sv}", property_get_parsed_status, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Health", "s", property_get_health, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("HealthReason", "s", property_get_health_reason, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SuspendedSince", "t", NULL, DM_FIELD(suspended_since), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SuspendLeaseUntil", "t", property_get_suspend_lease_until, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LvmVolumeGroup", "s", property_get_lvm, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LvmLogicalVolume", "s", property_get_lvm, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LvmLayer", "s", property_get_lvm, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        /* The mutations: open to everyone on the bus, polkit decides. */
        /* Tables and messages may carry keys (dm-crypt's): sd-bus wipes such calls and their replies. */
        SD_BUS_METHOD_WITH_ARGS("Load", SD_BUS_ARGS("a(ttss)", table, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_flag_operation, SD_BUS_VTABLE_UNPRIVILEGED|SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("ClearInactive", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_flag_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Suspend", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_flag_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resume", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_flag_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_ARGS("a(ttss)", table, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_flag_operation, SD_BUS_VTABLE_UNPRIVILEGED|SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_flag_operation, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rename", SD_BUS_ARGS("s", new_name, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_rename, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetUUID", SD_BUS_ARGS("s", uuid, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_set_uuid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SendMessage", SD_BUS_ARGS("t", sector, "s", message, "a{sv}", options),
                                SD_BUS_RESULT("s", reply), method_send_message, SD_BUS_VTABLE_UNPRIVILEGED|SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_METHOD_WITH_ARGS("RemoveStack", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("ao", removed),
                                method_remove_stack, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUsers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sa{sv})", users), method_get_users,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PlanRemoveStack", SD_BUS_ARGS("a{sv}", options), SD_BUS_RESULT("a(sa{sv})", plan),
                                method_plan_remove_stack, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Event", SD_BUS_ARGS("u", event_nr), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ThresholdCrossed", SD_BUS_ARGS("s", what, "u", percent), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Failure", SD_BUS_ARGS("s", kind, "a{sv}", details), 0),
        SD_BUS_VTABLE_END
};

/* Property names by change bit (graph.h). */
#define PROPERTY_NAME(id, name) name,
static const char *const block_property_names[_BLOCK_PROPERTY_MAX] = { BLOCK_PROPERTIES(PROPERTY_NAME) };
static const char *const device_property_names[_DEVICE_PROPERTY_MAX] = { DEVICE_PROPERTIES(PROPERTY_NAME) };
#undef PROPERTY_NAME

/* The vtable's properties that emit changes are the names, no more and no fewer: -EPROTO if not. */
static int check_changing_properties(const sd_bus_vtable *vtable, const char *const *names, size_t n_names) {
        size_t n = 0;

        for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                bool listed = false;

                if (v->type != _SD_BUS_VTABLE_PROPERTY || !(v->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
                        continue;
                for (size_t i = 0; i < n_names && !listed; i++)
                        listed = strcmp(names[i], v->x.property.member) == 0;
                if (!listed)
                        return log_error_errno(EPROTO, "%s emits changes, but has no change bit (graph.h).",
                                               v->x.property.member);
                n++;
        }
        if (n != n_names)
                return log_error_errno(EPROTO, "A property with a change bit (graph.h) is not in the vtable.");
        return 0;
}

int device_bus_register(Manager *m) {
        int r;

        assert(m);

        r = check_changing_properties(block_vtable, block_property_names, ELEMENTSOF(block_property_names));
        if (r >= 0)
                r = check_changing_properties(device_vtable, device_property_names, ELEMENTSOF(device_property_names));
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(m->bus, NULL, DMBUS_BLOCK_PREFIX, DMBUS_BLOCK_INTERFACE, block_vtable, block_find, m);
        if (r >= 0)
                r = read_queue_add_vtable(m->reads, DMBUS_BLOCK_INTERFACE, block_vtable);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Block interface: %m");
        r = sd_bus_add_fallback_vtable(m->bus, NULL, DMBUS_BLOCK_PREFIX, DMBUS_DEVICE_INTERFACE, device_vtable, dm_device_find, m);
        if (r >= 0)
                r = read_queue_add_vtable(m->reads, DMBUS_DEVICE_INTERFACE, device_vtable);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Device interface: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, DMBUS_BLOCK_PREFIX, block_enumerate, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the block device enumerator: %m");
        return 0;
}

int device_bus_emit_added(sd_bus *bus, dev_t devnum) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_emit_object_added(bus, block_object_path(devnum, buf));
}

int device_bus_emit_removed(sd_bus *bus, dev_t devnum) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_emit_object_removed(bus, block_object_path(devnum, buf));
}

static int emit_changed(sd_bus *bus, const char *path, const char *interface, const char *const *names, size_t n_names,
                        unsigned changes) {
        const char *list[n_names + 1];
        size_t n = 0;

        for (size_t i = 0; i < n_names; i++)
                if (changes & (1u << i)) {
                        assert(names[i]);
                        list[n++] = names[i];
                }
        if (n == 0)
                return 0;
        list[n] = NULL;
        return sd_bus_emit_properties_changed_strv(bus, path, interface, (char **) list);
}

int device_bus_emit_changed(sd_bus *bus, dev_t devnum, unsigned block_changes, unsigned device_changes) {
        char buf[BLOCK_OBJECT_PATH_MAX];
        int r;

        block_object_path(devnum, buf);
        r = emit_changed(bus, buf, DMBUS_BLOCK_INTERFACE, block_property_names, ELEMENTSOF(block_property_names), block_changes);
        if (r < 0)
                return r;
        return emit_changed(bus, buf, DMBUS_DEVICE_INTERFACE, device_property_names, ELEMENTSOF(device_property_names),
                            device_changes);
}

int device_bus_emit_event(sd_bus *bus, dev_t devnum, uint32_t event_nr) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_emit_signal(bus, block_object_path(devnum, buf), DMBUS_DEVICE_INTERFACE, "Event", "u", event_nr);
}

int device_bus_emit_threshold_crossed(sd_bus *bus, dev_t devnum, const char *what, unsigned percent) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        return sd_bus_emit_signal(bus, block_object_path(devnum, buf), DMBUS_DEVICE_INTERFACE, "ThresholdCrossed", "su", what,
                                  (uint32_t) percent);
}

/* The details a failure of its kind has (failure.h), kebab-case as every key of the contract's. */
static int append_failure_details(sd_bus_message *m, const Failure *f) {
        char health[2] = { f->health, 0 };
        int r;

        r = sd_bus_message_append(m, "{sv}", "row", "u", (uint32_t) f->row);
        if (r >= 0 && f->has_block)
                r = sd_bus_message_append(m, "{sv}{sv}", "block", "t", f->block, "block-type", "s", f->block_type);
        if (r >= 0 && (f->kind == FAILURE_INTEGRITY_MISMATCH || f->kind == FAILURE_MULTIPATH_PATH_FAILED))
                r = sd_bus_message_append(m, "{sv}{sv}", f->kind == FAILURE_INTEGRITY_MISMATCH ? "mismatches" : "failed-paths", "t",
                                          f->count, "added", "t", f->added);
        if (r >= 0 && f->kind == FAILURE_MULTIPATH_PATH_FAILED)
                r = sd_bus_message_append(m, "{sv}", "paths", "t", f->paths);
        if (r >= 0 && f->has_member)
                r = sd_bus_message_append(m, "{sv}{sv}", "member", "u", f->member, "health", "s", health);
        if (r >= 0 && f->device[0])
                r = sd_bus_message_append(m, "{sv}", "device", "s", f->device);
        if (r >= 0 && f->reason)
                r = sd_bus_message_append(m, "{sv}", "reason", "s", f->reason);
        return r;
}

int device_bus_emit_failure(sd_bus *bus, dev_t devnum, const Failure *failure) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        char buf[BLOCK_OBJECT_PATH_MAX];
        int r;

        r = sd_bus_message_new_signal(bus, &m, block_object_path(devnum, buf), DMBUS_DEVICE_INTERFACE, "Failure");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", failure_kind_to_string(failure->kind));
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_failure_details(m, failure);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_send(bus, m, NULL);
        return r;
}
