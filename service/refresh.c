/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "device-bus.h"
#include "dm-kernel.h"
#include "inventory.h"
#include "log.h"
#include "manager-bus.h"
#include "operation.h"
#include "refresh.h"

static bool has_holders(Manager *m, dev_t devnum) {
        const dev_t *holders;
        size_t n;

        graph_get_holders(m->graph, devnum, &holders, &n);
        return n > 0;
}

/* Events may have been lost: everything the graph or the kernel knows is read again. */
static void rescan(Manager *m) {
        m->rescan = true;
        (void) sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ONESHOT);
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void refresh_mark(Manager *m, dev_t devnum) {
        DevSet *dirty = &m->dirty;

        if (dirty->n == 0)
                m->batch_first_event_usec = now_usec();
        if (devset_add(dirty, devnum) < 0) {
                log_oom();
                rescan(m);
                return;
        }
        (void) sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ONESHOT);
}

static int on_udev_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        UdevEvent event;
        int r;

        while ((r = udev_sysfs_monitor_receive(m->udev, &event)) != 0) {
                dev_t devnum = event.devnum;

                if (r == -ENOBUFS) {
                        log_warning("The udev monitor overflowed: reading every device again.");
                        rescan(m);
                        continue;
                }
                operations_udev_event(m, &event);
                /* DM devices, and devices under them; the rest of the machine is not ours. */
                if (dm_kernel_is_dm_major(major(devnum)) || graph_get(m->graph, devnum) || has_holders(m, devnum))
                        refresh_mark(m, devnum);
        }
        return 0;
}

/* Which DM devices did the event touch? The global DM event names none. LIST shows devices that
 * came, went, were renamed or had a target event (event_nr moved). */
static void mark_listed_changes(Manager *m) {
        _cleanup_(devset_done) DevSet listed = {};
        DmListEntry *list;
        BlockDevice *d;
        size_t n;

        if (dm_kernel_list(m->dm, &list, &n) < 0) {
                rescan(m);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                d = graph_get(m->graph, list[i].devnum);
                if (devset_add(&listed, list[i].devnum) < 0) {
                        dm_list_free(list, n);
                        rescan(m);
                        return;
                }
                if (!d || !d->dm || d->dm->event_nr != list[i].event_nr || strcmp(d->dm->name, list[i].name) != 0)
                        refresh_mark(m, list[i].devnum);
        }
        dm_list_free(list, n);

        for (size_t i = 0; graph_iterate(m->graph, &i, &d);)
                if (d->dm && !devset_contains(&listed, d->devnum))
                        refresh_mark(m, d->devnum);
}

/* A suspend or a table load into the inactive slot raises no event of its own (Linux 6.1), and
 * shows only in the device's INFO flags: after a DM event's own changes are out, one INFO per DM
 * device finds them. */
static void mark_info_changes(Manager *m) {
        BlockDevice *d;

        for (size_t i = 0; graph_iterate(m->graph, &i, &d);) {
                DmInfo info;

                if (!d->dm || devset_contains(&m->dirty, d->devnum))
                        continue;
                if (dm_kernel_info(d->devnum, &info) < 0 ||
                    info.suspended != d->dm->suspended || info.live_table != d->dm->live_table ||
                    info.inactive_table != d->dm->inactive_table || info.read_only != d->dm->read_only ||
                    info.deferred_remove != d->dm->deferred_remove || info.open_count != d->dm->open_count ||
                    info.event_nr != d->dm->event_nr || info.target_count != d->dm->target_count)
                        refresh_mark(m, d->devnum);
        }
}

static int on_dm_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r;

        /* Re-arm first: an event during our reading wakes us again. */
        r = dm_kernel_arm_poll(m->dm);
        if (r < 0) {
                log_error_errno(r, "Failed to re-arm DM event polling, relying on udev alone: %m");
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        mark_listed_changes(m);
        m->info_sweep_pending = true;
        (void) sd_event_source_set_enabled(m->refresh_source, SD_EVENT_ONESHOT);
        return 0;
}

static int refresh_device(Manager *m, dev_t devnum, DevSet *holders_changed);

/* A device's dependencies that the graph lacks are read too: a loop device a reload put under it. */
static int add_missing_dependencies(Manager *m, const BlockDevice *d, DevSet *holders_changed) {
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
                if (!graph_get(m->graph, deps[i])) {
                        r = refresh_device(m, deps[i], holders_changed);
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

static int refresh_device(Manager *m, dev_t devnum, DevSet *holders_changed) {
        BlockDevice *old = graph_get(m->graph, devnum), *d = NULL;
        unsigned block_changes = 0, device_changes = 0;
        int r;

        r = inventory_read_device(m->udev, devnum, &d);
        if (r == -ENXIO || r == -ENODEV) {
                if (!old)
                        return 0;
                r = note_dependencies(holders_changed, old->deps, old->n_deps);
                if (r < 0)
                        return r;
                /* While it can still be enumerated, so the signal lists its interfaces. */
                (void) device_bus_emit_removed(m, devnum);
                graph_remove(m->graph, devnum);
                log_debug("%u:%u is gone.", major(devnum), minor(devnum));
                return 0;
        }
        if (r < 0)
                return log_warning_errno(r, "Failed to read %u:%u again, keeping what we knew: %m", major(devnum), minor(devnum));

        /* A device that is not DM and lies under none is not ours (a loop device set up alone). */
        if (!old && !d->dm && !has_holders(m, devnum)) {
                block_device_free(d);
                return 0;
        }

        if (old) {
                block_device_diff(old, d, &block_changes, &device_changes);
                if (block_changes & BLOCK_CHANGE_DEPENDENCIES) {
                        r = note_dependencies(holders_changed, old->deps, old->n_deps);
                        if (r >= 0)
                                r = note_dependencies(holders_changed, d->deps, d->n_deps);
                }
        } else
                r = note_dependencies(holders_changed, d->deps, d->n_deps);
        if (r < 0) {
                block_device_free(d);
                return r;
        }

        bool added = !old;
        uint32_t event_nr = d->dm ? d->dm->event_nr : 0;
        r = graph_put(m->graph, d);     /* frees old */
        if (r < 0)
                return r;

        /* Bottom up: what it maps onto is on the bus before it names it in Dependencies. */
        r = add_missing_dependencies(m, graph_get(m->graph, devnum), holders_changed);

        if (added)
                (void) device_bus_emit_added(m, devnum);
        else
                (void) device_bus_emit_changed(m, devnum, block_changes, device_changes, false);
        if (device_changes & DEVICE_CHANGE_EVENT_NUMBER)
                (void) device_bus_emit_event(m, devnum, event_nr);
        return r;
}

static void mark_everything(Manager *m) {
        DmListEntry *list;
        BlockDevice *d;
        size_t n;

        for (size_t i = 0; graph_iterate(m->graph, &i, &d);)
                refresh_mark(m, d->devnum);
        if (dm_kernel_list(m->dm, &list, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                refresh_mark(m, list[i].devnum);
        dm_list_free(list, n);
}

static int on_refresh(sd_event_source *s, void *userdata) {
        _cleanup_(devset_done) DevSet holders_changed = {};
        _cleanup_(devset_done) DevSet batch = {};
        Manager *m = userdata;
        size_t dm_count = graph_dm_count(m->graph);

        if (m->rescan) {
                m->rescan = false;
                mark_everything(m);
        }
        /* Take the batch: what the refresh itself marks goes to the next turn. */
        batch = m->dirty;
        m->dirty = (DevSet) {};

        /* A device that cannot be read keeps what we knew (refresh_device() says so); only
         * running out of memory leaves the graph unsure of everything. */
        for (size_t i = 0; i < batch.n; i++)
                if (refresh_device(m, batch.items[i], &holders_changed) == -ENOMEM) {
                        log_oom();
                        rescan(m);
                        break;
                }

        /* Reverse edges: Holders changed on both ends of every changed edge. A device that is
         * not DM and under nothing any more leaves the graph. */
        for (size_t i = 0; i < holders_changed.n; i++) {
                dev_t devnum = holders_changed.items[i];
                BlockDevice *d = graph_get(m->graph, devnum);

                if (!d)
                        continue;
                if (!d->dm && !has_holders(m, devnum)) {
                        (void) device_bus_emit_removed(m, devnum);
                        graph_remove(m->graph, devnum);
                } else
                        (void) device_bus_emit_changed(m, devnum, 0, 0, true);
        }

        if (graph_dm_count(m->graph) != dm_count)
                (void) manager_bus_emit_device_count(m);

        /* For the live benchmark: CLOCK_MONOTONIC, comparable with a client's in the same system. */
        if (batch.n > 0) {
                uint64_t done = now_usec();
                log_debug("Refreshed %zu device(s): first event taken in at %" PRIu64 " us, signals sent at %" PRIu64 " us (%" PRIu64 " us in dmbusd).",
                          batch.n, m->batch_first_event_usec, done, done - m->batch_first_event_usec);
        }

        /* Operations whose device was read now answer their callers: after the signals. */
        operations_refreshed(m, &batch);

        /* What it finds is read in the next turn. */
        if (m->info_sweep_pending) {
                m->info_sweep_pending = false;
                mark_info_changes(m);
        }
        return 0;
}

int refresh_start(Manager *m) {
        int fd, r;

        r = sd_event_add_defer(m->event, &m->refresh_source, on_refresh, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the refresh source: %m");
        /* After every pending event of the turn was taken in: one read per device per burst. */
        r = sd_event_source_set_priority(m->refresh_source, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                return log_error_errno(r, "Failed to set the refresh priority: %m");
        r = sd_event_source_set_enabled(m->refresh_source, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Failed to disable the refresh source: %m");

        r = udev_sysfs_monitor_start(m->udev, &fd);
        if (r < 0)
                return r;
        r = sd_event_add_io(m->event, &m->udev_source, fd, EPOLLIN, on_udev_event, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the udev monitor: %m");

        r = dm_kernel_arm_poll(m->dm);
        if (r < 0)
                /* Before driver 4.37: uevents alone, so suspends and inactive loads go unseen. */
                return log_warning_errno(r, "The kernel cannot poll for DM events; following udev alone: %m"), 0;
        r = sd_event_add_io(m->event, &m->dm_source, dm_kernel_event_fd(m->dm), EPOLLIN, on_dm_event, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch DM events: %m");
        return 0;
}

void refresh_stop(Manager *m) {
        m->refresh_source = sd_event_source_unref(m->refresh_source);
        m->udev_source = sd_event_source_unref(m->udev_source);
        m->dm_source = sd_event_source_unref(m->dm_source);
        devset_done(&m->dirty);
}
