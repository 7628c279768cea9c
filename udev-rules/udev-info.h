/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

/* What the udev helper makes of an event (dmbus-udev info), apart from reading sysfs: pure, so
 * that it can be fuzzed. */

/* A decimal, octal or hex number up to UINT32_MAX, nothing after it: 0 or -EINVAL. */
int udev_parse_u32(const char *s, unsigned *ret);

/* Prints the properties for IMPORT{program}: DM_NAME and DM_UUID mangled as libdevmapper does,
 * DM_SUSPENDED, and the DM_UDEV_* flags of the cookie=VALUE or, for an event without one, of the
 * saved=VALUE among args. With reannounce=reannounce (dmbusd's Repair, a synthetic event), one
 * without a cookie is taken as a resume: the saved flags, or none, with the primary source flag
 * that libdevmapper's resume carries. uuid and suspended may be NULL. 0, or -ENOMEM. */
int udev_info_print(FILE *out, const char *name, const char *uuid, const char *suspended, int argc, char *argv[]);
