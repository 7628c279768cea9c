/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "dev-path.h"
#include "macro.h"

static void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

int dev_path_resolve(const char *path, dev_t *ret) {
        _cleanup_(closep) int dev_fd = -EBADF, fd = -EBADF;
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        struct stat st;

        assert(path);
        assert(ret);

        if (strncmp(path, "/dev/", 5) != 0 || path[5] == 0)
                return -EINVAL;
        dev_fd = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dev_fd < 0)
                return -errno;
        fd = (int) syscall(SYS_openat2, dev_fd, path + 5, &how, sizeof(how));
        if (fd < 0)
                /* EXDEV: it would leave /dev; ELOOP: through a magic link. */
                return errno == EXDEV || errno == ELOOP ? -EINVAL : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        *ret = st.st_rdev;
        return 0;
}
