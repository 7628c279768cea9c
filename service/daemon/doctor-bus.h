/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* Manager.Check and Manager.Repair (doctor.h): where the kernel, udev's database and /dev
 * disagree, and udev asked to look again. */
int doctor_bus_check(Manager *m, sd_bus_message *message, sd_bus_error *error);
int doctor_bus_repair(Manager *m, sd_bus_message *message, sd_bus_error *error);
