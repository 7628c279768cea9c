/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "alloc-util.h"
#include "doctor-scan.h"
#include "time-util.h"
#include "utf8-escape.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);
DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);

typedef struct Links {
        DoctorLink *items;
        size_t n, allocated;
} Links;

static int add_link(Links *l, const char *dir, const char *name) {
        char path[PATH_MAX], target[PATH_MAX];
        const char *base;
        struct stat st;
        ssize_t k;

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
                return 0;
        k = readlink(path, target, sizeof(target) - 1);
        if (k < 0)
                return 0;       /* not a link (control), or gone meanwhile */
        target[k] = 0;
        if (GREEDY_REALLOC(l->items, l->allocated, l->n + 1) < 0)
                return -ENOMEM;
        DoctorLink *link = &l->items[l->n];
        /* A name in /dev may hold any bytes: the bus takes UTF-8 alone. */
        *link = (DoctorLink) { .path = utf8_escape_invalid(path) };
        if (!link->path)
                return -ENOMEM;
        l->n++;
        if (stat(path, &st) >= 0 && S_ISBLK(st.st_mode))
                link->target = st.st_rdev;
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        link->target_dm = sscanf(base, "dm-%u", &link->target_minor) == 1;
        return 0;
}

static int scan_dir(Links *l, const char *dir, const char *const *prefixes) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        int r;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                bool wanted = !prefixes;

                if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
                        continue;
                for (const char *const *p = prefixes; p && *p; p++)
                        wanted = wanted || strncmp(de->d_name, *p, strlen(*p)) == 0;
                if (!wanted)
                        continue;
                r = add_link(l, dir, de->d_name);
                if (r < 0)
                        return r;
        }
        return 0;
}

int doctor_scan_links(DoctorLink **ret, size_t *ret_n) {
        static const char *const by_id[] = { "dm-name-", "dm-uuid-", NULL };
        Links l = {};
        int r;

        r = scan_dir(&l, "/dev/mapper", NULL);
        if (r >= 0)
                r = scan_dir(&l, "/dev/disk/by-id", by_id);
        if (r < 0) {
                doctor_links_free(l.items, l.n);
                return r;
        }
        *ret = l.items;
        *ret_n = l.n;
        return 0;
}

void doctor_links_free(DoctorLink *links, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(links[i].path);
        free(links);
}

int doctor_scan_udev(UdevSysfs *u, unsigned minor, DoctorDevice *d) {
        UdevDmEntry entry;
        int r;

        r = udev_sysfs_read_dm_entry(u, minor, &entry);
        if (r < 0)
                return r;
        d->udev_entry = entry.initialized;
        d->udev_primary = entry.initialized && entry.primary_source;
        d->udev_no_dm_links = entry.no_dm_links;
        d->udev_no_disk_links = entry.no_disk_links;
        return 0;
}

uint64_t doctor_scan_created(dev_t devnum) {
        char path[64];
        struct stat st;

        /* devtmpfs's node, which udev does not make. */
        snprintf(path, sizeof(path), "/dev/dm-%u", minor(devnum));
        if (stat(path, &st) < 0)
                return 0;
        return (uint64_t) st.st_ctim.tv_sec * UINT64_C(1000000) + (uint64_t) st.st_ctim.tv_nsec / 1000;
}

unsigned doctor_scan_dm_major(void) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/devices", "re");
        char line[128], name[64];
        unsigned major;

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "%u %63s", &major, name) == 2 && strcmp(name, "device-mapper") == 0)
                        return major;
        return 0;
}

bool doctor_scan_udev_busy(void) {
        return access("/run/udev/queue", F_OK) >= 0;
}

/* udev's database entry of the device: written whole at each event it processes, removed with it. */
static void udev_entry_path(dev_t devnum, char buf[static 64]) {
        snprintf(buf, 64, "/run/udev/data/b%u:%u", major(devnum), minor(devnum));
}

int doctor_wait_udev_entry(dev_t devnum, uint64_t since, uint64_t timeout_usec) {
        uint64_t deadline = realtime_usec() + timeout_usec;
        char path[64];

        udev_entry_path(devnum, path);
        for (;;) {
                struct stat st;

                if (stat(path, &st) >= 0 &&
                    (uint64_t) st.st_mtim.tv_sec * UINT64_C(1000000) + (uint64_t) st.st_mtim.tv_nsec / 1000 >= since)
                        return 0;
                if (realtime_usec() >= deadline)
                        return -ETIMEDOUT;
                (void) usleep(20 * 1000);
        }
}

int doctor_wait_udev_entry_gone(dev_t devnum, uint64_t timeout_usec) {
        uint64_t deadline = realtime_usec() + timeout_usec;
        char path[64];

        udev_entry_path(devnum, path);
        while (access(path, F_OK) >= 0) {
                if (realtime_usec() >= deadline)
                        return -ETIMEDOUT;
                (void) usleep(20 * 1000);
        }
        return 0;
}

int doctor_wait_udev_idle(uint64_t timeout_usec) {
        uint64_t deadline = realtime_usec() + timeout_usec;

        while (doctor_scan_udev_busy()) {
                if (realtime_usec() >= deadline)
                        return -ETIMEDOUT;
                (void) usleep(20 * 1000);
        }
        return 0;
}

int doctor_reannounce(dev_t devnum) {
        char path[64], line[96];
        int fd, r = 0;

        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(devnum), minor(devnum));
        /* The kernel takes letters and digits alone in an argument's key and value. */
        snprintf(line, sizeof(line), "change %08x-0000-4000-8000-%012x DMBUS=reannounce", (unsigned) getpid(), minor(devnum));
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, line, strlen(line)) < 0)
                r = -errno;
        close(fd);
        return r;
}
