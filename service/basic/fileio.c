/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fileio.h"

ssize_t read_small_file(const char *path, char *buf, size_t size) {
        ssize_t n;
        int fd;

        assert(path);
        assert(buf);
        assert(size > 0);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                n = -errno;
        close(fd);
        if (n >= 0)
                buf[n] = 0;
        return n;
}
