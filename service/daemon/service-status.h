/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

#include "macro.h"

/* What systemd shows of the daemon (`systemctl status dmbusd`): a STATUS= line, kept current.
 * Changes are coalesced: the counts are taken at most every 200 ms, and the line is sent only
 * when it differs from the last one sent. */
typedef struct ServiceStatus ServiceStatus;

typedef struct ServiceStatusCounts {
        size_t dm_devices;
        size_t not_ok;          /* DM devices whose health is not "ok" */
        size_t operations;      /* under way: queued, running, or waiting for udev */
} ServiceStatusCounts;

/* Asked for the counts on the main loop, when the line is due. */
typedef void (*ServiceStatusCount)(ServiceStatusCounts *ret, void *userdata);

int service_status_new(sd_event *event, ServiceStatusCount count, void *userdata, ServiceStatus **ret);
ServiceStatus *service_status_free(ServiceStatus *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ServiceStatus *, service_status_free);

/* Something the line counts may have changed. */
void service_status_changed(ServiceStatus *s);
