/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>

#include "hashmap.h"
#include "log.h"
#include "read-queue.h"
#include "time-util.h"

typedef struct QueuedRead {
        sd_bus_message *message;
        size_t bytes;
        uint64_t queued_usec;
} QueuedRead;

/* How many reads of one sender wait; the key is the entry's own copy of the name. */
typedef struct SenderReads {
        char *sender;
        size_t n;
} SenderReads;

struct ReadQueue {
        sd_bus *bus;
        sd_bus_slot *filter_slot;
        sd_event_source *release_source;
        sd_event_source *rest_source;   /* while busy: the release waits this long after a read */
        bool (*busy)(void *userdata);
        void *userdata;
        uint64_t released_usec;         /* when the last read was handed back */
        QueuedRead *items;              /* a ring of READ_QUEUE_MAX */
        size_t head, n, bytes;
        Hashmap *by_sender;
        sd_bus_message *released;       /* handed back, not yet dispatched: the filter lets it pass */
        ReadMethod *reads;              /* the standard interfaces' reads, then read_queue_add_vtable()'s */
        size_t n_reads;
};

static const ReadMethod standard_reads[] = {
        { "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "" },
        { "org.freedesktop.DBus.Properties", "Get", "ss" },
        { "org.freedesktop.DBus.Properties", "GetAll", "s" },
        { "org.freedesktop.DBus.Introspectable", "Introspect", "" },
};

/* The read's expected signature, or NULL when m is no read. */
static const char *read_signature(const ReadQueue *q, sd_bus_message *m) {
        for (size_t i = 0; i < q->n_reads; i++)
                if (sd_bus_message_is_method_call(m, q->reads[i].interface, q->reads[i].member) > 0)
                        return q->reads[i].signature;
        return NULL;
}

static bool ends_with_options(const char *signature) {
        size_t n = strlen(signature);

        return n >= 5 && strcmp(signature + n - 5, "a{sv}") == 0;
}

int read_queue_add_vtable(ReadQueue *q, const char *interface, const sd_bus_vtable *vtable) {
        ReadMethod *reads;

        assert(q);
        assert(interface);
        assert(vtable);

        for (const sd_bus_vtable *v = vtable; v->type != _SD_BUS_VTABLE_END; v++) {
                /* SD_BUS_NO_ARGS leaves it NULL. */
                const char *signature = v->type == _SD_BUS_VTABLE_METHOD ? v->x.method.signature ?: "" : NULL;

                if (!signature || ends_with_options(signature))
                        continue;
                /* read_size() checks strings and uint32s only. */
                if (signature[strspn(signature, "su")] != 0)
                        return -EINVAL;
                reads = reallocarray(q->reads, q->n_reads + 1, sizeof(ReadMethod));
                if (!reads)
                        return -ENOMEM;
                q->reads = reads;
                q->reads[q->n_reads++] = (ReadMethod) { interface, v->x.method.member, signature };
        }
        return 0;
}

static size_t length_of(const char *s) {
        return s ? strlen(s) : 0;
}

/* What m holds, in bytes, once its arguments are checked against signature; -EINVAL when they are
 * of another signature, -E2BIG when one is longer than a read ever needs. The bus daemon let
 * through no byte that the signature does not account for, so this is the message's size, but for
 * its fixed header. Leaves m rewound. */
static int read_size(sd_bus_message *m, const char *signature, size_t *ret) {
        size_t bytes = length_of(sd_bus_message_get_path(m)) + length_of(sd_bus_message_get_interface(m)) +
                       length_of(sd_bus_message_get_member(m)) + length_of(sd_bus_message_get_sender(m)) +
                       length_of(sd_bus_message_get_destination(m));
        int r = 0;

        const char *actual = sd_bus_message_get_signature(m, true);

        if (!actual || strcmp(actual, signature) != 0)
                return -EINVAL;
        for (const char *t = signature; *t && r >= 0; t++) {
                const char *s;
                uint32_t u;

                if (*t == 's') {
                        r = sd_bus_message_read_basic(m, 's', &s);
                        if (r >= 0 && strlen(s) > READ_ARGUMENT_MAX)
                                r = -E2BIG;
                        bytes += r >= 0 ? strlen(s) : 0;
                } else
                        r = sd_bus_message_read_basic(m, 'u', &u);
        }
        (void) sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        *ret = bytes + READ_OVERHEAD_BYTES;
        return 0;
}

static SenderReads *sender_reads(ReadQueue *q, const char *sender) {
        return hashmap_get_string(q->by_sender, sender ?: "");
}

static int sender_count(ReadQueue *q, const char *sender, int delta) {
        SenderReads *e = sender_reads(q, sender);

        if (!e) {
                assert(delta > 0);
                e = calloc(1, sizeof(SenderReads));
                if (!e || !(e->sender = strdup(sender ?: "")) || hashmap_put_string(q->by_sender, e->sender, e) < 0) {
                        if (e)
                                free(e->sender);
                        free(e);
                        return -ENOMEM;
                }
        }
        e->n += delta;
        if (e->n == 0) {
                hashmap_remove_string(q->by_sender, e->sender);
                free(e->sender);
                free(e);
        }
        return 0;
}

/* Hands the oldest read back to the bus, to be dispatched next. */
static void release_one(ReadQueue *q) {
        QueuedRead item = q->items[q->head];
        int r;

        q->head = (q->head + 1) % READ_QUEUE_MAX;
        q->n--;
        q->bytes -= item.bytes;
        (void) sender_count(q, sd_bus_message_get_sender(item.message), -1);
        r = sd_bus_enqueue_for_read(q->bus, item.message);
        if (r < 0) {
                log_debug_errno(r, "Cannot hand a read back to the bus, dropping it: %m");
                sd_bus_message_unref(item.message);
                return;
        }
        q->released = item.message;     /* our reference, until the filter sees it */
        q->released_usec = now_usec();
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ReadQueue *q = userdata;
        const char *signature;
        SenderReads *mine;
        size_t bytes;
        int r;

        if (m == q->released) {
                q->released = sd_bus_message_unref(q->released);
                return 0;
        }
        signature = read_signature(q, m);
        if (!signature) {
                /* Other calls that keep coming would keep the bus busy, and every read waiting: one
                 * that waited READ_WAIT_MAX_USEC goes before this call. Reads that keep coming do
                 * not count, or a read flood would go before every change again. */
                if (q->n > 0 && !q->released && now_usec() - q->items[q->head].queued_usec > READ_WAIT_MAX_USEC)
                        release_one(q);
                return 0;
        }
        r = read_size(m, signature, &bytes);
        if (r == -EINVAL) {
                (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "%s takes arguments of the signature \"%s\", not \"%s\".",
                                                  sd_bus_message_get_member(m), signature, sd_bus_message_get_signature(m, true));
                return 1;
        }
        if (r == -E2BIG) {
                (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "An argument of %s is longer than %d bytes.",
                                                  sd_bus_message_get_member(m), READ_ARGUMENT_MAX);
                return 1;
        }
        if (r < 0)
                return 0;       /* sd-bus finds the same fault, and answers it */
        mine = sender_reads(q, sd_bus_message_get_sender(m));
        if (mine && mine->n >= READ_QUEUE_PER_SENDER_MAX) {
                (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_LIMITS_EXCEEDED, "%d of your reads are waiting already; wait for their answers.",
                                                  READ_QUEUE_PER_SENDER_MAX);
                return 1;
        }
        /* Full: answered in place, as without the queue, which holds nothing then. */
        if (q->n == READ_QUEUE_MAX || q->bytes + bytes > READ_QUEUE_BYTES_MAX ||
            sender_count(q, sd_bus_message_get_sender(m), +1) < 0)
                return 0;
        q->items[(q->head + q->n++) % READ_QUEUE_MAX] = (QueuedRead) { sd_bus_message_ref(m), bytes, now_usec() };
        q->bytes += bytes;
        (void) sd_event_source_set_enabled(q->release_source, SD_EVENT_ON);
        return 1;       /* taken: dispatched when handed back */
}

static int on_rested(sd_event_source *s, uint64_t usec, void *userdata) {
        ReadQueue *q = userdata;

        return sd_event_source_set_enabled(q->release_source, SD_EVENT_ON);
}

static int on_release(sd_event_source *s, void *userdata) {
        ReadQueue *q = userdata;
        uint64_t now, took;

        /* One at a time: the next once the last one was dispatched. */
        if (q->released)
                return 0;
        if (q->n == 0) {
                q->released_usec = 0;   /* a quiet spell: the next read goes at once */
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        /* The last read, and what else the loop did since it was handed back, took this long: as
         * long again for the operation's steps, READ_REST_MAX_USEC at most. */
        now = now_usec();
        took = now - q->released_usec;
        if (q->released_usec > 0 && q->busy && q->busy(q->userdata)) {
                q->released_usec = 0;   /* rested once: the next read goes when the rest ends */
                (void) sd_event_source_set_time(q->rest_source, now + MIN(took, (uint64_t) READ_REST_MAX_USEC));
                (void) sd_event_source_set_enabled(q->rest_source, SD_EVENT_ONESHOT);
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        release_one(q);
        return 0;
}

int read_queue_new(sd_bus *bus, sd_event *event, int64_t priority, bool (*busy)(void *userdata), void *userdata,
                   ReadQueue **ret) {
        _cleanup_(read_queue_freep) ReadQueue *q = NULL;
        int r;

        assert(bus);
        assert(event);
        assert(ret);

        q = calloc(1, sizeof(ReadQueue));
        if (!q)
                return -ENOMEM;
        q->bus = sd_bus_ref(bus);
        q->busy = busy;
        q->userdata = userdata;
        q->items = calloc(READ_QUEUE_MAX, sizeof(QueuedRead));
        q->by_sender = hashmap_new(HASHMAP_KEY_STRING);
        q->reads = malloc(sizeof(standard_reads));
        if (!q->items || !q->by_sender || !q->reads)
                return -ENOMEM;
        memcpy(q->reads, standard_reads, sizeof(standard_reads));
        q->n_reads = ELEMENTSOF(standard_reads);
        r = sd_event_add_defer(event, &q->release_source, on_release, q);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(q->release_source, priority);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(q->release_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_event_add_time(event, &q->rest_source, CLOCK_MONOTONIC, 0, 0, on_rested, q);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(q->rest_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_bus_add_filter(bus, &q->filter_slot, on_message, q);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(q);
        return 0;
}

ReadQueue *read_queue_free(ReadQueue *q) {
        SenderReads *e;

        if (!q)
                return NULL;
        sd_bus_slot_unref(q->filter_slot);
        sd_event_source_disable_unref(q->release_source);
        sd_event_source_disable_unref(q->rest_source);
        for (size_t i = 0; q->items && i < q->n; i++)
                sd_bus_message_unref(q->items[(q->head + i) % READ_QUEUE_MAX].message);
        free(q->items);
        for (size_t i = 0; q->by_sender && hashmap_iterate(q->by_sender, &i, (void **) &e);) {
                free(e->sender);
                free(e);
        }
        hashmap_free(q->by_sender);
        free(q->reads);
        sd_bus_message_unref(q->released);
        sd_bus_unref(q->bus);
        return mfree(q);
}
