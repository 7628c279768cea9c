/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "alloc-util.h"
#include "dm-ioctl.h"
#include "dm-kernel.h"
#include "health.h"
#include "log.h"
#include "secret-mask.h"
#include "utf8-escape.h"

_printf_(5, 6)
static void dm_kernel_log(int level, const char *file, int line, int dm_errno, const char *format, ...) {
        char message[1024];
        va_list ap;

        /* libdevmapper is a library: what it says is for debugging; our callers get the errno and
         * say what failed, once. Its own debug output can quote whole tables, which may hold keys,
         * so only its warnings and errors get through. Its levels are syslog's, with flags above. */
        if ((level & LOG_PRIMASK) > LOG_NOTICE || log_get_max_level() < LOG_DEBUG)
                return;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        log_debug_errno(dm_errno > 0 ? dm_errno : 0, "libdevmapper: %s", message);
}

struct DmKernel {
        int control_fd;
        struct dm_ioctl *list_buffer;   /* kept: LIST runs after every DM event */
        size_t list_buffer_size;
        struct dm_ioctl *query_buffer;  /* kept for the TABLE, STATUS and DEPS of every reading */
        size_t query_buffer_size;
        size_t query_size;              /* what the last ioctl was given */
};

/* The buffer may hold a table's key. */
static void query_buffer_wipe(DmKernel *k) {
        if (k->query_buffer)
                explicit_bzero(k->query_buffer, k->query_size);
}

int dm_kernel_new(DmKernel **ret) {
        _cleanup_(dm_kernel_freep) DmKernel *k = NULL;

        dm_log_with_errno_init(dm_kernel_log);
        dm_set_name_mangling_mode(DM_STRING_MANGLING_NONE);
        dm_udev_set_sync_support(0);
        dm_udev_set_checking(0);

        assert(ret);

        k = calloc(1, sizeof(DmKernel));
        if (!k)
                return -ENOMEM;
        k->control_fd = dm_control_open();
        if (k->control_fd < 0)
                return k->control_fd;
        *ret = TAKE_PTR(k);
        return 0;
}

DmKernel *dm_kernel_free(DmKernel *k) {
        if (!k)
                return NULL;
        if (k->control_fd >= 0)
                close(k->control_fd);
        free(k->list_buffer);
        query_buffer_wipe(k);
        free(k->query_buffer);
        return mfree(k);
}

int dm_kernel_get_versions(char **ret_driver, char **ret_library) {
        char driver[64], library[64];
        char *d, *l;

        assert(ret_driver);
        assert(ret_library);

        if (!dm_driver_version(driver, sizeof(driver)))
                return -ENODEV;
        if (!dm_get_library_version(library, sizeof(library)))
                return -EIO;

        d = strdup(driver);
        l = strdup(library);
        if (!d || !l) {
                free(d);
                free(l);
                return -ENOMEM;
        }

        *ret_driver = d;
        *ret_library = l;
        return 0;
}

bool dm_kernel_is_dm_major(unsigned major) {
        return dm_is_dm_major(major);
}

int dm_kernel_control_fd(DmKernel *k) {
        assert(k);

        return k->control_fd;
}

int dm_kernel_arm_poll(DmKernel *k) {
        struct dm_ioctl io;

        assert(k);

        /* On our own fd: the event is per open file, and libdevmapper's fd is its own. */
        dm_ioctl_init(&io, sizeof(io), 0);
        return dm_ioctl_run(k->control_fd, DM_DEV_ARM_POLL, &io);
}

void dm_list_free(DmListEntry *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(list[i].name);
        free(list);
}

/* DM_LIST_DEVICES and DM_LIST_VERSIONS on our own control fd and buffer, not through libdevmapper:
 * a buffer-full answer makes libdevmapper double its buffer for every later ioctl of the process,
 * so a long list would make each per-device ioctl copy it all (O(N²) over a scan). */
static int list_ioctl(DmKernel *k, unsigned long request, struct dm_ioctl **ret) {
        for (;;) {
                int r;

                if (!k->list_buffer) {
                        k->list_buffer_size = k->list_buffer_size ?: 16 * 1024;
                        k->list_buffer = malloc(k->list_buffer_size);
                        if (!k->list_buffer)
                                return -ENOMEM;
                }
                dm_ioctl_init(k->list_buffer, k->list_buffer_size, 0);
                r = dm_ioctl_run(k->control_fd, request, k->list_buffer);
                if (r < 0)
                        return r;
                if (!(k->list_buffer->flags & DM_BUFFER_FULL_FLAG)) {
                        *ret = k->list_buffer;
                        return 0;
                }
                k->list_buffer = mfree(k->list_buffer);
                k->list_buffer_size *= 2;
        }
}

/* One dm_name_list entry, with the event counter that follows its name since driver 4.37. */
static int list_entry_read(const struct dm_name_list *nl, const char *end, DmListEntry *ret) {
        size_t name_len = strnlen(nl->name, end - nl->name);
        const uint32_t *event = (const uint32_t *) DM_ALIGN8((uintptr_t) (nl->name + name_len + 1));

        if (nl->name + name_len >= end || (const char *) (event + 2) > end)
                return -EBADMSG;
        *ret = (DmListEntry) {
                .devnum = makedev(major(nl->dev), minor(nl->dev)),
                .event_nr = event[0],
                .name = utf8_escape_invalid(nl->name),
        };
        return ret->name ? 0 : -ENOMEM;
}

int dm_kernel_list(DmKernel *k, DmListEntry **ret, size_t *ret_n) {
        DmListEntry *list = NULL;
        struct dm_ioctl *io = NULL;
        const struct dm_name_list *nl;
        const char *end;
        size_t n = 0, allocated = 0;
        uint32_t next;
        int r;

        assert(k);
        assert(ret);
        assert(ret_n);

        r = list_ioctl(k, DM_LIST_DEVICES, &io);
        if (r < 0)
                return r;

        nl = dm_ioctl_payload(io);
        end = (const char *) io + io->data_size;
        if (io->data_size > io->data_start && nl->dev != 0)
                do {
                        if (GREEDY_REALLOC(list, allocated, n + 1) < 0)
                                r = -ENOMEM;
                        else
                                r = list_entry_read(nl, end, &list[n]);
                        if (r < 0) {
                                dm_list_free(list, n);
                                return r;
                        }
                        n++;
                        next = nl->next;
                        nl = (const struct dm_name_list *) ((const char *) nl + next);
                } while (next);

        *ret = list;
        *ret_n = n;
        return 0;
}

void dm_target_types_free(DmTargetType *types, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(types[i].name);
        free(types);
}

int dm_kernel_list_target_types(DmKernel *k, DmTargetType **ret, size_t *ret_n) {
        DmTargetType *types = NULL;
        struct dm_ioctl *io = NULL;
        size_t n = 0, allocated = 0, offset;
        const char *payload, *end;
        int r;

        assert(k);
        assert(ret);
        assert(ret_n);

        r = list_ioctl(k, DM_LIST_VERSIONS, &io);
        if (r < 0)
                return r;
        payload = dm_ioctl_payload(io);
        end = (const char *) io + io->data_size;
        for (offset = 0; io->data_size > io->data_start;) {
                const struct dm_target_versions *v = (const struct dm_target_versions *) (payload + offset);
                size_t name_len;

                if ((const char *) v->name >= end || (name_len = strnlen(v->name, end - v->name)) == (size_t) (end - v->name)) {
                        dm_target_types_free(types, n);
                        return -EBADMSG;
                }
                if (GREEDY_REALLOC(types, allocated, n + 1) < 0) {
                        dm_target_types_free(types, n);
                        return -ENOMEM;
                }
                types[n] = (DmTargetType) {
                        .name = utf8_escape_invalid(v->name),
                        .version = { v->version[0], v->version[1], v->version[2] },
                };
                if (!types[n++].name) {
                        dm_target_types_free(types, n);
                        return -ENOMEM;
                }
                if (v->next == 0)
                        break;
                offset += v->next;
        }
        *ret = types;
        *ret_n = n;
        return 0;
}

/* The targets of a TABLE_STATUS answer, masking keys in tables. The kernel fills target_type
 * with strncpy, leaving its last byte as it found it. */
static int read_targets(const struct dm_ioctl *io, bool mask, DmTarget **ret, size_t *ret_n) {
        const char *payload = (const char *) io + io->data_start, *end = (const char *) io + io->data_size;
        DmTarget *targets = NULL;
        size_t offset = 0, n = 0;

        if (io->target_count > 0) {
                targets = calloc(io->target_count, sizeof(DmTarget));
                if (!targets)
                        return -ENOMEM;
        }
        for (; n < io->target_count; n++) {
                const struct dm_target_spec *spec = (const struct dm_target_spec *) (payload + offset);
                const char *params = (const char *) (spec + 1);

                if (offset % 8 != 0 || (const char *) (spec + 1) > end || strnlen(params, end - params) == (size_t) (end - params)) {
                        dm_targets_free(targets, n);
                        return -EBADMSG;
                }
                /* Parameters are whatever bytes a table was loaded with (dmsetup passes them on):
                 * escaped, as names are, so that every reply stays valid on the bus. */
                _cleanup_(freep) char *masked = mask ? secret_mask_params(spec->target_type, params) : NULL;
                char type[sizeof(spec->target_type)];

                memcpy(type, spec->target_type, sizeof(type) - 1);
                type[sizeof(type) - 1] = 0;
                targets[n] = (DmTarget) {
                        .start = spec->sector_start,
                        .length = spec->length,
                        .type = utf8_escape_invalid(type),
                        .params = mask && !masked ? NULL : utf8_escape_invalid(masked ?: params),
                };
                if (!targets[n].type || !targets[n].params) {
                        dm_targets_free(targets, n + 1);
                        return -ENOMEM;
                }
                offset = spec->next;
        }

        *ret = targets;
        *ret_n = n;
        return 0;
}

static DmInfo info_from_ioctl(const struct dm_ioctl *io) {
        return (DmInfo) {
                .suspended = io->flags & DM_SUSPEND_FLAG,
                .live_table = io->flags & DM_ACTIVE_PRESENT_FLAG,
                .inactive_table = io->flags & DM_INACTIVE_PRESENT_FLAG,
                .read_only = io->flags & DM_READONLY_FLAG,
                .deferred_remove = io->flags & DM_DEFERRED_REMOVE,
                .open_count = io->open_count,
                .event_nr = io->event_nr,
                .target_count = io->target_count,
        };
}

/* DM_DEV_STATUS with no payload, on a buffer on the stack: the sweep runs it for every DM device. */
int dm_kernel_info(DmKernel *k, dev_t devnum, DmInfo *ret) {
        struct dm_ioctl io;
        int r;

        assert(k);
        assert(ret);

        dm_ioctl_init(&io, sizeof(io), devnum);
        r = dm_ioctl_run(k->control_fd, DM_DEV_STATUS, &io);
        if (r < 0)
                return r == -ENXIO || r == -ENODEV ? -ENXIO : r;
        *ret = info_from_ioctl(&io);
        return 0;
}

/* The kernel copies in all of the buffer it is given, and libdevmapper gives 16 KiB each time:
 * most tables fit in a small one, and a bigger table costs a retry. */
#define QUERY_BUFFER_FIRST 2048
#define QUERY_BUFFER_MAX (256 * 1024 * 1024)

/* One ioctl on devnum in k's query buffer, grown until the answer fits. -ENXIO when the device is
 * gone. */
static int query_ioctl(DmKernel *k, unsigned long request, uint32_t flags, dev_t devnum, struct dm_ioctl **ret) {
        size_t size = QUERY_BUFFER_FIRST;

        for (;;) {
                int r;

                if (size > k->query_buffer_size) {
                        query_buffer_wipe(k);
                        k->query_buffer = mfree(k->query_buffer);
                        k->query_buffer_size = 0;
                        k->query_buffer = malloc(size);
                        if (!k->query_buffer)
                                return -ENOMEM;
                        k->query_buffer_size = size;
                }
                k->query_size = size;
                dm_ioctl_init(k->query_buffer, size, devnum);
                k->query_buffer->flags = flags;
                r = dm_ioctl_run(k->control_fd, request, k->query_buffer);
                if (r < 0)
                        return r == -ENXIO || r == -ENODEV ? -ENXIO : r;
                if (!(k->query_buffer->flags & DM_BUFFER_FULL_FLAG)) {
                        *ret = k->query_buffer;
                        return 0;
                }
                if (size >= QUERY_BUFFER_MAX)
                        return -E2BIG;
                size *= 4;
        }
}

/* TABLE: name, UUID, the live table with its keys masked. */
static int read_table(DmKernel *k, dev_t devnum, DmDevice *dm, DmInfo *ret_info) {
        struct dm_ioctl *io;
        int r;

        r = query_ioctl(k, DM_TABLE_STATUS, DM_STATUS_TABLE_FLAG | DM_SECURE_DATA_FLAG | DM_SKIP_BDGET_FLAG, devnum, &io);
        if (r >= 0) {
                *ret_info = info_from_ioctl(io);
                /* The kernel's bytes, made fit for the bus and the log. */
                dm->name = utf8_escape_invalid(strndupa(io->name, sizeof(io->name) - 1));
                dm->uuid = utf8_escape_invalid(strndupa(io->uuid, sizeof(io->uuid) - 1));
                r = dm->name && dm->uuid ? read_targets(io, true, &dm->table, &dm->n_table) : -ENOMEM;
        }
        query_buffer_wipe(k);
        return r;
}

/* The inactive slot's table, its keys masked, as dmsetup table --inactive. */
static int read_inactive_table(DmKernel *k, dev_t devnum, DmDevice *dm) {
        struct dm_ioctl *io;
        int r;

        r = query_ioctl(k, DM_TABLE_STATUS,
                        DM_STATUS_TABLE_FLAG | DM_SECURE_DATA_FLAG | DM_SKIP_BDGET_FLAG | DM_QUERY_INACTIVE_TABLE_FLAG, devnum, &io);
        if (r >= 0)
                r = read_targets(io, true, &dm->inactive_table, &dm->n_inactive_table);
        query_buffer_wipe(k);
        return r;
}

/* STATUS, noflush: a thin-pool's status would otherwise commit metadata, which is block I/O we
 * never do. */
static int read_status_rows(DmKernel *k, dev_t devnum, DmDevice *dm) {
        struct dm_ioctl *io;
        int r;

        r = query_ioctl(k, DM_TABLE_STATUS, DM_NOFLUSH_FLAG | DM_SKIP_BDGET_FLAG, devnum, &io);
        if (r < 0)
                return r;
        dm->info = info_from_ioctl(io);
        return read_targets(io, false, &dm->status, &dm->n_status);
}

/* Whether a reload came between the TABLE and the STATUS reading: then they describe two tables. */
static bool table_and_status_disagree(const DmInfo *table_info, const DmDevice *dm) {
        if (table_info->event_nr != dm->info.event_nr || table_info->live_table != dm->info.live_table ||
            dm->n_table != dm->n_status)
                return true;
        for (size_t i = 0; i < dm->n_table; i++)
                if (strcmp(dm->table[i].type, dm->status[i].type) != 0 ||
                    dm->table[i].start != dm->status[i].start || dm->table[i].length != dm->status[i].length)
                        return true;
        return false;
}

static int read_deps(DmKernel *k, dev_t devnum, dev_t **ret, size_t *ret_n) {
        const struct dm_target_deps *deps;
        struct dm_ioctl *io;
        dev_t *devs = NULL;
        int r;

        r = query_ioctl(k, DM_TABLE_DEPS, DM_SKIP_BDGET_FLAG, devnum, &io);
        if (r < 0)
                return r;
        /* With no table the kernel writes nothing, and says so with a data_size of the header alone. */
        if (io->data_size <= io->data_start) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        deps = dm_ioctl_payload(io);
        if (io->data_size < io->data_start + sizeof(*deps) ||
            (io->data_size - io->data_start - sizeof(*deps)) / sizeof(deps->dev[0]) < deps->count)
                return -EBADMSG;
        if (deps->count > 0) {
                devs = malloc(deps->count * sizeof(dev_t));
                if (!devs)
                        return -ENOMEM;
                for (uint32_t i = 0; i < deps->count; i++)
                        devs[i] = makedev(major(deps->dev[i]), minor(deps->dev[i]));
        }
        *ret = devs;
        *ret_n = deps->count;
        return 0;
}

static int query_once(DmKernel *k, dev_t devnum, DmDevice **ret_dm, dev_t **ret_deps, size_t *ret_n_deps) {
        _cleanup_(dm_device_freep) DmDevice *dm = NULL;
        DmInfo table_info;
        int r;

        dm = calloc(1, sizeof(DmDevice));
        if (!dm)
                return -ENOMEM;
        r = read_table(k, devnum, dm, &table_info);
        if (r < 0)
                return r;
        /* The STATUS reading is the later one: take the state from it. */
        r = read_status_rows(k, devnum, dm);
        if (r < 0)
                return r;
        if (table_and_status_disagree(&table_info, dm))
                return -EAGAIN;
        if (dm->info.inactive_table) {
                r = read_inactive_table(k, devnum, dm);
                if (r < 0)
                        return r;
        }

        r = dm_device_read_status(dm);
        if (r < 0)
                return r;
        r = read_deps(k, devnum, ret_deps, ret_n_deps);
        if (r < 0)
                return r;

        *ret_dm = TAKE_PTR(dm);
        return 0;
}

int dm_kernel_query(DmKernel *k, dev_t devnum, DmDevice **ret_dm, dev_t **ret_deps, size_t *ret_n_deps) {
        int r = -EAGAIN;

        assert(k);
        assert(ret_dm);
        assert(ret_deps);
        assert(ret_n_deps);

        /* A table reloaded between the readings: read again. */
        for (unsigned attempt = 0; attempt < 5 && r == -EAGAIN; attempt++)
                r = query_once(k, devnum, ret_dm, ret_deps, ret_n_deps);
        return r;
}
