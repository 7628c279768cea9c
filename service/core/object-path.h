/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "dmbus-names.h"

/* A block device's object path follows its dev_t, so it survives a rename:
 * /org/dmbus/DeviceMapper1/block/MAJOR_MINOR, in decimal. */

#define BLOCK_OBJECT_PATH_MAX sizeof(DMBUS_BLOCK_PREFIX "/4294967295_4294967295")

char *block_object_path(dev_t devnum, char buf[static BLOCK_OBJECT_PATH_MAX]);

/* Only the canonical spelling is accepted: decimal digits without leading zeros, '_', digits,
 * nothing after, each number within the kernel's range (major < 4096, minor < 2^20), so one device
 * has one path. -EINVAL otherwise. */
int block_object_path_parse(const char *path, dev_t *ret);
