/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "validate.h"

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The length of s as the kernel holds it: each "\xNN" the bus shows stands for one byte. */
static size_t kernel_length(const char *s) {
        size_t n = 0;

        for (; *s; n++)
                s += s[0] == '\\' && s[1] == 'x' && is_hex(s[2]) && is_hex(s[3]) ? 4 : 1;
        return n;
}

/* Not empty, and no longer than the kernel holds (max bytes there, 4 each as the bus shows them). */
static bool length_valid(const char *s, size_t max) {
        size_t n = strlen(s);

        return n > 0 && n <= 4 * max && kernel_length(s) <= max;
}

const char *dm_name_invalid_reason(const char *name) {
        assert(name);

        if (!length_valid(name, DM_NAME_MAX))
                return "A device-mapper name is 1 to 127 bytes long.";
        if (strchr(name, '/'))
                return "A device-mapper name cannot contain '/'.";
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "control") == 0)
                return "\".\", \"..\" and \"control\" are not device-mapper names.";
        return NULL;
}

const char *dm_uuid_invalid_reason(const char *uuid) {
        assert(uuid);

        if (!length_valid(uuid, DM_UUID_MAX))
                return "A device-mapper UUID is 1 to 128 bytes long.";
        return NULL;
}

bool string_has_control_characters(const char *s) {
        assert(s);

        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

bool bus_unique_name_is_valid(const char *name) {
        size_t elements = 0;

        if (!name || name[0] != ':' || strlen(name) > 255)
                return false;
        for (const char *p = name + 1;; p++) {
                size_t len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

                if (len == 0)
                        return false;
                elements++;
                p += len;
                if (*p != '.')
                        return *p == 0 && elements >= 2;
        }
}

/* udev hands names to rules and links through its environment and libdevmapper's \xNN escaping:
 * a control character cannot travel, and a '\' would be taken for an escape. */
static const char *udev_uncarriable_reason(const char *s, const char *control_reason, const char *backslash_reason) {
        if (string_has_control_characters(s))
                return control_reason;
        if (strchr(s, '\\'))
                return backslash_reason;
        return NULL;
}

const char *dm_name_new_invalid_reason(const char *name) {
        return dm_name_invalid_reason(name) ?:
                udev_uncarriable_reason(name, "A new device-mapper name cannot contain control characters: udev could not carry it.",
                                        "A new device-mapper name cannot contain '\\': udev links would read it as an escape.");
}

const char *dm_uuid_new_invalid_reason(const char *uuid) {
        return dm_uuid_invalid_reason(uuid) ?:
                udev_uncarriable_reason(uuid, "A new device-mapper UUID cannot contain control characters: udev could not carry it.",
                                        "A new device-mapper UUID cannot contain '\\': udev links would read it as an escape.");
}

const char *devnum_invalid_reason(uint32_t major, uint32_t minor) {
        if (major == 0 && minor == 0)
                return "0:0 is not a device number.";
        if (major >= (1u << 12) || minor >= (1u << 20))
                return "Major numbers are below 4096 and minor numbers below 1048576.";
        return NULL;
}

const char *path_invalid_reason(const char *path) {
        assert(path);

        if (strncmp(path, "/dev/", 5) != 0 || path[5] == 0)
                return "Block devices are named by a path under /dev.";
        if (strlen(path) >= PATH_MAX)
                return "The path is too long.";
        return NULL;
}
