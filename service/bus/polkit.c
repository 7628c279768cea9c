/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "dmbus-names.h"
#include "log.h"
#include "macro.h"
#include "polkit.h"
#include "ratelimit.h"

#define POLKIT_ALLOW_USER_INTERACTION 1u
/* A person may take a while to type a password; without an agent polkit answers at once. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (5 * 60 * 1000000ULL)

#define POLKIT_SERVICE "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"

struct PolkitQuery {
        sd_bus *bus;
        sd_bus_slot *slot;      /* the pending call */
        char cancellation_id[32];
        PolkitCallback callback;
        void *userdata;
};

/* Forgets the question, without telling polkit. */
static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        sd_bus_unref(q->bus);
        return mfree(q);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(PolkitQuery *, polkit_query_free);

PolkitQuery *polkit_query_cancel(PolkitQuery *q) {
        if (!q)
                return NULL;
        /* polkit drops the question, and any authentication dialog an agent shows for it. */
        (void) sd_bus_call_method_async(q->bus, NULL, POLKIT_SERVICE, POLKIT_PATH, POLKIT_INTERFACE,
                                        "CancelCheckAuthorization", NULL, NULL, "s", q->cancellation_id);
        return polkit_query_free(q);
}

/* polkit's answer as an error for our caller: NULL when authorized. */
static const char *answer_read(sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized, challenge, r;

        if (e) {
                /* Any caller can bring this about while polkitd is away: debug, and not every time. */
                static RateLimit rate = { .interval_usec = 10 * 1000000ULL, .burst = 5 };

                if (ratelimit_below(&rate))
                        log_debug("Cannot ask polkit (%s: %s): refusing the non-root caller.", e->name, e->message);
                return "Only root may manage device-mapper devices here: polkit, which could allow others, is not available.";
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                return "polkit's answer could not be read: not authorized.";
        if (authorized)
                return NULL;
        if (challenge)
                return "Authentication is required to manage device-mapper devices, and no authentication agent could ask for it "
                       "(or the call forbade asking).";
        return "Not authorized to manage device-mapper devices.";
}

static int on_check_authorization_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(polkit_query_freep) PolkitQuery *q = userdata;
        const char *refusal = answer_read(reply);

        q->callback(q->userdata, refusal ? DMBUS_ERROR_NOT_AUTHORIZED : NULL, refusal);
        return 0;
}

int polkit_check(sd_bus_message *request, const char *action, char *const *details, bool interactive,
                 PolkitCallback callback, void *userdata, PolkitQuery **ret_query) {
        static uint64_t counter;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(polkit_query_freep) PolkitQuery *q = NULL;
        sd_bus *bus;
        int r;

        assert(request);
        assert(action);
        assert(callback);
        assert(ret_query);

        bus = sd_bus_message_get_bus(request);
        q = malloc(sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (PolkitQuery) { .bus = sd_bus_ref(bus), .callback = callback, .userdata = userdata };
        snprintf(q->cancellation_id, sizeof(q->cancellation_id), "dmbus-%" PRIu64, ++counter);

        r = sd_bus_message_new_method_call(bus, &call, POLKIT_SERVICE, POLKIT_PATH, POLKIT_INTERFACE, "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sd_bus_message_get_sender(request), action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(call, 'a', "{ss}");
        for (char *const *d = details; r >= 0 && d && d[0] && d[1]; d += 2)
                r = sd_bus_message_append(call, "{ss}", d[0], d[1]);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r >= 0)
                r = sd_bus_message_append(call, "us", interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, q->cancellation_id);
        if (r < 0)
                return r;
        r = sd_bus_call_async(bus, &q->slot, call, on_check_authorization_reply, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0)
                return r;
        *ret_query = TAKE_PTR(q);
        return 0;
}
