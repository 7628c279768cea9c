/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated string arrays. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
size_t strv_length(char *const *l);
bool strv_equal(char *const *a, char *const *b);
/* Appends a copy of s; returns 0 or -ENOMEM (l unchanged then). */
int strv_extend(char ***l, const char *s);
