/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "sender-uid.h"

typedef struct SenderUid {
        char *sender;   /* the key */
        uid_t uid;
        pid_t pid;      /* 0 when the bus did not say */
} SenderUid;

struct SenderUids {
        Hashmap *by_sender;
};

static void forget_all(SenderUids *s) {
        SenderUid *e;

        if (!s->by_sender)
                return;
        for (size_t i = 0; hashmap_iterate(s->by_sender, &i, (void **) &e);) {
                free(e->sender);
                free(e);
        }
        hashmap_free(s->by_sender);
        s->by_sender = NULL;
}

SenderUids *sender_uids_new(void) {
        return calloc(1, sizeof(SenderUids));
}

SenderUids *sender_uids_free(SenderUids *s) {
        if (!s)
                return NULL;
        forget_all(s);
        return mfree(s);
}

static int remember(SenderUids *s, const char *sender, uid_t uid, pid_t pid) {
        SenderUid *e;

        /* Callers that left are never asked about again: starting afresh costs one round trip
         * for each caller still here. */
        if (s->by_sender && hashmap_size(s->by_sender) >= SENDER_UIDS_MAX)
                forget_all(s);
        if (!s->by_sender) {
                s->by_sender = hashmap_new(HASHMAP_KEY_STRING);
                if (!s->by_sender)
                        return -ENOMEM;
        }
        e = malloc(sizeof(*e));
        if (!e)
                return -ENOMEM;
        *e = (SenderUid) { .sender = strdup(sender), .uid = uid, .pid = pid };
        if (!e->sender || hashmap_put_string(s->by_sender, e->sender, e) < 0) {
                free(e->sender);
                free(e);
                return -ENOMEM;
        }
        return 0;
}

int sender_uids_get_with_pid(SenderUids *s, sd_bus_message *request, uid_t *ret_uid, pid_t *ret_pid) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        const char *sender;
        SenderUid *known;
        uid_t euid;
        pid_t pid = 0;
        int r;

        assert(s);
        assert(request);
        assert(ret_uid);

        sender = sd_bus_message_get_sender(request);
        if (!sender)
                return -ESRCH;
        known = s->by_sender ? hashmap_get_string(s->by_sender, sender) : NULL;
        if (known) {
                *ret_uid = known->uid;
                if (ret_pid)
                        *ret_pid = known->pid;
                return 0;
        }

        /* One GetConnectionCredentials answers both. */
        r = sd_bus_query_sender_creds(request, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &creds);
        if (r == -ENXIO)
                return -ESRCH;
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return r;
        (void) sd_bus_creds_get_pid(creds, &pid);
        /* Not remembered (out of memory) only costs the next call a round trip. */
        (void) remember(s, sender, euid, pid);
        *ret_uid = euid;
        if (ret_pid)
                *ret_pid = pid;
        return 0;
}

int sender_uids_get(SenderUids *s, sd_bus_message *request, uid_t *ret) {
        return sender_uids_get_with_pid(s, request, ret, NULL);
}
