/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "bus-options.h"
#include "dmbus-names.h"
#include "event-priority.h"
#include "job-bus.h"
#include "lease.h"
#include "list.h"
#include "log.h"
#include "operation-bus.h"
#include "operation-reply.h"
#include "polkit.h"
#include "sender-uid.h"
#include "strv.h"
#include "time-util.h"
#include "udev-sysfs.h"
#include "validate.h"

/* A request between its method handler and the queue: its table read a slice a loop turn (from a
 * caller that is not root), the options to read after it, the main loop's CPU time spent on it;
 * then the question to polkit, with its caller followed (a check is withdrawn when it leaves the
 * bus), and what the request holds. Each one waiting is on the Manager's Authorizing. */
typedef struct Pending {
        Operation *op;
        Manager *manager;
        OperationAuthorized authorized;
        sd_event_source *table_slices;
        size_t table_text;
        BusOption own_options[OPERATION_OWN_OPTIONS_MAX];
        size_t n_own_options;
        uint64_t preauth_usec, preauth_turn_max_usec;
        bool from_root;
        PolkitQuery *authorization;
        sd_bus_track *caller;
        size_t request_bytes;
        LIST_FIELDS(struct Pending, authorizing);
} Pending;

struct Authorizing {
        Pending *pending;       /* the list's head */
};

/* Seconds: room for a busy udev, far above an idle one's time per event (BENCHMARKS.md). */
#define UDEV_TIMEOUT_MSEC_MAX (10 * 60 * 1000)

/* A slice of a table from a caller that is not root: sd-bus checks every byte of every string it
 * reads (UTF-8), so a slice bounds the loop turn (BENCHMARKS.md has what one costs). */
#define TABLE_SLICE_BYTES (64u * 1024)

/* The encoding of a row that the message holds beside its text: two numbers, two lengths, two
 * NULs, padding. */
#define ROW_WIRE_BYTES 32

/* Reads rows of the a(ttss) entered already into op->rows (the strings stay in the request), up to
 * about max_text bytes of types and parameters, and checks each as it comes (table.h). 1 once the
 * array is read and left, 0 when rows are left for the next slice. Stops at the first row past the
 * bounds: a message may be far larger than a valid table (32 MiB on the system bus). */
static int read_table_rows(Pending *p, size_t max_text, sd_bus_error *error) {
        Operation *op = p->op;

        for (size_t slice = 0; slice < max_text;) {
                const char *invalid;
                char reason[256];
                DmTableRow row;
                uint64_t next;
                size_t text;
                int r;

                r = sd_bus_message_read(op->request, "(ttss)", &row.start, &row.length, &row.type, &row.params);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = sd_bus_message_exit_container(op->request);
                        return r < 0 ? r : 1;
                }
                if (op->n_rows == TABLE_ROWS_MAX)
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "The table has more than %d rows.", TABLE_ROWS_MAX);
                next = op->n_rows > op->table_first_row ? op->rows[op->n_rows - 1].start + op->rows[op->n_rows - 1].length : 0;
                invalid = table_row_invalid_reason(&row, op->n_rows - op->table_first_row, next, reason, sizeof(reason));
                if (invalid)
                        return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, invalid);
                text = strlen(row.type) + strlen(row.params);
                p->table_text += text;
                if (p->table_text > TABLE_TEXT_MAX)
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                                 "The table's types and parameters add up to more than %d bytes.", TABLE_TEXT_MAX);
                if (GREEDY_REALLOC(op->rows, op->n_rows_allocated, op->n_rows + 1) < 0)
                        return -ENOMEM;
                op->rows[op->n_rows++] = row;
                p->request_bytes += sizeof(row) + ROW_WIRE_BYTES + text;
                slice += text;
        }
        return 0;
}

/* Far above real stacks (lvm2's deepest are a handful), and a bound on what one call holds. */
#define STACK_MEMBERS_MAX 32

/* A refusal about one device of a CreateStack names it. */
static int name_member(const Operation *op, int r, sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error inner = SD_BUS_ERROR_NULL;

        if (r >= 0 || !sd_bus_error_is_set(error))
                return r;
        sd_bus_error_move(&inner, error);
        return sd_bus_error_setf(error, inner.name, "Device %zu of the stack (\"%s\"): %s", op->n_members,
                                 op->members[op->n_members - 1].name, inner.message);
}

/* A new device of the stack: a name and UUID that are nobody's, in the kernel or earlier in the
 * call; then its table begins. */
static int read_member_head(Pending *p, sd_bus_error *error) {
        Operation *op = p->op;
        const Graph *g = p->manager->graph;
        const char *name, *uuid;
        StackMember *member;
        int r;

        r = sd_bus_message_read(op->request, "ss", &name, &uuid);
        if (r < 0)
                return r;
        if (op->n_members == STACK_MEMBERS_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "A stack has at most %d devices.", STACK_MEMBERS_MAX);
        if (GREEDY_REALLOC(op->members, op->n_members_allocated, op->n_members + 1) < 0)
                return -ENOMEM;
        member = &op->members[op->n_members++];
        *member = (StackMember) { .name = strdup(name), .uuid = strdup(uuid), .first_row = op->n_rows };
        if (!member->name || !member->uuid)
                return -ENOMEM;
        p->request_bytes += sizeof(*member) + strlen(name) + strlen(uuid);
        r = operation_bus_check_new_name(g, name, error);
        if (r >= 0 && uuid[0])
                r = operation_bus_check_new_uuid(g, uuid, error);
        if (r < 0)
                return name_member(op, r, error);
        for (size_t i = 0; i + 1 < op->n_members; i++) {
                if (strcmp(op->members[i].name, name) == 0)
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                                 "Devices %zu and %zu of the stack are both named \"%s\".", i + 1, op->n_members, name);
                if (uuid[0] && strcmp(op->members[i].uuid, uuid) == 0)
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                                 "Devices %zu and %zu of the stack both have the UUID \"%s\".", i + 1, op->n_members, uuid);
        }
        r = sd_bus_message_enter_container(op->request, 'a', "(ttss)");
        if (r < 0)
                return r;
        op->table_first_row = op->n_rows;
        op->in_member_table = true;
        return 0;
}

/* After a device's table: it has rows, then its own options. */
static int read_member_tail(Operation *op, sd_bus_error *error) {
        StackMember *member = &op->members[op->n_members - 1];
        int r;

        op->in_member_table = false;
        member->n_rows = op->n_rows - member->first_row;
        if (member->n_rows == 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "Device %zu of the stack (\"%s\") has an empty table.",
                                         op->n_members, member->name);
        r = bus_message_read_options(op->request, &(BusOption) { .key = DMBUS_OPTION_READ_ONLY, .type = 'b', .value = &member->read_only }, 1, error);
        if (r < 0)
                return name_member(op, r, error);
        return sd_bus_message_exit_container(op->request);
}

/* A row may name a device of the stack by /dev/mapper/NAME only if an earlier one is made first. */
static int check_member_references(const Operation *op, sd_bus_error *error) {
        static const char prefix[] = DM_DIR_PREFIX;

        for (size_t i = 0; i < op->n_members; i++)
                for (size_t row = 0; row < op->members[i].n_rows; row++)
                        for (const char *p = op->rows[op->members[i].first_row + row].params; *p;) {
                                size_t len;

                                p += strspn(p, " \t");
                                len = strcspn(p, " \t");
                                if (len > strlen(prefix) && strncmp(p, prefix, strlen(prefix)) == 0)
                                        for (size_t j = i; j < op->n_members; j++)
                                                if (strlen(op->members[j].name) == len - strlen(prefix) &&
                                                    strncmp(p + strlen(prefix), op->members[j].name, len - strlen(prefix)) == 0)
                                                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                                                "Device %zu of the stack (\"%s\"), row %zu, refers to %.*s, which %s.",
                                                                i + 1, op->members[i].name, row + 1, (int) len, p,
                                                                j == i ? "is the device itself" : "this call makes only later");
                                p += len;
                        }
        return 0;
}

/* CreateStack's a(ssa(ttss)a{sv}), read as read_table_rows() reads a table: 1 once read whole and
 * checked, 0 when more is left for the next slice. */
static int read_stack_members(Pending *p, size_t max_text, sd_bus_error *error) {
        Operation *op = p->op;
        size_t text_before = p->table_text;
        int r;

        for (;;) {
                if (!op->in_member_table) {
                        r = sd_bus_message_enter_container(op->request, 'r', "ssa(ttss)a{sv}");
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;
                        r = read_member_head(p, error);
                        if (r < 0)
                                return r;
                }
                if (p->table_text - text_before >= max_text)
                        return 0;
                r = read_table_rows(p, max_text - (p->table_text - text_before), error);
                if (r <= 0)
                        return name_member(op, r, error);
                r = read_member_tail(op, error);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_exit_container(op->request);
        if (r < 0)
                return r;
        if (op->n_members == 0)
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, "The stack has no devices.");
        r = check_member_references(op, error);
        return r < 0 ? r : 1;
}

/* The table, or CreateStack's devices, read up to about max_text bytes: 1 when done, 0 when not. */
static int read_request_rows(Pending *p, size_t max_text, sd_bus_error *error) {
        if (p->op->kind == OPERATION_CREATE_STACK)
                return read_stack_members(p, max_text, error);
        return read_table_rows(p, max_text, error);
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

/* The queue's finished callback of a plain operation: its reply (after a Suspend's lease is
 * taken up, and its signal out), then it goes. */
static void reply_and_free(Operation *op, void *userdata) {
        Manager *m = userdata;

        if (op->kind == OPERATION_SUSPEND)
                leases_suspend_finished(m, op);
        job_end(m, op, op->result >= 0, op->outcome);
        operation_reply(op);
        operation_free(op);
}

/* What callers may make us hold while polkit decides: each request stays in memory until then.
 * Counted per uid, as one user may open many connections. */
#define AUTHORIZING_PER_UID_MAX 16
#define AUTHORIZING_MAX 256
#define AUTHORIZING_BYTES_MAX (64u * 1024 * 1024)
/* Tables being read a slice a turn: each request holds its whole message meanwhile, of which only
 * what was read is counted, up to the bus's limit (32 MiB on the system bus) each. */
#define TABLES_READING_PER_UID_MAX 2
#define TABLES_READING_MAX 8

static const char *sender_of(const Operation *op) {
        return sd_bus_message_get_sender(op->request) ?: "";
}

static Pending *pending_free(Pending *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->table_slices);
        polkit_query_cancel(p->authorization);
        sd_bus_track_unref(p->caller);
        operation_free(p->op);
        return mfree(p);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Pending *, pending_free);

/* At most AUTHORIZING_MAX entries: counted afresh, nothing to keep in step. */
static int check_authorizing_room(Manager *m, const Pending *p, bool reading_table, sd_bus_error *error) {
        size_t n = 0, n_uid = 0, reading = 0, reading_uid = 0, bytes = p->request_bytes;
        uid_t uid = p->op->caller_uid;

        LIST_FOREACH(authorizing, o, m->authorizing->pending) {
                n++;
                n_uid += o->op->caller_uid == uid;
                reading += !!o->table_slices;
                reading_uid += o->table_slices && o->op->caller_uid == uid;
                bytes += o->request_bytes;
        }
        if (n_uid >= AUTHORIZING_PER_UID_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_BUSY,
                                         "%zu of your requests are waiting for authorization already; wait for their answers.", n_uid);
        if (reading_table && reading_uid >= TABLES_READING_PER_UID_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_BUSY, "%zu of your tables are being read already; wait for their answers.",
                                         reading_uid);
        if (n >= AUTHORIZING_MAX || bytes > AUTHORIZING_BYTES_MAX || (reading_table && reading >= TABLES_READING_MAX))
                return sd_bus_error_set(error, DMBUS_ERROR_BUSY, "Too many requests are waiting for authorization; try again later.");
        return 0;
}

static void authorizing_remove(Pending *p) {
        LIST_REMOVE(authorizing, p);
        p->caller = sd_bus_track_unref(p->caller);
}

/* Authorized: the operation to the method's continuation (a stack's), or to the queue; the rest
 * of the request goes. */
static void submit(Pending *p_owned) {
        _cleanup_(pending_freep) Pending *p = p_owned;
        Operation *op = TAKE_PTR(p->op);

        job_start(p->manager, op);
        if (p->authorized)
                return p->authorized(p->manager, op);
        op->finished = reply_and_free;
        op->finished_userdata = p->manager;
        operation_submit(op);
}

static void on_authorized(void *userdata, const char *error_name, const char *error_message) {
        Pending *p = userdata;

        /* The question is over: polkit.c frees it. */
        p->authorization = NULL;
        authorizing_remove(p);
        if (error_name) {
                operation_reply_error(p->op, error_name, error_message);
                pending_free(p);
                return;
        }
        submit(p);
}

/* The caller left the bus while polkit decided: nobody to answer, nothing to do. */
static int on_caller_gone(sd_bus_track *track, void *userdata) {
        Pending *p = userdata;

        log_debug("%s from %s: the caller left before polkit answered; withdrawn.", operation_kind_to_string(p->op->kind),
                  sender_of(p->op));
        authorizing_remove(p);
        pending_free(p);
        return 0;
}

int authorizing_new(Authorizing **ret) {
        assert(ret);

        *ret = calloc(1, sizeof(Authorizing));
        return *ret ? 0 : -ENOMEM;
}

void authorizing_drop_all(Authorizing *a) {
        assert(a);

        while (a->pending) {
                Pending *p = a->pending;

                authorizing_remove(p);
                operation_reply_error(p->op, DMBUS_ERROR_FAILED, "The service is stopping; nothing was done.");
                pending_free(p);
        }
}

Authorizing *authorizing_free(Authorizing *a) {
        if (!a)
                return NULL;
        authorizing_drop_all(a);
        return mfree(a);
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
        options[n_own] = (BusOption) { .key = DMBUS_OPTION_NO_USER_INTERACTION, .type = 'b', .value = &common->no_user_interaction,
                                       DMBUS_OPTION_NO_USER_INTERACTION_UDISKS };
        options[n_own + 1] = (BusOption) { .key = DMBUS_OPTION_UDEV_TIMEOUT_MS, .type = 'u', .value = &common->udev_timeout_msec };
        r = bus_message_read_options(message, options, n_own + 2, error);
        if (r < 0)
                return r;
        if (common->udev_timeout_msec == 0 || common->udev_timeout_msec > UDEV_TIMEOUT_MSEC_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                         "udev-timeout-ms must be between 1 and %d (ten minutes).", UDEV_TIMEOUT_MSEC_MAX);
        return 0;
}

/* Holds p within the bounds above while it waits (for its table's slices, then for polkit), and
 * follows its caller meanwhile. */
static int hold(Manager *m, Pending *p, bool reading_table, sd_bus_error *error) {
        int r;

        r = check_authorizing_room(m, p, reading_table, error);
        if (r < 0)
                return r;
        r = sd_bus_track_new(sd_bus_message_get_bus(p->op->request), &p->caller, on_caller_gone, p);
        if (r >= 0)
                r = sd_bus_track_add_sender(p->caller, p->op->request);
        if (r < 0) {
                p->caller = sd_bus_track_unref(p->caller);
                return r;
        }
        LIST_PREPEND(authorizing, m->authorizing->pending, p);
        return 0;
}

const char *operation_bus_polkit_action(OperationKind kind) {
        switch (kind) {
        case OPERATION_CREATE:
        case OPERATION_CREATE_STACK:
                return DMBUS_POLKIT_ACTION_CREATE;
        case OPERATION_REMOVE:
        case OPERATION_REMOVE_STACK:
                return DMBUS_POLKIT_ACTION_REMOVE;
        case OPERATION_MESSAGE:
                return DMBUS_POLKIT_ACTION_SEND_MESSAGE;
        default:
                return DMBUS_POLKIT_ACTION_MODIFY;
        }
}

int operation_bus_polkit_details(const Operation *op, char ***ret) {
        _cleanup_(strv_freep) char **details = NULL;
        _cleanup_(freep) char *names = NULL, *subsystem = NULL;
        const char *name, *uuid;

        if (op->kind == OPERATION_CREATE_STACK) {
                size_t length = 0;

                for (size_t i = 0; i < op->n_members; i++)
                        length += strlen(op->members[i].name) + 1;
                names = malloc(length + 1);
                if (!names)
                        return -ENOMEM;
                names[0] = 0;
                for (size_t i = 0; i < op->n_members; i++)
                        strcat(strcat(names, i > 0 ? " " : ""), op->members[i].name);
                name = names;
                uuid = "";
        } else if (op->kind == OPERATION_CREATE) {
                name = op->name;
                uuid = op->uuid ?: "";
        } else {
                name = op->expected_name;
                uuid = op->expected_uuid;
        }
        subsystem = strndup(uuid, dm_uuid_subsystem_length(uuid));
        if (!subsystem)
                return -ENOMEM;
        const char *pairs[] = { "operation", operation_kind_to_string(op->kind), "name", name, "uuid", uuid, "subsystem", subsystem };
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
                if (strv_extend(&details, pairs[i]) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(details);
        return 0;
}

static int authorize(Manager *m, Pending *p, bool interactive, sd_bus_error *error) {
        _cleanup_(strv_freep) char **details = NULL;
        Operation *op = p->op;
        int r;

        r = hold(m, p, false, error);
        if (r < 0)
                return r;
        log_debug("%s from %s: read and checked in %" PRIu64 " us of the main loop's CPU time, at most %" PRIu64 " us a turn; asking polkit.",
                  operation_kind_to_string(op->kind), sender_of(op), p->preauth_usec, p->preauth_turn_max_usec);
        r = operation_bus_polkit_details(op, &details);
        if (r >= 0)
                r = polkit_check(op->request, operation_bus_polkit_action(op->kind), details, interactive, on_authorized, p, &p->authorization);
        if (r < 0) {
                authorizing_remove(p);
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_AUTHORIZED, "Cannot ask polkit whether you may (%s): not authorized.",
                                         strerror(-r));
        }
        return 0;
}

/* Every row was checked as it came: what is left is whether there is one. */
static int check_table_form(Operation *op, sd_bus_error *error) {
        char reason[256];

        if (op->n_rows > 0 || op->kind == OPERATION_CREATE_STACK)
                return 0;
        return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, table_invalid_reason(op->rows, 0, reason, sizeof(reason)));
}

/* The main loop's CPU time spent on p since started (thread_cpu_usec()), in one turn. */
static void count_preauth(Pending *p, uint64_t started) {
        uint64_t spent = thread_cpu_usec() - started;

        p->preauth_usec += spent;
        if (spent > p->preauth_turn_max_usec)
                p->preauth_turn_max_usec = spent;
}

/* A Suspend's lease: at most a day; a caller other than root who asked for none gets the
 * configured one. The caller's unique name is its owner. */
static int check_lease(Manager *m, Pending *p, sd_bus_error *error) {
        Operation *op = p->op;

        if (op->lease_sec > CONFIG_SUSPEND_LEASE_SEC_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "lease-sec must be at most %d (a day); 0 asks for none.",
                                         CONFIG_SUSPEND_LEASE_SEC_MAX);
        if (op->lease_sec == 0 && !p->from_root)
                op->lease_sec = (uint32_t) (m->config.suspend_lease_usec / USEC_PER_SEC);
        op->lease_owner = sd_bus_message_get_sender(op->request);
        if (op->lease_sec > 0 && !bus_unique_name_is_valid(op->lease_owner))
                return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                        "A lease needs a caller on the bus, whose leaving ends it; this connection has no name.");
        return 0;
}

/* The rest of a request once its table, if any, is read: the options, then the operation to its
 * continuation or the queue for root, polkit for anyone else. Takes p unless it fails.
 * turn_started: the main loop's CPU time when this turn began working on it. */
static int finish_request(Manager *m, Pending *p, uint64_t turn_started, sd_bus_error *error) {
        CommonOptions common = { .udev_timeout_msec = OPERATION_UDEV_TIMEOUT_MSEC_DEFAULT };
        Operation *op = p->op;
        bool interactive;
        int r;

        r = read_all_options(op->request, p->own_options, p->n_own_options, &common, error);
        if (r < 0)
                return r;
        op->udev_timeout_usec = (uint64_t) common.udev_timeout_msec * USEC_PER_MSEC;
        if (op->kind == OPERATION_SUSPEND) {
                r = check_lease(m, p, error);
                if (r < 0)
                        return r;
        }
        /* The caller's header says whether it can wait for a password; the option can only say no. */
        interactive = sd_bus_message_get_allow_interactive_authorization(op->request) > 0 && !common.no_user_interaction;
        count_preauth(p, turn_started);
        if (p->from_root) {
                submit(p);
                return 0;
        }
        return authorize(m, p, interactive, error);
}

/* A refusal after the handler returned: answered here, logged at debug level only, since the
 * caller is not root and must not be able to flood the log. */
static void reply_refusal(Operation *op, int r, sd_bus_error *error) {
        if (!sd_bus_error_is_set(error))
                (void) sd_bus_error_set_errno(error, r);
        log_debug("%s from %s: %s", operation_kind_to_string(op->kind), sender_of(op), error->message);
        (void) sd_bus_reply_method_error(op->request, error);
}

static int on_table_slice(sd_event_source *s, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Pending *p = userdata;
        uint64_t started = thread_cpu_usec();
        int r;

        r = read_request_rows(p, TABLE_SLICE_BYTES, &error);
        if (r == 0) {
                count_preauth(p, started);
                return 0;       /* more, next turn */
        }
        p->table_slices = sd_event_source_disable_unref(p->table_slices);
        authorizing_remove(p);
        if (r > 0)
                r = check_table_form(p->op, &error);
        if (r >= 0)
                r = finish_request(p->manager, p, started, &error);
        if (r < 0) {
                reply_refusal(p->op, r, &error);
                pending_free(p);
        }
        return 0;
}

/* A table from a caller that is not root: read a slice a loop turn, after everything else (reads
 * included), so that no such caller holds the loop for long. */
static int read_table_in_slices(Manager *m, Pending *p, sd_bus_error *error) {
        int r;

        r = hold(m, p, true, error);
        if (r < 0)
                return r;
        r = sd_event_add_defer(m->event, &p->table_slices, on_table_slice, p);
        if (r >= 0)
                r = sd_event_source_set_priority(p->table_slices, EVENT_PRIORITY_UNPRIVILEGED_TABLES);
        if (r >= 0)
                r = sd_event_source_set_enabled(p->table_slices, SD_EVENT_ON);
        if (r < 0) {
                p->table_slices = sd_event_source_disable_unref(p->table_slices);
                authorizing_remove(p);
        }
        return r;
}

static int submit_request(Manager *m, Operation *op, bool takes_table, const BusOption *own, size_t n_own,
                          OperationAuthorized authorized, sd_bus_error *error) {
        _cleanup_(pending_freep) Pending *p = NULL;
        int r;

        if (m->stopping) {
                operation_free(op);
                return sd_bus_error_set(error, DMBUS_ERROR_FAILED, "The service is stopping; nothing was done. Try again once it is back.");
        }
        p = calloc(1, sizeof(Pending));
        if (!p) {
                operation_free(op);
                return -ENOMEM;
        }
        *p = (Pending) { .op = op, .manager = m, .authorized = authorized, .n_own_options = n_own };
        for (size_t i = 0; i < n_own; i++)
                p->own_options[i] = own[i];

        r = sender_uids_get_with_pid(m->sender_uids, op->request, &op->caller_uid, &op->caller_pid);
        if (r == -ESRCH) {
                log_debug("%s from %s: the caller left before it could be told apart from root; dropped.",
                          operation_kind_to_string(op->kind), sender_of(op));
                return r;
        }
        if (r < 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_AUTHORIZED, "Cannot tell who is calling (%s): not authorized.",
                                         strerror(-r));
        p->from_root = op->caller_uid == 0;

        if (takes_table) {
                r = op->kind == OPERATION_CREATE_STACK ? sd_bus_message_enter_container(op->request, 'a', "(ssa(ttss)a{sv})")
                                                        : sd_bus_message_enter_container(op->request, 'a', "(ttss)");
                if (r < 0)
                        return r;
                if (!p->from_root) {
                        r = read_table_in_slices(m, p, error);
                        if (r < 0)
                                return r;
                        count_preauth(p, op->started_cpu_usec);
                        TAKE_PTR(p);
                        return 1;
                }
                r = read_request_rows(p, SIZE_MAX, error);
                if (r >= 0)
                        r = check_table_form(op, error);
                if (r < 0)
                        return r;
        }
        r = finish_request(m, p, op->started_cpu_usec, error);
        if (r < 0)
                return r;
        TAKE_PTR(p);
        return 1;
}

int operation_bus_submit(Manager *m, Operation *op, bool takes_table, const BusOption *own, size_t n_own,
                         OperationAuthorized authorized, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *request = NULL;
        OperationKind kind;
        uint64_t started;
        int r;

        assert(m);
        assert(op);
        assert(n_own <= OPERATION_OWN_OPTIONS_MAX);

        request = sd_bus_message_ref(op->request);
        kind = op->kind;
        started = op->started_cpu_usec;
        r = submit_request(m, op, takes_table, own, n_own, authorized, error);
        /* What a refusal cost the loop, at debug level: any caller can bring one about. */
        if (r < 0)
                log_debug("%s from %s: refused after %" PRIu64 " us of the main loop's CPU time: %s", operation_kind_to_string(kind),
                          sd_bus_message_get_sender(request) ?: "?", thread_cpu_usec() - started,
                          sd_bus_error_is_set(error) ? error->message : strerror(-r));
        return r;
}
