/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/sysmacros.h>
#include <time.h>

/* For its udev flag constants only: nothing here calls libdevmapper. */
#include <libdevmapper.h>

#include "dm-ioctl.h"
#include "dm-ops.h"
#include "utf8-escape.h"

/* libdevmapper's cookie flags, passed the way libdevmapper passes them when it keeps no udev
 * semaphore: in the upper half of event_nr, with no cookie below. Rules see an event that a
 * library call caused (primary source), with no library fallback to expect: udev makes the
 * links, and nobody waits on a semaphore. */
#define UDEV_COOKIE_FLAGS ((DM_UDEV_DISABLE_LIBRARY_FALLBACK | DM_UDEV_PRIMARY_SOURCE_FLAG) << DM_UDEV_FLAGS_SHIFT)

/* An ioctl buffer of size bytes on dev, by its UUID, or by its name when it has none. */
static struct dm_ioctl *device_ioctl_new(size_t size, const DmOpsDevice *dev) {
        struct dm_ioctl *io = dm_ioctl_new(size, 0);

        assert(dev);

        if (!io)
                return NULL;
        if (dev->uuid[0])
                memcpy(io->uuid, dev->uuid, sizeof(io->uuid) - 1);
        else
                memcpy(io->name, dev->name, sizeof(io->name) - 1);
        return io;
}

int dm_ops_create(int fd, const char *name, const char *uuid, DmOpsDevice *ret) {
        return dm_ops_create_at(fd, name, uuid, 0, ret);
}

int dm_ops_create_at(int fd, const char *name, const char *uuid, dev_t devnum, DmOpsDevice *ret) {
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = dm_ioctl_new(0, 0);
        int r;

        assert(ret);

        if (!io)
                return -ENOMEM;
        strncpy(io->name, name, sizeof(io->name) - 1);
        if (uuid)
                strncpy(io->uuid, uuid, sizeof(io->uuid) - 1);
        if (devnum != 0) {
                io->flags |= DM_PERSISTENT_DEV_FLAG;
                io->dev = devnum;
        }
        r = dm_ioctl_run(fd, DM_DEV_CREATE, io);
        if (r < 0)
                return r;
        *ret = (DmOpsDevice) { .devnum = makedev(major(io->dev), minor(io->dev)) };
        memcpy(ret->name, io->name, sizeof(ret->name) - 1);
        memcpy(ret->uuid, io->uuid, sizeof(ret->uuid) - 1);
        return 0;
}

void dm_ops_device_from_status(DmOpsDevice *ret, dev_t devnum, const DmOpsStatus *status) {
        *ret = (DmOpsDevice) { .devnum = devnum };
        memcpy(ret->name, status->name, sizeof(ret->name));
        memcpy(ret->uuid, status->uuid, sizeof(ret->uuid));
}

int dm_ops_load(int fd, const DmOpsDevice *dev, const DmTableRow *rows, size_t n_rows, bool read_only) {
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = NULL;
        size_t size = DM_ALIGN8(sizeof(struct dm_ioctl));
        char *p;

        for (size_t i = 0; i < n_rows; i++)
                size += DM_ALIGN8(sizeof(struct dm_target_spec) + strlen(rows[i].params) + 1);
        io = device_ioctl_new(size, dev);
        if (!io)
                return -ENOMEM;
        io->target_count = n_rows;
        /* Asks the kernel to wipe its copy of the table too. */
        io->flags = DM_SECURE_DATA_FLAG | (read_only ? DM_READONLY_FLAG : 0);

        /* Each spec, its NUL-terminated parameters, padding; "next" counts from this spec. */
        p = dm_ioctl_payload(io);
        for (size_t i = 0; i < n_rows; i++) {
                struct dm_target_spec *spec = (struct dm_target_spec *) p;
                size_t len = DM_ALIGN8(sizeof(*spec) + strlen(rows[i].params) + 1);

                spec->sector_start = rows[i].start;
                spec->length = rows[i].length;
                strncpy(spec->target_type, rows[i].type, sizeof(spec->target_type) - 1);
                strcpy((char *) (spec + 1), rows[i].params);
                spec->next = len;
                p += len;
        }
        return dm_ioctl_run(fd, DM_TABLE_LOAD, io);
}

/* An ioctl on one device that carries nothing but flags and event_nr. */
static int device_flags_ioctl(int fd, unsigned long request, const DmOpsDevice *dev, uint32_t flags, uint32_t event_nr,
                              DmOpsResult *ret) {
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = device_ioctl_new(0, dev);
        int r;

        if (!io)
                return -ENOMEM;
        io->flags = flags;
        io->event_nr = event_nr;
        r = dm_ioctl_run(fd, request, io);
        if (r < 0)
                return r;
        if (ret)
                *ret = (DmOpsResult) {
                        .uevent = io->flags & DM_UEVENT_GENERATED_FLAG,
                        .deferred = request == DM_DEV_REMOVE && (io->flags & DM_DEFERRED_REMOVE),
                };
        return 0;
}

int dm_ops_clear(int fd, const DmOpsDevice *dev) {
        return device_flags_ioctl(fd, DM_TABLE_CLEAR, dev, 0, 0, NULL);
}

int dm_ops_suspend(int fd, const DmOpsDevice *dev, bool noflush, bool nolockfs) {
        return device_flags_ioctl(fd, DM_DEV_SUSPEND, dev,
                      DM_SUSPEND_FLAG | (noflush ? DM_NOFLUSH_FLAG : 0) | (nolockfs ? DM_SKIP_LOCKFS_FLAG : 0), 0, NULL);
}

int dm_ops_resume(int fd, const DmOpsDevice *dev, bool noflush, DmOpsResult *ret) {
        return device_flags_ioctl(fd, DM_DEV_SUSPEND, dev, noflush ? DM_NOFLUSH_FLAG : 0, UDEV_COOKIE_FLAGS, ret);
}

int dm_ops_remove(int fd, const DmOpsDevice *dev, bool deferred, DmOpsResult *ret) {
        return device_flags_ioctl(fd, DM_DEV_REMOVE, dev, deferred ? DM_DEFERRED_REMOVE : 0, UDEV_COOKIE_FLAGS, ret);
}

static void sleep_msec(unsigned msec) {
        struct timespec ts = { .tv_sec = msec / 1000, .tv_nsec = (long) (msec % 1000) * 1000000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int dm_ops_remove_retrying(int fd, const DmOpsDevice *dev, bool deferred, unsigned attempts, const atomic_bool *cancel,
                           DmOpsResult *ret) {
        int r;

        for (unsigned i = 1;; i++) {
                r = dm_ops_remove(fd, dev, deferred, ret);
                if (r != -EBUSY || i >= attempts)
                        return r;
                sleep_msec(DM_OPS_REMOVE_RETRY_INTERVAL_MSEC);
                if (cancel && atomic_load(cancel))
                        return -ECANCELED;
        }
}

int dm_ops_status(int fd, dev_t devnum, DmOpsStatus *ret) {
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = dm_ioctl_new(0, devnum);
        int r;

        assert(ret);

        if (!io)
                return -ENOMEM;
        r = dm_ioctl_run(fd, DM_DEV_STATUS, io);
        if (r < 0)
                return r;
        *ret = (DmOpsStatus) {
                .suspended = io->flags & DM_SUSPEND_FLAG,
                .live_table = io->flags & DM_ACTIVE_PRESENT_FLAG,
                .inactive_table = io->flags & DM_INACTIVE_PRESENT_FLAG,
                .open_count = io->open_count,
        };
        memcpy(ret->name, io->name, sizeof(ret->name) - 1);
        memcpy(ret->uuid, io->uuid, sizeof(ret->uuid) - 1);
        return 0;
}

int dm_ops_status_is(const DmOpsStatus *status, const char *name, const char *uuid) {
        _cleanup_(freep) char *escaped_name = utf8_escape_invalid(status->name);
        _cleanup_(freep) char *escaped_uuid = utf8_escape_invalid(status->uuid);

        assert(name);
        assert(uuid);

        if (!escaped_name || !escaped_uuid)
                return -ENOMEM;
        return strcmp(escaped_name, name) == 0 && strcmp(escaped_uuid, uuid) == 0;
}

/* DM_DEV_RENAME finds the device by its current name and takes the new name, or with
 * DM_UUID_FLAG the new UUID, as a string in the data area. */
static int rename_to(int fd, const DmOpsDevice *dev, const char *value, bool is_uuid, DmOpsResult *ret) {
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = NULL;
        int r;

        io = dm_ioctl_new(DM_ALIGN8(sizeof(struct dm_ioctl)) + strlen(value) + 1, 0);
        if (!io)
                return -ENOMEM;
        memcpy(io->name, dev->name, sizeof(io->name) - 1);
        strcpy(dm_ioctl_payload(io), value);
        io->flags = is_uuid ? DM_UUID_FLAG : 0;
        io->event_nr = UDEV_COOKIE_FLAGS;
        r = dm_ioctl_run(fd, DM_DEV_RENAME, io);
        if (r < 0)
                return r;
        *ret = (DmOpsResult) { .uevent = io->flags & DM_UEVENT_GENERATED_FLAG };
        return 0;
}

int dm_ops_rename(int fd, const DmOpsDevice *dev, const char *new_name, DmOpsResult *ret) {
        return rename_to(fd, dev, new_name, false, ret);
}

int dm_ops_set_uuid(int fd, const DmOpsDevice *dev, const char *uuid, DmOpsResult *ret) {
        return rename_to(fd, dev, uuid, true, ret);
}

/* Big enough for any reply we know of (stats lists included): a message cannot be sent twice to
 * fetch a longer one, as its effect (create_thin) would happen twice. */
#define MESSAGE_REPLY_MAX (256 * 1024)

int dm_ops_message(int fd, const DmOpsDevice *dev, uint64_t sector, const char *message, char **ret_reply) {
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = NULL;
        struct dm_target_msg *msg;
        size_t size = DM_ALIGN8(sizeof(struct dm_ioctl)) + sizeof(*msg) + strlen(message) + 1;
        int r;

        io = device_ioctl_new(MAX(size, (size_t) MESSAGE_REPLY_MAX), dev);
        if (!io)
                return -ENOMEM;
        io->flags = DM_SECURE_DATA_FLAG;
        msg = (struct dm_target_msg *) (dm_ioctl_payload(io));
        msg->sector = sector;
        strcpy(msg->message, message);
        r = dm_ioctl_run(fd, DM_TARGET_MSG, io);
        if (r < 0)
                return r;
        if (io->flags & DM_BUFFER_FULL_FLAG)
                return -ENOBUFS;
        *ret_reply = strdup(io->flags & DM_DATA_OUT_FLAG ? dm_ioctl_payload(io) : "");
        return *ret_reply ? 0 : -ENOMEM;
}

int dm_ops_target_type_check(int fd, const char *type) {
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = dm_ioctl_new(4096, 0);
        int r;

        if (!io)
                return -ENOMEM;
        strncpy(io->name, type, sizeof(io->name) - 1);
        r = dm_ioctl_run(fd, DM_GET_TARGET_VERSION, io);
        if (r == -EINVAL)
                return -ENOENT;
        /* Before driver 4.41 there is no asking: the table load will tell. */
        if (r == -ENOTTY)
                return 0;
        return r;
}

int dm_ops_live_table_is_error(int fd, const DmOpsDevice *dev) {
        /* The error table a forced remove loads is one row, of no parameters: a small buffer holds
         * it, and a table that does not fit is not it. The table may hold a key: the kernel wipes
         * its copy (DM_SECURE_DATA_FLAG), dm_ioctl_freep() ours. */
        _cleanup_(dm_ioctl_freep) struct dm_ioctl *io = device_ioctl_new(4096, dev);
        const char *payload, *end;
        size_t offset = 0;
        int r;

        if (!io)
                return -ENOMEM;
        io->flags = DM_STATUS_TABLE_FLAG | DM_SECURE_DATA_FLAG;
        r = dm_ioctl_run(fd, DM_TABLE_STATUS, io);
        if (r < 0)
                return r;
        if ((io->flags & DM_BUFFER_FULL_FLAG) || !(io->flags & DM_ACTIVE_PRESENT_FLAG) || io->target_count == 0)
                return 0;
        payload = (const char *) io + io->data_start;
        end = (const char *) io + io->data_size;
        for (uint32_t i = 0; i < io->target_count; i++) {
                const struct dm_target_spec *spec = (const struct dm_target_spec *) (payload + offset);

                if (offset % 8 != 0 || (const char *) (spec + 1) > end)
                        return -EBADMSG;
                if (strncmp(spec->target_type, "error", sizeof(spec->target_type)) != 0)
                        return 0;
                offset = spec->next;
        }
        return 1;
}
