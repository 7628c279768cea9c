/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Makes *p hold at least need elements of size bytes, growing it geometrically (as systemd's
 * GREEDY_REALLOC): 0, or -ENOMEM with *p and *allocated unchanged. */
int greedy_realloc(void **p, size_t *allocated, size_t need, size_t size);

#define GREEDY_REALLOC(array, allocated, need) \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))

/* Replaces the string *p with a copy of s: 0, or -ENOMEM with *p unchanged. */
int free_and_strdup(char **p, const char *s);
