/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "macro.h"

/* The effective uid behind each caller, as the bus daemon vouches for it, and its pid. A unique name is never
 * reused while the bus runs, so what was learned for one stays true: one GetConnectionCredentials
 * round trip per caller's connection, not one per call. At most SENDER_UIDS_MAX are kept. */
#define SENDER_UIDS_MAX 1024

typedef struct SenderUids SenderUids;

SenderUids *sender_uids_new(void);
SenderUids *sender_uids_free(SenderUids *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SenderUids *, sender_uids_free);

/* The effective uid of the request's sender: 0, or -errno (-ESRCH: it left the bus already). */
int sender_uids_get(SenderUids *s, sd_bus_message *request, uid_t *ret);
/* The same, with its pid as the bus daemon saw it when it connected (0 when it did not say): for
 * the journal's lines, never for a decision (a pid can be reused). */
int sender_uids_get_with_pid(SenderUids *s, sd_bus_message *request, uid_t *ret_uid, pid_t *ret_pid);
