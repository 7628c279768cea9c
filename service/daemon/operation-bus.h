/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "bus-options.h"
#include "graph.h"
#include "manager.h"
#include "operation.h"

/* The bus side of the mapping operations, shared by the Manager's and the Devices' method handlers
 * (manager-bus.c, device-bus.c): reading and checking what a caller sent, on the main loop and
 * before any ioctl, so that bad input changes nothing; authorizing the caller; and answering once
 * the operation is over, with the named error that its -errno stands for. */

/* A name or UUID to give a device: well-formed, and nobody's yet (the kernel has the last word). */
int operation_bus_check_new_name(const Graph *g, const char *name, sd_bus_error *error);
int operation_bus_check_new_uuid(const Graph *g, const char *uuid, sd_bus_error *error);

/* Reads the rest of the request: the table when the method takes one (into op->rows; the strings
 * stay in the request), then the options (the method's own, then those every method takes); then
 * submits op for root, or authorizes the caller first. A table from anyone but root is read a slice
 * a loop turn, after everything else, before polkit is asked. Takes op whatever it returns; the
 * method's reply comes when op is over. */
/* The most options of its own a method takes (Remove: retry, deferred, force). */
#define OPERATION_OWN_OPTIONS_MAX 4

/* What takes an authorized operation in place of the queue: stack_start() for the stack methods. */
typedef void (*OperationAuthorized)(Manager *m, Operation *op);

int operation_bus_submit(Manager *m, Operation *op, bool takes_table, const BusOption *own, size_t n_own,
                         OperationAuthorized authorized, sd_bus_error *error);

/* The polkit action an operation is checked against, and what a rule can match (dmbus-names.h):
 * the operation and the device it is about, as the bus shows them. A Cancel of its job too. */
const char *operation_bus_polkit_action(OperationKind kind) _pure_;
int operation_bus_polkit_details(const Operation *op, char ***ret);

/* The requests being read or waiting for polkit, each with its own state: the Manager holds
 * them, only operation-bus.c looks inside. Freeing withdraws every question to polkit still open
 * and answers its caller. */
typedef struct Authorizing Authorizing;
int authorizing_new(Authorizing **ret);
Authorizing *authorizing_free(Authorizing *a);
/* For the stop: the same, the object kept. */
void authorizing_drop_all(Authorizing *a);
