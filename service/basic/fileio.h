/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Reads the start of a small file (a sysfs attribute, a rules file) into buf, NUL-terminated:
 * returns how many bytes, or -errno. One read(), so a sysfs attribute comes whole. */
ssize_t read_small_file(const char *path, char *buf, size_t size);
