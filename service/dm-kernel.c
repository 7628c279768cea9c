/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libdevmapper.h>
#include <linux/dm-ioctl.h>

#include "dm-kernel.h"
#include "log.h"
#include "secret-mask.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_task *, dm_task_destroy);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_pool *, dm_pool_destroy);

_printf_(5, 6)
static void dm_kernel_log(int level, const char *file, int line, int dm_errno, const char *format, ...) {
        char message[1024];
        va_list ap;

        /* libdevmapper's debug output can quote whole tables; tables may hold keys, so only its
         * warnings and errors reach our log. Its levels are syslog's, with flags above. */
        level &= LOG_PRIMASK;
        if (level > LOG_NOTICE)
                return;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        /* A device that went away between an event and our reading is expected, not an error.
         * libdevmapper logs its ioctl failures without an errno, so look at the words. */
        if (strstr(message, strerror(ENXIO)))
                return;

        log_full_errno(level, dm_errno > 0 ? dm_errno : 0, "libdevmapper: %s", message);
}

struct DmKernel {
        int control_fd;
        void *list_buffer;
        size_t list_buffer_size;
};

int dm_kernel_new(DmKernel **ret) {
        _cleanup_(dm_kernel_freep) DmKernel *k = NULL;

        dm_log_with_errno_init(dm_kernel_log);
        dm_set_name_mangling_mode(DM_STRING_MANGLING_NONE);
        dm_udev_set_sync_support(0);
        dm_udev_set_checking(0);

        k = calloc(1, sizeof(DmKernel));
        if (!k)
                return log_oom();
        k->control_fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
        if (k->control_fd < 0)
                return log_error_errno(errno, "Cannot open /dev/mapper/control (is dm-mod loaded?): %m");
        *ret = TAKE_PTR(k);
        return 0;
}

DmKernel *dm_kernel_free(DmKernel *k) {
        if (!k)
                return NULL;
        if (k->control_fd >= 0)
                close(k->control_fd);
        free(k->list_buffer);
        return mfree(k);
}

int dm_kernel_get_versions(char **ret_driver, char **ret_library) {
        char driver[64], library[64];
        char *d, *l;

        if (!dm_driver_version(driver, sizeof(driver)))
                return log_error_errno(ENODEV, "Cannot reach the device-mapper driver (is dm-mod loaded and /dev/mapper/control there?).");
        if (!dm_get_library_version(library, sizeof(library)))
                return log_error_errno(EIO, "Cannot read libdevmapper's version.");

        d = strdup(driver);
        l = strdup(library);
        if (!d || !l) {
                free(d);
                free(l);
                return log_oom();
        }

        *ret_driver = d;
        *ret_library = l;
        return 0;
}

bool dm_kernel_is_dm_major(unsigned major) {
        return dm_is_dm_major(major);
}

int dm_kernel_event_fd(DmKernel *k) {
        return k->control_fd;
}

int dm_kernel_arm_poll(DmKernel *k) {
        struct dm_ioctl io = {
                .version = { DM_VERSION_MAJOR, 0, 0 },
                .data_size = sizeof(struct dm_ioctl),
                .data_start = sizeof(struct dm_ioctl),
        };

        /* On our own fd: the event is per open file, and libdevmapper's fd is its own. */
        if (ioctl(k->control_fd, DM_DEV_ARM_POLL, &io) < 0)
                return -errno;
        return 0;
}

/* A task on one device, selected by dev_t (never by name: names change under us). */
static int task_new(int type, dev_t devnum, struct dm_task **ret) {
        struct dm_task *dmt = dm_task_create(type);

        if (!dmt)
                return -ENOMEM;
        if (!dm_task_set_major_minor(dmt, major(devnum), minor(devnum), 0)) {
                dm_task_destroy(dmt);
                return -EINVAL;
        }
        *ret = dmt;
        return 0;
}

/* Runs the task; a device that is gone comes back as -ENXIO whichever way libdevmapper says so. */
static int task_run(struct dm_task *dmt, struct dm_info *ret_info) {
        struct dm_info info;

        if (!dm_task_run(dmt)) {
                int e = dm_task_get_errno(dmt);
                return e > 0 ? -e : -EIO;
        }
        if (!dm_task_get_info(dmt, &info))
                return -EIO;
        if (!info.exists)
                return -ENXIO;
        if (ret_info)
                *ret_info = info;
        return 0;
}

void dm_list_free(DmListEntry *list, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(list[i].name);
                free(list[i].uuid);
        }
        free(list);
}

static void *align8(const void *p) {
        return (void *) (((uintptr_t) p + 7) & ~(uintptr_t) 7);
}

/* DM_LIST_DEVICES on our own control fd and buffer, not through libdevmapper: a buffer-full answer
 * makes libdevmapper double its buffer for every later ioctl of the process, so a long list would
 * make each per-device ioctl copy it all (O(N²) over a scan). Ours also asks for UUIDs. */
static int list_ioctl(DmKernel *k, struct dm_ioctl **ret) {
        for (;;) {
                struct dm_ioctl *io;

                if (!k->list_buffer) {
                        k->list_buffer_size = 16 * 1024;
                        k->list_buffer = malloc(k->list_buffer_size);
                        if (!k->list_buffer)
                                return -ENOMEM;
                }
                io = k->list_buffer;
                *io = (struct dm_ioctl) {
                        .version = { DM_VERSION_MAJOR, 0, 0 },
                        .data_size = k->list_buffer_size,
                        .data_start = sizeof(struct dm_ioctl),
                        .flags = DM_UUID_FLAG,
                };
                if (ioctl(k->control_fd, DM_LIST_DEVICES, io) < 0)
                        return -errno;
                if (!(io->flags & DM_BUFFER_FULL_FLAG)) {
                        *ret = io;
                        return 0;
                }

                free(k->list_buffer);
                k->list_buffer_size *= 2;
                k->list_buffer = malloc(k->list_buffer_size);
                if (!k->list_buffer)
                        return -ENOMEM;
        }
}

int dm_kernel_list(DmKernel *k, DmListEntry **ret, size_t *ret_n) {
        DmListEntry *list = NULL;
        struct dm_ioctl *io = NULL;
        struct dm_name_list *nl;
        const char *end;
        size_t n = 0, allocated = 0;
        uint32_t next;
        int r;

        r = list_ioctl(k, &io);
        if (r < 0)
                return log_error_errno(r, "DM_LIST_DEVICES failed: %m");

        nl = (struct dm_name_list *) ((char *) io + io->data_start);
        end = (const char *) io + io->data_size;
        if (io->data_size <= io->data_start || nl->dev == 0)
                goto done;

        do {
                /* Since driver 4.37 the event counter and flags follow the name, 8-aligned. */
                const uint32_t *event = align8(nl->name + strlen(nl->name) + 1);
                const char *uuid = (const char *) (event + 2);

                if ((const char *) (event + 2) > end)
                        return log_error_errno(EBADMSG, "DM_LIST_DEVICES answer is truncated.");
                if (n == allocated) {
                        allocated = allocated ? allocated * 2 : 64;
                        DmListEntry *grown = realloc(list, allocated * sizeof(DmListEntry));
                        if (!grown) {
                                dm_list_free(list, n);
                                return log_oom();
                        }
                        list = grown;
                }
                list[n] = (DmListEntry) {
                        .devnum = makedev(major(nl->dev), minor(nl->dev)),
                        .event_nr = event[0],
                        .name = strdup(nl->name),
                        .uuid = event[1] & DM_NAME_LIST_FLAG_HAS_UUID ? strndup(uuid, end - uuid) : NULL,
                };
                n++;
                if (!list[n - 1].name || ((event[1] & DM_NAME_LIST_FLAG_HAS_UUID) && !list[n - 1].uuid)) {
                        dm_list_free(list, n);
                        return log_oom();
                }

                next = nl->next;
                nl = (struct dm_name_list *) ((char *) nl + next);
        } while (next);

done:
        *ret = list;
        *ret_n = n;
        return 0;
}

/* Copies the targets of a TABLE or STATUS task, masking keys in tables. */
static int copy_targets(struct dm_task *dmt, bool mask, DmTarget **ret, size_t *ret_n) {
        DmTarget *targets = NULL;
        size_t n = 0;
        void *next = NULL;

        do {
                uint64_t start, length;
                char *type = NULL, *params = NULL;

                next = dm_get_next_target(dmt, next, &start, &length, &type, &params);
                if (!type)
                        break;

                DmTarget *grown = realloc(targets, (n + 1) * sizeof(DmTarget));
                if (!grown) {
                        dm_targets_free(targets, n);
                        return -ENOMEM;
                }
                targets = grown;
                targets[n] = (DmTarget) {
                        .start = start,
                        .length = length,
                        .type = strdup(type),
                        .params = mask ? secret_mask_params(type, params ?: "") : strdup(params ?: ""),
                };
                if (!targets[n++].type || !targets[n - 1].params) {
                        dm_targets_free(targets, n);
                        return -ENOMEM;
                }
        } while (next);

        *ret = targets;
        *ret_n = n;
        return 0;
}

typedef struct FieldList {
        StatusField *fields;
        size_t n;
        bool oom;
} FieldList;

static void field_add(FieldList *l, const char *key, StatusFieldType type, uint64_t u64, bool b, const char *s) {
        StatusField *grown;

        if (l->oom)
                return;
        grown = realloc(l->fields, (l->n + 1) * sizeof(StatusField));
        if (!grown) {
                l->oom = true;
                return;
        }
        l->fields = grown;
        l->fields[l->n] = (StatusField) { .key = key, .type = type, .u64 = u64, .b = b };
        if (type == STATUS_FIELD_STRING && !(l->fields[l->n].s = strdup(s ?: ""))) {
                l->oom = true;
                return;
        }
        l->n++;
}

#define FIELD_U64(l, key, v) field_add(l, key, STATUS_FIELD_U64, (v), false, NULL)
#define FIELD_BOOL(l, key, v) field_add(l, key, STATUS_FIELD_BOOL, 0, (v), NULL)
#define FIELD_STRING(l, key, v) field_add(l, key, STATUS_FIELD_STRING, 0, false, (v))

static void parse_thin_pool(struct dm_pool *mem, const char *params, FieldList *l) {
        static const char *const discards[] = {
                [DM_THIN_DISCARDS_IGNORE] = "ignore",
                [DM_THIN_DISCARDS_NO_PASSDOWN] = "no_passdown",
                [DM_THIN_DISCARDS_PASSDOWN] = "passdown",
        };
        struct dm_status_thin_pool *s;

        if (!dm_get_status_thin_pool(mem, params, &s))
                return;
        FIELD_U64(l, "transaction_id", s->transaction_id);
        FIELD_U64(l, "used_metadata_blocks", s->used_metadata_blocks);
        FIELD_U64(l, "total_metadata_blocks", s->total_metadata_blocks);
        FIELD_U64(l, "used_data_blocks", s->used_data_blocks);
        FIELD_U64(l, "total_data_blocks", s->total_data_blocks);
        FIELD_U64(l, "held_metadata_root", s->held_metadata_root);
        FIELD_BOOL(l, "read_only", s->read_only);
        FIELD_BOOL(l, "out_of_data_space", s->out_of_data_space);
        FIELD_BOOL(l, "fail", s->fail);
        FIELD_BOOL(l, "needs_check", s->needs_check);
        FIELD_BOOL(l, "error_if_no_space", s->error_if_no_space);
        FIELD_STRING(l, "discards", s->discards < ELEMENTSOF(discards) ? discards[s->discards] : "");
}

static void parse_thin(struct dm_pool *mem, const char *params, FieldList *l) {
        struct dm_status_thin *s;

        if (!dm_get_status_thin(mem, params, &s))
                return;
        FIELD_U64(l, "mapped_sectors", s->mapped_sectors);
        FIELD_U64(l, "highest_mapped_sector", s->highest_mapped_sector);
        FIELD_BOOL(l, "fail", s->fail);
}

static void parse_snapshot(struct dm_pool *mem, const char *params, FieldList *l) {
        struct dm_status_snapshot *s;

        if (!dm_get_status_snapshot(mem, params, &s))
                return;
        FIELD_U64(l, "used_sectors", s->used_sectors);
        FIELD_U64(l, "total_sectors", s->total_sectors);
        if (s->has_metadata_sectors)
                FIELD_U64(l, "metadata_sectors", s->metadata_sectors);
        FIELD_BOOL(l, "invalid", s->invalid);
        FIELD_BOOL(l, "merge_failed", s->merge_failed);
        FIELD_BOOL(l, "overflow", s->overflow);
}

static void parse_cache(struct dm_pool *mem, const char *params, FieldList *l) {
        struct dm_status_cache *s;

        if (!dm_get_status_cache(mem, params, &s))
                return;
        FIELD_U64(l, "metadata_block_size", s->metadata_block_size);
        FIELD_U64(l, "metadata_used_blocks", s->metadata_used_blocks);
        FIELD_U64(l, "metadata_total_blocks", s->metadata_total_blocks);
        FIELD_U64(l, "block_size", s->block_size);
        FIELD_U64(l, "used_blocks", s->used_blocks);
        FIELD_U64(l, "dirty_blocks", s->dirty_blocks);
        FIELD_U64(l, "total_blocks", s->total_blocks);
        FIELD_U64(l, "read_hits", s->read_hits);
        FIELD_U64(l, "read_misses", s->read_misses);
        FIELD_U64(l, "write_hits", s->write_hits);
        FIELD_U64(l, "write_misses", s->write_misses);
        FIELD_U64(l, "demotions", s->demotions);
        FIELD_U64(l, "promotions", s->promotions);
        FIELD_STRING(l, "policy", s->policy_name);
        FIELD_BOOL(l, "read_only", s->read_only);
        FIELD_BOOL(l, "needs_check", s->needs_check);
        FIELD_BOOL(l, "fail", s->fail);
        FIELD_BOOL(l, "error", s->error);
}

static void parse_mirror(struct dm_pool *mem, const char *params, FieldList *l) {
        struct dm_status_mirror *s;
        char health[9] = {};

        if (!dm_get_status_mirror(mem, params, &s))
                return;
        for (uint32_t i = 0; i < s->dev_count && i < sizeof(health) - 1; i++)
                health[i] = (char) s->devs[i].health;
        FIELD_U64(l, "total_regions", s->total_regions);
        FIELD_U64(l, "insync_regions", s->insync_regions);
        FIELD_U64(l, "dev_count", s->dev_count);
        FIELD_STRING(l, "dev_health", health);
        FIELD_STRING(l, "log_type", s->log_type);
}

static void parse_raid(struct dm_pool *mem, const char *params, FieldList *l) {
        struct dm_status_raid *s;

        if (!dm_get_status_raid(mem, params, &s))
                return;
        FIELD_STRING(l, "raid_type", s->raid_type);
        FIELD_U64(l, "dev_count", s->dev_count);
        FIELD_STRING(l, "dev_health", s->dev_health);
        FIELD_U64(l, "total_regions", s->total_regions);
        FIELD_U64(l, "insync_regions", s->insync_regions);
        FIELD_STRING(l, "sync_action", s->sync_action);
        FIELD_U64(l, "mismatch_count", s->mismatch_count);
}

/* The typed status of the first target whose kind libdevmapper can parse. */
static int parse_status(const DmTarget *status, size_t n, StatusField **ret, size_t *ret_n) {
        static const struct {
                const char *type;
                void (*parse)(struct dm_pool *mem, const char *params, FieldList *l);
        } parsers[] = {
                { "thin-pool", parse_thin_pool },
                { "thin",      parse_thin      },
                { "snapshot",  parse_snapshot  },
                { "cache",     parse_cache     },
                { "mirror",    parse_mirror    },
                { "raid",      parse_raid      },
        };
        _cleanup_(dm_pool_destroyp) struct dm_pool *mem = NULL;
        FieldList l = {};

        for (size_t i = 0; i < n && l.n == 0 && !l.oom; i++)
                for (size_t p = 0; p < ELEMENTSOF(parsers); p++) {
                        if (strcmp(status[i].type, parsers[p].type) != 0)
                                continue;
                        if (!mem && !(mem = dm_pool_create("dmbus-status", 1024)))
                                return -ENOMEM;
                        FIELD_STRING(&l, "target_type", status[i].type);
                        parsers[p].parse(mem, status[i].params, &l);
                        if (l.n == 1) {
                                /* libdevmapper could not parse it: say nothing rather than half. */
                                status_fields_free(l.fields, l.n);
                                l = (FieldList) {};
                        }
                        break;
                }

        if (l.oom) {
                status_fields_free(l.fields, l.n);
                return -ENOMEM;
        }
        *ret = l.fields;
        *ret_n = l.n;
        return 0;
}

int dm_kernel_info(dev_t devnum, DmInfo *ret) {
        _cleanup_(dm_task_destroyp) struct dm_task *dmt = NULL;
        struct dm_info info;
        int r;

        r = task_new(DM_DEVICE_INFO, devnum, &dmt);
        if (r < 0)
                return r;
        r = task_run(dmt, &info);
        if (r < 0)
                return r;
        *ret = (DmInfo) {
                .suspended = info.suspended,
                .live_table = info.live_table,
                .inactive_table = info.inactive_table,
                .read_only = info.read_only,
                .deferred_remove = info.deferred_remove,
                .open_count = info.open_count,
                .event_nr = info.event_nr,
                .target_count = info.target_count,
        };
        return 0;
}

static int query_once(dev_t devnum, DmDevice **ret_dm, dev_t **ret_deps, size_t *ret_n_deps) {
        _cleanup_(dm_task_destroyp) struct dm_task *table = NULL, *status = NULL, *deps = NULL;
        _cleanup_(dm_device_freep) DmDevice *dm = NULL;
        struct dm_info info, status_info;
        struct dm_deps *d;
        dev_t *devs = NULL;
        int r;

        r = task_new(DM_DEVICE_TABLE, devnum, &table);
        if (r < 0)
                return r;
        /* The table may carry a key: have libdevmapper wipe its ioctl buffers. */
        if (!dm_task_secure_data(table) || !dm_task_no_open_count(table))
                return -ENOMEM;
        r = task_run(table, &info);
        if (r < 0)
                return r;

        r = task_new(DM_DEVICE_STATUS, devnum, &status);
        if (r < 0)
                return r;
        /* Without noflush, thin-pool status commits metadata: block I/O we never do. */
        if (!dm_task_no_flush(status) || !dm_task_no_open_count(status))
                return -ENOMEM;
        r = task_run(status, &status_info);
        if (r < 0)
                return r;

        r = task_new(DM_DEVICE_DEPS, devnum, &deps);
        if (r < 0)
                return r;
        r = task_run(deps, NULL);
        if (r < 0)
                return r;

        dm = calloc(1, sizeof(DmDevice));
        if (!dm)
                return -ENOMEM;
        dm->name = strdup(dm_task_get_name(table) ?: "");
        dm->uuid = strdup(dm_task_get_uuid(table) ?: "");
        if (!dm->name || !dm->uuid)
                return -ENOMEM;
        /* The STATUS reading is the later one: take the state from it. */
        dm->suspended = status_info.suspended;
        dm->live_table = status_info.live_table;
        dm->inactive_table = status_info.inactive_table;
        dm->read_only = status_info.read_only;
        dm->deferred_remove = status_info.deferred_remove;
        dm->open_count = status_info.open_count;
        dm->event_nr = status_info.event_nr;
        dm->target_count = status_info.target_count;

        if (status_info.live_table) {
                r = copy_targets(table, true, &dm->table, &dm->n_table);
                if (r < 0)
                        return r;
                r = copy_targets(status, false, &dm->status, &dm->n_status);
                if (r < 0)
                        return r;
        }
        /* A table reloaded between the two readings: the caller reads again. */
        if (info.event_nr != status_info.event_nr || info.live_table != status_info.live_table ||
            dm->n_table != dm->n_status)
                return -EAGAIN;
        for (size_t i = 0; i < dm->n_table; i++)
                if (strcmp(dm->table[i].type, dm->status[i].type) != 0 ||
                    dm->table[i].start != dm->status[i].start || dm->table[i].length != dm->status[i].length)
                        return -EAGAIN;

        r = parse_status(dm->status, dm->n_status, &dm->parsed_status, &dm->n_parsed_status);
        if (r < 0)
                return r;

        d = dm_task_get_deps(deps);
        if (d && d->count > 0) {
                devs = malloc(d->count * sizeof(dev_t));
                if (!devs)
                        return -ENOMEM;
                for (uint32_t i = 0; i < d->count; i++)
                        devs[i] = makedev(major(d->device[i]), minor(d->device[i]));
        }

        *ret_dm = TAKE_PTR(dm);
        *ret_deps = devs;
        *ret_n_deps = d ? d->count : 0;
        return 0;
}

int dm_kernel_query(dev_t devnum, DmDevice **ret_dm, dev_t **ret_deps, size_t *ret_n_deps) {
        int r = -EAGAIN;

        for (unsigned attempt = 0; attempt < 5 && r == -EAGAIN; attempt++)
                r = query_once(devnum, ret_dm, ret_deps, ret_n_deps);
        return r;
}
