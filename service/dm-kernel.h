/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The device-mapper ioctl layer: the only file that talks to libdevmapper. libdevmapper is not
 * thread-safe, so every call into this layer happens on the main loop's thread. */

/* Sets libdevmapper up for a daemon: its log goes to ours, no udev cookie semaphores are ever
 * taken and no /dev nodes are ever made by the library (udev and our rules own /dev). */
void dm_kernel_setup(void);

/* The kernel's DM ioctl interface version (e.g. "4.47.0") and libdevmapper's own version. */
int dm_kernel_get_versions(char **ret_driver, char **ret_library);
