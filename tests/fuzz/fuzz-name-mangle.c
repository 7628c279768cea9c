/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libdevmapper's "auto" mangling: the result holds only what may stand in /dev link names, and
 * mangling it again changes nothing. */
#include "fuzz-util.h"
#include "name-mangle.h"

static int allowed(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || strchr("#+-.:=@_\\", c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_string(data, size), *once, *twice;

        once = dm_string_mangle(s);
        if (!once)
                abort();
        for (const char *p = once; *p; p++)
                if (!allowed(*p))
                        abort();
        twice = dm_string_mangle(once);
        if (!twice || strcmp(once, twice) != 0)
                abort();
        free(twice);
        free(once);
        free(s);
        return 0;
}
