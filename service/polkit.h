/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

#define DMBUS_POLKIT_ACTION_MANAGE "org.dmbus.devicemapper1.manage"

/* Asks whether the sender of request may do action: root may, anyone else as polkit says,
 * over D-Bus (org.freedesktop.PolicyKit1.Authority.CheckAuthorization, no libpolkit). interactive
 * lets polkit ask the user through an authentication agent. The answer comes to done, on the
 * main loop, now or later: error_name is NULL when allowed, else with a sentence for the caller.
 * A negative return means the question could not even be asked, and done is not called. */
typedef void (*PolkitDone)(void *userdata, const char *error_name, const char *error_message);
int polkit_authorize(sd_bus_message *request, const char *action, bool interactive, PolkitDone done, void *userdata);
