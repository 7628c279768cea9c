/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The udev helper's input: the device's name, UUID and suspended flag (from sysfs, as the kernel
 * has them) and its arguments (cookie=DM_COOKIE, saved=FLAGS), NUL-separated in the fuzz input. */
#include <stdio.h>

#include "fuzz-util.h"
#include "udev-info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *copy = malloc(size + 1), *fields[8] = {};
        size_t n = 0;
        FILE *out;

        if (!copy)
                abort();
        memcpy(copy, data, size);
        copy[size] = 0;
        for (char *p = copy; n < 8 && p <= copy + size; p += strlen(p) + 1)
                fields[n++] = p;
        out = fopen("/dev/null", "we");
        if (!out)
                abort();
        /* name, uuid, suspended, then up to five arguments */
        if (udev_info_print(out, fields[0] ?: "", fields[1], fields[2], n > 3 ? (int) n - 3 : 0, fields + 3) < 0)
                abort();
        fclose(out);
        free(copy);
        return 0;
}
