/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel writes space, tab, newline and backslash in mountinfo and /proc/swaps as \ooo: back
 * to the bytes, in place. */
void unescape_octal(char *s);

/* Calls each(MAJOR, MINOR, MOUNT_POINT) for every line of /proc/self/mountinfo until it returns
 * non-zero, which is then returned; 0 without a mount table. */
int mountinfo_for_each(int (*each)(unsigned major, unsigned minor, const char *mount_point, void *userdata), void *userdata);
