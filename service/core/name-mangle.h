/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Device-mapper names and UUIDs as they may appear in /dev: characters outside
 * [0-9A-Za-z#+-.:=@_] become "\xNN", as libdevmapper's name mangling ("auto" mode, the one
 * dmsetup and lvm2's udev rules use) writes them, and as udev keeps them in link names. A string
 * that is already mangled stays as it is; one that mixes both is mangled whole ("hex" mode), so
 * that it still gets an unambiguous link. Returns a new string, or NULL on ENOMEM. */
char *dm_string_mangle(const char *s);
