/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The mutating methods' handlers, for the Manager's vtable (Create) and the Device vtable (the
 * rest): each validates its input, authorizes the caller and submits an operation; the reply
 * comes when the operation is done. userdata is the Manager. */
int method_create(sd_bus_message *message, void *userdata, sd_bus_error *error);
/* Load, Reload, ClearInactive, Suspend, Resume, Remove: told apart by the message's member. */
int method_device_operation(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_rename(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_set_uuid(sd_bus_message *message, void *userdata, sd_bus_error *error);
int method_send_message(sd_bus_message *message, void *userdata, sd_bus_error *error);
