/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dmbus-udev: the small helper behind dmbus's udev rules, so that they need no dmsetup.
 *
 *   dmbus-udev info MAJOR MINOR cookie=[DM_COOKIE] saved=[DMBUS_COOKIE_FLAGS] reannounce=[SYNTH_ARG_DMBUS]
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
#include "macro.h"
#include "udev-info.h"

/* A sysfs attribute of the device, without its newline; NULL if it cannot be read. */
static char *read_attr(unsigned maj, unsigned min, const char *attr) {
        char path[128], buf[512];

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", maj, min, attr);
        if (read_small_file(path, buf, sizeof(buf)) < 0)
                return NULL;
        buf[strcspn(buf, "\n")] = 0;
        return strdup(buf);
}

static int info(int argc, char *argv[]) {
        _cleanup_(freep) char *name = NULL, *uuid = NULL, *suspended = NULL;
        unsigned maj, min;

        if (argc < 2 || udev_parse_u32(argv[0], &maj) < 0 || udev_parse_u32(argv[1], &min) < 0) {
                fprintf(stderr, "dmbus-udev info: MAJOR MINOR expected\n");
                return EXIT_FAILURE;
        }
        name = read_attr(maj, min, "dm/name");
        if (!name) {
                fprintf(stderr, "dmbus-udev: %u:%u is not a device-mapper device\n", maj, min);
                return EXIT_FAILURE;
        }
        uuid = read_attr(maj, min, "dm/uuid");
        suspended = read_attr(maj, min, "dm/suspended");
        return udev_info_print(stdout, name, uuid, suspended, argc - 2, argv + 2) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
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

        for (size_t d = 0; d < ELEMENTSOF(dirs); d++) {
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
                        if (n_seen < ELEMENTSOF(seen))
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

        if (argc < 1 || udev_parse_u32(argv[0], &cookie) < 0) {
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
        fprintf(stderr, "Usage: dmbus-udev info MAJOR MINOR cookie=[COOKIE] saved=[FLAGS] reannounce=[reannounce]\n"
                        "       dmbus-udev complete COOKIE\n");
        return EXIT_FAILURE;
}
