/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "dmbus-errors.h"
#include "dmbus-names.h"
#include "job-bus.h"
#include "list.h"
#include "log.h"
#include "object-path.h"
#include "op-record.h"
#include "operation-reply.h"
#include "stack.h"
#include "validate.h"

/* A stack under way: the caller's request (its kind, members and options) and how far it got. */
struct Stack {
        Operation *op;
        Manager *manager;
        size_t step;                    /* the member the step under way is for */
        bool rolling_back;
        int failure;                    /* CREATE_STACK rolling back: the step's -errno ... */
        char *failure_text;             /* ... and what it said */
        UsersScanRequest *users_request;
        LIST_FIELDS(Stack, stacks);     /* Stacks.running */
};

struct Stacks {
        Stack *running;         /* the list's head */
};

static void stack_free(Stack *stack) {
        LIST_REMOVE(stacks, stack);
        users_scan_request_cancel(stack->users_request);
        operation_free(stack->op);
        free(stack->failure_text);
        free(stack);
}

static void stack_fail(Stack *stack, const char *error_name, const char *message) {
        job_end(stack->manager, stack->op, false, message ?: "Out of memory.");
        operation_reply_error(stack->op, error_name, message ?: "Out of memory.");
        stack_free(stack);
}

/* The reply: the objects of the devices made (CREATE_STACK) or removed (REMOVE_STACK). */
static void stack_succeed(Stack *stack, const char *outcome) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(stack->op->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < stack->op->n_members; i++) {
                char buf[BLOCK_OBJECT_PATH_MAX];

                r = sd_bus_message_append(reply, "o", block_object_path(stack->op->members[i].devnum, buf));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return stack_fail(stack, DMBUS_ERROR_FAILED, "It was done, but the reply could not be made.");
        operation_log_outcome(stack->op, stack->op, LOG_INFO, true, outcome);
        job_end(stack->manager, stack->op, true, outcome);
        (void) sd_bus_send(NULL, reply, NULL);
        stack_free(stack);
}

/* "a", "b" of the members done (or not), for messages; "none" when there are none. */
static char *member_list(const Stack *stack, bool done) {
        char *list = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&list, &size);
        bool first = true;

        if (!f)
                return NULL;
        for (size_t i = 0; i < stack->op->n_members; i++)
                if (stack->op->members[i].done == done) {
                        fprintf(f, "%s\"%s\"", first ? "" : ", ", stack->op->members[i].name);
                        first = false;
                }
        if (first)
                fputs("none", f);
        if (fclose(f) != 0) {
                free(list);
                return NULL;
        }
        return list;
}

static void step_finished(Operation *step, void *userdata);

static Operation *step_new(Manager *m, Stack *stack, OperationKind kind, const StackMember *member) {
        _cleanup_(operation_freep) Operation *step = operation_new(m->operations, kind, stack->op->request);

        if (!step)
                return NULL;
        step->finished = step_finished;
        step->finished_userdata = stack;
        step->caller_uid = stack->op->caller_uid;
        step->caller_pid = stack->op->caller_pid;
        step->udev_timeout_usec = stack->op->udev_timeout_usec;
        if (kind == OPERATION_CREATE) {
                /* The step's own copies: a stop that gives up on the stack frees its members while
                 * the step's worker may still be in the kernel. */
                step->expected_name = strdup(member->name);
                step->expected_uuid = strdup(member->uuid);
                if (!step->expected_name || !step->expected_uuid)
                        return NULL;
                step->name = step->expected_name;
                step->uuid = member->uuid[0] ? step->expected_uuid : NULL;
                step->read_only = member->read_only;
                step->keep_record = true;
                step->rows = malloc(member->n_rows * sizeof(DmTableRow));
                if (!step->rows)
                        return NULL;
                memcpy(step->rows, stack->op->rows + member->first_row, member->n_rows * sizeof(DmTableRow));
                step->n_rows = step->n_rows_allocated = member->n_rows;
                return TAKE_PTR(step);
        }
        /* Remove: brief users (udev's probe of the device above, going away) are waited for. */
        step->devnum = member->devnum;
        step->retry = true;
        step->force = stack->op->force;
        step->deferred = stack->op->deferred;
        step->expected_name = strdup(member->name);
        step->expected_uuid = strdup(member->uuid);
        if (!step->expected_name || !step->expected_uuid || operation_set_label(step, member->name) < 0)
                return NULL;
        return TAKE_PTR(step);
}

static void stack_next_step(Manager *m, Stack *stack);

static void submit_step(Manager *m, Stack *stack, OperationKind kind) {
        Operation *step = step_new(m, stack, kind, &stack->op->members[stack->step]);

        if (!step)
                return stack_fail(stack, DMBUS_ERROR_FAILED, "Out of memory; the stack is left as it is now.");
        operation_submit(step);
}

/* CREATE_STACK failed at a step: what it made goes again, top first, then the caller hears why. */
static void create_roll_back(Manager *m, Stack *stack, int error, const char *why) {
        stack->rolling_back = true;
        stack->failure = error;
        free(stack->failure_text);
        stack->failure_text = strdup(why ?: "Out of memory.");
        stack_next_step(m, stack);
}

static void stack_next_step(Manager *m, Stack *stack) {
        _cleanup_(freep) char *text = NULL;

        if (stack->op->kind == OPERATION_REMOVE_STACK) {
                if (stack->step == stack->op->n_members)
                        return stack_succeed(stack, "Removed the stack");
                if (m->stopping || operation_cancel_requested(stack->op)) {
                        _cleanup_(freep) char *removed = member_list(stack, true), *left = member_list(stack, false);

                        if (asprintf(&text, "%s: removed %s; still there: %s.", m->stopping ? "The service is stopping" : "Cancelled",
                                     removed, left) < 0)
                                text = NULL;
                        return stack_fail(stack, m->stopping ? DMBUS_ERROR_FAILED : DMBUS_ERROR_CANCELLED, text);
                }
                return submit_step(m, stack, OPERATION_REMOVE);
        }

        if (!stack->rolling_back) {
                if (stack->step == stack->op->n_members) {
                        /* Whole: nothing for a later start to undo. */
                        for (size_t i = 0; i < stack->op->n_members; i++)
                                (void) op_record_remove(OP_RECORD_DIR, stack->op->members[i].record_id);
                        return stack_succeed(stack, "Created the stack");
                }
                if (m->stopping)
                        return create_roll_back(m, stack, -ESHUTDOWN, "The service is stopping.");
                if (operation_cancel_requested(stack->op))
                        return create_roll_back(m, stack, -ECANCELED, "Cancelled.");
                return submit_step(m, stack, OPERATION_CREATE);
        }

        /* Rolling back: the highest device still made. */
        while (stack->step > 0 && !stack->op->members[stack->step - 1].done)
                stack->step--;
        if (stack->step == 0) {
                if (asprintf(&text, "%s%s", stack->failure_text,
                             strstr(stack->failure_text, "left behind") ? "" : " Nothing this call made is left.") < 0)
                        text = NULL;
                return stack_fail(stack, dmbus_error_from_errno(stack->failure), text);
        }
        stack->step--;
        submit_step(m, stack, OPERATION_REMOVE);
}

/* A step's finished callback (operation.h): takes it, and goes on. */
static void step_finished(Operation *step_owned, void *userdata) {
        _cleanup_(operation_freep) Operation *step = step_owned;
        Stack *stack = userdata;
        Manager *m = stack->manager;
        StackMember *member = &stack->op->members[stack->step];
        _cleanup_(freep) char *text = NULL;

        operation_log_outcome(stack->op, step, step->result < 0 ? LOG_INFO : LOG_DEBUG, step->result >= 0, step->outcome ?: "done");

        if (stack->op->kind == OPERATION_REMOVE_STACK) {
                if (step->result < 0) {
                        _cleanup_(freep) char *removed = member_list(stack, true), *left = member_list(stack, false);

                        if (asprintf(&text, "%s Removed: %s; still there: %s.", step->outcome ?: "Out of memory.", removed, left) < 0)
                                text = NULL;
                        return stack_fail(stack, dmbus_error_from_errno(step->result), text);
                }
                member->done = true;
                stack->step++;
                return stack_next_step(m, stack);
        }

        if (stack->rolling_back) {
                if (step->result < 0) {
                        /* Its record stays: the next start of the service removes it. */
                        if (asprintf(&text, "%s Removing \"%s\" again failed too (%s): it is left behind, until the next start "
                                     "of the service removes it.", stack->failure_text, member->name, step->outcome ?: "") < 0)
                                text = NULL;
                        free(stack->failure_text);
                        stack->failure_text = TAKE_PTR(text);
                        if (!stack->failure_text)
                                return stack_fail(stack, DMBUS_ERROR_FAILED, NULL);
                } else
                        (void) op_record_remove(OP_RECORD_DIR, member->record_id);
                member->done = false;
                return stack_next_step(m, stack);
        }

        if (step->devnum != 0 && step->result >= 0) {
                member->devnum = step->devnum;
                member->done = true;
                memcpy(member->record_id, step->record_id, sizeof(member->record_id));
                job_objects_changed(m, stack->op);
        }
        if (step->result < 0) {
                if (asprintf(&text, "Device %zu of the stack: %s", stack->step + 1, step->outcome ?: "Out of memory.") < 0)
                        text = NULL;
                return create_roll_back(m, stack, step->result, text);
        }
        if (step->udev_timed_out) {
                if (asprintf(&text, "Device %zu of the stack, \"%s\", was made, but udev did not report it processed within %" PRIu64
                             " ms, so the devices above could not find it. Is systemd-udevd running?",
                             stack->step + 1, member->name, step->udev_timeout_usec / 1000) < 0)
                        text = NULL;
                stack->step++;
                return create_roll_back(m, stack, -ETIMEDOUT, text);
        }
        stack->step++;
        stack_next_step(m, stack);
}

static void on_stack_users(const BlockUser *users, size_t n, int error, void *userdata) {
        _cleanup_(freep) char *text = NULL, *described = NULL;
        Stack *stack = userdata;
        const BlockUser *outside = NULL;

        stack->users_request = NULL;
        if (error < 0) {
                if (asprintf(&text, "Cannot look for what uses the stack: %s; nothing was removed.", strerror(-error)) < 0)
                        text = NULL;
                return stack_fail(stack, DMBUS_ERROR_FAILED, text);
        }
        /* The stack's own holders are to go with it; anything else keeps it. */
        for (size_t i = 0; i < n && !outside; i++) {
                bool member = false;

                for (size_t k = 0; users[i].kind == BLOCK_USER_HOLDER && k < stack->op->n_members && !member; k++)
                        member = stack->op->members[k].devnum == users[i].holder;
                if (!member)
                        outside = &users[i];
        }
        if (!outside)
                return stack_next_step(stack->manager, stack);

        described = block_user_describe(outside, stack->op->caller_uid);
        for (size_t k = 0; k < stack->op->n_members; k++)
                if (stack->op->members[k].devnum == outside->devnum &&
                    asprintf(&text, DEVICE_LABEL_FORMAT " is in use: %s; nothing was removed.",
                             DEVICE_LABEL_ARGS(stack->op->members[k].name, outside->devnum), described ?: "") < 0)
                        text = NULL;
        stack_fail(stack, DMBUS_ERROR_BUSY, text);
}

void stack_start(Manager *m, Operation *op) {
        _cleanup_(freep) dev_t *devnums = NULL;
        Stack *stack;
        int r;

        assert(m);
        assert(op);
        assert(operation_kind_is_stack(op->kind));

        stack = calloc(1, sizeof(Stack));
        if (!stack) {
                operation_reply_error(op, DMBUS_ERROR_FAILED, "Out of memory; nothing was done.");
                operation_free(op);
                return;
        }
        *stack = (Stack) { .op = op, .manager = m };
        LIST_PREPEND(stacks, m->stacks->running, stack);
        /* deferred: devices in use are removed once closed, by the kernel. */
        if (stack->op->kind == OPERATION_CREATE_STACK || stack->op->deferred)
                return stack_next_step(m, stack);

        devnums = malloc(stack->op->n_members * sizeof(dev_t));
        if (!devnums)
                return stack_fail(stack, DMBUS_ERROR_FAILED, "Out of memory; nothing was removed.");
        for (size_t i = 0; i < stack->op->n_members; i++)
                devnums[i] = stack->op->members[i].devnum;
        r = users_scan_request(m->users, devnums, stack->op->n_members, true, on_stack_users, stack, &stack->users_request);
        if (r == -EBUSY)
                return stack_fail(stack, DMBUS_ERROR_BUSY, "Too many requests are looking for users of devices; try again later.");
        if (r < 0)
                return stack_fail(stack, DMBUS_ERROR_FAILED, "Out of memory; nothing was removed.");
}

void stack_stop_waiting(Manager *m) {
        LIST_FOREACH_SAFE(stacks, stack, next, m->stacks->running)
                if (stack->users_request)
                        stack_fail(stack, DMBUS_ERROR_FAILED, "The service is stopping; nothing was removed.");
}

int stacks_new(Stacks **ret) {
        assert(ret);

        *ret = calloc(1, sizeof(Stacks));
        return *ret ? 0 : -ENOMEM;
}

Stacks *stacks_free(Stacks *s) {
        if (!s)
                return NULL;
        while (s->running)
                stack_fail(s->running, DMBUS_ERROR_FAILED, "The service is stopping.");
        return mfree(s);
}

bool stacks_running(const Stacks *s) {
        return s && s->running;
}
