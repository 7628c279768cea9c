/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "operation.h"

/* An operation's caller answered, for the bus layer and the stacks alike, each answer with a line
 * in the service's log. */

/* The reply its outcome calls for: success, Timeout (done, but udev was late), or the named error
 * that op->result stands for (dbus/dmbus-errors.h). */
void operation_reply(Operation *op);
/* An error, and a log line (a refusal by polkit at debug level only). */
void operation_reply_error(Operation *op, const char *error_name, const char *message);
/* A line in the service's log: the method, the caller, what came of it. */
void operation_log_outcome(const Operation *op, const Operation *device, int level, bool success, const char *outcome);
