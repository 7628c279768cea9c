/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "manager.h"

/* Puts the ObjectManager at the root path and the Manager object on the bus. */
int manager_bus_register(Manager *m);

/* PropertiesChanged for the Manager's DeviceCount. */
int manager_bus_emit_device_count(sd_bus *bus);
