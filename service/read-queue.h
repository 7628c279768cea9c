/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* Reads wait behind everything else. sd-bus answers a connection's calls in the order they came,
 * so a flood of GetManagedObjects would keep a mutation (and what follows it) waiting behind every
 * read queued before it. A filter takes read calls (GetManagedObjects, Get, GetAll, Introspect,
 * Resolve*, GetDevices, GetTree) out of that order into a queue of their own; a source of lower
 * priority than the bus hands them back (sd_bus_enqueue_for_read) one at a time, whenever nothing
 * else is waiting. Each caller's reads keep their order. Past READ_QUEUE_MAX queued reads, reads are
 * answered in place, as without the queue, so memory stays bounded. */

#define READ_QUEUE_MAX 1024

typedef struct ReadQueue ReadQueue;

int read_queue_new(sd_bus *bus, sd_event *event, int64_t priority, ReadQueue **ret);
ReadQueue *read_queue_free(ReadQueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(ReadQueue *, read_queue_free);
