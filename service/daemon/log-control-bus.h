/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* systemd's org.freedesktop.LogControl1 at /org/freedesktop/LogControl1, so that
 * `systemctl service-log-level dmbusd debug` turns debug messages on in a running service, as it
 * does for systemd's own. Only root may change it (sd-bus's check for writable properties). */
int log_control_bus_register(sd_bus *bus);
