/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Paths that callers give for block devices (ResolvePath, table parameters) are taken only under
 * /dev, and followed only while they stay there: "/dev/mapper/x" -> "../dm-3" is fine, a link out
 * of /dev (or through /proc's magic links) is refused, so the daemon never looks into a
 * directory outside /dev for a caller (no existence oracle for root's files, no stat into autofs
 * or NFS). The device itself is never opened: the path is resolved with O_PATH. Safe on any
 * thread.
 *
 * Returns 0 with the dev_t, -EINVAL when the path is not "/dev/..." or leaves /dev, -ENOENT when
 * nothing is there, -ENOTBLK when it is not a block device, or another -errno. */
int dev_path_resolve(const char *path, dev_t *ret);
