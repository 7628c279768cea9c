/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The fuzz input as a NUL-terminated string (embedded NULs end it early, as they would in any C
 * string the parsers get). */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
