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

typedef struct VmDaemon {
        GPid pid;
        char *log_path;
} VmDaemon;

/* Starts $DMBUSD on the system bus and waits for its READY=1 (sd_notify) within 60 s. */
VmDaemon *vm_daemon_start(void);
/* Sends SIGTERM and returns the exit status (as waitpid's) once it is gone. */
int vm_daemon_stop(VmDaemon *d);
/* What the daemon logged so far. */
char *vm_daemon_log(VmDaemon *d);
void vm_daemon_free(VmDaemon *d);

GDBusConnection *vm_system_bus(void);
/* Reads one property of a dmbus object; asserts it exists and has the type. */
GVariant *vm_get_property(const char *path, const char *interface, const char *name, const char *type);
gboolean vm_name_has_owner(const char *name);

/* A method call to dmbusd; returns NULL and sets error on failure. */
GVariant *vm_call(const char *path, const char *interface, const char *method, GVariant *parameters,
                  const char *reply_type, GError **error);
/* GetManagedObjects' a{oa{sa{sv}}}. */
GVariant *vm_get_managed_objects(void);

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
