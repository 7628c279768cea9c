/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "dm-kernel.h"
#include "inventory.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "operation.h"
#include "refresh.h"

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");

        /* Blocked before the signal sources exist, so no signal kills us in between. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block SIGTERM/SIGINT: %m");

        /* A NULL handler makes the loop exit cleanly on the signal. */
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGTERM: %m");
        r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGINT: %m");

        r = dm_kernel_new(&m->dm);
        if (r < 0)
                return r;
        r = udev_sysfs_new(&m->udev);
        if (r < 0)
                return r;
        m->graph = graph_new();
        if (!m->graph)
                return log_oom();

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        operations_stop(m);
        refresh_stop(m);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        graph_free(m->graph);
        udev_sysfs_free(m->udev);
        dm_kernel_free(m->dm);
        free(m->driver_version);
        free(m->library_version);
        return mfree(m);
}

static int manager_connect_bus(Manager *m) {
        int r;

        /* Honours DBUS_SYSTEM_BUS_ADDRESS, which is how tests point us at their own bus. */
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to make bus disconnection exit the loop: %m");

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        return 0;
}

int manager_startup(Manager *m) {
        int r;

        r = dm_kernel_get_versions(&m->driver_version, &m->library_version);
        if (r < 0)
                return r;

        r = refresh_start(m);
        if (r < 0)
                return r;

        r = operations_start(m);
        if (r < 0)
                return r;

        r = inventory_scan(m->graph, m->dm, m->udev);
        if (r < 0)
                return log_error_errno(r, "Failed to read the device-mapper devices: %m");

        r = manager_connect_bus(m);
        if (r < 0)
                return r;

        r = manager_bus_register(m);
        if (r < 0)
                return r;

        /* Last: once the name is ours, clients may call, and everything they ask about is there. */
        r = sd_bus_request_name(m->bus, DMBUS_SERVICE_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s: %m", DMBUS_SERVICE_NAME);

        log_info("dmbusd %s ready: device-mapper driver %s, libdevmapper %s, %zu DM devices, %zu block devices.",
                 PACKAGE_VERSION, m->driver_version, m->library_version, graph_dm_count(m->graph), graph_size(m->graph));
        (void) sd_notify(false, "READY=1\nSTATUS=Serving device-mapper inventory.");
        return 0;
}

int manager_run(Manager *m) {
        int r;

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");

        (void) sd_notify(false, "STOPPING=1");
        return 0;
}
