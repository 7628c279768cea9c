/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm-util.h"

void vm_require_guest(void) {
        if (!g_getenv("DMBUS_VM_GUEST")) {
                g_printerr("This test changes device-mapper state; run it in the guest: tests/vm/run %s\n",
                           g_get_prgname());
                exit(EXIT_FAILURE);
        }
}

/* Runs format as a shell command and asserts exit status 0. Its stdout is returned when asked
 * for, else it goes to our stderr, so that nothing but TAP reaches our stdout. */
static void sh_v(char **ret_stdout, const char *format, va_list ap) {
        g_autofree char *command = g_strdup_vprintf(format, ap);
        g_autofree char *script = g_strconcat(ret_stdout ? "" : "exec >&2; ", command, NULL);
        g_autoptr(GError) error = NULL;
        char *argv[] = { "/bin/sh", "-c", script, NULL };
        int status;

        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_CHILD_INHERITS_STDOUT, NULL, NULL, ret_stdout, NULL, &status, &error))
                g_error("cannot run '%s': %s", command, error->message);
        if (!g_spawn_check_wait_status(status, &error))
                g_error("'%s' failed: %s; it printed: %s", command, error->message,
                        ret_stdout ? *ret_stdout : "(see above)");
        if (ret_stdout)
                g_strchomp(*ret_stdout);
}

char *vm_sh(const char *format, ...) {
        char *out = NULL;
        va_list ap;

        va_start(ap, format);
        sh_v(&out, format, ap);
        va_end(ap);
        return out;
}

void vm_do(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        sh_v(NULL, format, ap);
        va_end(ap);
}

gboolean vm_wait(unsigned seconds, const char *format, ...) {
        gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
        g_autofree char *command = NULL;
        va_list ap;

        va_start(ap, format);
        command = g_strdup_vprintf(format, ap);
        va_end(ap);

        char *argv[] = { "/bin/sh", "-c", command, NULL };
        for (;;) {
                g_autoptr(GError) error = NULL;
                int status;

                if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                  NULL, NULL, NULL, NULL, &status, &error))
                        g_error("cannot run '%s': %s", command, error->message);
                if (g_spawn_check_wait_status(status, NULL))
                        return TRUE;
                if (g_get_monotonic_time() > deadline) {
                        g_printerr("waited %u s for '%s' in vain\n", seconds, command);
                        return FALSE;
                }
                g_usleep(G_USEC_PER_SEC / 10);
        }
}

/* Whether systemd is PID 1 here (sd_booted()): then the daemon under test is the installed unit. */
static gboolean under_systemd(void) {
        return access("/run/systemd/system", F_OK) == 0;
}

static void unit_refresh(VmDaemon *d) {
        g_autofree char *pid = vm_sh("systemctl show -P MainPID " VM_UNIT);

        g_free(d->invocation);
        d->invocation = vm_sh("systemctl show -P InvocationID " VM_UNIT);
        d->pid = atoi(pid);
}

/* Started (or restarted) by systemd: active, with a main process; debug messages on, as the
 * suites read them (what `dmbusd -v` gave a daemon started by hand). */
static void unit_ready(VmDaemon *d) {
        unit_refresh(d);
        g_assert_cmpint(d->pid, >, 0);
        vm_do("systemctl service-log-level " VM_UNIT " debug");
}

/* The unit as installed, started by systemd. Start limits are reset first: the suites start it
 * far more often than anything else would. */
static VmDaemon *unit_start(void) {
        VmDaemon *d = g_new0(VmDaemon, 1);

        vm_do("systemctl stop " VM_UNIT "; systemctl reset-failed " VM_UNIT " 2>/dev/null; systemctl start " VM_UNIT);
        unit_ready(d);
        return d;
}

static int unit_stop(VmDaemon *d) {
        g_autofree char *code = NULL, *status = NULL, *result = NULL;
        int wait_status;

        vm_do("systemctl stop " VM_UNIT);
        code = vm_sh("systemctl show -P ExecMainCode " VM_UNIT);
        status = vm_sh("systemctl show -P ExecMainStatus " VM_UNIT);
        result = vm_sh("systemctl show -P Result " VM_UNIT);
        d->pid = 0;
        /* As waitpid() would have said: CLD_EXITED (1) with its status, else the signal. */
        wait_status = atoi(code) == CLD_EXITED ? W_EXITCODE(atoi(status), 0) : atoi(status);
        if (wait_status != 0 || strcmp(result, "success") != 0) {
                g_autofree char *log = vm_daemon_log(d);
                g_printerr("dmbusd ended with wait status %d (Result=%s); its journal:\n%s\n", wait_status, result, log);
        }
        return wait_status;
}

/* The daemon started by hand (the benchmarks' guests have no systemd). */
static VmDaemon *binary_start(void) {
        const char *binary = g_getenv("DMBUSD");
        g_autofree char *socket_path = NULL;
        g_autofree char *command = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_autoptr(GError) error = NULL;
        VmDaemon *d;
        char buf[4096];
        int fd;

        g_assert_nonnull(binary);

        /* Our own NOTIFY_SOCKET, to see READY=1 the way systemd would. */
        socket_path = g_strdup_printf("/run/dmbus-test-notify-%d", getpid());
        unlink(socket_path);
        g_strlcpy(sa.sun_path, socket_path, sizeof(sa.sun_path));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);

        d = g_new0(VmDaemon, 1);
        d->log_path = g_strdup_printf("/run/dmbusd-test-%d.log", getpid());
        command = g_strdup_printf("exec env NOTIFY_SOCKET=%s %s %s >%s 2>&1", socket_path, binary,
                                  g_getenv("DMBUSD_ARGS") ?: "-v", d->log_path);
        char *argv[] = { "/bin/sh", "-c", command, NULL };
        if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &d->pid, &error))
                g_error("cannot start %s: %s", binary, error->message);

        for (;;) {
                struct timeval tv = { .tv_sec = 60 };
                ssize_t n;

                g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), ==, 0);
                n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0) {
                        g_autofree char *log = vm_daemon_log(d);
                        g_error("dmbusd sent no READY=1 within 60 s; its log:\n%s", log);
                }
                buf[n] = 0;
                if (strstr(buf, "READY=1"))
                        break;
        }

        close(fd);
        unlink(socket_path);
        return d;
}

static int binary_stop(VmDaemon *d) {
        int status = -1;

        g_assert_cmpint(kill(d->pid, SIGTERM), ==, 0);
        g_assert_cmpint(waitpid(d->pid, &status, 0), ==, d->pid);
        g_spawn_close_pid(d->pid);
        d->pid = 0;
        if (status != 0) {
                g_autofree char *log = vm_daemon_log(d);
                g_printerr("dmbusd ended with wait status %d; its log:\n%s\n", status, log);
        }
        return status;
}

VmDaemon *vm_daemon_start(void) {
        return under_systemd() ? unit_start() : binary_start();
}

int vm_daemon_stop(VmDaemon *d) {
        return d->log_path ? binary_stop(d) : unit_stop(d);
}

void vm_daemon_signal(VmDaemon *d, int signal) {
        g_assert_cmpint(d->pid, >, 0);
        g_assert_cmpint(kill(d->pid, signal), ==, 0);
}

void vm_daemon_wait_restarted(VmDaemon *d) {
        g_autofree char *was = g_strdup(d->invocation);

        g_assert_null(d->log_path);
        /* systemd restarts it after RestartSec=; a start that failed would stay "failed". */
        if (!vm_wait(120, "[ \"$(systemctl show -P InvocationID " VM_UNIT ")\" != %s ] && systemctl is-active --quiet " VM_UNIT,
                     was)) {
                g_autofree char *log = vm_daemon_log(d);
                g_error("systemd did not start dmbusd again; its journal:\n%s", log);
        }
        unit_ready(d);
}

int vm_suite_run(int argc, char *argv[], const VmSuite *suite, VmDaemon **daemon) {
        int r;

        g_test_init(&argc, &argv, NULL);
        if (g_test_subprocess()) {
                suite->add_cases();
                return g_test_run();
        }
        vm_require_guest();
        if (suite->set_up)
                suite->set_up();
        *daemon = vm_daemon_start();
        suite->add_cases();
        r = g_test_run();
        if (suite->before_stop)
                suite->before_stop();
        g_assert_cmpint(vm_daemon_stop(*daemon), ==, 0);
        g_clear_pointer(daemon, vm_daemon_free);
        if (suite->tear_down)
                suite->tear_down();
        return r;
}

char *vm_daemon_log(VmDaemon *d) {
        char *contents = NULL;

        if (!d->log_path)
                return vm_sh("journalctl --no-pager -q -o cat _SYSTEMD_INVOCATION_ID=%s", d->invocation);
        if (!g_file_get_contents(d->log_path, &contents, NULL, NULL))
                return g_strdup("");
        return contents;
}

char *vm_daemon_log_wait(VmDaemon *d, const char *needle) {
        gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

        /* journald reads the daemon's lines on its own time: a line written before our question
         * may reach the journal a moment after it. */
        for (;;) {
                char *log = vm_daemon_log(d);

                if (strstr(log, needle))
                        return log;
                if (g_get_monotonic_time() > deadline) {
                        g_printerr("waited 60 s for \"%s\" in dmbusd's log in vain; it said:\n%s\n", needle, log);
                        return log;
                }
                g_free(log);
                g_usleep(G_USEC_PER_SEC / 10);
        }
}

char *vm_journal_wait(unsigned count, const char *format, ...) {
        gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        g_autofree char *matches = NULL;
        va_list ap;

        va_start(ap, format);
        matches = g_strdup_vprintf(format, ap);
        va_end(ap);
        for (;;) {
                char *lines = vm_sh("journalctl --no-pager -q -o cat -u " VM_UNIT " %s", matches);
                unsigned n = lines[0] ? 1 : 0;

                for (const char *c = lines; *c; c++)
                        n += *c == '\n';
                if (n >= count)
                        return lines;
                if (g_get_monotonic_time() > deadline) {
                        g_printerr("waited 60 s for %u lines of %s in the journal in vain; it had:\n%s\n", count, matches, lines);
                        return lines;
                }
                g_free(lines);
                g_usleep(G_USEC_PER_SEC / 10);
        }
}

void vm_daemon_free(VmDaemon *d) {
        if (!d)
                return;
        if (d->pid > 0)
                vm_daemon_stop(d);
        g_free(d->log_path);
        g_free(d->invocation);
        g_free(d);
}

GDBusConnection *vm_system_bus(void) {
        g_autoptr(GError) error = NULL;
        GDBusConnection *bus;

        bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        g_assert_no_error(error);
        return bus;
}

GDBusConnection *vm_private_bus(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        GDBusConnection *bus;

        g_assert_no_error(error);
        bus = g_dbus_connection_new_for_address_sync(address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
        g_assert_no_error(error);
        return bus;
}

GVariant *vm_suspend_leased(GDBusConnection *bus, const char *path, guint32 seconds, GError **error) {
        GVariantBuilder options;

        g_variant_builder_init(&options, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&options, "{sv}", "lease-sec", g_variant_new_uint32(seconds));
        return g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, path, DMBUS_DEVICE_INTERFACE, "Suspend",
                                           g_variant_new("(a{sv})", &options), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

guint64 vm_suspend_lease_until(const char *path) {
        g_autoptr(GVariant) v = vm_get_property(path, DMBUS_DEVICE_INTERFACE, "SuspendLeaseUntil", "t");

        return g_variant_get_uint64(v);
}

GVariant *vm_get_property(const char *path, const char *interface, const char *name, const char *type) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        GVariant *value;

        reply = g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, path, "org.freedesktop.DBus.Properties", "Get",
                                            g_variant_new("(ss)", interface, name), G_VARIANT_TYPE("(v)"),
                                            G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(v)", &value);
        g_assert_cmpstr(g_variant_get_type_string(value), ==, type);
        return value;
}

/* The object of the job of operation now under way, found through the ObjectManager; NULL when
 * there is none. */
char *vm_job_of(const char *operation) {
        g_autoptr(GVariant) objects = vm_get_managed_objects();
        g_autoptr(GVariant) interfaces = NULL;
        GVariantIter iter;
        const char *path;

        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &interfaces)) {
                g_autoptr(GVariant) job = g_variant_lookup_value(interfaces, DMBUS_JOB_INTERFACE, G_VARIANT_TYPE("a{sv}"));
                const char *kind;

                if (job && g_variant_lookup(job, "Operation", "&s", &kind) && strcmp(kind, operation) == 0)
                        return g_strdup(path);
                g_clear_pointer(&interfaces, g_variant_unref);
        }
        return NULL;
}

/* The job of operation, once announced (a minute at most). */
char *vm_job_wait(const char *operation) {
        for (unsigned attempt = 0; attempt < 600; attempt++) {
                char *job = vm_job_of(operation);

                if (job)
                        return job;
                g_usleep(G_USEC_PER_SEC / 10);
        }
        g_error("no job of %s was announced", operation);
}

GDBusNodeInfo *vm_introspect(const char *path) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        const char *xml;
        GDBusNodeInfo *node;

        reply = g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, path, "org.freedesktop.DBus.Introspectable",
                                            "Introspect", NULL, G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                            10000, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(&s)", &xml);
        node = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);
        return node;
}

static void assert_args_equal(const char *member, GDBusArgInfo **want, GDBusArgInfo **have) {
        unsigned i;

        for (i = 0; want && want[i]; i++) {
                if (!have || !have[i])
                        g_error("%s: argument %s is missing", member, want[i]->name);
                g_assert_cmpstr(want[i]->signature, ==, have[i]->signature);
                g_assert_cmpstr(want[i]->name, ==, have[i]->name);
        }
        if (have && have[i])
                g_error("%s: extra argument %s", member, have[i]->name);
}

static void assert_interface_matches(GDBusInterfaceInfo *want, GDBusInterfaceInfo *have) {
        unsigned n;

        for (n = 0; want->methods && want->methods[n]; n++) {
                GDBusMethodInfo *m = g_dbus_interface_info_lookup_method(have, want->methods[n]->name);
                if (!m)
                        g_error("%s.%s() is in the contract but not on the bus", want->name, want->methods[n]->name);
                assert_args_equal(m->name, want->methods[n]->in_args, m->in_args);
                assert_args_equal(m->name, want->methods[n]->out_args, m->out_args);
        }
        g_assert_cmpuint(n, ==, have->methods ? g_strv_length((char **) have->methods) : 0);

        for (n = 0; want->properties && want->properties[n]; n++) {
                GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property(have, want->properties[n]->name);
                if (!p)
                        g_error("%s.%s is in the contract but not on the bus", want->name, want->properties[n]->name);
                g_assert_cmpstr(p->signature, ==, want->properties[n]->signature);
                g_assert_cmpint(p->flags, ==, want->properties[n]->flags);
        }
        g_assert_cmpuint(n, ==, have->properties ? g_strv_length((char **) have->properties) : 0);

        for (n = 0; want->signals && want->signals[n]; n++) {
                GDBusSignalInfo *s = g_dbus_interface_info_lookup_signal(have, want->signals[n]->name);
                if (!s)
                        g_error("signal %s.%s is in the contract but not on the bus", want->name, want->signals[n]->name);
                assert_args_equal(s->name, want->signals[n]->args, s->args);
        }
        g_assert_cmpuint(n, ==, have->signals ? g_strv_length((char **) have->signals) : 0);
}

GDBusNodeInfo *vm_contract(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;
        GDBusNodeInfo *node;

        g_assert_true(g_file_get_contents(DMBUS_CONTRACT_XML, &xml, NULL, &error));
        node = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);
        return node;
}

void vm_assert_object_matches_contract(const char *path, const char *interface) {
        g_autoptr(GDBusNodeInfo) want = vm_contract();
        g_autoptr(GDBusNodeInfo) have = vm_introspect(path);
        GDBusInterfaceInfo *live = g_dbus_node_info_lookup_interface(have, interface);
        GDBusInterfaceInfo *contract = g_dbus_node_info_lookup_interface(want, interface);

        if (!live)
                g_error("%s has no interface %s", path, interface);
        g_assert_nonnull(contract);
        assert_interface_matches(contract, live);
}

GVariant *vm_call(const char *path, const char *interface, const char *method, GVariant *parameters,
                  const char *reply_type, GError **error) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();

        return g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, path, interface, method, parameters,
                                           reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
                                           G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

GVariant *vm_get_managed_objects(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        reply = vm_call(DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
                        "(a{oa{sa{sv}}})", &error);
        g_assert_no_error(error);
        return g_variant_get_child_value(reply, 0);
}

gboolean vm_name_has_owner(const char *name) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        gboolean has_owner;

        reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "NameHasOwner", g_variant_new("(s)", name),
                                            G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(b)", &has_owner);
        return has_owner;
}

char *vm_loop_new(unsigned size_mib) {
        g_autofree char *image = g_strdup_printf("/run/dmbus-loop-%d-%u.img", getpid(), g_random_int());

        vm_do("truncate -s %uM %s", size_mib, image);
        /* The backing file can go at once: the loop device keeps it open. */
        char *loop = vm_sh("losetup --find --show %s && rm -f %s", image, image);
        return loop;
}

void vm_loop_free(const char *loop) {
        vm_do("losetup -d %s", loop);
}

/* "START LEN TYPE PARAMS" lines from dmsetup into a(ttss) text, for comparison with ours. */
GVariant *vm_table_variant(const char *text) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a(ttss)"));
        for (unsigned i = 0; lines[i]; i++) {
                guint64 start, length;
                char type[64];
                int consumed = 0;

                if (!lines[i][0])
                        continue;
                g_assert_cmpint(sscanf(lines[i], "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %63s %n", &start, &length, type, &consumed), ==, 3);
                g_variant_builder_add(&b, "(ttss)", start, length, type, lines[i] + consumed);
        }
        return g_variant_builder_end(&b);
}

char *vm_dmsetup_targets(const char *command, const char *name) {
        g_autofree char *out = vm_sh("dmsetup %s %s", command, name);
        g_autoptr(GVariant) table = g_variant_ref_sink(vm_table_variant(out));

        return vm_bus_targets(table);
}

char *vm_bus_targets(GVariant *targets) {
        g_autoptr(GString) s = g_string_new(NULL);
        GVariantIter iter;
        guint64 start, length;
        const char *type, *params;

        g_variant_iter_init(&iter, targets);
        /* dmsetup's lines lose trailing blanks (thin-pool ends in one); so do ours, here. */
        while (g_variant_iter_next(&iter, "(tt&s&s)", &start, &length, &type, &params)) {
                g_autofree char *trimmed = g_strchomp(g_strdup(params));
                g_string_append_printf(s, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s %s|", start, length, type, trimmed);
        }
        return g_string_free(g_steal_pointer(&s), FALSE);
}

#define POLKIT_ACTIVATION "/usr/share/dbus-1/system-services/org.freedesktop.PolicyKit1.service"

static void wait_polkit_owner(gboolean owned) {
        for (unsigned i = 0; i < 600 && vm_name_has_owner("org.freedesktop.PolicyKit1") != owned; i++)
                g_usleep(100 * 1000);
        g_assert_true(vm_name_has_owner("org.freedesktop.PolicyKit1") == owned);
}

void vm_polkit_start(void) {
        if (under_systemd())
                vm_do("systemctl start polkit.service");
        else
                vm_do("pgrep -x polkitd >/dev/null || (/usr/lib/polkit-1/polkitd --no-debug >/dev/null 2>&1 &)");
        /* A minute: a slow guest takes its time to start polkitd. */
        wait_polkit_owner(TRUE);
}

void vm_polkit_remove(void) {
        if (under_systemd())
                vm_do("systemctl stop polkit.service");
        else
                vm_do("pkill -x polkitd || true");
        vm_do("mv " POLKIT_ACTIVATION " " POLKIT_ACTIVATION ".hidden && "
              "dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig >/dev/null");
        wait_polkit_owner(FALSE);
}

void vm_polkit_allow(const char *user, const char *group, const char *rules, const char *condition) {
        vm_do("getent group %s || groupadd %s", group, group);
        vm_do("getent passwd %s || useradd --no-create-home --gid nogroup --groups %s %s", user, group, user);
        vm_do("mkdir -p /etc/polkit-1/rules.d && cat > /etc/polkit-1/rules.d/%s <<'EOF'\n"
              "polkit.addRule(function(action, subject) {\n"
              "        if (%s)\n"
              "                return polkit.Result.YES;\n"
              "});\nEOF", rules, condition);
}

void vm_polkit_restore(void) {
        vm_do("mv " POLKIT_ACTIVATION ".hidden " POLKIT_ACTIVATION " && "
              "dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig >/dev/null");
        vm_polkit_start();
}
