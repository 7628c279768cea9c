/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block-users.h"
#include "bus-options.h"
#include "dmbus-names.h"
#include "list.h"
#include "log.h"
#include "object-path.h"
#include "polkit.h"
#include "users-bus.h"
#include "users-scan.h"

typedef struct UsersQuery UsersQuery;
struct UsersQuery {
        Manager *manager;
        sd_bus_message *request;
        dev_t *devnums;                 /* GetUsers: the device; PlanRemoveStack: the stack, top first */
        size_t n_devnums;
        bool plan;                      /* PlanRemoveStack */
        bool interactive;               /* polkit may ask the caller for a password */
        uid_t caller_uid;
        bool sees_all;                  /* root, or allowed by polkit */
        PolkitQuery *authorization;     /* pending: whether the others' processes may be shown */
        UsersScanRequest *scan;         /* pending */
        LIST_FIELDS(UsersQuery, queries);       /* UsersQueries.waiting */
};

struct UsersQueries {
        UsersQuery *waiting;    /* the list's head */
};

static UsersQuery *users_query_free(UsersQuery *q) {
        if (!q)
                return NULL;
        if (q->queries_pprev)
                LIST_REMOVE(queries, q);
        polkit_query_cancel(q->authorization);
        users_scan_request_cancel(q->scan);
        sd_bus_message_unref(q->request);
        free(q->devnums);
        return mfree(q);
}

/* One user as (kind, details); a plan's step names the action instead, and the device it uses. */
static int append_user(sd_bus_message *reply, const Graph *g, const BlockUser *u, const char *step) {
        char buf[BLOCK_OBJECT_PATH_MAX];
        int r;

        r = sd_bus_message_open_container(reply, 'r', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", step ?: block_user_kind_to_string(u->kind));
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0 && step)
                r = sd_bus_message_append(reply, "{sv}", "device", "o", block_object_path(u->devnum, buf));
        if (r < 0)
                return r;
        switch (u->kind) {
        case BLOCK_USER_HOLDER:
                r = sd_bus_message_append(reply, "{sv}", "kernel-name", "s", u->name);
                if (r >= 0 && u->dm_name)
                        r = sd_bus_message_append(reply, "{sv}", "name", "s", u->dm_name);
                if (r >= 0 && graph_get(g, u->holder))
                        r = sd_bus_message_append(reply, "{sv}", "object", "o", block_object_path(u->holder, buf));
                break;
        case BLOCK_USER_MOUNT:
                r = sd_bus_message_append(reply, "{sv}", "mount-point", "s", u->name);
                break;
        case BLOCK_USER_SWAP:
                r = sd_bus_message_append(reply, "{sv}", "path", "s", u->name);
                break;
        case BLOCK_USER_PROCESS:
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "pid", "u", (uint32_t) u->pid, "comm", "s", u->name,
                                          "uid", "u", (uint32_t) u->uid);
                break;
        default:
                break;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* Every user the caller may see; the others' processes as a count. */
static int append_users(sd_bus_message *reply, const UsersQuery *q, const BlockUser *users, size_t n) {
        uint32_t hidden = 0;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!q->sees_all && !block_user_visible_to(&users[i], q->caller_uid))
                        hidden++;
                else
                        r = append_user(reply, q->manager->graph, &users[i], NULL);
        }
        if (r >= 0 && hidden > 0)
                r = sd_bus_message_append(reply, "(sa{sv})", "hidden", 1, "processes", "u", hidden);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static bool in_stack(const UsersQuery *q, dev_t devnum) {
        for (size_t i = 0; i < q->n_devnums; i++)
                if (q->devnums[i] == devnum)
                        return true;
        return false;
}

/* The tool that owns a device, by its UUID's prefix: a frontend can offer it instead. */
static const char *owner_of(const char *uuid) {
        if (strncmp(uuid, "LVM-", 4) == 0)
                return "lvm2";
        if (strncmp(uuid, "CRYPT-", 6) == 0)
                return "cryptsetup";
        return NULL;
}

static int append_removal(sd_bus_message *reply, const BlockDevice *d) {
        const char *owner = owner_of(d->dm->uuid);
        size_t n = dm_uuid_subsystem_length(d->dm->uuid);
        char buf[BLOCK_OBJECT_PATH_MAX], subsystem[n + 1];
        int r;

        memcpy(subsystem, d->dm->uuid, n);
        subsystem[n] = 0;
        r = sd_bus_message_open_container(reply, 'r', "sa{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "remove");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "object", "o", block_object_path(d->devnum, buf), "name", "s",
                                          d->dm->name, "subsystem", "s", subsystem);
        if (r >= 0 && owner)
                r = sd_bus_message_append(reply, "{sv}", "owner", "s", owner);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* What RemoveStack would do, in order: first what outside the stack keeps it (what to unmount,
 * swap off, close or release; the stack's own holders go with it), then each removal, top first.
 * Processes as GetUsers shows them. */
static int append_plan(sd_bus_message *reply, const UsersQuery *q, const BlockUser *users, size_t n) {
        static const char *const steps[_BLOCK_USER_KIND_MAX] = {
                [BLOCK_USER_HOLDER] = "release",
                [BLOCK_USER_MOUNT] = "unmount",
                [BLOCK_USER_SWAP] = "swapoff",
                [BLOCK_USER_PROCESS] = "close",
        };
        uint32_t hidden = 0;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (users[i].kind == BLOCK_USER_HOLDER && in_stack(q, users[i].holder))
                        continue;
                if (!q->sees_all && !block_user_visible_to(&users[i], q->caller_uid))
                        hidden++;
                else
                        r = append_user(reply, q->manager->graph, &users[i], steps[users[i].kind]);
        }
        if (r >= 0 && hidden > 0)
                r = sd_bus_message_append(reply, "(sa{sv})", "hidden", 1, "processes", "u", hidden);
        for (size_t i = 0; r >= 0 && i < q->n_devnums; i++) {
                const BlockDevice *d = graph_get(q->manager->graph, q->devnums[i]);

                if (d && d->dm)
                        r = append_removal(reply, d);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static void on_users_found(const BlockUser *users, size_t n, int error, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        UsersQuery *q = userdata;
        int r = error;

        q->scan = NULL;
        if (r >= 0)
                r = sd_bus_message_new_method_return(q->request, &reply);
        if (r >= 0)
                r = q->plan ? append_plan(reply, q, users, n) : append_users(reply, q, users, n);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                (void) sd_bus_reply_method_errorf(q->request, DMBUS_ERROR_FAILED, "Cannot look for the device's users: %s.",
                                                  strerror(-r));
        users_query_free(q);
}

static int scan(UsersQuery *q) {
        return users_scan_request(q->manager->users, q->devnums, q->n_devnums, q->caller_uid == 0, on_users_found, q, &q->scan);
}

/* Refused or not, the caller gets an answer: a refusal only leaves the others' processes out. */
static void on_authorized(void *userdata, const char *error_name, const char *error_message) {
        UsersQuery *q = userdata;
        int r;

        q->authorization = NULL;
        q->sees_all = !error_name;
        if (error_name)
                log_debug("GetUsers from %s: the processes of other users left out: %s", sd_bus_message_get_sender(q->request) ?: "?",
                          error_message ?: error_name);
        r = scan(q);
        if (r < 0) {
                (void) sd_bus_reply_method_errorf(q->request, r == -EBUSY ? DMBUS_ERROR_BUSY : DMBUS_ERROR_FAILED,
                                                  "Cannot look for the device's users: %s.",
                                                  r == -EBUSY ? "too many requests wait already" : strerror(-r));
                users_query_free(q);
        }
}

/* Asks polkit whether q's caller may see every process, with the details the operations give
 * (operation-bus.c), so that one rule reads them all. */
static int ask_polkit(UsersQuery *q) {
        const BlockDevice *d = graph_get(q->manager->graph, q->devnums[q->n_devnums - 1]);
        const char *name = d && d->dm ? d->dm->name : "", *uuid = d && d->dm ? d->dm->uuid : "";
        _cleanup_(freep) char *subsystem = strndup(uuid, dm_uuid_subsystem_length(uuid));
        const char *details[] = { "operation", sd_bus_message_get_member(q->request), "name", name, "uuid", uuid, "subsystem",
                                  subsystem, NULL };

        if (!subsystem)
                return -ENOMEM;
        return polkit_check(q->request, DMBUS_POLKIT_ACTION_VIEW_PROCESSES, (char *const *) details,
                            q->interactive, on_authorized, q, &q->authorization);
}

static size_t queries_of(Manager *m, uid_t uid) {
        size_t n = 0;

        LIST_FOREACH(queries, q, m->users_queries->waiting)
                n += q->caller_uid == uid;
        return n;
}

/* Takes devnums. */
static int query_start(Manager *m, sd_bus_message *message, dev_t *devnums, size_t n_devnums, bool plan, bool interactive,
                       sd_bus_error *error) {
        _cleanup_(freep) dev_t *owned = devnums;
        UsersQuery *q;
        uid_t uid;
        int r;

        r = sender_uids_get(m->sender_uids, message, &uid);
        if (r == -ESRCH)
                return 1;       /* gone: nobody to answer */
        if (r < 0)
                return r;
        if (uid != 0 && queries_of(m, uid) >= USERS_QUERIES_PER_UID_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_BUSY, "%d of your requests for users are waiting already; wait for their answers.",
                                         USERS_QUERIES_PER_UID_MAX);
        q = calloc(1, sizeof(UsersQuery));
        if (!q)
                return -ENOMEM;
        *q = (UsersQuery) {
                .manager = m,
                .request = sd_bus_message_ref(message),
                .devnums = TAKE_PTR(owned),
                .n_devnums = n_devnums,
                .plan = plan,
                .interactive = interactive && sd_bus_message_get_allow_interactive_authorization(message) > 0,
                .caller_uid = uid,
                .sees_all = uid == 0,
        };
        LIST_PREPEND(queries, m->users_queries->waiting, q);

        if (uid == 0)
                r = scan(q);
        else {
                r = ask_polkit(q);
                if (r < 0 && r != -ENOMEM)
                        r = scan(q);    /* polkit cannot be asked: the caller's own processes only */
        }
        if (r < 0) {
                users_query_free(q);
                if (r == -EBUSY)
                        return sd_bus_error_set(error, DMBUS_ERROR_BUSY, "Too many requests for users are waiting; try again later.");
                return r;
        }
        return 1;
}

int users_bus_get_users(Manager *m, sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(freep) dev_t *devnum = malloc(sizeof(dev_t));
        int r;

        assert(m);
        assert(message);

        if (!devnum)
                return -ENOMEM;
        r = block_object_path_parse(sd_bus_message_get_path(message), devnum);
        if (r < 0)
                return r;
        return query_start(m, message, TAKE_PTR(devnum), 1, false, true, error);
}

int users_bus_plan_remove_stack(Manager *m, sd_bus_message *message, sd_bus_error *error) {
        bool no_user_interaction = false;
        const BusOption options[] = {
                { .key = DMBUS_OPTION_NO_USER_INTERACTION, .type = 'b', .value = &no_user_interaction,
                  .alias = DMBUS_OPTION_NO_USER_INTERACTION_UDISKS },
        };
        dev_t devnum, *devnums;
        size_t n;
        int r;

        assert(m);
        assert(message);

        r = bus_message_read_options(message, options, ELEMENTSOF(options), error);
        if (r < 0)
                return r;
        r = block_object_path_parse(sd_bus_message_get_path(message), &devnum);
        if (r < 0)
                return r;
        r = graph_collect_dm_above(m->graph, devnum, &devnums, &n);
        if (r < 0)
                return r;
        return query_start(m, message, devnums, n, true, !no_user_interaction, error);
}

int users_queries_new(UsersQueries **ret) {
        assert(ret);

        *ret = calloc(1, sizeof(UsersQueries));
        return *ret ? 0 : -ENOMEM;
}

void users_queries_drop_all(UsersQueries *queries) {
        assert(queries);

        while (queries->waiting)
                users_query_free(queries->waiting);
}

UsersQueries *users_queries_free(UsersQueries *queries) {
        if (!queries)
                return NULL;
        users_queries_drop_all(queries);
        return mfree(queries);
}
