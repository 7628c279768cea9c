/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The foundation, proven in the guest: dmbusd on a real system bus over a real device-mapper
 * kernel, and /dev/mapper links made by this project's udev rules alone. */
#include <errno.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm-util.h"

static VmDaemon *daemon_under_test;

static void test_ready_after_name(void) {
        /* vm_daemon_start() returned on READY=1: by then the name must be owned. */
        g_assert_true(vm_name_has_owner(DMBUS_SERVICE_NAME));
}

/* "Driver version:    4.47.0" → "4.47.0" */
static char *dmsetup_version_field(const char *field) {
        return vm_sh("dmsetup version | sed -n 's/^%s version: *//p'", field);
}

static void test_manager_properties(void) {
        g_autoptr(GVariant) version = vm_get_property(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "Version", "s");
        g_autoptr(GVariant) driver = vm_get_property(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "DriverVersion", "s");
        g_autoptr(GVariant) library = vm_get_property(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "LibraryVersion", "s");
        g_autofree char *dmsetup_driver = dmsetup_version_field("Driver");
        g_autofree char *dmsetup_library = dmsetup_version_field("Library");

        g_assert_cmpstr(g_variant_get_string(version, NULL), ==, PACKAGE_VERSION);
        g_assert_cmpstr(g_variant_get_string(driver, NULL), ==, dmsetup_driver);
        g_assert_cmpstr(g_variant_get_string(library, NULL), ==, dmsetup_library);
}

static void test_introspection_matches_contract(void) {
        vm_assert_object_matches_contract(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE);
}

static void test_busctl_introspect_shows_contract(void) {
        g_autoptr(GDBusNodeInfo) want = vm_contract();
        g_autofree char *out = vm_sh("busctl --system introspect " DMBUS_SERVICE_NAME " " DMBUS_MANAGER_PATH);
        GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(want, DMBUS_MANAGER_INTERFACE);

        g_assert_nonnull(strstr(out, DMBUS_MANAGER_INTERFACE));
        for (unsigned i = 0; iface->properties && iface->properties[i]; i++) {
                g_autofree char *row = g_strdup_printf(".%s", iface->properties[i]->name);
                g_assert_nonnull(strstr(out, row));
        }
        g_printerr("%s\n", out);
}

static void test_object_manager(void) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        g_autoptr(GVariant) objects = NULL;
        g_autoptr(GVariant) interfaces = NULL;

        reply = g_dbus_connection_call_sync(bus, DMBUS_SERVICE_NAME, DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                                            "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
                                            G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
        g_assert_no_error(error);
        objects = g_variant_get_child_value(reply, 0);
        interfaces = g_variant_lookup_value(objects, DMBUS_MANAGER_PATH, G_VARIANT_TYPE("a{sa{sv}}"));
        g_assert_nonnull(interfaces);
        g_autoptr(GVariant) props = g_variant_lookup_value(interfaces, DMBUS_MANAGER_INTERFACE, G_VARIANT_TYPE("a{sv}"));
        g_assert_nonnull(props);
        g_assert_true(g_variant_lookup(props, "DriverVersion", "&s", &(const char *) { NULL }));
}

/* Runs in a subprocess as nobody: reading is allowed, owning the name is not. */
static void test_policy_non_root_subprocess(void) {
        g_autoptr(GDBusConnection) bus = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;

        g_assert_cmpint(setgroups(0, NULL), ==, 0);
        g_assert_cmpint(setresgid(65534, 65534, 65534), ==, 0);
        g_assert_cmpint(setresuid(65534, 65534, 65534), ==, 0);

        g_autoptr(GVariant) driver = vm_get_property(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "DriverVersion", "s");
        g_assert_cmpstr(g_variant_get_string(driver, NULL), !=, "");

        bus = vm_system_bus();
        reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "RequestName", g_variant_new("(su)", DMBUS_SERVICE_NAME, 0), G_VARIANT_TYPE("(u)"),
                                            G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
        g_assert_error(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED);
}

static void test_policy_non_root(void) {
        g_test_trap_subprocess("/foundation/policy-non-root/subprocess", 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
}

static void assert_link(const char *link, const char *target) {
        char buf[PATH_MAX];
        ssize_t n = readlink(link, buf, sizeof(buf) - 1);

        if (n < 0)
                g_error("%s: %s", link, g_strerror(errno));
        buf[n] = 0;
        g_assert_cmpstr(buf, ==, target);
}

static void assert_no_path(const char *path) {
        struct stat st;

        if (lstat(path, &st) == 0)
                g_error("%s still exists", path);
        g_assert_cmpint(errno, ==, ENOENT);
}

static void test_udev_links_from_project_rules_alone(void) {
        static const char *const debian_rules[] = { "55-dm.rules", "60-persistent-storage-dm.rules", "95-dm-notify.rules" };
        g_autofree char *loop = vm_loop_new(8);
        g_autofree char *minor = NULL;
        g_autofree char *mapper_target = NULL;
        g_autofree char *byid_target = NULL;
        g_autofree char *props = NULL;

        /* Debian's DM rules are masked, so whatever links appear are ours. */
        for (unsigned i = 0; i < G_N_ELEMENTS(debian_rules); i++) {
                g_autofree char *mask = g_strdup_printf("/etc/udev/rules.d/%s", debian_rules[i]);
                assert_link(mask, "/dev/null");
        }

        /* With udev sync: our own rule completes the cookie, Debian's 95-dm-notify.rules is masked. */
        vm_do("timeout 60 dmsetup create dmbus-t-linear -u DMBUS-TEST-linear-1 --table '0 16384 linear %s 0'", loop);
        minor = vm_sh("dmsetup info -c --noheadings -o minor dmbus-t-linear");
        mapper_target = g_strdup_printf("../dm-%s", minor);
        byid_target = g_strdup_printf("../../dm-%s", minor);

        assert_link("/dev/mapper/dmbus-t-linear", mapper_target);
        assert_link("/dev/disk/by-id/dm-name-dmbus-t-linear", byid_target);
        assert_link("/dev/disk/by-id/dm-uuid-DMBUS-TEST-linear-1", byid_target);

        props = vm_sh("udevadm info --query=property --name=/dev/dm-%s", minor);
        g_assert_nonnull(strstr(props, "DM_NAME=dmbus-t-linear\n"));
        g_assert_nonnull(strstr(props, "DM_UUID=DMBUS-TEST-linear-1\n"));

        vm_do("timeout 60 dmsetup remove dmbus-t-linear");
        assert_no_path("/dev/mapper/dmbus-t-linear");
        assert_no_path("/dev/disk/by-id/dm-name-dmbus-t-linear");
        assert_no_path("/dev/disk/by-id/dm-uuid-DMBUS-TEST-linear-1");
        vm_loop_free(loop);
}

static void test_sigterm_exits_cleanly(void) {
        g_autofree char *log = NULL;
        int status;

        status = vm_daemon_stop(daemon_under_test);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        g_assert_false(vm_name_has_owner(DMBUS_SERVICE_NAME));

        /* Every line carries a "<N>" prefix that journald turns into its priority. */
        log = vm_daemon_log(daemon_under_test);
        g_assert_nonnull(strstr(log, "dmbusd " PACKAGE_VERSION " ready"));
        g_assert_false(g_str_has_prefix(log, "<") || strstr(log, "\n<"));
        g_autofree char *info = vm_sh("journalctl -q -o cat -p info..info _SYSTEMD_INVOCATION_ID=%s", daemon_under_test->invocation);
        g_assert_nonnull(strstr(info, "dmbusd " PACKAGE_VERSION " ready"));
}

static void add_cases(void) {
        g_test_add_func("/foundation/ready-after-name", test_ready_after_name);
        g_test_add_func("/foundation/manager-properties", test_manager_properties);
        g_test_add_func("/foundation/introspection-matches-contract", test_introspection_matches_contract);
        g_test_add_func("/foundation/busctl-introspect-shows-contract", test_busctl_introspect_shows_contract);
        g_test_add_func("/foundation/object-manager", test_object_manager);
        g_test_add_func("/foundation/policy-non-root", test_policy_non_root);
        g_test_add_func("/foundation/policy-non-root/subprocess", test_policy_non_root_subprocess);
        g_test_add_func("/foundation/udev-links-from-project-rules-alone", test_udev_links_from_project_rules_alone);
        g_test_add_func("/foundation/sigterm-exits-cleanly", test_sigterm_exits_cleanly);
}

int main(int argc, char *argv[]) {
        return vm_suite_run(argc, argv, &(VmSuite) { .add_cases = add_cases }, &daemon_under_test);
}
