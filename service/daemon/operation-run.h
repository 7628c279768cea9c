/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "operation.h"

/* What a worker does for each operation (the queue's run callback): the ioctls through dm-ops.c
 * and plain sysfs reads, no libdevmapper, no graph, no bus. Every path ends with op->result (0, or
 * the -errno that decides the kind of error) and op->outcome: what was done, or what failed and
 * in what state the device was left. */
void operation_run(Operation *op, int control_fd);
