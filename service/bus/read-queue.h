/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* Reads wait behind everything else. sd-bus answers a connection's calls in the order they came,
 * so a flood of GetManagedObjects would keep a mutation (and what follows it) waiting behind every
 * read queued before it. A filter takes read calls (GetManagedObjects, Get, GetAll, Introspect,
 * and the reads of the service's own vtables) out of that order into a queue of their own; a
 * source of lower priority than the bus hands them back (sd_bus_enqueue_for_read) one at a time,
 * whenever nothing else is waiting, or, while calls that are no reads keep coming, one for each
 * such call once the oldest has waited READ_WAIT_MAX_USEC. Each caller's reads keep their order.
 *
 * What waits is bounded in count and in bytes, for each sender and in all: a read whose arguments
 * are not of its method's signature, or have a string longer than READ_ARGUMENT_MAX, is answered
 * at once with InvalidArgs (the check reads what sd-bus would read anyway); past
 * READ_QUEUE_PER_SENDER_MAX of its own, a sender's read is answered with LimitsExceeded; past
 * READ_QUEUE_MAX or READ_QUEUE_BYTES_MAX in all, reads are answered in place, as without the
 * queue.
 *
 * A read runs whole once it started, and one GetManagedObjects over many devices takes a while: an
 * operation's next step, whose event came meanwhile, waits for it. So while the owner says an
 * operation's next step is the loop's (busy: it waits for udev or a re-read, not in the kernel),
 * the queue rests between two reads as long as the last one took, and the operation's steps get
 * at least half the loop. */

/* Far below the 250 ms a reader may wait under a flood, and above a loop turn's work. */
#define READ_WAIT_MAX_USEC (50 * 1000)
/* The most the queue rests between two reads while busy. */
#define READ_REST_MAX_USEC (100 * 1000)
#define READ_QUEUE_MAX 1024
#define READ_QUEUE_PER_SENDER_MAX 64
/* No read takes more: D-Bus names are at most 255 bytes, a path under /dev PATH_MAX. */
#define READ_ARGUMENT_MAX 4096
/* A message's own size beside its strings (header, sd-bus's bookkeeping), roughly. */
#define READ_OVERHEAD_BYTES 512
#define READ_QUEUE_BYTES_MAX (4u * 1024 * 1024)

typedef struct ReadQueue ReadQueue;

typedef struct ReadMethod {
        const char *interface, *member, *signature;
} ReadMethod;

/* busy(userdata): whether an operation's next step is the loop's; may be NULL. */
int read_queue_new(sd_bus *bus, sd_event *event, int64_t priority, bool (*busy)(void *userdata), void *userdata,
                   ReadQueue **ret);
ReadQueue *read_queue_free(ReadQueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(ReadQueue *, read_queue_free);

/* Takes the reads of vtable, an interface's, into the queue: each method without an options dict
 * last (every mutation takes one, as the contract says). interface and vtable outlive q. -EINVAL
 * for a read that takes other than strings and uint32s, which the size check does not know. */
int read_queue_add_vtable(ReadQueue *q, const char *interface, const sd_bus_vtable *vtable);
