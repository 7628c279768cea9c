/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel writes space, tab, newline and backslash in mountinfo and /proc/swaps as \ooo: back
 * to the bytes, in place. */
void unescape_octal(char *s);

/* Calls each(MAJOR, MINOR, MOUNT_POINT) for every line of the mount table at path
 * (/proc/PID/mountinfo) until it returns non-zero, which is then returned; -errno when the table
 * cannot be opened. */
int mountinfo_for_each(const char *path, int (*each)(unsigned major, unsigned minor, const char *mount_point, void *userdata),
                       void *userdata);
