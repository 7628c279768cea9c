/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "service-status.h"

/* Each line is a sendmsg() to systemd and, for the count of devices not ok, a walk of the graph:
 * at most five a second, whatever a storm of events asks. */
#define STATUS_COALESCE_USEC (200 * 1000)

struct ServiceStatus {
        sd_event_source *timer;
        ServiceStatusCount count;
        void *userdata;
        char sent[128];
};

static int on_due(sd_event_source *source, uint64_t usec, void *userdata) {
        ServiceStatus *s = userdata;
        ServiceStatusCounts c = {};
        char line[sizeof(s->sent)];

        s->count(&c, s->userdata);
        snprintf(line, sizeof(line), "%zu DM device%s, %zu not ok, %zu operation%s under way.",
                 c.dm_devices, c.dm_devices == 1 ? "" : "s", c.not_ok, c.operations, c.operations == 1 ? "" : "s");
        if (strcmp(line, s->sent) == 0)
                return 0;
        memcpy(s->sent, line, sizeof(line));
        (void) sd_notifyf(false, "STATUS=%s", line);
        return 0;
}

int service_status_new(sd_event *event, ServiceStatusCount count, void *userdata, ServiceStatus **ret) {
        _cleanup_(service_status_freep) ServiceStatus *s = NULL;
        int r;

        assert(event);
        assert(count);
        assert(ret);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->count = count;
        s->userdata = userdata;
        /* Due at once: the first line goes out in the main loop's first turn. */
        r = sd_event_add_time_relative(event, &s->timer, CLOCK_MONOTONIC, 0, 0, on_due, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

ServiceStatus *service_status_free(ServiceStatus *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->timer);
        return mfree(s);
}

void service_status_changed(ServiceStatus *s) {
        int enabled = SD_EVENT_OFF;

        assert(s);

        /* Armed already: that line will count this change too. */
        if (sd_event_source_get_enabled(s->timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;
        if (sd_event_source_set_time_relative(s->timer, STATUS_COALESCE_USEC) < 0 ||
            sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT) < 0)
                log_debug("Cannot schedule the status line; it follows the next change.");
}
