/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/param.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "alloc-util.h"
#include "block-users.h"
#include "fileio.h"
#include "mountinfo.h"
#include "string-table.h"
#include "utf8-escape.h"

typedef struct UserList {
        BlockUser *users;
        size_t n, allocated;
        const dev_t *devnums;   /* sorted */
        size_t n_devnums;
} UserList;

static int devnum_compare(const void *a, const void *b) {
        dev_t x = *(const dev_t *) a, y = *(const dev_t *) b;

        return x < y ? -1 : x > y;
}

static bool wanted(const UserList *l, dev_t devnum) {
        return bsearch(&devnum, l->devnums, l->n_devnums, sizeof(dev_t), devnum_compare);
}

/* The strings as the bus and the log take them: a comm, a mount point or a DM name is any bytes. */
static int add_user(UserList *l, BlockUser user, const char *name, const char *dm_name) {
        if (GREEDY_REALLOC(l->users, l->allocated, l->n + 1) < 0)
                return -ENOMEM;
        user.name = utf8_escape_invalid(name);
        user.dm_name = dm_name ? utf8_escape_invalid(dm_name) : NULL;
        if (!user.name || (dm_name && !user.dm_name)) {
                free(user.name);
                free(user.dm_name);
                return -ENOMEM;
        }
        l->users[l->n++] = user;
        return 0;
}

void block_users_free(BlockUser *users, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(users[i].name);
                free(users[i].dm_name);
        }
        free(users);
}

/* A sysfs attribute's first line. */
static int read_line(const char *path, char *buf, size_t size) {
        ssize_t n = read_small_file(path, buf, size);

        if (n < 0)
                return (int) n;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static int scan_holders(UserList *l) {
        for (size_t i = 0; i < l->n_devnums; i++) {
                char path[PATH_MAX];
                struct dirent *de;
                DIR *d;
                int r = 0;

                snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders", major(l->devnums[i]), minor(l->devnums[i]));
                d = opendir(path);
                if (!d)
                        continue;
                while (r >= 0 && (de = readdir(d))) {
                        char dev[32], dm_name[256];
                        unsigned maj, min;

                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof(path), "/sys/class/block/%s/dev", de->d_name);
                        if (read_line(path, dev, sizeof(dev)) < 0 || sscanf(dev, "%u:%u", &maj, &min) != 2)
                                continue;
                        snprintf(path, sizeof(path), "/sys/class/block/%s/dm/name", de->d_name);
                        r = add_user(l, (BlockUser) { .devnum = l->devnums[i], .kind = BLOCK_USER_HOLDER, .holder = makedev(maj, min) },
                                     de->d_name, read_line(path, dm_name, sizeof(dm_name)) >= 0 ? dm_name : NULL);
                }
                closedir(d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_mount(unsigned maj, unsigned min, const char *mount_point, void *userdata) {
        UserList *l = userdata;

        if (!wanted(l, makedev(maj, min)))
                return 0;
        return add_user(l, (BlockUser) { .devnum = makedev(maj, min), .kind = BLOCK_USER_MOUNT }, mount_point, NULL);
}

/* The mounts as the machine has them (PID 1's namespace), not as our sandbox shows them (no /home,
 * a /tmp of our own); our own when PID 1's may not be read. */
static int scan_mounts(UserList *l) {
        int r = mountinfo_for_each("/proc/1/mountinfo", add_mount, l);

        if (r == -EACCES || r == -EPERM || r == -ENOENT)
                r = mountinfo_for_each("/proc/self/mountinfo", add_mount, l);
        return r < 0 && r != -ENOMEM ? 0 : r;
}

static int scan_swaps(UserList *l) {
        _cleanup_(freep) char *line = NULL;
        size_t size = 0;
        FILE *f;
        int r = 0;

        f = fopen("/proc/swaps", "re");
        if (!f)
                return 0;
        /* "Filename Type Size Used Priority", after a header line; a swap file is used through
         * its filesystem's mount, which is listed already. */
        while (r >= 0 && getline(&line, &size, f) > 0) {
                char *type;
                struct stat st;

                line[strcspn(line, "\n")] = 0;
                type = strpbrk(line, " \t");
                if (!type)
                        continue;
                *type++ = 0;
                type += strspn(type, " \t");
                if (strncmp(type, "partition", 9) != 0)
                        continue;
                unescape_octal(line);
                if (stat(line, &st) < 0 || !S_ISBLK(st.st_mode) || !wanted(l, st.st_rdev))
                        continue;
                r = add_user(l, (BlockUser) { .devnum = st.st_rdev, .kind = BLOCK_USER_SWAP }, line, NULL);
        }
        fclose(f);
        return r;
}

static bool already_listed(const UserList *l, size_t first, dev_t devnum) {
        for (size_t i = first; i < l->n; i++)
                if (l->users[i].devnum == devnum)
                        return true;
        return false;
}

static int scan_process(UserList *l, int proc_fd, const char *pid_name) {
        char comm[64] = "";
        size_t first = l->n;
        struct stat st;
        struct dirent *de;
        DIR *fds;
        int pid_fd, fd_dir, r = 0;

        pid_fd = openat(proc_fd, pid_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pid_fd < 0)
                return 0;
        fd_dir = openat(pid_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_dir < 0 || fstat(pid_fd, &st) < 0 || !(fds = fdopendir(fd_dir))) {
                if (fd_dir >= 0)
                        close(fd_dir);
                close(pid_fd);
                return 0;
        }
        while (r >= 0 && (de = readdir(fds))) {
                struct statx stx;
                dev_t rdev;

                if (de->d_name[0] == '.')
                        continue;
                if (statx(fd_dir, de->d_name, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0 ||
                    !S_ISBLK(stx.stx_mode))
                        continue;
                rdev = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
                if (!wanted(l, rdev) || already_listed(l, first, rdev))
                        continue;
                if (!comm[0]) {
                        int comm_fd = openat(pid_fd, "comm", O_RDONLY | O_CLOEXEC);
                        ssize_t n = comm_fd < 0 ? -1 : read(comm_fd, comm, sizeof(comm) - 1);

                        if (comm_fd >= 0)
                                close(comm_fd);
                        comm[n > 0 ? n : 0] = 0;
                        comm[strcspn(comm, "\n")] = 0;
                }
                r = add_user(l, (BlockUser) { .devnum = rdev, .kind = BLOCK_USER_PROCESS, .pid = atoi(pid_name), .uid = st.st_uid },
                             comm, NULL);
        }
        closedir(fds);
        close(pid_fd);
        return r;
}

static int scan_processes(UserList *l) {
        struct dirent *de;
        DIR *proc;
        int r = 0;

        proc = opendir("/proc");
        if (!proc)
                return 0;
        while (r >= 0 && (de = readdir(proc)))
                if (isdigit((unsigned char) de->d_name[0]))
                        r = scan_process(l, dirfd(proc), de->d_name);
        closedir(proc);
        return r;
}

int block_users_scan(const dev_t *devnums, size_t n_devnums, BlockUser **ret, size_t *ret_n) {
        _cleanup_(freep) dev_t *sorted = NULL;
        UserList l = {};
        int r;

        assert(devnums || n_devnums == 0);
        assert(ret);
        assert(ret_n);

        sorted = malloc(MAX(n_devnums, (size_t) 1) * sizeof(dev_t));
        if (!sorted)
                return -ENOMEM;
        memcpy(sorted, devnums, n_devnums * sizeof(dev_t));
        qsort(sorted, n_devnums, sizeof(dev_t), devnum_compare);
        l.devnums = sorted;
        l.n_devnums = n_devnums;

        r = scan_holders(&l);
        if (r >= 0)
                r = scan_mounts(&l);
        if (r >= 0)
                r = scan_swaps(&l);
        if (r >= 0)
                r = scan_processes(&l);
        if (r < 0) {
                block_users_free(l.users, l.n);
                return r;
        }
        *ret = l.users;
        *ret_n = l.n;
        return 0;
}

static const char *const block_user_kind_table[_BLOCK_USER_KIND_MAX] = {
        [BLOCK_USER_HOLDER] = "holder",
        [BLOCK_USER_MOUNT] = "mount",
        [BLOCK_USER_SWAP] = "swap",
        [BLOCK_USER_PROCESS] = "process",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(block_user_kind, BlockUserKind);

bool block_user_visible_to(const BlockUser *user, uid_t viewer) {
        assert(user);

        return user->kind != BLOCK_USER_PROCESS || viewer == 0 || user->uid == viewer;
}

char *block_user_describe(const BlockUser *user, uid_t viewer) {
        char *s = NULL;
        int r = -1;

        assert(user);

        switch (user->kind) {
        case BLOCK_USER_HOLDER:
                r = user->dm_name ? asprintf(&s, "held by \"%s\" (%s)", user->dm_name, user->name)
                                  : asprintf(&s, "held by %s", user->name);
                break;
        case BLOCK_USER_MOUNT:
                r = asprintf(&s, "mounted on %s", user->name);
                break;
        case BLOCK_USER_SWAP:
                r = asprintf(&s, "used as swap");
                break;
        case BLOCK_USER_PROCESS:
                r = block_user_visible_to(user, viewer) ? asprintf(&s, "held open by pid %d (%s)", (int) user->pid, user->name)
                                                        : asprintf(&s, "held open by a process of another user");
                break;
        default:
                break;
        }
        return r < 0 ? NULL : s;
}
