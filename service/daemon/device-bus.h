/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "failure.h"
#include "graph.h"
#include "manager.h"

/* One object per block device in the graph (object-path.h): org.dmbus.DeviceMapper1.Block on
 * all of them, org.dmbus.DeviceMapper1.Device on DM devices, with the Device's methods. Served
 * from the graph, never from the kernel. */

int device_bus_register(Manager *m);

/* An "ao" of the devices' objects, leaving out any the graph does not hold (gone meanwhile). */
int block_object_paths_append(sd_bus_message *reply, const Graph *g, const dev_t *devs, size_t n);

/* Signals, sent after the graph changed (added, changed) or before it changes (removed, while
 * the object can still be enumerated). The masks are BLOCK_CHANGE and DEVICE_CHANGE bits. */
int device_bus_emit_added(sd_bus *bus, dev_t devnum);
int device_bus_emit_removed(sd_bus *bus, dev_t devnum);
int device_bus_emit_changed(sd_bus *bus, dev_t devnum, unsigned block_changes, unsigned device_changes);
int device_bus_emit_event(sd_bus *bus, dev_t devnum, uint32_t event_nr);
int device_bus_emit_threshold_crossed(sd_bus *bus, dev_t devnum, const char *what, unsigned percent);
/* Device.Failure(s kind, a{sv} details). */
int device_bus_emit_failure(sd_bus *bus, dev_t devnum, const Failure *failure);
