/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Checks of what callers send us, before it reaches the graph or the kernel. Each returns NULL
 * when the value is acceptable, else a sentence for the caller that says what is wrong. */

#define DM_NAME_MAX 127         /* bytes, without the NUL (the kernel's DM_NAME_LEN is 128) */
#define DM_UUID_MAX 128         /* bytes, without the NUL (DM_UUID_LEN is 129) */
#define DM_DIR_PREFIX "/dev/mapper/"  /* where our udev rules link each device by its name */
/* A device as messages and the log name it: "NAME" (MAJ:MIN); the caller includes sys/sysmacros.h. */
#define DEVICE_LABEL_FORMAT "\"%s\" (%u:%u)"
#define DEVICE_LABEL_ARGS(name, devnum) (name), major(devnum), minor(devnum)
/* A name as the bus shows names: 1 to 127 bytes as the kernel holds it (a "\\xNN" the bus shows
 * is one byte there), no '/', not ".", "..", or "control". */
const char *dm_name_invalid_reason(const char *name);
/* A UUID as the bus shows it: 1 to 128 bytes as the kernel holds it. */
const char *dm_uuid_invalid_reason(const char *uuid);
/* What a new device may be given: the above, and nothing udev could not carry into its
 * environment and links (control characters, '\\'), so that it is held as it is written. */
const char *dm_name_new_invalid_reason(const char *name);
const char *dm_uuid_new_invalid_reason(const char *uuid);
/* A dev_t that can exist: not 0:0, major below 4096, minor below 2^20. */
const char *devnum_invalid_reason(uint32_t major, uint32_t minor);
/* Control characters (below 0x20, and 0x7f) end a line of table syntax, a log line or a udev
 * property in the wrong place. */
bool string_has_control_characters(const char *s) _pure_;
/* A bus connection's unique name, as the bus daemon hands them out: ":" then two or more
 * dot-separated elements of [A-Za-z0-9_-], 255 bytes at most (the D-Bus specification). */
bool bus_unique_name_is_valid(const char *name) _pure_;
/* A path under /dev ("/dev/..."), shorter than PATH_MAX. */
const char *path_invalid_reason(const char *path);
