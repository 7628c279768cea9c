/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name-mangle.h"

static bool whitelisted(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                strchr("#+-.:=@_", c);
}

static bool hex_digit(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool mangled_sequence(const char *s) {
        return s[0] == '\\' && s[1] == 'x' && hex_digit(s[2]) && hex_digit(s[3]);
}

char *dm_string_mangle(const char *s) {
        bool needs_mangling = false;
        char *result, *out;

        assert(s);

        for (const char *p = s; *p; p++)
                if (mangled_sequence(p))
                        p += 3;
                else if (!whitelisted(*p))
                        needs_mangling = true;

        /* Clean, or already mangled with nothing left to do: as it is. Otherwise every
         * character outside the whitelist is escaped, a backslash of an earlier "\xNN" too. */
        if (!needs_mangling)
                return strdup(s);

        result = malloc(strlen(s) * 4 + 1);
        if (!result)
                return NULL;
        out = result;
        for (const char *p = s; *p; p++)
                if (whitelisted(*p))
                        *out++ = *p;
                else
                        out += sprintf(out, "\\x%02x", (unsigned char) *p);
        *out = 0;
        return result;
}
