/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "manager.h"

/* One object per block device in the graph, at /org/dmbus/DeviceMapper1/block/MAJOR_MINOR (the
 * path follows the dev_t, so it survives a rename): org.dmbus.DeviceMapper1.Block on all of them,
 * org.dmbus.DeviceMapper1.Device on DM devices. Served from the graph, never from the kernel. */

#define DMBUS_BLOCK_PREFIX DMBUS_ROOT_PATH "/block"
#define DMBUS_BLOCK_INTERFACE DMBUS_SERVICE_NAME ".Block"
#define DMBUS_DEVICE_INTERFACE DMBUS_SERVICE_NAME ".Device"
#define BLOCK_OBJECT_PATH_MAX sizeof(DMBUS_BLOCK_PREFIX "/4294967295_4294967295")

char *block_object_path(dev_t devnum, char buf[static BLOCK_OBJECT_PATH_MAX]);
int block_object_path_parse(const char *path, dev_t *ret);

/* An "ao" of the devices' objects, leaving out any the graph does not hold (gone meanwhile). */
int block_object_paths_append(sd_bus_message *reply, Manager *m, const dev_t *devs, size_t n);

int device_bus_register(Manager *m);

/* Signals, sent after the graph changed (added, changed) or before it changes (removed, while
 * the object can still be enumerated). The masks are BlockChange and DeviceChange bits. */
int device_bus_emit_added(Manager *m, dev_t devnum);
int device_bus_emit_removed(Manager *m, dev_t devnum);
int device_bus_emit_changed(Manager *m, dev_t devnum, unsigned block_changes, unsigned device_changes, bool holders);
int device_bus_emit_event(Manager *m, dev_t devnum, uint32_t event_nr);
