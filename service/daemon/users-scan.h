/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "block-users.h"
#include "macro.h"

/* Who uses which device (block-users.h), asked from the main loop and answered there, while the
 * scan itself (every process's open files) runs on a thread of its own. One scan at a time: the
 * requests that come while one runs are answered together by the next, which looks at all their
 * devices at once, so a flood of requests costs one scan per scan's time, never one each. */

typedef struct UsersScan UsersScan;
typedef struct UsersScanRequest UsersScanRequest;

/* users: those of the request's devices only; error: 0, or -errno when the scan failed. Called on
 * the main loop, once; the request is freed after it returns. */
typedef void (*UsersScanCallback)(const BlockUser *users, size_t n, int error, void *userdata);

int users_scan_new(sd_event *event, UsersScan **ret);
/* A scan still running keeps what it needs until the process exits. */
UsersScan *users_scan_free(UsersScan *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(UsersScan *, users_scan_free);

/* -EBUSY when too many unprivileged requests wait already. A privileged one (root's, or an
 * authorized operation's) is never refused for others' and starts a scan at once; unprivileged
 * ones alone wait, after a scan, as long as it ran, so that a flood keeps the scanning thread busy
 * half the time at most. ret (may be NULL) is for a cancel. */
int users_scan_request(UsersScan *s, const dev_t *devnums, size_t n, bool privileged, UsersScanCallback callback,
                       void *userdata, UsersScanRequest **ret);
/* Its callback will not be called. */
void users_scan_request_cancel(UsersScanRequest *request);
