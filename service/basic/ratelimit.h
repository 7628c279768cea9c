/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "time-util.h"

/* At most burst events an interval, for log lines a caller could otherwise repeat at will. */
typedef struct RateLimit {
        uint64_t interval_usec;
        unsigned burst;
        uint64_t begin;
        unsigned n;
} RateLimit;

static inline bool ratelimit_below(RateLimit *rl) {
        uint64_t now = now_usec();

        if (rl->begin == 0 || now >= rl->begin + rl->interval_usec) {
                rl->begin = now;
                rl->n = 0;
        }
        return rl->n++ < rl->burst;
}
