/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <glib.h>

/* Helpers for the tests that run inside the test guest (tests/vm/run): the real kernel, the real
 * udevd and a real system bus. Every helper asserts on failure. */

#include "dmbus-names.h"

/* Refuses to run outside the guest: these tests change the kernel's device-mapper state. */
void vm_require_guest(void);

/* Runs a shell command; asserts exit status 0 and returns its stdout with trailing space cut. */
char *vm_sh(const char *format, ...) G_GNUC_PRINTF(1, 2);
/* Runs a shell command with its output on our stderr; asserts exit status 0. */
void vm_do(const char *format, ...) G_GNUC_PRINTF(1, 2);
/* Runs a shell condition every 0.1 s until it holds (TRUE) or seconds have passed (FALSE). The
 * bound only matters when something is broken: make it generous, a slow or sanitized guest is
 * not broken. */
gboolean vm_wait(unsigned seconds, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* The daemon under test. Where systemd is PID 1 (every suite's guest), it is the installed unit,
 * started and stopped with systemctl, its log read from the journal; elsewhere (the benchmarks'
 * guests) $DMBUSD started by hand, its log in log_path. */
#define VM_UNIT "dmbusd.service"

typedef struct VmDaemon {
        GPid pid;               /* the main process */
        char *invocation;       /* the unit's InvocationID: whose journal lines are this run's */
        char *log_path;         /* by hand only */
} VmDaemon;

/* Starts dmbusd afresh and waits until it serves (its name taken, READY=1 sent). */
VmDaemon *vm_daemon_start(void);
/* Stops it (SIGTERM) and returns its exit as a wait status, once it is gone. */
int vm_daemon_stop(VmDaemon *d);
/* Sends a signal to its main process. */
void vm_daemon_signal(VmDaemon *d, int signal);
/* Waits until systemd has started it again after a crash (Restart=), and follows the new run. */
void vm_daemon_wait_restarted(VmDaemon *d);
/* What this run of the daemon logged so far. */
char *vm_daemon_log(VmDaemon *d);
/* The same, once it holds needle (waited for up to 60 s: the journal may lag a moment). */
char *vm_daemon_log_wait(VmDaemon *d, const char *needle);
void vm_daemon_free(VmDaemon *d);
/* The messages of the unit's journal lines that match all the "FIELD=value" words of format, as
 * journalctl takes them, once there are count of them at least (waited for up to 60 s). */
char *vm_journal_wait(unsigned count, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* A program of cases against the daemon, as vm_suite_run() runs it; all but add_cases may be NULL. */
typedef struct VmSuite {
        void (*set_up)(void);           /* what the daemon is to find at its start */
        void (*add_cases)(void);        /* the daemon runs: adds the cases, and what they share */
        void (*before_stop)(void);      /* the cases ran; the daemon still runs */
        void (*tear_down)(void);        /* it stopped: removes what set_up made */
} VmSuite;

/* GTest set up, the guest checked, set_up, the daemon started (in *daemon), add_cases, the cases,
 * before_stop, the daemon stopped (it must exit 0), tear_down: returns what g_test_run() does. A
 * GTest subprocess runs its case alone. */
int vm_suite_run(int argc, char *argv[], const VmSuite *suite, VmDaemon **daemon);

/* polkitd: started (systemd's polkit.service in a systemd guest) and owning its name; or stopped
 * with no way to activate it (its activation file hidden) until restored. */
void vm_polkit_start(void);
void vm_polkit_remove(void);
void vm_polkit_restore(void);
/* The user and its group, made if need be, and a polkit rule file of that name in
 * /etc/polkit-1/rules.d that says yes when condition (JavaScript over action and subject) holds. */
void vm_polkit_allow(const char *user, const char *group, const char *rules, const char *condition);

GDBusConnection *vm_system_bus(void);
/* A connection of its own, closed to leave the bus (vm_system_bus()'s never leaves). */
GDBusConnection *vm_private_bus(void);
/* Device.Suspend with "lease-sec" through bus: the reply, or NULL and error. */
GVariant *vm_suspend_leased(GDBusConnection *bus, const char *path, guint32 seconds, GError **error);
/* Device.SuspendLeaseUntil of the device at path. */
guint64 vm_suspend_lease_until(const char *path);
/* Reads one property of a dmbus object; asserts it exists and has the type. */
GVariant *vm_get_property(const char *path, const char *interface, const char *name, const char *type);
gboolean vm_name_has_owner(const char *name);

/* A method call to dmbusd; returns NULL and sets error on failure. */
GVariant *vm_call(const char *path, const char *interface, const char *method, GVariant *parameters,
                  const char *reply_type, GError **error);
/* GetManagedObjects' a{oa{sa{sv}}}. */
GVariant *vm_get_managed_objects(void);
/* The object of the job whose Operation is operation, found through the ObjectManager: now (NULL
 * when there is none), or once announced (a minute at most). */
char *vm_job_of(const char *operation);
char *vm_job_wait(const char *operation);

/* The contract (dbus/org.dmbus.DeviceMapper1.xml) and the live introspection of an object. */
GDBusNodeInfo *vm_contract(void);
GDBusNodeInfo *vm_introspect(const char *path);
/* The object's interface has exactly the contract's methods, properties and signals. */
void vm_assert_object_matches_contract(const char *path, const char *interface);

/* A loop device over a fresh sparse file of size_mib; returns "/dev/loopN". */
char *vm_loop_new(unsigned size_mib);
void vm_loop_free(const char *loop);

/* Lines of dmsetup's table syntax, "START LEN TYPE PARAMS", as a floating a(ttss). */
GVariant *vm_table_variant(const char *text);
/* Tables as comparable text, "START LEN TYPE PARAMS|" per row: from `dmsetup COMMAND NAME`, and
 * from an a(ttss) of ours (trailing blanks cut, as dmsetup's lines lose them). */
char *vm_dmsetup_targets(const char *command, const char *name);
char *vm_bus_targets(GVariant *targets);
