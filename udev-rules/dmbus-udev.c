/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dmbus-udev: the small helper behind dmbus's udev rules, so that they need no dmsetup.
 *
 *   dmbus-udev info MAJOR MINOR cookie=[DM_COOKIE] saved=[DMBUS_COOKIE_FLAGS]
 *       Prints, for IMPORT{program}, the device's DM_NAME and DM_UUID (escaped as libdevmapper
 *       mangles them), DM_SUSPENDED from sysfs, and the DM_UDEV_* flags libdevmapper passed in
 *       the event's cookie. An event without a cookie (udevadm trigger, inotify watch) reuses
 *       the flags the last real event saved.
 *
 *   dmbus-udev complete DM_COOKIE
 *       Completes libdevmapper's udev cookie (a SysV semaphore its caller waits on), unless
 *       another rule (lvm2's 95-dm-notify.rules) is installed to do it: exactly once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "fileio.h"
#include "name-mangle.h"

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

static int parse_u32(const char *s, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno || end == s || *end || v > UINT32_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* A sysfs attribute of the device, without its newline; NULL if it cannot be read. */
static char *read_attr(unsigned maj, unsigned min, const char *attr) {
        char path[128], buf[512];

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", maj, min, attr);
        if (read_small_file(path, buf, sizeof(buf)) < 0)
                return NULL;
        buf[strcspn(buf, "\n")] = 0;
        return strdup(buf);
}

static const char *value_of(const char *arg, const char *key) {
        size_t n = strlen(key);

        return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int info(int argc, char *argv[]) {
        const char *cookie = NULL, *saved = NULL;
        char *name, *uuid, *suspended, *mangled;
        unsigned maj, min, flags;
        bool have_flags = false;

        if (argc < 2 || parse_u32(argv[0], &maj) < 0 || parse_u32(argv[1], &min) < 0) {
                fprintf(stderr, "dmbus-udev info: MAJOR MINOR expected\n");
                return EXIT_FAILURE;
        }
        for (int i = 2; i < argc; i++) {
                cookie = value_of(argv[i], "cookie") ?: cookie;
                saved = value_of(argv[i], "saved") ?: saved;
        }

        name = read_attr(maj, min, "dm/name");
        if (!name) {
                fprintf(stderr, "dmbus-udev: %u:%u is not a device-mapper device\n", maj, min);
                return EXIT_FAILURE;
        }
        mangled = dm_string_mangle(name);
        if (!mangled)
                return EXIT_FAILURE;
        printf("DM_NAME=%s\n", mangled);
        if (strcmp(mangled, name) != 0)
                printf("DMBUS_NAME_MANGLED=1\n");
        free(mangled);
        free(name);

        uuid = read_attr(maj, min, "dm/uuid");
        if (uuid && uuid[0]) {
                mangled = dm_string_mangle(uuid);
                if (!mangled)
                        return EXIT_FAILURE;
                printf("DM_UUID=%s\n", mangled);
                free(mangled);
        }
        free(uuid);

        suspended = read_attr(maj, min, "dm/suspended");
        printf("DM_SUSPENDED=%s\n", suspended && suspended[0] == '1' ? "1" : "0");
        free(suspended);

        /* The flags sit above the semaphore's part of the cookie. */
        if (cookie && cookie[0] && parse_u32(cookie, &flags) == 0) {
                flags >>= DM_UDEV_FLAGS_SHIFT;
                have_flags = true;
        } else if (saved && saved[0] && parse_u32(saved, &flags) == 0)
                have_flags = true;
        if (have_flags) {
                printf("DMBUS_COOKIE_FLAGS=%u\n", flags);
                for (size_t i = 0; i < sizeof(udev_flags) / sizeof(udev_flags[0]); i++)
                        if (flags & udev_flags[i].flag)
                                printf("%s=1\n", udev_flags[i].name);
        }
        return EXIT_SUCCESS;
}

/* Is a rule file other than ours installed that completes cookies? Same-named files in earlier
 * directories override later ones, and a mask (/dev/null, an empty file) disables one. */
static bool other_completer_installed(void) {
        static const char *const dirs[] = {
                "/etc/udev/rules.d", "/run/udev/rules.d", "/usr/local/lib/udev/rules.d",
                "/usr/lib/udev/rules.d", "/lib/udev/rules.d",
        };
        char seen[16][256];
        size_t n_seen = 0;

        for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
                DIR *dir = opendir(dirs[d]);
                struct dirent *de;

                if (!dir)
                        continue;
                while ((de = readdir(dir))) {
                        char path[512], buf[4096];
                        bool overridden = false;

                        if (fnmatch("*dm-notify*.rules", de->d_name, 0) != 0)
                                continue;
                        for (size_t i = 0; i < n_seen; i++)
                                overridden = overridden || strcmp(seen[i], de->d_name) == 0;
                        if (overridden)
                                continue;
                        if (n_seen < sizeof(seen) / sizeof(seen[0]))
                                snprintf(seen[n_seen++], sizeof(seen[0]), "%s", de->d_name);

                        snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
                        if (read_small_file(path, buf, sizeof(buf)) <= 0)
                                continue;
                        if (strstr(buf, "udevcomplete")) {
                                closedir(dir);
                                return true;
                        }
                }
                closedir(dir);
        }
        return false;
}

static int complete(int argc, char *argv[]) {
        struct sembuf dec = { .sem_num = 0, .sem_op = -1, .sem_flg = IPC_NOWAIT };
        unsigned cookie, base;
        int semid, value;

        if (argc < 1 || parse_u32(argv[0], &cookie) < 0) {
                fprintf(stderr, "dmbus-udev complete: DM_COOKIE expected\n");
                return EXIT_FAILURE;
        }
        /* No semaphore behind it: the caller does not wait (dmsetup --noudevsync). */
        base = cookie & ~(~0u << DM_UDEV_FLAGS_SHIFT);
        if (base == 0)
                return EXIT_SUCCESS;
        if (other_completer_installed())
                return EXIT_SUCCESS;

        semid = semget((key_t) (DM_COOKIE_MAGIC << DM_UDEV_FLAGS_SHIFT | base), 1, 0);
        if (semid < 0) {
                fprintf(stderr, "dmbus-udev: no semaphore for cookie 0x%x: %m\n", cookie);
                return EXIT_FAILURE;
        }
        value = semctl(semid, 0, GETVAL);
        if (value <= 0) {
                fprintf(stderr, "dmbus-udev: cookie 0x%x is already complete\n", cookie);
                return EXIT_SUCCESS;
        }
        if (semop(semid, &dec, 1) < 0) {
                fprintf(stderr, "dmbus-udev: cannot complete cookie 0x%x: %m\n", cookie);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        if (argc >= 2 && strcmp(argv[1], "info") == 0)
                return info(argc - 2, argv + 2);
        if (argc >= 2 && strcmp(argv[1], "complete") == 0)
                return complete(argc - 2, argv + 2);
        fprintf(stderr, "Usage: dmbus-udev info MAJOR MINOR cookie=[COOKIE] saved=[FLAGS]\n"
                        "       dmbus-udev complete COOKIE\n");
        return EXIT_FAILURE;
}
