/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdarg.h>
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

VmDaemon *vm_daemon_start(void) {
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

int vm_daemon_stop(VmDaemon *d) {
        int status = -1;

        g_assert_cmpint(kill(d->pid, SIGTERM), ==, 0);
        g_assert_cmpint(waitpid(d->pid, &status, 0), ==, d->pid);
        g_spawn_close_pid(d->pid);
        d->pid = 0;
        return status;
}

char *vm_daemon_log(VmDaemon *d) {
        char *contents = NULL;

        if (!g_file_get_contents(d->log_path, &contents, NULL, NULL))
                return g_strdup("");
        return contents;
}

void vm_daemon_free(VmDaemon *d) {
        if (!d)
                return;
        if (d->pid > 0)
                vm_daemon_stop(d);
        g_free(d->log_path);
        g_free(d);
}

GDBusConnection *vm_system_bus(void) {
        g_autoptr(GError) error = NULL;
        GDBusConnection *bus;

        bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        g_assert_no_error(error);
        return bus;
}

GVariant *vm_get_property(const char *path, const char *interface, const char *name, const char *type) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        GVariant *value;

        reply = g_dbus_connection_call_sync(bus, DMBUS_NAME, path, "org.freedesktop.DBus.Properties", "Get",
                                            g_variant_new("(ss)", interface, name), G_VARIANT_TYPE("(v)"),
                                            G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
        g_assert_no_error(error);
        g_variant_get(reply, "(v)", &value);
        g_assert_cmpstr(g_variant_get_type_string(value), ==, type);
        return value;
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
