/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The marshalling floor of bench-inventory, run in the guest: fetches dmbusd's GetManagedObjects
 * reply once, then waits for dmbusd's name, and answers every GetManagedObjects with a copy of
 * that reply (sd_bus_message_copy), so what is left is what sd-bus and the bus cost for those bytes.
 * Prints "ready" once it owns the name; runs until killed. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#define SERVICE "org.dmbus.DeviceMapper1"
#define ROOT "/org/dmbus/DeviceMapper1"

static sd_bus_message *saved;

static int on_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        sd_bus_message *reply = NULL;
        int r;

        if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects"))
                return 0;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_rewind(saved, true);
        if (r >= 0)
                r = sd_bus_message_copy(reply, saved, true);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        return r < 0 ? r : 1;
}

static int fail(const char *what, int r) {
        fprintf(stderr, "bench-echo: %s: %s\n", what, strerror(-r));
        return EXIT_FAILURE;
}

int main(void) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return fail("connecting to the system bus", r);
        r = sd_bus_call_method(bus, SERVICE, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &error,
                               &saved, "");
        if (r < 0)
                return fail(error.message ?: "GetManagedObjects", r);
        printf("fetched\n");
        fflush(stdout);

        r = sd_bus_add_filter(bus, NULL, on_call, NULL);
        if (r < 0)
                return fail("adding the filter", r);
        /* dmbusd is stopped by the benchmark now: take its name once it is free. */
        while ((r = sd_bus_request_name(bus, SERVICE, 0)) == -EEXIST)
                usleep(10 * 1000);
        if (r < 0)
                return fail("taking the name", r);
        printf("ready\n");
        fflush(stdout);

        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return fail("processing", r);
                if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0)
                        return fail("waiting", r);
        }
}
