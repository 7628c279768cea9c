/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "time-util.h"


void config_defaults(Config *c) {
        assert(c);

        /* dmeventd's thin plugin polls every 10 s and warns at 80, 90 and 95 %. */
        *c = (Config) {
                .poll_interval_usec = 10 * USEC_PER_SEC,
                .suspended_alert_usec = 30 * USEC_PER_SEC,
                .thresholds = { 80, 90, 95 },
                .n_thresholds = 3,
        };
}

static char *strip(char *s) {
        char *end;

        s += strspn(s, " \t");
        end = s + strlen(s);
        while (end > s && isspace((unsigned char) end[-1]))
                *--end = 0;
        return s;
}

/* A whole number of seconds within [min, max]. */
static const char *parse_seconds(const char *value, unsigned min, unsigned max, uint64_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno != 0 || end == value || *end || value[0] == '-' || v < min || v > max)
                return "expects a whole number of seconds in range";
        *ret = v * USEC_PER_SEC;
        return NULL;
}

static const char *parse_thresholds(const char *value, Config *c) {
        unsigned list[CONFIG_THRESHOLDS_MAX];
        size_t n = 0;
        const char *p = value;

        while (*(p += strspn(p, " \t"))) {
                char *end;
                unsigned long v;

                errno = 0;
                v = strtoul(p, &end, 10);
                if (errno != 0 || end == p || (*end && !isspace((unsigned char) *end)) || *p == '-' || v < 1 || v > 100)
                        return "expects percentages from 1 to 100, separated by spaces";
                if (n > 0 && v <= list[n - 1])
                        return "expects percentages in rising order, each once";
                if (n == CONFIG_THRESHOLDS_MAX)
                        return "takes at most 16 percentages";
                list[n++] = (unsigned) v;
                p = end;
        }
        memcpy(c->thresholds, list, n * sizeof(unsigned));
        c->n_thresholds = n;
        return NULL;
}

unsigned config_parse(const char *text, Config *c, ConfigWarn warn, void *userdata) {
        enum { SECTION_NONE, SECTION_MONITOR, SECTION_OPERATIONS } section = SECTION_NONE;
        unsigned line_number = 0, passed_over = 0;

        assert(text);
        assert(c);

        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                char buf[len + 1], *line, *eq;
                const char *why = NULL;

                memcpy(buf, p, len);
                buf[len] = 0;
                p += len + (p[len] == '\n');
                line_number++;
                line = strip(buf);
                if (!line[0] || line[0] == '#' || line[0] == ';')
                        continue;
                if (line[0] == '[') {
                        section = strcmp(line, "[Monitor]") == 0      ? SECTION_MONITOR
                                  : strcmp(line, "[Operations]") == 0 ? SECTION_OPERATIONS
                                                                      : SECTION_NONE;
                        if (section == SECTION_NONE)
                                why = "is a section this version does not know; its keys are passed over";
                } else if (!(eq = strchr(line, '=')))
                        why = "is not KEY=VALUE";
                else if (section != SECTION_NONE) {
                        char *key, *value;

                        *eq = 0;
                        key = strip(line);
                        value = strip(eq + 1);
                        if (section == SECTION_OPERATIONS)
                                why = strcmp(key, "SuspendLeaseSec") == 0
                                              ? parse_seconds(value, 0, CONFIG_SUSPEND_LEASE_SEC_MAX, &c->suspend_lease_usec)
                                              : "is a key [Operations] does not know";
                        else if (strcmp(key, "PollIntervalSec") == 0)
                                why = parse_seconds(value, 1, 3600, &c->poll_interval_usec);
                        else if (strcmp(key, "SuspendedAlertSec") == 0)
                                why = parse_seconds(value, 1, 86400, &c->suspended_alert_usec);
                        else if (strcmp(key, "Thresholds") == 0)
                                why = parse_thresholds(value, c);
                        else
                                why = "is a key [Monitor] does not know";
                }
                if (why) {
                        passed_over++;
                        if (warn)
                                warn(line_number, why, userdata);
                }
        }
        return passed_over;
}
