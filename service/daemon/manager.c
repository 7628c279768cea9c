/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "device-bus.h"
#include "dmbus-names.h"
#include "event-priority.h"
#include "health.h"
#include "inventory.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "monitor.h"
#include "job-bus.h"
#include "lease.h"
#include "op-record.h"
#include "operation-bus.h"
#include "operation-run.h"
#include "settle.h"
#include "stack.h"
#include "users-bus.h"
#include "wait-bus.h"

/* The refresh's news, out as signals and to the operations waiting for them. */
static void on_device_added(dev_t devnum, void *userdata) {
        Manager *m = userdata;

        (void) device_bus_emit_added(m->bus, devnum);
}

static void on_device_removing(dev_t devnum, void *userdata) {
        Manager *m = userdata;

        (void) device_bus_emit_removed(m->bus, devnum);
}

static void on_device_changed(dev_t devnum, unsigned block_changes, unsigned device_changes, void *userdata) {
        Manager *m = userdata;

        (void) device_bus_emit_changed(m->bus, devnum, block_changes, device_changes);
        if (device_changes & DEVICE_CHANGE(HEALTH))
                service_status_changed(m->status);
}

static void on_device_event(dev_t devnum, uint32_t event_nr, void *userdata) {
        Manager *m = userdata;

        (void) device_bus_emit_event(m->bus, devnum, event_nr);
}

static void on_dm_count_changed(void *userdata) {
        Manager *m = userdata;

        (void) manager_bus_emit_device_count(m->bus);
        service_status_changed(m->status);
}

static void on_udev_event(const UdevEvent *event, void *userdata) {
        Manager *m = userdata;

        operation_queue_udev_event(m->operations, event);
}

static void on_refreshed(const DevSet *devices, void *userdata) {
        Manager *m = userdata;

        /* Leases first: a Resume's reply comes after the lease it ended is gone. */
        leases_refreshed(m, devices);
        jobs_kernel_work_refreshed(m, devices);
        operation_queue_refreshed(m->operations, devices);
        waiters_check(m);
}

static void on_operations_active_changed(void *userdata) {
        Manager *m = userdata;

        service_status_changed(m->status);
}

void manager_read_target_types(Manager *m) {
        DmTargetType *types;
        size_t n;
        int r;

        r = dm_kernel_list_target_types(m->dm, &types, &n);
        if (r < 0)
                return (void) log_warning_errno(r, "Cannot list the kernel's target types: %m");
        dm_target_types_free(m->target_types, m->n_target_types);
        m->target_types = types;
        m->n_target_types = n;
}

/* A stop waits for the last operation, and the last stack. */
static void on_operation_ended(void *userdata) {
        Manager *m = userdata;

        manager_read_target_types(m);
        if (m->stopping && operation_queue_active(m->operations) == 0 && !stacks_running(m->stacks))
                (void) sd_event_exit(m->event, 0);
}

static void count_for_status(ServiceStatusCounts *ret, void *userdata) {
        Manager *m = userdata;
        BlockDevice *d;

        *ret = (ServiceStatusCounts) {
                .dm_devices = graph_dm_count(m->graph),
                .operations = operation_queue_active(m->operations),
        };
        for (size_t i = 0; graph_iterate(m->graph, &i, &d); )
                if (d->dm && dm_device_health(d->dm) != HEALTH_OK)
                        ret->not_ok++;
}

/* An operation wants its device read again. */
static void on_operation_mark(dev_t devnum, void *userdata) {
        Manager *m = userdata;

        refresh_mark(m->refresh, devnum);
}

static int manager_wire(Manager *m) {
        static const RefreshCallbacks refresh_callbacks = {
                .device_added = on_device_added,
                .device_removing = on_device_removing,
                .device_changed = on_device_changed,
                .device_event = on_device_event,
                .dm_count_changed = on_dm_count_changed,
                .usage_changed = monitor_usage_changed,
                .device_failed = monitor_device_failed,
                .udev_event = on_udev_event,
                .refreshed = on_refreshed,
        };
        static const OperationQueueCallbacks operation_callbacks = {
                .run = operation_run,
                .mark = on_operation_mark,
                .active_changed = on_operations_active_changed,
                .ended = on_operation_ended,
        };
        int r;

        r = refresh_new(m->event, m->graph, m->dm, m->udev, &refresh_callbacks, m, &m->refresh);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the refresh: %m");
        /* Before the queue, which reports to it. */
        r = service_status_new(m->event, count_for_status, m, &m->status);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the status line: %m");
        r = operation_queue_new(m->event, dm_kernel_control_fd(m->dm), OP_RECORD_DIR, &operation_callbacks, m, &m->operations);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the operation queue: %m");
        return 0;
}

/* How long a stop waits for operations in the kernel (a suspend over slow I/O); the unit's
 * TimeoutStopSec= is above it. What they leave then is settled at the next start. */
#define STOP_TIMEOUT_USEC (20 * 1000000ULL)

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_warning("Stopping with operations still in the kernel; the next start settles what they leave.");
        return sd_event_exit(m->event, 0);
}

/* SIGTERM, SIGINT: callers are answered, running operations end their kernel steps, then the
 * loop ends. */
static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int r;

        if (m->stopping)
                return 0;
        m->stopping = true;
        (void) sd_notify(false, "STOPPING=1");
        authorizing_drop_all(m->authorizing);
        users_queries_drop_all(m->users_queries);
        waiters_drop_all(m->waiters);
        operation_queue_cancel_queued(m->operations);
        stack_stop_waiting(m);
        if (operation_queue_active(m->operations) == 0 && !stacks_running(m->stacks))
                return sd_event_exit(m->event, 0);
        log_info("Stopping once the operations under way are done.");
        r = sd_event_add_time_relative(m->event, &m->stop_timeout_source, CLOCK_MONOTONIC, STOP_TIMEOUT_USEC, 0,
                                       on_stop_timeout, m);
        return r < 0 ? sd_event_exit(m->event, 0) : 0;
}

/* SIGHUP: the configuration again, as systemd's services take it. */
static int on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        int r;

        (void) sd_notify(false, "RELOADING=1");
        monitor_load_config(m);
        r = monitor_start(m);
        if (r < 0)
                log_warning_errno(r, "Cannot restart the monitor's tick: %m");
        log_info("Reloaded %s.", CONFIG_PATH);
        (void) sd_notify(false, "READY=1");
        return 0;
}

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        assert(ret);

        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        /* WATCHDOG=1 from the loop itself, when systemd asks for it (WatchdogSec=): a hung loop
         * is restarted. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the watchdog: %m");

        /* Blocked before the signal sources exist, so no signal kills us in between. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block SIGTERM/SIGINT/SIGHUP: %m");

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_stop_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGTERM: %m");
        r = sd_event_add_signal(m->event, NULL, SIGINT, on_stop_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGINT: %m");
        r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch SIGHUP: %m");

        r = dm_kernel_new(&m->dm);
        if (r < 0)
                return log_error_errno(r, "Cannot open /dev/mapper/control (is dm-mod loaded?): %m");
        r = udev_sysfs_new(&m->udev);
        if (r < 0)
                return log_error_errno(r, "Cannot create the udev context: %m");
        m->graph = graph_new();
        m->sender_uids = sender_uids_new();
        if (!m->graph || !m->sender_uids)
                return log_oom();
        r = manager_wire(m);
        if (r < 0)
                return r;
        r = users_scan_new(m->event, &m->users);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the scan for devices' users: %m");
        if (authorizing_new(&m->authorizing) < 0 || stacks_new(&m->stacks) < 0 || users_queries_new(&m->users_queries) < 0 ||
            waiters_new(&m->waiters) < 0 || leases_new(&m->leases) < 0 || jobs_new(&m->jobs) < 0)
                return log_oom();

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        /* First: a job points at its operation, which the others free. */
        jobs_free(m->jobs);
        authorizing_free(m->authorizing);
        stacks_free(m->stacks);
        users_queries_free(m->users_queries);
        waiters_free(m->waiters);
        sd_event_source_disable_unref(m->stop_timeout_source);
        operation_queue_free(m->operations);
        leases_free(m->leases);
        service_status_free(m->status);
        users_scan_free(m->users);
        sd_event_source_disable_unref(m->monitor_source);
        refresh_free(m->refresh);
        read_queue_free(m->reads);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        graph_free(m->graph);
        sender_uids_free(m->sender_uids);
        udev_sysfs_free(m->udev);
        dm_kernel_free(m->dm);
        free(m->driver_version);
        free(m->library_version);
        dm_target_types_free(m->target_types, m->n_target_types);
        return mfree(m);
}

/* Reads rest for an operation whose next step is the loop's, not for one in the kernel. */
static bool operation_needs_loop(void *userdata) {
        Manager *m = userdata;

        return operation_queue_waiting(m->operations);
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

        r = sd_bus_attach_event(m->bus, m->event, EVENT_PRIORITY_BUS);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");

        r = read_queue_new(m->bus, m->event, EVENT_PRIORITY_READS, operation_needs_loop, m, &m->reads);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the read queue: %m");

        return 0;
}

int manager_startup(Manager *m) {
        int r;

        assert(m);

        r = dm_kernel_get_versions(&m->driver_version, &m->library_version);
        if (r < 0)
                return log_error_errno(r, "Cannot read the device-mapper driver's and libdevmapper's versions: %m");
        manager_read_target_types(m);

        monitor_load_config(m);
        r = refresh_start(m->refresh);
        if (r < 0)
                return r;

        /* What a killed run left half-done, before anything is read or anyone may call. */
        r = settle_records(dm_kernel_control_fd(m->dm), OP_RECORD_DIR);
        if (r < 0)
                log_warning_errno(r, "Cannot read the records in %s of operations cut short: %m", OP_RECORD_DIR);

        r = inventory_scan(m->graph, m->dm, m->udev);
        if (r < 0)
                return log_error_errno(r, "Failed to read the device-mapper devices: %m");

        r = manager_connect_bus(m);
        if (r < 0)
                return r;

        r = manager_bus_register(m);
        if (r < 0)
                return r;
        /* The leases a killed run took, once their owners can be looked up on the bus. */
        leases_adopt(m, OP_RECORD_DIR);

        r = monitor_start(m);
        if (r < 0)
                return log_error_errno(r, "Cannot start the monitor's tick: %m");

        /* Last: once the name is ours, clients may call, and everything they ask about is there. */
        r = sd_bus_request_name(m->bus, DMBUS_SERVICE_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s: %m", DMBUS_SERVICE_NAME);

        log_info("dmbusd %s ready: device-mapper driver %s, libdevmapper %s, %zu DM devices, %zu block devices.",
                 PACKAGE_VERSION, m->driver_version, m->library_version, graph_dm_count(m->graph), graph_size(m->graph));
        (void) sd_notify(false, "READY=1");
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
