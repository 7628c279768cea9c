/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dmbus-names.h"
#include "log.h"
#include "read-queue.h"

struct ReadQueue {
        sd_bus *bus;
        sd_bus_slot *filter_slot;
        sd_event_source *release_source;
        sd_bus_message **items;         /* a ring of READ_QUEUE_MAX */
        size_t head, n;
        sd_bus_message *released;       /* handed back, not yet dispatched: the filter lets it pass */
};

static bool is_read(sd_bus_message *m) {
        static const char *const reads[][2] = {
                { "org.freedesktop.DBus.ObjectManager", "GetManagedObjects" },
                { "org.freedesktop.DBus.Properties", "Get" },
                { "org.freedesktop.DBus.Properties", "GetAll" },
                { "org.freedesktop.DBus.Introspectable", "Introspect" },
                { DMBUS_MANAGER_INTERFACE, "ResolveName" },
                { DMBUS_MANAGER_INTERFACE, "ResolveUUID" },
                { DMBUS_MANAGER_INTERFACE, "ResolveDevNum" },
                { DMBUS_MANAGER_INTERFACE, "ResolvePath" },
                { DMBUS_MANAGER_INTERFACE, "GetDevices" },
                { DMBUS_MANAGER_INTERFACE, "GetTree" },
        };

        for (size_t i = 0; i < ELEMENTSOF(reads); i++)
                if (sd_bus_message_is_method_call(m, reads[i][0], reads[i][1]) > 0)
                        return true;
        return false;
}

static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ReadQueue *q = userdata;

        if (m == q->released) {
                q->released = sd_bus_message_unref(q->released);
                return 0;
        }
        if (q->n == READ_QUEUE_MAX || !is_read(m))
                return 0;
        q->items[(q->head + q->n++) % READ_QUEUE_MAX] = sd_bus_message_ref(m);
        (void) sd_event_source_set_enabled(q->release_source, SD_EVENT_ON);
        return 1;       /* taken: dispatched when handed back */
}

static int on_release(sd_event_source *s, void *userdata) {
        ReadQueue *q = userdata;
        sd_bus_message *m;
        int r;

        /* One at a time: the next once the last one was dispatched. */
        if (q->released)
                return 0;
        if (q->n == 0)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        m = q->items[q->head];
        q->head = (q->head + 1) % READ_QUEUE_MAX;
        q->n--;
        r = sd_bus_enqueue_for_read(q->bus, m);
        if (r < 0) {
                log_debug_errno(r, "Cannot hand a read back to the bus, dropping it: %m");
                sd_bus_message_unref(m);
                return 0;
        }
        q->released = m;        /* our reference, until the filter sees it */
        return 0;
}

int read_queue_new(sd_bus *bus, sd_event *event, int64_t priority, ReadQueue **ret) {
        _cleanup_(read_queue_freep) ReadQueue *q = NULL;
        int r;

        assert(bus);
        assert(event);
        assert(ret);

        q = calloc(1, sizeof(ReadQueue));
        if (!q)
                return -ENOMEM;
        q->bus = sd_bus_ref(bus);
        q->items = calloc(READ_QUEUE_MAX, sizeof(sd_bus_message *));
        if (!q->items)
                return -ENOMEM;
        r = sd_event_add_defer(event, &q->release_source, on_release, q);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(q->release_source, priority);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(q->release_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_bus_add_filter(bus, &q->filter_slot, on_message, q);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(q);
        return 0;
}

ReadQueue *read_queue_free(ReadQueue *q) {
        if (!q)
                return NULL;
        sd_bus_slot_unref(q->filter_slot);
        sd_event_source_disable_unref(q->release_source);
        for (size_t i = 0; i < q->n; i++)
                sd_bus_message_unref(q->items[(q->head + i) % READ_QUEUE_MAX]);
        free(q->items);
        sd_bus_message_unref(q->released);
        sd_bus_unref(q->bus);
        return mfree(q);
}
