/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include "dm-ioctl.h"

int dm_control_open(void) {
        int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

void dm_ioctl_init(struct dm_ioctl *io, size_t size, dev_t devnum) {
        assert(io);
        assert(size >= sizeof(struct dm_ioctl));

        memset(io, 0, size);
        io->version[0] = DM_VERSION_MAJOR;
        io->data_size = size;
        io->data_start = DM_ALIGN8(sizeof(struct dm_ioctl));
        /* With no name and no UUID, the kernel finds the device by this. */
        io->dev = makedev(major(devnum), minor(devnum));
}

struct dm_ioctl *dm_ioctl_new(size_t size, dev_t devnum) {
        struct dm_ioctl *io;

        size = DM_ALIGN8(size < sizeof(struct dm_ioctl) ? sizeof(struct dm_ioctl) : size);
        io = malloc(size);
        if (io)
                dm_ioctl_init(io, size, devnum);
        return io;
}

void dm_ioctl_freep(struct dm_ioctl **io) {
        assert(io);

        if (!*io)
                return;
        /* Not data_size: the kernel sets that to what it wrote back, the header alone after a
         * table load, while the table is still in the buffer behind it. */
        explicit_bzero(*io, malloc_usable_size(*io));
        free(*io);
}

int dm_ioctl_run(int fd, unsigned long request, struct dm_ioctl *io) {
        assert(fd >= 0);
        assert(io);

        return ioctl(fd, request, io) < 0 ? -errno : 0;
}
