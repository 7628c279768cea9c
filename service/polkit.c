/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "bus-error.h"
#include "log.h"
#include "macro.h"
#include "polkit.h"

#define POLKIT_ALLOW_USER_INTERACTION 1u
/* A person may take a while to type a password; without an agent polkit answers at once. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (5 * 60 * 1000000ULL)

typedef struct PolkitQuery {
        PolkitDone done;
        void *userdata;
} PolkitQuery;

static int on_check_authorization_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(freep) PolkitQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized, challenge, r;

        if (e) {
                log_info("Cannot ask polkit (%s: %s): refusing the non-root caller.", e->name, e->message);
                q->done(q->userdata, DMBUS_ERROR_NOT_AUTHORIZED,
                        "Only root may manage device-mapper devices here: polkit, which could allow others, is not available.");
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                q->done(q->userdata, DMBUS_ERROR_NOT_AUTHORIZED, "polkit's answer could not be read: not authorized.");
                return 0;
        }
        if (authorized)
                q->done(q->userdata, NULL, NULL);
        else if (challenge)
                q->done(q->userdata, DMBUS_ERROR_NOT_AUTHORIZED,
                        "Authentication is required to manage device-mapper devices, and no authentication agent could ask for it "
                        "(or the call forbade asking).");
        else
                q->done(q->userdata, DMBUS_ERROR_NOT_AUTHORIZED, "Not authorized to manage device-mapper devices.");
        return 0;
}

int polkit_authorize(sd_bus_message *request, const char *action, bool interactive, PolkitDone done, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        _cleanup_(freep) PolkitQuery *q = NULL;
        sd_bus *bus = sd_bus_message_get_bus(request);
        uid_t euid;
        int r;

        /* The bus daemon vouches for the uid, not the caller. */
        r = sd_bus_query_sender_creds(request, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return r;
        if (euid == 0) {
                done(userdata, NULL, NULL);
                return 0;
        }

        q = malloc(sizeof(*q));
        if (!q)
                return -ENOMEM;
        *q = (PolkitQuery) { .done = done, .userdata = userdata };

        r = sd_bus_message_new_method_call(bus, &call, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "(sa{sv})sa{ss}us",
                                  "system-bus-name", 1, "name", "s", sd_bus_message_get_sender(request),
                                  action, 0, interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
        if (r < 0)
                return r;
        r = sd_bus_call_async(bus, NULL, call, on_check_authorization_reply, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0)
                return r;
        TAKE_PTR(q);
        return 0;
}
