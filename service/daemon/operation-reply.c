/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc-util.h"
#include "dmbus-errors.h"
#include "dmbus-names.h"
#include "journal-fields.h"
#include "log.h"
#include "object-path.h"
#include "operation-reply.h"
#include "strv.h"

/* Written on whichever path an operation leaves by, so the service's log tells what was done; a
 * refusal by polkit only at debug level, so that no caller can flood the journal. The journal's
 * fields name the device of device (the operation itself, or a stack's step), and the caller. */
void operation_log_outcome(const Operation *op, const Operation *device, int level, bool success, const char *outcome) {
        _cleanup_(strv_freep) char **fields = NULL;

        if (log_get_max_level() < level)
                return;
        fields = journal_fields_device(!success                        ? JOURNAL_MESSAGE_OPERATION_FAILED
                                       : op->kind == OPERATION_REPAIR ? JOURNAL_MESSAGE_REPAIR_DONE
                                                                      : JOURNAL_MESSAGE_OPERATION_DONE,
                                       device->expected_name ?: device->name, device->expected_uuid ?: device->uuid,
                                       device->devnum);
        journal_fields_add(&fields, "DMBUS_OPERATION=%s", operation_kind_to_string(op->kind));
        journal_fields_add(&fields, "DMBUS_CALLER_UID=%u", (unsigned) op->caller_uid);
        if (op->caller_pid > 0)
                journal_fields_add(&fields, "DMBUS_CALLER_PID=%i", (int) op->caller_pid);
        log_struct_errno(level, success ? 0 : op->result, fields, "%s from %s: %s", operation_kind_to_string(op->kind),
                         sd_bus_message_get_sender(op->request) ?: "?", outcome);
}

void operation_reply_error(Operation *op, const char *error_name, const char *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        operation_log_outcome(op, op, strcmp(error_name, DMBUS_ERROR_NOT_AUTHORIZED) == 0 ? LOG_DEBUG : LOG_INFO, false, message);
        (void) sd_bus_error_set(&error, error_name, message);
        (void) sd_bus_reply_method_error(op->request, &error);
}

static void reply_success(Operation *op) {
        char buf[BLOCK_OBJECT_PATH_MAX];
        int r;

        operation_log_outcome(op, op, LOG_INFO, true, op->outcome ?: "done");
        switch (op->kind) {
        case OPERATION_CREATE:
                r = sd_bus_reply_method_return(op->request, "o", block_object_path(op->devnum, buf));
                break;
        case OPERATION_MESSAGE:
                r = sd_bus_reply_method_return(op->request, "s", op->reply_text);
                break;
        default:
                r = sd_bus_reply_method_return(op->request, NULL);
        }
        /* Every call gets an answer: one that cannot be built becomes an error that can. */
        if (r < 0 && r != -ENOTCONN && r != -ECONNRESET)
                operation_reply_error(op, DMBUS_ERROR_FAILED, "It was done, but its answer could not be sent.");
}

void operation_reply(Operation *op) {
        _cleanup_(freep) char *timeout = NULL;

        if (op->result < 0)
                return operation_reply_error(op, dmbus_error_from_errno(op->result), op->outcome ?: "Out of memory.");
        if (!op->udev_timed_out)
                return reply_success(op);
        if (asprintf(&timeout, "%s, but udev did not report the device processed within %" PRIu64 " ms: its links in /dev "
                     "may be missing or stale. Is systemd-udevd running?", op->outcome ?: "It was done", op->udev_timeout_usec / 1000) < 0)
                timeout = NULL;
        operation_reply_error(op, DMBUS_ERROR_TIMEOUT, timeout ?: "Out of memory.");
}
