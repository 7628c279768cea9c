/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libdevmapper.h>

#include "macro.h"
#include "name-mangle.h"
#include "udev-info.h"

static const struct {
        unsigned flag;
        const char *name;
} udev_flags[] = {
        { DM_UDEV_DISABLE_DM_RULES_FLAG,        "DM_UDEV_DISABLE_DM_RULES_FLAG"         },
        { DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG, "DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG"  },
        { DM_UDEV_DISABLE_DISK_RULES_FLAG,      "DM_UDEV_DISABLE_DISK_RULES_FLAG"       },
        { DM_UDEV_DISABLE_OTHER_RULES_FLAG,     "DM_UDEV_DISABLE_OTHER_RULES_FLAG"      },
        { DM_UDEV_LOW_PRIORITY_FLAG,            "DM_UDEV_LOW_PRIORITY_FLAG"             },
        { DM_UDEV_DISABLE_LIBRARY_FALLBACK,     "DM_UDEV_DISABLE_LIBRARY_FALLBACK_FLAG" },
        { DM_UDEV_PRIMARY_SOURCE_FLAG,          "DM_UDEV_PRIMARY_SOURCE_FLAG"           },
        { DM_SUBSYSTEM_UDEV_FLAG0,              "DM_SUBSYSTEM_UDEV_FLAG0"               },
        { DM_SUBSYSTEM_UDEV_FLAG1,              "DM_SUBSYSTEM_UDEV_FLAG1"               },
        { DM_SUBSYSTEM_UDEV_FLAG2,              "DM_SUBSYSTEM_UDEV_FLAG2"               },
        { DM_SUBSYSTEM_UDEV_FLAG3,              "DM_SUBSYSTEM_UDEV_FLAG3"               },
        { DM_SUBSYSTEM_UDEV_FLAG4,              "DM_SUBSYSTEM_UDEV_FLAG4"               },
        { DM_SUBSYSTEM_UDEV_FLAG5,              "DM_SUBSYSTEM_UDEV_FLAG5"               },
        { DM_SUBSYSTEM_UDEV_FLAG6,              "DM_SUBSYSTEM_UDEV_FLAG6"               },
        { DM_SUBSYSTEM_UDEV_FLAG7,              "DM_SUBSYSTEM_UDEV_FLAG7"               },
};

int udev_parse_u32(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno || end == s || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

static const char *value_of(const char *arg, const char *key) {
        size_t n = strlen(key);

        return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int print_mangled(FILE *out, const char *key, const char *value) {
        _cleanup_(freep) char *mangled = dm_string_mangle(value);

        if (!mangled)
                return -ENOMEM;
        fprintf(out, "%s=%s\n", key, mangled);
        return strcmp(mangled, value) != 0;
}

int udev_info_print(FILE *out, const char *name, const char *uuid, const char *suspended, int argc, char *argv[]) {
        const char *cookie = NULL, *saved = NULL, *reannounce = NULL;
        bool have_flags = false;
        unsigned flags;
        int r;

        assert(out);
        assert(name);
        assert(argc == 0 || argv);

        for (int i = 0; i < argc; i++) {
                cookie = value_of(argv[i], "cookie") ?: cookie;
                saved = value_of(argv[i], "saved") ?: saved;
                reannounce = value_of(argv[i], "reannounce") ?: reannounce;
        }

        r = print_mangled(out, "DM_NAME", name);
        if (r < 0)
                return r;
        if (r > 0)
                fprintf(out, "DMBUS_NAME_MANGLED=1\n");
        if (uuid && uuid[0]) {
                r = print_mangled(out, "DM_UUID", uuid);
                if (r < 0)
                        return r;
        }
        fprintf(out, "DM_SUSPENDED=%s\n", suspended && suspended[0] == '1' ? "1" : "0");

        /* The flags sit above the semaphore's part of the cookie. */
        if (cookie && cookie[0] && udev_parse_u32(cookie, &flags) == 0) {
                flags >>= DM_UDEV_FLAGS_SHIFT;
                have_flags = true;
        } else if (saved && saved[0] && udev_parse_u32(saved, &flags) == 0)
                have_flags = true;
        if (!(cookie && cookie[0]) && reannounce && strcmp(reannounce, "reannounce") == 0) {
                flags = (have_flags ? flags : 0) | DM_UDEV_PRIMARY_SOURCE_FLAG;
                have_flags = true;
        }
        if (have_flags) {
                fprintf(out, "DMBUS_COOKIE_FLAGS=%u\n", flags);
                for (size_t i = 0; i < ELEMENTSOF(udev_flags); i++)
                        if (flags & udev_flags[i].flag)
                                fprintf(out, "%s=1\n", udev_flags[i].name);
        }
        return 0;
}
