/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "macro.h"

/* Who may change things: root, and anyone polkit allows, asked over D-Bus
 * (org.freedesktop.PolicyKit1.Authority.CheckAuthorization, no libpolkit). */

/* Asks polkit whether the sender of request may do action, with details (key, value, ..., NULL)
 * that rules can read; interactive lets polkit ask the user through an authentication agent. On
 * 0, *ret_query is pending and callback comes later, once, on the main loop, with error_name NULL
 * when allowed, else with a sentence for the caller; the query is freed after the callback
 * returns, so the callback must forget it. A negative return means the question could not even be
 * asked. */
typedef struct PolkitQuery PolkitQuery;
typedef void (*PolkitCallback)(void *userdata, const char *error_name, const char *error_message);

int polkit_check(sd_bus_message *request, const char *action, char *const *details, bool interactive,
                 PolkitCallback callback, void *userdata, PolkitQuery **ret_query);
/* Withdraws a pending question (CancelCheckAuthorization): no callback comes. Returns NULL. */
PolkitQuery *polkit_query_cancel(PolkitQuery *q);
