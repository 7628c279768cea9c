/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "bus-options.h"
#include "dmbus-names.h"
#include "log.h"
#include "object-path.h"
#include "operation-bus.h"
#include "polkit.h"
#include "udev-sysfs.h"
#include "validate.h"

/* udev takes ~0.1 s per event on an idle machine; seconds leave room for a busy one. */
#define UDEV_TIMEOUT_MSEC_DEFAULT 5000
#define UDEV_TIMEOUT_MSEC_MAX (10 * 60 * 1000)

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

int operation_bus_read_table(sd_bus_message *message, Operation *op, sd_bus_error *error) {
        char reason[256];
        const char *invalid;
        int r;

        assert(message);
        assert(op);

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
                if (GREEDY_REALLOC(op->rows, op->n_rows_allocated, op->n_rows + 1) < 0)
                        return -ENOMEM;
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

/* invalid: why value is not acceptable, or NULL; existing: the device that has it already. */
static int check_new_identifier(const char *value, const char *invalid, const BlockDevice *existing, const char *exists_format,
                                sd_bus_error *error) {
        if (invalid)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
        if (existing)
                return sd_bus_error_setf(error, DMBUS_ERROR_ALREADY_EXISTS, exists_format, value);
        return 0;
}

int operation_bus_check_new_name(const Graph *g, const char *name, sd_bus_error *error) {
        return check_new_identifier(name, dm_name_new_invalid_reason(name), graph_get_by_name(g, name),
                                    "A device named \"%s\" exists already.", error);
}

int operation_bus_check_new_uuid(const Graph *g, const char *uuid, sd_bus_error *error) {
        return check_new_identifier(uuid, dm_uuid_new_invalid_reason(uuid), graph_get_by_uuid(g, uuid),
                                    "A device with the UUID \"%s\" exists already.", error);
}

/* The kind of error an operation's -errno stands for. */
static const char *error_name_from_errno(int error) {
        switch (-error) {
        case ENXIO:
        case ENODEV:
                return DMBUS_ERROR_NOT_FOUND;
        case EBUSY:
                return DMBUS_ERROR_BUSY;
        case EEXIST:
                return DMBUS_ERROR_ALREADY_EXISTS;
        case EINVAL:
                return DMBUS_ERROR_INVALID_ARGUMENT;
        case ENOENT:
        case ENOTTY:
        case EOPNOTSUPP:
                return DMBUS_ERROR_NOT_SUPPORTED;
        case ETIMEDOUT:
                return DMBUS_ERROR_TIMEOUT;
        default:
                return DMBUS_ERROR_FAILED;
        }
}

/* Written on whichever path an operation leaves by, so the service's log tells what was done. */
static void log_outcome(const Operation *op, const char *outcome) {
        log_info("%s from %s: %s", operation_kind_to_string(op->kind), sd_bus_message_get_sender(op->request) ?: "?", outcome);
}

static void reply_error(Operation *op, const char *error_name, const char *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        log_outcome(op, message);
        (void) sd_bus_error_set(&error, error_name, message);
        (void) sd_bus_reply_method_error(op->request, &error);
}

static void reply_success(Operation *op) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        log_outcome(op, op->outcome ?: "done");
        switch (op->kind) {
        case OPERATION_CREATE:
                (void) sd_bus_reply_method_return(op->request, "o", block_object_path(op->devnum, buf));
                break;
        case OPERATION_MESSAGE:
                (void) sd_bus_reply_method_return(op->request, "s", op->reply_text);
                break;
        default:
                (void) sd_bus_reply_method_return(op->request, NULL);
        }
}

void operation_bus_finished(Operation *op, void *userdata) {
        _cleanup_(operation_freep) Operation *owned = op;
        _cleanup_(freep) char *timeout = NULL;

        assert(op);

        if (op->result < 0)
                return reply_error(op, error_name_from_errno(op->result), op->outcome ?: "Out of memory.");
        if (!op->udev_timed_out)
                return reply_success(op);
        if (asprintf(&timeout, "%s, but udev did not report the device processed within %" PRIu64 " ms: its links in /dev "
                     "may be missing or stale. Is systemd-udevd running?", op->outcome ?: "It was done", op->udev_timeout_usec / 1000) < 0)
                timeout = NULL;
        reply_error(op, DMBUS_ERROR_TIMEOUT, timeout ?: "Out of memory.");
}

static void authorizing_add(Manager *m, Operation *op) {
        op->authorizing_next = m->authorizing;
        if (m->authorizing)
                m->authorizing->authorizing_pprev = &op->authorizing_next;
        op->authorizing_pprev = &m->authorizing;
        m->authorizing = op;
}

static void authorizing_remove(Operation *op) {
        *op->authorizing_pprev = op->authorizing_next;
        if (op->authorizing_next)
                op->authorizing_next->authorizing_pprev = op->authorizing_pprev;
        op->authorizing_next = NULL;
        op->authorizing_pprev = NULL;
}

static void on_authorized(void *userdata, const char *error_name, const char *error_message) {
        Operation *op = userdata;

        /* The question is over: polkit.c frees it. */
        op->authorization = NULL;
        authorizing_remove(op);
        if (error_name) {
                reply_error(op, error_name, error_message);
                operation_free(op);
                return;
        }
        operation_submit(op);
}

void operation_bus_drop_authorizing(Manager *m) {
        assert(m);

        while (m->authorizing) {
                Operation *op = m->authorizing;

                authorizing_remove(op);
                operation_free(op);
        }
}

/* Options every method takes. */
typedef struct CommonOptions {
        bool no_user_interaction;
        uint32_t udev_timeout_msec;
} CommonOptions;

static int read_all_options(sd_bus_message *message, const BusOption *own, size_t n_own, CommonOptions *common,
                            sd_bus_error *error) {
        BusOption options[n_own + 2];
        int r;

        for (size_t i = 0; i < n_own; i++)
                options[i] = own[i];
        options[n_own] = (BusOption) { "auth.no_user_interaction", 'b', &common->no_user_interaction };
        options[n_own + 1] = (BusOption) { "udev-timeout-ms", 'u', &common->udev_timeout_msec };
        r = bus_message_read_options(message, options, n_own + 2, error);
        if (r < 0)
                return r;
        if (common->udev_timeout_msec == 0 || common->udev_timeout_msec > UDEV_TIMEOUT_MSEC_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                         "udev-timeout-ms must be between 1 and %d (ten minutes).", UDEV_TIMEOUT_MSEC_MAX);
        return 0;
}

int operation_bus_submit(Manager *m, Operation *op_owned, const BusOption *own, size_t n_own, sd_bus_error *error) {
        _cleanup_(operation_freep) Operation *op = op_owned;
        CommonOptions common = { .udev_timeout_msec = UDEV_TIMEOUT_MSEC_DEFAULT };
        int r;

        assert(m);
        assert(op);

        r = read_all_options(op->request, own, n_own, &common, error);
        if (r < 0)
                return r;
        op->udev_timeout_usec = (uint64_t) common.udev_timeout_msec * 1000;

        r = polkit_authorize(op->request, DMBUS_POLKIT_ACTION_MANAGE, !common.no_user_interaction, on_authorized, op,
                             &op->authorization);
        if (r < 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_AUTHORIZED, "Cannot tell who is calling (%s): not authorized.",
                                         strerror(-r));
        if (r > 0)
                operation_submit(TAKE_PTR(op));
        else
                authorizing_add(m, TAKE_PTR(op));
        return 1;
}
