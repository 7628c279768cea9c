/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8-escape.h"

size_t utf8_char_length(const char *s, size_t n) {
        const uint8_t *p = (const uint8_t *) s;
        uint32_t c;
        size_t len;

        assert(s);

        if (n == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                len = 2, c = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                len = 3, c = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                len = 4, c = p[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates, and past U+10FFFF are not UTF-8. */
        if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return len;
}

static bool is_control(uint8_t c) {
        return c < 0x20 || c == 0x7f;
}

char *utf8_escape_invalid(const char *s) {
        size_t n, len;
        char *result, *out;
        bool clean = true;

        assert(s);

        n = strlen(s);
        for (size_t i = 0; i < n && clean; i += len) {
                len = utf8_char_length(s + i, n - i);
                clean = len > 0 && !is_control((uint8_t) s[i]);
        }
        if (clean)
                return strdup(s);

        result = malloc(n * 4 + 1);
        if (!result)
                return NULL;
        out = result;
        for (size_t i = 0; i < n; i += len) {
                len = utf8_char_length(s + i, n - i);
                if (len == 0 || is_control((uint8_t) s[i])) {
                        out += sprintf(out, "\\x%02x", (uint8_t) s[i]);
                        len = 1;
                } else {
                        memcpy(out, s + i, len);
                        out += len;
                }
        }
        *out = 0;
        return result;
}
