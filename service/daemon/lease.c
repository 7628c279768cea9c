/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "device-bus.h"
#include "lease.h"
#include "list.h"
#include "log.h"
#include "op-record.h"
#include "strv.h"
#include "time-util.h"
#include "udev-sysfs.h"
#include "validate.h"

typedef struct Lease Lease;
struct Lease {
        Manager *manager;
        dev_t devnum;
        uint64_t diskseq;               /* the device's when the lease began; 0 when not known */
        char *name, *uuid;              /* as the graph has them: what the Resume expects */
        uint64_t until;                 /* CLOCK_REALTIME, us */
        char *owner;                    /* the caller's unique bus name */
        sd_event_source *timer;
        sd_bus_track *owner_track;
        const char *ending;             /* why its Resume is under way; NULL before */
        char record_id[OP_RECORD_ID_MAX];
        LIST_FIELDS(Lease, leases);     /* Leases.leases */
};

struct Leases {
        Lease *leases;
};

static Lease *lease_free(Lease *lease) {
        if (!lease)
                return NULL;
        if (lease->leases_pprev)
                LIST_REMOVE(leases, lease);
        sd_event_source_disable_unref(lease->timer);
        sd_bus_track_unref(lease->owner_track);
        free(lease->name);
        free(lease->uuid);
        free(lease->owner);
        return mfree(lease);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Lease *, lease_free);

int leases_new(Leases **ret) {
        assert(ret);

        *ret = calloc(1, sizeof(Leases));
        return *ret ? 0 : -ENOMEM;
}

Leases *leases_free(Leases *l) {
        if (!l)
                return NULL;
        /* A Resume still under way never calls back: the queue is going too. */
        while (l->leases)
                lease_free(l->leases);
        return mfree(l);
}

static Lease *lease_find(const Leases *l, dev_t devnum) {
        for (Lease *lease = l->leases; lease; lease = lease->leases_next)
                if (lease->devnum == devnum && !lease->ending)
                        return lease;
        return NULL;
}

uint64_t leases_until(const Leases *l, dev_t devnum) {
        const Lease *lease = lease_find(l, devnum);

        return lease ? lease->until : 0;
}

static void emit_until_changed(Manager *m, dev_t devnum) {
        (void) device_bus_emit_changed(m->bus, devnum, 0, DEVICE_CHANGE(SUSPEND_LEASE_UNTIL));
}

static int lease_save(const Lease *lease) {
        OpRecord record = {
                .devnum = lease->devnum,
                .diskseq = lease->diskseq,
                .name = lease->name,
                .uuid = lease->uuid,
                .operation = (char *) "Suspend",
                .undo = OP_RECORD_RESUME,
                .lease_until = lease->until,
                .owner = lease->owner,
        };
        int r = op_record_write(OP_RECORD_DIR, lease->record_id, &record);

        if (r < 0)
                log_warning_errno(r, "Cannot keep the record of the lease on " DEVICE_LABEL_FORMAT "; were the service stopped now, "
                                  "nothing would resume it: %m", DEVICE_LABEL_ARGS(lease->name, lease->devnum));
        return r;
}

/* The lease ends without a Resume of ours: the device was resumed, removed or replaced, or a
 * Suspend without a lease came after. */
static void lease_drop(Lease *lease, const char *why) {
        Manager *m = lease->manager;
        dev_t devnum = lease->devnum;

        log_info("The lease on the suspension of " DEVICE_LABEL_FORMAT " ended: %s.", DEVICE_LABEL_ARGS(lease->name, devnum), why);
        (void) op_record_remove(OP_RECORD_DIR, lease->record_id);
        lease_free(lease);
        emit_until_changed(m, devnum);
}

static void on_lease_resumed(Operation *op, void *userdata) {
        Lease *lease = userdata;

        if (op->result >= 0)
                log_info("The lease on the suspension of %s ended: %s; resumed it.", op->label, lease->ending);
        else
                log_warning("The lease on the suspension of %s ended: %s; %s", op->label, lease->ending,
                            op->outcome ?: "resuming it failed.");
        /* Not resumed (cut short by a stop, the queue full, the device gone): the record stays,
         * and the next start resumes the device if it is still the one. A Suspend with a lease of
         * its own that ran first has its record under the same id. */
        if (op->result >= 0 && !lease_find(lease->manager->leases, lease->devnum))
                (void) op_record_remove(OP_RECORD_DIR, lease->record_id);
        emit_until_changed(lease->manager, lease->devnum);
        lease_free(lease);
        operation_free(op);
}

/* The lease ends: a Resume of its device, through the queue, behind whatever else runs on it. A
 * Suspend with a lease of its own queued before this one runs first and is undone by it; its
 * lease then ends as "resumed" at the refresh. */
static void lease_end(Lease *lease, const char *why) {
        Manager *m = lease->manager;
        _cleanup_(operation_freep) Operation *op = NULL;

        assert(!lease->ending);

        lease->timer = sd_event_source_disable_unref(lease->timer);
        lease->owner_track = sd_bus_track_unref(lease->owner_track);
        op = operation_new(m->operations, OPERATION_RESUME, NULL);
        if (op) {
                op->devnum = lease->devnum;
                op->expected_name = strdup(lease->name);
                op->expected_uuid = strdup(lease->uuid);
                op->udev_timeout_usec = OPERATION_UDEV_TIMEOUT_MSEC_DEFAULT * USEC_PER_MSEC;
        }
        if (!op || !op->expected_name || !op->expected_uuid || operation_set_label(op, lease->name) < 0) {
                /* Its record stays: the next start resumes the device. */
                log_warning("The lease on the suspension of " DEVICE_LABEL_FORMAT " ended (%s), but there is no memory to resume it.",
                            DEVICE_LABEL_ARGS(lease->name, lease->devnum), why);
                lease_free(lease);
                return;
        }
        lease->ending = why;
        op->finished = on_lease_resumed;
        op->finished_userdata = lease;
        operation_submit(TAKE_PTR(op));
}

static int on_lease_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        lease_end(userdata, "it ran out");
        return 0;
}

static int on_owner_gone(sd_bus_track *track, void *userdata) {
        Lease *lease = userdata;

        lease_end(lease, "its caller left the bus");
        return 0;
}

/* Follows the lease's end and its owner: the timer, and the owner's leaving the bus (a name
 * already gone ends the lease at once). */
static int lease_follow(Lease *lease) {
        Manager *m = lease->manager;
        int r;

        lease->timer = sd_event_source_disable_unref(lease->timer);
        lease->owner_track = sd_bus_track_unref(lease->owner_track);
        r = sd_event_add_time(m->event, &lease->timer, CLOCK_REALTIME, lease->until, 10 * USEC_PER_MSEC, on_lease_timer, lease);
        if (r < 0)
                return r;
        r = sd_bus_track_new(m->bus, &lease->owner_track, on_owner_gone, lease);
        if (r < 0)
                return r;
        r = sd_bus_track_add_name(lease->owner_track, lease->owner);
        if (r < 0)
                lease_end(lease, "its caller left the bus");
        return 0;
}

static int lease_new(Manager *m, dev_t devnum, const char *name, const char *uuid, Lease **ret) {
        _cleanup_(lease_freep) Lease *lease = calloc(1, sizeof(Lease));

        if (!lease)
                return -ENOMEM;
        lease->manager = m;
        lease->devnum = devnum;
        lease->name = strdup(name);
        lease->uuid = strdup(uuid);
        if (!lease->name || !lease->uuid)
                return -ENOMEM;
        op_record_lease_id(devnum, lease->record_id, sizeof(lease->record_id));
        *ret = TAKE_PTR(lease);
        return 0;
}

/* Sets the end and the owner, and follows them; the lease is on the list already. One that
 * cannot be followed ends now. */
static void lease_set(Lease *lease, uint64_t until, const char *owner) {
        int r;

        lease->until = until;
        r = free_and_strdup(&lease->owner, owner);
        if (r >= 0)
                r = lease_follow(lease);
        if (r < 0) {
                log_warning_errno(r, "Cannot follow the lease on the suspension of " DEVICE_LABEL_FORMAT ": %m",
                                  DEVICE_LABEL_ARGS(lease->name, lease->devnum));
                lease_end(lease, "it could not be followed");
        }
}

void leases_suspend_finished(Manager *m, const Operation *op) {
        Lease *lease = lease_find(m->leases, op->devnum);
        BlockDevice *d;
        int r;

        assert(op->kind == OPERATION_SUSPEND);

        if (op->result < 0) {
                /* The worker's record of the lease it asked for went with the failure: the lease
                 * in place, if any, is as it was, and so is its record. */
                if (lease && op->lease_sec > 0)
                        (void) lease_save(lease);
                return;
        }
        if (op->lease_sec == 0) {
                if (lease)
                        lease_drop(lease, "it was suspended again without one");
                return;
        }
        d = graph_get(m->graph, op->devnum);
        if (!lease) {
                r = lease_new(m, op->devnum, d && d->dm ? d->dm->name : op->expected_name,
                              d && d->dm ? d->dm->uuid : op->expected_uuid, &lease);
                if (r < 0) {
                        log_warning_errno(r, "Cannot follow the lease on the suspension of %s; its record resumes it at the next "
                                          "start: %m", op->label);
                        return;
                }
                LIST_PREPEND(leases, m->leases->leases, lease);
        }
        /* As the worker's record has it: read before the suspend, which does not change it. */
        if (block_device_read_diskseq(op->devnum, &lease->diskseq) < 0)
                lease->diskseq = 0;
        lease_set(lease, op->lease_until, op->lease_owner);
        emit_until_changed(m, op->devnum);
}

/* Why the lease on the device, as the graph has it now, has no more reason to be; NULL while it
 * has. The diskseq (a sysfs read, no block I/O) tells a device made again at the same number. */
static const char *lease_pointless(const Lease *lease, const BlockDevice *d) {
        uint64_t diskseq;

        if (!d || !d->dm)
                return "the device is gone";
        if (lease->diskseq != 0 && block_device_read_diskseq(lease->devnum, &diskseq) >= 0 && diskseq != lease->diskseq)
                return "the device is another one now";
        if (!d->dm->info.suspended)
                return "the device was resumed";
        return NULL;
}

void leases_refreshed(Manager *m, const DevSet *devices) {
        LIST_FOREACH_SAFE(leases, lease, next, m->leases->leases) {
                const BlockDevice *d;
                const char *why;

                if (lease->ending || !devset_contains(devices, lease->devnum))
                        continue;
                d = graph_get(m->graph, lease->devnum);
                why = lease_pointless(lease, d);
                if (why) {
                        lease_drop(lease, why);
                        continue;
                }
                /* Renamed, or given a UUID: the Resume must expect what it is now. */
                if (strcmp(d->dm->name, lease->name) != 0 || strcmp(d->dm->uuid, lease->uuid) != 0) {
                        if (free_and_strdup(&lease->name, d->dm->name) < 0 || free_and_strdup(&lease->uuid, d->dm->uuid) < 0) {
                                lease_end(lease, "there is no memory to follow its device's new name");
                                continue;
                        }
                        (void) lease_save(lease);
                }
        }
}

/* One record that settle_records() kept: a lease still running, on a device that must still be
 * the one it suspended. */
static void adopt_one(Manager *m, const char *dir, const char *id) {
        _cleanup_(op_record_done) OpRecord record = {};
        _cleanup_(lease_freep) Lease *lease = NULL;
        const BlockDevice *d;
        const char *why;
        int r;

        if (op_record_read(dir, id, &record) < 0 || record.lease_until == 0)
                return;
        d = graph_get(m->graph, record.devnum);
        r = lease_new(m, record.devnum, record.name, record.uuid, &lease);
        if (r < 0)
                return (void) log_warning_errno(r, "Cannot follow the lease of the record %s/%s: %m", dir, id);
        lease->diskseq = record.diskseq;
        why = lease_pointless(lease, d);
        if (!why && (strcmp(d->dm->name, record.name) != 0 || strcmp(d->dm->uuid, record.uuid) != 0))
                why = "the device is another one now";
        if (why || strcmp(id, lease->record_id) != 0) {
                log_info("A lease on the suspension of " DEVICE_LABEL_FORMAT " was left by the last run of the service; %s, "
                         "left alone.", DEVICE_LABEL_ARGS(record.name, record.devnum), why ?: "its record is not one of ours");
                (void) op_record_remove(dir, id);
                return;
        }
        LIST_PREPEND(leases, m->leases->leases, lease);
        log_info("Following the lease on the suspension of " DEVICE_LABEL_FORMAT " that the last run of the service took.",
                 DEVICE_LABEL_ARGS(record.name, record.devnum));
        lease_set(TAKE_PTR(lease), record.lease_until, record.owner);
}

void leases_adopt(Manager *m, const char *record_dir) {
        _cleanup_(strv_freep) char **ids = NULL;
        int r;

        r = op_record_list(record_dir, &ids);
        if (r < 0)
                return (void) log_warning_errno(r, "Cannot read the records in %s: %m", record_dir);
        for (char **id = ids; id && *id; id++)
                adopt_one(m, record_dir, *id);
}
