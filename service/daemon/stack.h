/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "manager.h"
#include "operation.h"

/* RemoveStack and CreateStack: one caller's request over many devices, carried out as the queue's
 * plain Removes and Creates one after another, each with its own checks, record, udev wait and
 * refresh (operation.h): a step's signals are out before the next step begins, and the reply comes
 * after the last. A teardown first asks the users scan (users-scan.h) whether anything outside the
 * stack holds one of its devices, and removes nothing if so. A build that fails removes what it
 * made, top first; until the stack is whole, every device it made keeps the record of its Create,
 * so that a service killed halfway removes them at its next start (settle.c). */

typedef struct Stack Stack;

/* Takes the authorized stack operation (op->members filled in by the bus layer): the continuation
 * the stack methods hand the bus layer (operation_bus_submit()). */
void stack_start(Manager *m, Operation *op);
/* For a stop: a teardown still waiting for its users scan ends now, nothing removed. A stack with
 * a step under way ends when that step does (a build removes what it made first). */
void stack_stop_waiting(Manager *m);
/* The stacks under way: the Manager holds them, only stack.c looks inside. Freeing answers and
 * frees whatever stack is left. */
typedef struct Stacks Stacks;
int stacks_new(Stacks **ret);
Stacks *stacks_free(Stacks *s);
bool stacks_running(const Stacks *s);
