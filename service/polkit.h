/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "macro.h"

/* Asks whether the sender of request may do action: root may, anyone else as polkit says, over
 * D-Bus (org.freedesktop.PolicyKit1.Authority.CheckAuthorization, no libpolkit). interactive lets
 * polkit ask the user through an authentication agent.
 *
 * Returns 1 when allowed at once (root); 0 when polkit was asked: *ret_query is then pending and
 * callback comes later, once, on the main loop, with error_name NULL when allowed, else with a
 * sentence for the caller; the query is freed after the callback returns, so the callback must
 * forget it. polkit_query_free() before that cancels the question, and no callback comes. A
 * negative return means the question could not even be asked. */
typedef struct PolkitQuery PolkitQuery;
typedef void (*PolkitCallback)(void *userdata, const char *error_name, const char *error_message);

int polkit_authorize(sd_bus_message *request, const char *action, bool interactive, PolkitCallback callback,
                     void *userdata, PolkitQuery **ret_query);
PolkitQuery *polkit_query_free(PolkitQuery *q);
