/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "macro.h"

/* As systemd's string tables: over "static const char *const NAME_table[]" indexed by the value,
 * NAME_to_string(value), and NAME_from_string(s), which is -EINVAL for a string of none. */

#define _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, scope)                       \
        scope const char *name##_to_string(type i) {                                    \
                assert(i >= 0 && (size_t) i < ELEMENTSOF(name##_table));                \
                return name##_table[i];                                                 \
        }

#define _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, scope)                     \
        scope type name##_from_string(const char *s) {                                  \
                for (size_t i = 0; s && i < ELEMENTSOF(name##_table); i++)              \
                        if (name##_table[i] && strcmp(name##_table[i], s) == 0)         \
                                return (type) i;                                        \
                return (type) -EINVAL;                                                  \
        }

#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type) _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, )
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type)                                  \
        _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, static)                       \
        _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, static)
