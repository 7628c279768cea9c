/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* The kernel holds device-mapper names and UUIDs as bytes: `dmsetup --manglename none` makes
 * names that are not UTF-8 or that hold a newline. D-Bus strings must be UTF-8, and a log line
 * must stay one line, so such a string is carried as text where every byte of an invalid UTF-8
 * sequence and every control character (below 0x20, and 0x7f) is written "\xNN". Any other string
 * is kept as it is. Returns a new string, or NULL on ENOMEM. */
char *utf8_escape_invalid(const char *s);

/* The length of the valid UTF-8 character at s (at most n bytes), or 0 if none starts there. */
size_t utf8_char_length(const char *s, size_t n);
