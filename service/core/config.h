/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The service's configuration, /etc/dmbus/dmbusd.conf, in systemd's INI style: read at start and
 * on SIGHUP. Every key has a default, so the file is optional; a line that cannot be used is
 * reported and passed over, the rest still apply.
 *
 *   [Monitor]
 *   PollIntervalSec=10      how often pools are polled for usage and every device's INFO compared
 *   SuspendedAlertSec=30    a device suspended this long reads Health "suspended"
 *   Thresholds=80 90 95     percentages of usage that raise ThresholdCrossed
 *
 *   [Operations]
 *   SuspendLeaseSec=0       the lease of a Suspend by a caller other than root: also the most such
 *                           a caller may ask for; 0, none (as dmsetup) */

#define CONFIG_PATH "/etc/dmbus/dmbusd.conf"
#define CONFIG_THRESHOLDS_MAX 16
/* The longest lease a Suspend may take (a day), set here or asked for. */
#define CONFIG_SUSPEND_LEASE_SEC_MAX 86400

typedef struct Config {
        uint64_t poll_interval_usec;
        uint64_t suspended_alert_usec;
        unsigned thresholds[CONFIG_THRESHOLDS_MAX];     /* ascending, each once */
        size_t n_thresholds;
        uint64_t suspend_lease_usec;    /* 0: none */
} Config;

void config_defaults(Config *c);

/* Applies text over c. warn (may be NULL) hears of each line passed over, with why. Returns how
 * many lines were passed over. */
typedef void (*ConfigWarn)(unsigned line, const char *why, void *userdata);
unsigned config_parse(const char *text, Config *c, ConfigWarn warn, void *userdata);
