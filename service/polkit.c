/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "dmbus-names.h"
#include "log.h"
#include "macro.h"
#include "polkit.h"

#define POLKIT_ALLOW_USER_INTERACTION 1u
/* A person may take a while to type a password; without an agent polkit answers at once. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (5 * 60 * 1000000ULL)

struct PolkitQuery {
        sd_bus_slot *slot;      /* the pending call: unref'ing it cancels the question */
        PolkitCallback callback;
        void *userdata;
};

PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->slot);
        return mfree(q);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(PolkitQuery *, polkit_query_free);

/* polkit's answer as an error for our caller: NULL when authorized. */
static const char *answer_read(sd_bus_message *reply) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized, challenge, r;

        if (e) {
                log_info("Cannot ask polkit (%s: %s): refusing the non-root caller.", e->name, e->message);
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

int polkit_authorize(sd_bus_message *request, const char *action, bool interactive, PolkitCallback callback,
                     void *userdata, PolkitQuery **ret_query) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        _cleanup_(polkit_query_freep) PolkitQuery *q = NULL;
        sd_bus *bus;
        uid_t euid;
        int r;

        assert(request);
        assert(action);
        assert(callback);
        assert(ret_query);

        bus = sd_bus_message_get_bus(request);
        /* The bus daemon vouches for the uid, not the caller. */
        r = sd_bus_query_sender_creds(request, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return r;
        if (euid == 0)
                return 1;

        q = malloc(sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (PolkitQuery) { .callback = callback, .userdata = userdata };

        r = sd_bus_message_new_method_call(bus, &call, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "(sa{sv})sa{ss}us",
                                  "system-bus-name", 1, "name", "s", sd_bus_message_get_sender(request),
                                  action, 0, interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
        if (r < 0)
                return r;
        r = sd_bus_call_async(bus, &q->slot, call, on_check_authorization_reply, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0)
                return r;
        *ret_query = TAKE_PTR(q);
        return 0;
}
