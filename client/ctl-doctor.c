/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include "alloc-util.h"
#include "ctl.h"

/* doctor: the service's Check, and libdevmapper's udev cookies that nothing completed; with
 * --repair, the service's Repair, and those cookies completed.
 *
 * The cookies are SysV semaphores of the host's IPC namespace, which dmbusd does not see: its unit
 * has PrivateIPC=yes, and keeps it, since seeing them would give the daemon every SysV object of
 * the machine for one rare check. dmbusctl runs in the caller's namespace: anyone sees that a
 * cookie exists and how old it is, and root may complete it, as `dmsetup udevcomplete` does. */

/* libdevmapper's cookies: the semaphore's key is this in its upper half. */
#define DM_COOKIE_MAGIC 0x0D4Du

typedef struct Cookie {
        int semid;
        unsigned key;
        long age_sec;
        int value;              /* the waiters' count; -1 when it cannot be read (not root) */
} Cookie;

/* Cookies older than max_age_sec, from /proc/sysvipc/sem. */
static int stale_cookies(long max_age_sec, Cookie **ret, size_t *ret_n) {
        FILE *f = fopen("/proc/sysvipc/sem", "re");
        Cookie *cookies = NULL;
        size_t n = 0;
        char line[256];
        time_t now = time(NULL);

        if (!f) {
                *ret = NULL;
                *ret_n = 0;
                return errno == ENOENT ? 0 : -errno;
        }
        while (fgets(line, sizeof(line), f)) {
                long key, otime, ctime_;
                int semid;
                Cookie *c;

                if (sscanf(line, "%ld %d %*o %*u %*u %*u %*u %*u %ld %ld", &key, &semid, &otime, &ctime_) != 4)
                        continue;       /* the header */
                if (((unsigned long) key >> 16) != DM_COOKIE_MAGIC)
                        continue;
                if (now - (otime > ctime_ ? otime : ctime_) <= max_age_sec)
                        continue;
                c = realloc(cookies, (n + 1) * sizeof(Cookie));
                if (!c) {
                        free(cookies);
                        fclose(f);
                        return -ENOMEM;
                }
                cookies = c;
                cookies[n++] = (Cookie) { .semid = semid, .key = (unsigned) key, .age_sec = now - (otime > ctime_ ? otime : ctime_),
                                          .value = semctl(semid, 0, GETVAL) };
        }
        fclose(f);
        *ret = cookies;
        *ret_n = n;
        return 0;
}

/* As libdevmapper's dm_udev_complete(): one waiter's share taken, which wakes whoever waits for
 * zero. One nobody waits on any more is removed, as `dmsetup udevcomplete_all` does. */
static int complete_cookie(const Cookie *c) {
        struct sembuf op = { .sem_num = 0, .sem_op = -1, .sem_flg = IPC_NOWAIT };

        if (c->value > 0)
                return semop(c->semid, &op, 1) < 0 ? -errno : 0;
        return semctl(c->semid, 0, IPC_RMID) < 0 ? -errno : 0;
}

/* Prints the service's problems; how many, or an exit code (negative). */
static int print_check(sd_bus *bus, uint32_t never_loaded_sec, unsigned *ret_repairable) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        unsigned n = 0, repairable = 0;
        int r;

        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "Check", &error, &reply, "a{sv}", 1,
                               "never-loaded-sec", "u", never_loaded_sec);
        if (r < 0)
                return -bus_error_exit(&error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(ossa{sv})");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "ossa{sv}")) > 0) {
                const char *object, *code, *sentence, *key;
                int can = 0;

                r = sd_bus_message_read(reply, "oss", &object, &code, &sentence);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                        r = sd_bus_message_read(reply, "s", &key);
                        if (r >= 0)
                                r = strcmp(key, "repairable") == 0 ? sd_bus_message_read(reply, "v", "b", &can)
                                                                   : sd_bus_message_skip(reply, "v");
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        break;
                printf("%-20s %s\n", code, sentence);
                n++;
                repairable += !!can;
        }
        if (r < 0)
                return -failure_exit(r, "cannot read the service's answer");
        *ret_repairable = repairable;
        return (int) n;
}

static void print_cookies(const Cookie *cookies, size_t n) {
        for (size_t i = 0; i < n; i++)
                printf("%-20s libdevmapper's udev cookie 0x%x (semaphore %d) has waited %ld s for udev, which never completed it: "
                       "a dmsetup, lvm2 or cryptsetup may hang on it. --repair as root completes it.\n",
                       "udev-cookie-stale", cookies[i].key, cookies[i].semid, cookies[i].age_sec);
}

static int parse_seconds(const char *value, const char *option, unsigned long *ret) {
        char *end;

        if (!value)
                return 0;
        errno = 0;
        *ret = strtoul(value, &end, 10);
        if (errno != 0 || end == value || *end || *ret > 86400)
                return usage_error("--%s takes seconds from 0 to 86400, not \"%s\"", option, value);
        return 0;
}

static int repair(sd_bus *bus, const Cookie *cookies, size_t n_cookies) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "Repair");
        if (r >= 0)
                r = sd_bus_message_append(m, "ao", 0);
        if (r >= 0)
                r = append_common_options(m);
        if (r < 0)
                return failure_exit(r, "cannot make the call");
        r = call_as_polkit_allows(bus, m, CTL_OPERATION_TIMEOUT_USEC, &reply);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n_cookies; i++) {
                if (geteuid() != 0) {
                        fprintf(stderr, "dmbusctl: cookie 0x%x is root's to complete: run dmbusctl doctor --repair as root.\n",
                                cookies[i].key);
                        continue;
                }
                r = complete_cookie(&cookies[i]);
                if (r < 0 && r != -EINVAL && r != -EIDRM)
                        fprintf(stderr, "dmbusctl: cannot complete cookie 0x%x: %s\n", cookies[i].key, strerror(-r));
        }
        return 0;
}

/* The service's problems and the stale cookies, printed: 0 or an exit code. */
static int examine(sd_bus *bus, unsigned long never_loaded, unsigned long cookie_age, unsigned *ret_problems, unsigned *ret_repairable,
                   Cookie **ret_cookies, size_t *ret_n_cookies) {
        int n, r;

        n = print_check(bus, (uint32_t) never_loaded, ret_repairable);
        if (n < 0)
                return -n;
        r = stale_cookies((long) cookie_age, ret_cookies, ret_n_cookies);
        if (r < 0)
                return failure_exit(r, "cannot read /proc/sysvipc/sem");
        print_cookies(*ret_cookies, *ret_n_cookies);
        *ret_problems = (unsigned) n;
        return 0;
}

int verb_doctor(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) Cookie *cookies = NULL;
        unsigned long never_loaded = 60, cookie_age = 60;
        unsigned problems = 0, repairable = 0;
        size_t n_cookies = 0;
        int r;

        r = parse_seconds(verb_call_value(call, "never-loaded-sec"), "never-loaded-sec", &never_loaded);
        if (r == 0)
                r = parse_seconds(verb_call_value(call, "cookie-age-sec"), "cookie-age-sec", &cookie_age);
        if (r == 0)
                r = bus_connect(&bus);
        if (r == 0)
                r = examine(bus, never_loaded, cookie_age, &problems, &repairable, &cookies, &n_cookies);
        if (r != 0)
                return r;
        if (verb_call_has(call, "repair") && (repairable > 0 || n_cookies > 0)) {
                r = repair(bus, cookies, n_cookies);
                if (r != 0)
                        return r;
                cookies = mfree(cookies);
                printf("Repaired. What is left:\n");
                r = examine(bus, never_loaded, cookie_age, &problems, &repairable, &cookies, &n_cookies);
                if (r != 0)
                        return r;
        } else if (problems == 0 && n_cookies == 0)
                printf("All is well: the kernel, udev's database and /dev agree.\n");
        return problems == 0 && n_cookies == 0 ? 0 : EXIT_FAILED;
}
