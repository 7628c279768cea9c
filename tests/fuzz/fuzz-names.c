/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names, UUIDs and paths as callers send them. A new name is always a valid name, and never holds
 * what udev could not carry. */
#include "fuzz-util.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = fuzz_string(data, size);

        if (!dm_name_new_invalid_reason(s) && (dm_name_invalid_reason(s) || string_has_control_characters(s) || strchr(s, '\\')))
                abort();
        if (!dm_uuid_new_invalid_reason(s) && (dm_uuid_invalid_reason(s) || string_has_control_characters(s)))
                abort();
        /* A lookup takes the escaped form: up to 4 bytes as the bus shows it for each byte the kernel holds. */
        if (!dm_name_invalid_reason(s) && (strlen(s) == 0 || strlen(s) > 4 * DM_NAME_MAX || strchr(s, '/')))
                abort();
        if (!dm_name_new_invalid_reason(s) && strlen(s) > DM_NAME_MAX)
                abort();
        (void) path_invalid_reason(s);
        if (size >= 8) {
                uint32_t maj, min;

                memcpy(&maj, data, 4);
                memcpy(&min, data + 4, 4);
                (void) devnum_invalid_reason(maj, min);
        }
        free(s);
        return 0;
}
