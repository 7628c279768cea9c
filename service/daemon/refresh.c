/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/sysmacros.h>

#include "event-priority.h"
#include "hashmap.h"
#include "inventory.h"
#include "journal-fields.h"
#include "log.h"
#include "refresh.h"
#include "strv.h"
#include "time-util.h"
#include "validate.h"

struct Refresh {
        sd_event *event;
        Graph *graph;
        DmKernel *dm;
        UdevSysfs *udev;
        RefreshCallbacks callbacks;
        void *userdata;

        sd_event_source *udev_source;
        sd_event_source *dm_source;
        sd_event_source *refresh_source;
        DevSet dirty;                   /* devices to read again this loop turn */
        /* dev_t → the links its latest udev event carried, for its next reading (taken there):
         * libudev's database read costs many system calls (BENCHMARKS.md), the event has them already. */
        Hashmap *event_links;
        /* dev_t → the DM_VERITY_ERR_BLOCK_NR of its uevents since its last reading (taken
         * there): each names a corrupted block, reported as a failure of its own. */
        Hashmap *verity_errors;
        bool rescan;                    /* events may have been lost: read everything */
        uint64_t suspended_alert_usec;  /* suspended longer: too long (Health "suspended") */
        uint64_t batch_first_event_usec; /* CLOCK_MONOTONIC, when this turn's first change came in */

        /* The LIST pass after DM events (on_list()). */
        sd_event_source *list_source;
        uint64_t list_not_before;       /* CLOCK_MONOTONIC: the next pass's earliest start */

        /* The INFO sweep (refresh_request_sweep()): the DM devices as they were when it began,
         * compared a slice a loop turn. */
        sd_event_source *sweep_source;
        dev_t *sweep_devices;           /* NULL: no sweep under way */
        size_t n_sweep_devices, sweep_next;
        uint64_t sweep_spent_usec;      /* the time this sweep's slices took */
        uint64_t sweep_not_before;      /* CLOCK_MONOTONIC: the next sweep's earliest start */
        bool sweep_again;               /* asked for while one was under way */
};

/* What follows DM events goes over every DM device, O(N): the LIST pass, and the sweep (an ioctl
 * per DM device). After a pass that took T, the next of its kind waits REST_FACTOR × T, so each
 * takes at most 1/(1 + factor) of the time whatever N and however many DM events come; events
 * that come meanwhile coalesce into the next pass. */
#define REST_FACTOR 20
/* Devices compared a loop turn: a few milliseconds, then replies and signals go first. */
#define SWEEP_SLICE 128

static bool has_holders(Refresh *rf, dev_t devnum) {
        const dev_t *holders;
        size_t n;

        graph_get_holders(rf->graph, devnum, &holders, &n);
        return n > 0;
}

/* A dev_t → strv map, freed with its lists. */
static void strv_hashmap_clear(Hashmap **h) {
        char **l;

        if (!*h)
                return;
        for (size_t i = 0; hashmap_iterate(*h, &i, (void **) &l);)
                strv_free(l);
        hashmap_free(*h);
        *h = NULL;
}

/* Events may have been lost: everything the graph or the kernel knows is read again, links from
 * udev's database too. */
static void rescan(Refresh *rf) {
        strv_hashmap_clear(&rf->event_links);
        rf->rescan = true;
        (void) sd_event_source_set_enabled(rf->refresh_source, SD_EVENT_ONESHOT);
}

void refresh_mark(Refresh *rf, dev_t devnum) {
        DevSet *dirty = &rf->dirty;

        assert(rf);

        if (dirty->n == 0)
                rf->batch_first_event_usec = now_usec();
        if (devset_add(dirty, devnum) < 0) {
                log_oom();
                rescan(rf);
                return;
        }
        (void) sd_event_source_set_enabled(rf->refresh_source, SD_EVENT_ONESHOT);
}

/* A DM device's only; other devices read their links with the rest of what udev has. After a
 * removal, or without room, the reading falls back to udev's database. */
static void event_links_keep(Refresh *rf, const UdevEvent *event) {
        _cleanup_(strv_freep) char **links = NULL;

        if (!dm_kernel_is_dm_major(major(event->devnum)))
                return;
        if (rf->event_links)
                strv_free(hashmap_remove_u64(rf->event_links, event->devnum));
        if (udev_event_read_links(event, &links) < 0 || !links)
                return;
        if (!rf->event_links && !(rf->event_links = hashmap_new(HASHMAP_KEY_U64)))
                return;
        if (hashmap_put_u64(rf->event_links, event->devnum, links) >= 0)
                links = NULL;
}

/* The kernel stops at 100 a device; a reading reports at most this many (the status says the rest). */
#define VERITY_ERRORS_MAX 16

static void verity_error_keep(Refresh *rf, const UdevEvent *event) {
        const char *error = udev_event_get_property(event, "DM_VERITY_ERR_BLOCK_NR");
        char **errors;

        if (!error || !dm_kernel_is_dm_major(major(event->devnum)))
                return;
        if (!rf->verity_errors && !(rf->verity_errors = hashmap_new(HASHMAP_KEY_U64)))
                return (void) log_oom();
        errors = hashmap_remove_u64(rf->verity_errors, event->devnum);
        if (strv_length(errors) < VERITY_ERRORS_MAX && strv_extend(&errors, error) < 0)
                log_oom();
        if (errors && hashmap_put_u64(rf->verity_errors, event->devnum, errors) < 0) {
                log_oom();
                strv_free(errors);
        }
}

static int on_udev_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Refresh *rf = userdata;
        UdevEvent event;
        int r;

        while ((r = udev_sysfs_monitor_receive(rf->udev, &event)) != 0) {
                dev_t devnum = event.devnum;

                if (r == -ENOBUFS) {
                        log_warning("The udev monitor overflowed: reading every device again.");
                        rescan(rf);
                        continue;
                }
                rf->callbacks.udev_event(&event, rf->userdata);
                /* DM devices, and devices under them; the rest of the machine is not ours. */
                if (dm_kernel_is_dm_major(major(devnum)) || graph_get(rf->graph, devnum) || has_holders(rf, devnum)) {
                        refresh_mark(rf, devnum);
                        event_links_keep(rf, &event);
                        verity_error_keep(rf, &event);
                }
                udev_event_done(&event);
        }
        return 0;
}

/* Which DM devices did the event touch? The global DM event names none. LIST shows devices that
 * came, went, were renamed or had a target event (event_nr moved). */
static void mark_listed_changes(Refresh *rf) {
        _cleanup_(devset_done) DevSet listed = {};
        DmListEntry *list;
        BlockDevice *d;
        size_t n;

        if (dm_kernel_list(rf->dm, &list, &n) < 0) {
                rescan(rf);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                d = graph_get(rf->graph, list[i].devnum);
                if (devset_add(&listed, list[i].devnum) < 0) {
                        dm_list_free(list, n);
                        rescan(rf);
                        return;
                }
                if (!d || !d->dm || d->dm->info.event_nr != list[i].event_nr || strcmp(d->dm->name, list[i].name) != 0)
                        refresh_mark(rf, list[i].devnum);
        }
        dm_list_free(list, n);

        for (size_t i = 0; graph_iterate(rf->graph, &i, &d);)
                if (d->dm && !devset_contains(&listed, d->devnum))
                        refresh_mark(rf, d->devnum);
}

static int timer_arm(sd_event_source *s, uint64_t at) {
        int r;

        r = sd_event_source_set_time(s, at);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Arms a pass for as soon as its rest allows, unless one is armed already. */
static void pass_request(Refresh *rf, sd_event_source *s, uint64_t not_before) {
        int enabled = SD_EVENT_OFF;

        (void) sd_event_source_get_enabled(s, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        if (timer_arm(s, MAX(now_usec(), not_before)) < 0)
                rescan(rf);
}

static int sweep_begin(Refresh *rf) {
        BlockDevice *d;
        size_t n = 0;

        rf->sweep_devices = malloc((graph_dm_count(rf->graph) + 1) * sizeof(dev_t));
        if (!rf->sweep_devices)
                return -ENOMEM;
        for (size_t i = 0; graph_iterate(rf->graph, &i, &d);)
                if (d->dm)
                        rf->sweep_devices[n++] = d->devnum;
        rf->n_sweep_devices = n;
        rf->sweep_next = 0;
        rf->sweep_spent_usec = 0;
        return 0;
}

/* A suspend or a table load into the inactive slot raises no event of its own (Linux 6.1), and
 * shows only in the device's INFO flags: one INFO per DM device finds them, and the devices that
 * differ are read again. */
static int on_sweep(sd_event_source *s, uint64_t usec, void *userdata) {
        Refresh *rf = userdata;
        uint64_t start = now_usec(), end;

        if (!rf->sweep_devices && sweep_begin(rf) < 0) {
                log_oom();
                rescan(rf);
                return 0;
        }

        for (size_t k = 0; k < SWEEP_SLICE && rf->sweep_next < rf->n_sweep_devices; k++) {
                dev_t devnum = rf->sweep_devices[rf->sweep_next++];
                BlockDevice *d = graph_get(rf->graph, devnum);
                DmInfo info;

                if (!d || !d->dm || devset_contains(&rf->dirty, devnum))
                        continue;
                if (dm_kernel_info(rf->dm, devnum, &info) < 0 || dm_info_diff(&info, &d->dm->info) != 0)
                        refresh_mark(rf, devnum);
        }
        end = now_usec();
        rf->sweep_spent_usec += end - start;
        if (rf->sweep_next < rf->n_sweep_devices) {
                if (timer_arm(rf->sweep_source, end) < 0) {
                        /* The rest cannot wait for a slice that never comes: read everything. */
                        rf->sweep_devices = mfree(rf->sweep_devices);
                        rescan(rf);
                }
                return 0;
        }

        rf->sweep_devices = mfree(rf->sweep_devices);
        rf->sweep_not_before = end + REST_FACTOR * rf->sweep_spent_usec;
        if (rf->sweep_again) {
                rf->sweep_again = false;
                pass_request(rf, rf->sweep_source, rf->sweep_not_before);
        }
        return 0;
}

void refresh_request_sweep(Refresh *rf) {
        assert(rf);

        /* Under way: the devices it compared already are compared again by the next one. */
        if (rf->sweep_devices) {
                rf->sweep_again = true;
                return;
        }
        pass_request(rf, rf->sweep_source, rf->sweep_not_before);
}

/* After DM events: LIST finds the devices they touched, then the sweep what they did not name. */
static int on_list(sd_event_source *s, uint64_t usec, void *userdata) {
        Refresh *rf = userdata;
        uint64_t start = now_usec(), end;

        mark_listed_changes(rf);
        end = now_usec();
        rf->list_not_before = end + REST_FACTOR * (end - start);
        refresh_request_sweep(rf);
        return 0;
}

static int on_dm_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Refresh *rf = userdata;
        int r;

        /* Re-arm first: an event during our reading wakes us again. */
        r = dm_kernel_arm_poll(rf->dm);
        if (r < 0) {
                log_error_errno(r, "Cannot re-arm DM event polling, relying on udev alone: %m");
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        pass_request(rf, rf->list_source, rf->list_not_before);
        return 0;
}

/* Too long suspended is judged here alone, with the rest of a device's state. */
static void judge_suspended(const Refresh *rf, const BlockDevice *old, BlockDevice *d) {
        if (!d->dm || d->dm->suspended_since == 0 || realtime_usec() < d->dm->suspended_since + rf->suspended_alert_usec)
                return;
        d->dm->suspended_too_long = true;
        if (!old || !old->dm || !old->dm->suspended_too_long) {
                _cleanup_(strv_freep) char **fields = journal_fields_device(JOURNAL_MESSAGE_SUSPENDED_TOO_LONG, d->dm->name,
                                                                            d->dm->uuid, d->devnum);
                log_struct(LOG_WARNING, fields, DEVICE_LABEL_FORMAT " has been suspended for more than %" PRIu64 " s.",
                           DEVICE_LABEL_ARGS(d->dm->name, d->devnum), rf->suspended_alert_usec / USEC_PER_SEC);
        }
}

static int refresh_device(Refresh *rf, dev_t devnum, DevSet *holders_changed);

/* A device's dependencies that the graph lacks are read too: a loop device a reload put under it. */
static int add_missing_dependencies(Refresh *rf, const BlockDevice *d, DevSet *holders_changed) {
        _cleanup_(freep) dev_t *deps = NULL;
        size_t n = d->n_deps;
        int r;

        if (n == 0)
                return 0;
        /* refresh_device() may replace d; walk a copy. */
        deps = malloc(n * sizeof(dev_t));
        if (!deps)
                return -ENOMEM;
        memcpy(deps, d->deps, n * sizeof(dev_t));
        for (size_t i = 0; i < n; i++)
                if (!graph_get(rf->graph, deps[i])) {
                        r = refresh_device(rf, deps[i], holders_changed);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int note_dependencies(DevSet *holders_changed, const dev_t *deps, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (devset_add(holders_changed, deps[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* Gone from the kernel: out of the graph; the devices it mapped onto lost a holder. */
static int forget_device(Refresh *rf, const BlockDevice *old, DevSet *holders_changed) {
        dev_t devnum = old->devnum;
        int r;

        r = note_dependencies(holders_changed, old->deps, old->n_deps);
        if (r < 0)
                return r;
        /* While it can still be enumerated, so the signal lists its interfaces. */
        rf->callbacks.device_removing(devnum, rf->userdata);
        graph_remove(rf->graph, devnum);
        log_debug("%u:%u is gone.", major(devnum), minor(devnum));
        return 0;
}

/* d, just read, against old (NULL: new): what a reading cannot know carried over, what changed,
 * and whose holders changed with it. */
static int compare_device(Refresh *rf, const BlockDevice *old, BlockDevice *d, DevSet *holders_changed,
                          unsigned *ret_block_changes, unsigned *ret_device_changes) {
        int r;

        *ret_block_changes = *ret_device_changes = 0;
        /* Still suspended: since the first time it was seen so. */
        if (old && old->dm && d->dm && old->dm->suspended_since != 0 && d->dm->info.suspended)
                d->dm->suspended_since = old->dm->suspended_since;
        judge_suspended(rf, old, d);
        if (!old)
                return note_dependencies(holders_changed, d->deps, d->n_deps);
        block_device_diff(old, d, ret_block_changes, ret_device_changes);
        if (!(*ret_block_changes & BLOCK_CHANGE(DEPENDENCIES)))
                return 0;
        r = note_dependencies(holders_changed, old->deps, old->n_deps);
        return r < 0 ? r : note_dependencies(holders_changed, d->deps, d->n_deps);
}

/* What changed of devnum, now in the graph, to the owner; usage_before: NULL when it had none. */
static void announce_device(Refresh *rf, dev_t devnum, bool added, unsigned block_changes, unsigned device_changes,
                            const Usage *usage_before) {
        const BlockDevice *now = graph_get(rf->graph, devnum);

        if (added)
                rf->callbacks.device_added(devnum, rf->userdata);
        else if (block_changes != 0 || device_changes != 0)
                rf->callbacks.device_changed(devnum, block_changes, device_changes, rf->userdata);
        if (device_changes & DEVICE_CHANGE(EVENT_NUMBER))
                rf->callbacks.device_event(devnum, now && now->dm ? now->dm->info.event_nr : 0, rf->userdata);
        if (usage_before && (device_changes & DEVICE_CHANGE(PARSED_STATUS))) {
                Usage usage_now = now && now->dm ? dm_device_usage(now->dm) : (Usage) {};

                rf->callbacks.usage_changed(devnum, usage_before, &usage_now, rf->userdata);
        }
}

static int refresh_device(Refresh *rf, dev_t devnum, DevSet *holders_changed) {
        BlockDevice *old = graph_get(rf->graph, devnum), *d = NULL;
        _cleanup_(strv_freep) char **links = rf->event_links ? hashmap_remove_u64(rf->event_links, devnum) : NULL;
        _cleanup_(strv_freep) char **verity_errors = rf->verity_errors ? hashmap_remove_u64(rf->verity_errors, devnum) : NULL;
        _cleanup_(freep) Failure *failures = NULL;
        size_t n_failures = 0;
        unsigned block_changes, device_changes;
        bool added = !old, had_usage = old && old->dm && dm_device_has_usage(old->dm);
        Usage usage_before = had_usage ? dm_device_usage(old->dm) : (Usage) {};
        int r;

        r = inventory_read_device(rf->dm, rf->udev, devnum, &links, &d);
        if (r == -ENXIO || r == -ENODEV)
                return old ? forget_device(rf, old, holders_changed) : 0;
        if (r < 0)
                return log_warning_errno(r, "Failed to read %u:%u again, keeping what we knew: %m", major(devnum), minor(devnum));

        /* A device that is not DM and lies under none is not ours (a loop device set up alone). */
        if (!old && !d->dm && !has_holders(rf, devnum)) {
                block_device_free(d);
                return 0;
        }
        r = compare_device(rf, old, d, holders_changed, &block_changes, &device_changes);
        /* What failed since the last reading: a device seen for the first time has no news, and
         * one whose status lines are the same has none unless verity's uevents named blocks. */
        if (r >= 0 && old && old->dm && d->dm && ((device_changes & DEVICE_CHANGE(STATUS)) || verity_errors))
                r = failures_between(old->dm, d->dm, verity_errors, &failures, &n_failures);
        if (r < 0) {
                block_device_free(d);
                return r;
        }
        r = graph_put(rf->graph, d);     /* frees old */
        if (r < 0)
                return r;
        /* Bottom up: what it maps onto is on the bus before it names it in Dependencies. */
        r = add_missing_dependencies(rf, graph_get(rf->graph, devnum), holders_changed);
        announce_device(rf, devnum, added, block_changes, device_changes, had_usage ? &usage_before : NULL);
        /* After Health changed: the news, then what it was. */
        for (size_t i = 0; i < n_failures; i++)
                rf->callbacks.device_failed(devnum, &failures[i], rf->userdata);
        return r;
}

void refresh_set_suspended_alert(Refresh *rf, uint64_t usec) {
        rf->suspended_alert_usec = usec;
}

static void mark_everything(Refresh *rf) {
        DmListEntry *list;
        BlockDevice *d;
        size_t n;

        for (size_t i = 0; graph_iterate(rf->graph, &i, &d);)
                refresh_mark(rf, d->devnum);
        if (dm_kernel_list(rf->dm, &list, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                refresh_mark(rf, list[i].devnum);
        dm_list_free(list, n);
}

static int on_refresh(sd_event_source *s, void *userdata) {
        _cleanup_(devset_done) DevSet holders_changed = {};
        _cleanup_(devset_done) DevSet batch = {};
        Refresh *rf = userdata;
        size_t dm_count = graph_dm_count(rf->graph);
        uint64_t begun = now_usec(), cpu = thread_cpu_usec();

        if (rf->rescan) {
                rf->rescan = false;
                mark_everything(rf);
        }
        /* Take the batch: what the refresh itself marks goes to the next turn. */
        batch = rf->dirty;
        rf->dirty = (DevSet) {};

        /* A device that cannot be read keeps what we knew (refresh_device() says so); only
         * running out of memory leaves the graph unsure of everything. */
        for (size_t i = 0; i < batch.n; i++)
                if (refresh_device(rf, batch.items[i], &holders_changed) == -ENOMEM) {
                        log_oom();
                        rescan(rf);
                        break;
                }

        /* Reverse edges: Holders changed on both ends of every changed edge. A device that is
         * not DM and under nothing any more leaves the graph. */
        for (size_t i = 0; i < holders_changed.n; i++) {
                dev_t devnum = holders_changed.items[i];
                BlockDevice *d = graph_get(rf->graph, devnum);

                if (!d)
                        continue;
                if (!d->dm && !has_holders(rf, devnum)) {
                        rf->callbacks.device_removing(devnum, rf->userdata);
                        graph_remove(rf->graph, devnum);
                } else
                        rf->callbacks.device_changed(devnum, BLOCK_CHANGE(HOLDERS), 0, rf->userdata);
        }

        if (graph_dm_count(rf->graph) != dm_count)
                rf->callbacks.dm_count_changed(rf->userdata);

        /* For the live benchmark: CLOCK_MONOTONIC, comparable with a client's in the same system. */
        if (batch.n > 0) {
                uint64_t done = now_usec();
                log_debug("Refreshed %zu device(s): first event taken in at %" PRIu64 " us, refresh begun at %" PRIu64
                          " us, signals sent at %" PRIu64 " us (%" PRIu64 " us in dmbusd, the refresh %" PRIu64 " us of CPU).",
                          batch.n, rf->batch_first_event_usec, begun, done, done - rf->batch_first_event_usec,
                          thread_cpu_usec() - cpu);
        }

        /* Operations whose device was read now answer their callers: after the signals. */
        rf->callbacks.refreshed(&batch, rf->userdata);
        return 0;
}

/* A pass's timer, disarmed until pass_request(). */
static int pass_timer_new(Refresh *rf, sd_event_source **ret, sd_event_time_handler_t handler, int64_t priority) {
        int r;

        r = sd_event_add_time(rf->event, ret, CLOCK_MONOTONIC, 0, 0, handler, rf);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(*ret, priority);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(*ret, SD_EVENT_OFF);
}

int refresh_new(sd_event *event, Graph *graph, DmKernel *dm, UdevSysfs *udev,
                const RefreshCallbacks *callbacks, void *userdata, Refresh **ret) {
        _cleanup_(refresh_freep) Refresh *rf = NULL;
        int r;

        assert(event);
        assert(graph);
        assert(dm);
        assert(udev);
        assert(callbacks);
        assert(ret);

        rf = calloc(1, sizeof(Refresh));
        if (!rf)
                return -ENOMEM;
        *rf = (Refresh) {
                .event = sd_event_ref(event),
                .graph = graph,
                .dm = dm,
                .udev = udev,
                .callbacks = *callbacks,
                .userdata = userdata,
        };

        r = sd_event_add_defer(event, &rf->refresh_source, on_refresh, rf);
        if (r < 0)
                return r;
        /* After every pending event was taken in (one read per device per burst), before callers. */
        r = sd_event_source_set_priority(rf->refresh_source, EVENT_PRIORITY_REFRESH);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(rf->refresh_source, SD_EVENT_OFF);
        if (r < 0)
                return r;

        /* LIST where the DM event itself was taken in: before the refresh that reads what it
         * finds. The sweep beside the callers' requests, which take turns with its slices. */
        r = pass_timer_new(rf, &rf->list_source, on_list, EVENT_PRIORITY_KERNEL);
        if (r < 0)
                return r;
        r = pass_timer_new(rf, &rf->sweep_source, on_sweep, EVENT_PRIORITY_BUS);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(rf);
        return 0;
}

int refresh_start(Refresh *rf) {
        int fd, r;

        assert(rf);

        r = udev_sysfs_monitor_start(rf->udev, &fd);
        if (r < 0)
                return log_error_errno(r, "Cannot start the udev monitor: %m");
        r = sd_event_add_io(rf->event, &rf->udev_source, fd, EPOLLIN, on_udev_event, rf);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the udev monitor: %m");
        (void) sd_event_source_set_priority(rf->udev_source, EVENT_PRIORITY_KERNEL);

        r = dm_kernel_arm_poll(rf->dm);
        if (r < 0)
                /* Before driver 4.37: uevents alone, so suspends and inactive loads go unseen. */
                return log_warning_errno(r, "The kernel cannot poll for DM events; following udev alone: %m"), 0;
        r = sd_event_add_io(rf->event, &rf->dm_source, dm_kernel_control_fd(rf->dm), EPOLLIN, on_dm_event, rf);
        if (r < 0)
                return log_error_errno(r, "Cannot watch DM events: %m");
        (void) sd_event_source_set_priority(rf->dm_source, EVENT_PRIORITY_KERNEL);
        return 0;
}

Refresh *refresh_free(Refresh *rf) {
        if (!rf)
                return NULL;
        sd_event_source_disable_unref(rf->refresh_source);
        sd_event_source_disable_unref(rf->list_source);
        sd_event_source_disable_unref(rf->sweep_source);
        free(rf->sweep_devices);
        sd_event_source_disable_unref(rf->udev_source);
        sd_event_source_disable_unref(rf->dm_source);
        sd_event_unref(rf->event);
        devset_done(&rf->dirty);
        strv_hashmap_clear(&rf->event_links);
        strv_hashmap_clear(&rf->verity_errors);
        return mfree(rf);
}
