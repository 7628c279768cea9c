/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/sysmacros.h>

#include "device-bus.h"
#include "event-priority.h"
#include "fileio.h"
#include "journal-fields.h"
#include "log.h"
#include "monitor.h"
#include "strv.h"
#include "time-util.h"

static void on_config_warning(unsigned line, const char *why, void *userdata) {
        log_warning("%s:%u %s; passed over.", CONFIG_PATH, line, why);
}

void monitor_load_config(Manager *m) {
        static char text[64 * 1024];
        Config c;
        ssize_t n;

        assert(m);

        config_defaults(&c);
        n = read_small_file(CONFIG_PATH, text, sizeof(text));
        if (n >= 0)
                (void) config_parse(text, &c, on_config_warning, NULL);
        else if (n != -ENOENT)
                log_warning_errno((int) n, "Cannot read %s, using the defaults: %m", CONFIG_PATH);
        m->config = c;
        refresh_set_suspended_alert(m->refresh, c.suspended_alert_usec);
        log_debug("Polling every %" PRIu64 " s, suspended devices flagged after %" PRIu64 " s, %zu usage threshold(s).",
                  c.poll_interval_usec / USEC_PER_SEC, c.suspended_alert_usec / USEC_PER_SEC, c.n_thresholds);
}

static void tick(Manager *m) {
        uint64_t now = realtime_usec();
        BlockDevice *d;

        refresh_request_sweep(m->refresh);
        manager_read_target_types(m);
        for (size_t i = 0; graph_iterate(m->graph, &i, &d);) {
                const DmDevice *dm = d->dm;

                if (!dm)
                        continue;
                /* Usage, some health and the kernel's own work move without an event; work left
                 * undone may start again (a raid's resync after a frozen spell). */
                if (dm_device_has_usage(dm) || dm->silent_health || dm->kernel_work.unfinished)
                        refresh_mark(m->refresh, d->devnum);
                /* The refresh judges it, as it reads it. */
                if (dm->suspended_since != 0 && !dm->suspended_too_long && now >= dm->suspended_since + m->config.suspended_alert_usec)
                        refresh_mark(m->refresh, d->devnum);
        }
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        tick(m);
        (void) sd_event_source_set_time_relative(s, m->config.poll_interval_usec);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

int monitor_start(Manager *m) {
        int r;

        assert(m);

        if (m->monitor_source) {
                r = sd_event_source_set_time_relative(m->monitor_source, m->config.poll_interval_usec);
                return r < 0 ? r : sd_event_source_set_enabled(m->monitor_source, SD_EVENT_ONESHOT);
        }
        r = sd_event_add_time_relative(m->event, &m->monitor_source, CLOCK_MONOTONIC, m->config.poll_interval_usec, 0, on_tick, m);
        if (r < 0)
                return r;
        /* With the kernel's news: a tick only marks devices, the refresh reads them. */
        return sd_event_source_set_priority(m->monitor_source, EVENT_PRIORITY_KERNEL);
}

static void emit_crossed(Manager *m, dev_t devnum, const char *what, unsigned before, unsigned now) {
        unsigned crossed[CONFIG_THRESHOLDS_MAX];
        size_t n = thresholds_crossed(before, now, m->config.thresholds, m->config.n_thresholds, crossed);

        for (size_t i = 0; i < n; i++) {
                log_info("%u:%u: %s usage rose past %u %% (now %u %%).", major(devnum), minor(devnum), what, crossed[i], now);
                (void) device_bus_emit_threshold_crossed(m->bus, devnum, what, crossed[i]);
        }
}

void monitor_usage_changed(dev_t devnum, const Usage *before, const Usage *now, void *userdata) {
        Manager *m = userdata;

        if (before->has_data && now->has_data)
                emit_crossed(m, devnum, "data", before->data, now->data);
        if (before->has_metadata && now->has_metadata)
                emit_crossed(m, devnum, "metadata", before->metadata, now->metadata);
}

void monitor_device_failed(dev_t devnum, const Failure *failure, void *userdata) {
        Manager *m = userdata;
        const BlockDevice *d = graph_get(m->graph, devnum);
        _cleanup_(strv_freep) char **fields = NULL;
        char what[160];

        failure_describe(failure, what, sizeof(what));
        fields = journal_fields_device(JOURNAL_MESSAGE_FAILURE, d && d->dm ? d->dm->name : NULL, d && d->dm ? d->dm->uuid : NULL, devnum);
        journal_fields_add(&fields, "DMBUS_FAILURE=%s", failure_kind_to_string(failure->kind));
        log_struct(LOG_WARNING, fields, "%s (%u:%u): %s.", d && d->dm ? d->dm->name : "?", major(devnum), minor(devnum), what);
        (void) device_bus_emit_failure(m->bus, devnum, failure);
}
