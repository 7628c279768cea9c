/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include <glib.h>

#include "read-queue.h"

static int handler(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return 0;
}

/* Shaped as the service's own: reads without arguments (SD_BUS_NO_ARGS leaves the signature
 * NULL) and with strings and uint32s, mutations with an options dict last. */
static const sd_bus_vtable ours[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", NULL, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ResolveDevNum", SD_BUS_ARGS("u", major, "u", minor), SD_BUS_RESULT("o", device), handler, 0),
        SD_BUS_METHOD_WITH_ARGS("GetTree", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(oao)", tree), handler, 0),
        SD_BUS_METHOD_WITH_ARGS("Create", SD_BUS_ARGS("s", name, "a(ttss)", table, "a{sv}", options), SD_BUS_RESULT("o", device),
                                handler, 0),
        SD_BUS_SIGNAL_WITH_ARGS("Event", SD_BUS_ARGS("u", event_nr), 0),
        SD_BUS_VTABLE_END
};

/* A read the size check cannot weigh. */
static const sd_bus_vtable unweighable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetRange", SD_BUS_ARGS("t", from), SD_BUS_RESULT("ao", devices), handler, 0),
        SD_BUS_VTABLE_END
};

static void test_reads_from_vtables(void) {
        sd_bus *bus;
        sd_event *event;
        ReadQueue *q;

        g_assert_cmpint(sd_bus_new(&bus), >=, 0);
        g_assert_cmpint(sd_event_new(&event), >=, 0);
        g_assert_cmpint(read_queue_new(bus, event, 0, NULL, NULL, &q), ==, 0);
        g_assert_cmpint(read_queue_add_vtable(q, "org.example.Ours", ours), ==, 0);
        g_assert_cmpint(read_queue_add_vtable(q, "org.example.Other", unweighable), ==, -EINVAL);
        read_queue_free(q);
        sd_event_unref(event);
        sd_bus_unref(bus);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/read-queue/reads-from-vtables", test_reads_from_vtables);
        return g_test_run();
}
