/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "bus-options.h"
#include "dev-path.h"
#include "dmbus-names.h"
#include "list.h"
#include "log.h"
#include "object-path.h"
#include "sender-uid.h"
#include "string-table.h"
#include "time-util.h"
#include "validate.h"
#include "wait-bus.h"

typedef enum WaitState {
        WAIT_PRESENT,
        WAIT_ACTIVE,
        WAIT_GONE,
        _WAIT_STATE_MAX,
} WaitState;

static const char *const wait_state_table[_WAIT_STATE_MAX] = {
        [WAIT_PRESENT] = "present",
        [WAIT_ACTIVE] = "active",
        [WAIT_GONE] = "gone",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP(wait_state, WaitState);

typedef struct Waiter Waiter;
struct Waiter {
        Manager *manager;
        sd_bus_message *request;        /* holds device, the caller's string */
        const char *device;
        WaitState state;
        uid_t caller_uid;
        uint64_t timeout_usec;
        sd_event_source *timeout;
        sd_bus_track *caller;
        LIST_FIELDS(Waiter, waiters);   /* Waiters.waiting */
};

struct Waiters {
        Waiter *waiting;        /* the list's head */
};

static Waiter *waiter_free(Waiter *w) {
        if (!w)
                return NULL;
        if (w->waiters_pprev)
                LIST_REMOVE(waiters, w);
        sd_event_source_disable_unref(w->timeout);
        sd_bus_track_unref(w->caller);
        sd_bus_message_unref(w->request);
        return mfree(w);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Waiter *, waiter_free);

/* The DM device the caller names, as the graph has it now; NULL when there is none. A path other
 * than /dev/mapper/NAME and the by-id links is looked up (a lookup beneath /dev, no block I/O). */
static const BlockDevice *find_device(Manager *m, const char *device) {
        static const char by_name[] = "/dev/disk/by-id/dm-name-", by_uuid[] = "/dev/disk/by-id/dm-uuid-";
        const BlockDevice *d;
        dev_t devnum;

        if (strncmp(device, DM_DIR_PREFIX, strlen(DM_DIR_PREFIX)) == 0)
                d = graph_get_by_name(m->graph, device + strlen(DM_DIR_PREFIX));
        else if (strncmp(device, by_name, strlen(by_name)) == 0)
                d = graph_get_by_name(m->graph, device + strlen(by_name));
        else if (strncmp(device, by_uuid, strlen(by_uuid)) == 0)
                d = graph_get_by_uuid(m->graph, device + strlen(by_uuid));
        else if (device[0] == '/')
                d = dev_path_resolve(device, &devnum) >= 0 ? graph_get(m->graph, devnum) : NULL;
        else
                d = graph_get_by_name(m->graph, device) ?: graph_get_by_uuid(m->graph, device);
        return d && d->dm ? d : NULL;
}

static bool state_holds(const BlockDevice *d, WaitState state) {
        bool present = d && strncmp(block_device_preferred_device(d), DM_DIR_PREFIX, strlen(DM_DIR_PREFIX)) == 0;

        switch (state) {
        case WAIT_PRESENT:
                return present;
        case WAIT_ACTIVE:
                return present && d->dm->info.live_table && !d->dm->info.suspended;
        case WAIT_GONE:
        default:
                return !d;
        }
}

/* The device's object, or "/" for one that is gone. */
static void reply_reached(Waiter *w, const BlockDevice *d) {
        char buf[BLOCK_OBJECT_PATH_MAX];

        (void) sd_bus_reply_method_return(w->request, "o", d ? block_object_path(d->devnum, buf) : "/");
}

/* Answers w if its state holds now; true then. */
static bool answer_if_reached(Waiter *w) {
        const BlockDevice *d = find_device(w->manager, w->device);

        if (!state_holds(d, w->state))
                return false;
        reply_reached(w, d);
        return true;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(waiter_freep) Waiter *w = userdata;

        (void) sd_bus_reply_method_errorf(w->request, DMBUS_ERROR_TIMEOUT, "%s was not %s within %" PRIu64 " ms.", w->device,
                                          wait_state_to_string(w->state), w->timeout_usec / 1000);
        return 0;
}

/* Nobody to answer. */
static int on_caller_gone(sd_bus_track *track, void *userdata) {
        waiter_free(userdata);
        return 0;
}

static int check_room(Manager *m, uid_t uid, sd_bus_error *error) {
        size_t n = 0, n_uid = 0;

        LIST_FOREACH(waiters, w, m->waiters->waiting) {
                n++;
                n_uid += w->caller_uid == uid;
        }
        if (uid != 0 && n_uid >= WAITERS_PER_UID_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_BUSY, "%zu of your waits are under way already; wait for their answers.",
                                         n_uid);
        if (n >= WAITERS_MAX)
                return sd_bus_error_set(error, DMBUS_ERROR_BUSY, "Too many waits are under way; try again later.");
        return 0;
}

static int read_request(sd_bus_message *message, Waiter *w, sd_bus_error *error) {
        const BusOption options[] = {
                { .key = DMBUS_OPTION_TIMEOUT_USEC, .type = 't', .value = &w->timeout_usec },
        };
        const char *state, *invalid;
        int r;

        r = sd_bus_message_read(message, "ss", &w->device, &state);
        if (r < 0)
                return r;
        /* A name, or else a UUID: either will do. */
        invalid = w->device[0] == '/' ? path_invalid_reason(w->device) : dm_name_invalid_reason(w->device);
        if (invalid && w->device[0] != '/' && !dm_uuid_invalid_reason(w->device))
                invalid = NULL;
        if (invalid)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "The device must be a name, a UUID or a path in /dev: %s",
                                         invalid);
        w->state = wait_state_from_string(state);
        if ((int) w->state < 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                         "The state to wait for is \"present\", \"active\" or \"gone\", not \"%s\".", state);
        w->timeout_usec = WAIT_TIMEOUT_USEC_DEFAULT;
        r = bus_message_read_options(message, options, ELEMENTSOF(options), error);
        if (r < 0)
                return r;
        if (w->timeout_usec == 0 || w->timeout_usec > WAIT_TIMEOUT_USEC_MAX)
                return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT, "timeout-usec must be between 1 and %" PRIu64 " (five minutes).",
                                         WAIT_TIMEOUT_USEC_MAX);
        return 0;
}

int wait_bus_wait_for_device(Manager *m, sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(waiter_freep) Waiter *w = NULL;
        int r;

        assert(m);
        assert(message);

        w = calloc(1, sizeof(Waiter));
        if (!w)
                return -ENOMEM;
        *w = (Waiter) { .manager = m, .request = sd_bus_message_ref(message) };
        r = read_request(message, w, error);
        if (r < 0)
                return r;
        if (answer_if_reached(w))
                return 1;

        r = sender_uids_get(m->sender_uids, message, &w->caller_uid);
        if (r == -ESRCH)
                return 1;       /* gone: nobody to answer */
        if (r < 0)
                return r;
        r = check_room(m, w->caller_uid, error);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(m->event, &w->timeout, CLOCK_MONOTONIC, w->timeout_usec, 0, on_timeout, w);
        if (r >= 0)
                r = sd_bus_track_new(sd_bus_message_get_bus(message), &w->caller, on_caller_gone, w);
        if (r >= 0)
                r = sd_bus_track_add_sender(w->caller, message);
        if (r < 0)
                return r;
        LIST_PREPEND(waiters, m->waiters->waiting, TAKE_PTR(w));
        return 1;
}

void waiters_check(Manager *m) {
        LIST_FOREACH_SAFE(waiters, w, next, m->waiters->waiting)
                if (answer_if_reached(w))
                        waiter_free(w);
}

int waiters_new(Waiters **ret) {
        assert(ret);

        *ret = calloc(1, sizeof(Waiters));
        return *ret ? 0 : -ENOMEM;
}

void waiters_drop_all(Waiters *waiters) {
        assert(waiters);

        while (waiters->waiting) {
                Waiter *w = waiters->waiting;

                (void) sd_bus_reply_method_errorf(w->request, DMBUS_ERROR_FAILED, "The service is stopping.");
                waiter_free(w);
        }
}

Waiters *waiters_free(Waiters *waiters) {
        if (!waiters)
                return NULL;
        waiters_drop_all(waiters);
        return mfree(waiters);
}
