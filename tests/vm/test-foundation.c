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
        g_assert_true(vm_name_has_owner(DMBUS_NAME));
}

/* "Driver version:    4.47.0" → "4.47.0" */
static char *dmsetup_version_field(const char *field) {
        return vm_sh("dmsetup version | sed -n 's/^%s version: *//p'", field);
}

static void test_manager_properties(void) {
        g_autoptr(GVariant) version = vm_get_property(DMBUS_MANAGER, DMBUS_MANAGER_IFACE, "Version", "s");
        g_autoptr(GVariant) driver = vm_get_property(DMBUS_MANAGER, DMBUS_MANAGER_IFACE, "DriverVersion", "s");
        g_autoptr(GVariant) library = vm_get_property(DMBUS_MANAGER, DMBUS_MANAGER_IFACE, "LibraryVersion", "s");
        g_autofree char *dmsetup_driver = dmsetup_version_field("Driver");
        g_autofree char *dmsetup_library = dmsetup_version_field("Library");

        g_assert_cmpstr(g_variant_get_string(version, NULL), ==, PACKAGE_VERSION);
        g_assert_cmpstr(g_variant_get_string(driver, NULL), ==, dmsetup_driver);
        g_assert_cmpstr(g_variant_get_string(library, NULL), ==, dmsetup_library);
}

static GDBusNodeInfo *introspect(const char *path) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = NULL;
        const char *xml;
        GDBusNodeInfo *node;

        reply = g_dbus_connection_call_sync(bus, DMBUS_NAME, path, "org.freedesktop.DBus.Introspectable",
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

static GDBusNodeInfo *contract(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = NULL;
        GDBusNodeInfo *node;

        g_assert_true(g_file_get_contents(DMBUS_CONTRACT_XML, &xml, NULL, &error));
        node = g_dbus_node_info_new_for_xml(xml, &error);
        g_assert_no_error(error);
        return node;
}

static void test_introspection_matches_contract(void) {
        g_autoptr(GDBusNodeInfo) want = contract();
        g_autoptr(GDBusNodeInfo) have = introspect(DMBUS_MANAGER);
        GDBusInterfaceInfo *iface;

        iface = g_dbus_node_info_lookup_interface(have, DMBUS_MANAGER_IFACE);
        g_assert_nonnull(iface);
        assert_interface_matches(g_dbus_node_info_lookup_interface(want, DMBUS_MANAGER_IFACE), iface);
}

static void test_busctl_introspect_shows_contract(void) {
        g_autoptr(GDBusNodeInfo) want = contract();
        g_autofree char *out = vm_sh("busctl --system introspect " DMBUS_NAME " " DMBUS_MANAGER);
        GDBusInterfaceInfo *iface = g_dbus_node_info_lookup_interface(want, DMBUS_MANAGER_IFACE);

        g_assert_nonnull(strstr(out, DMBUS_MANAGER_IFACE));
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

        reply = g_dbus_connection_call_sync(bus, DMBUS_NAME, DMBUS_ROOT, "org.freedesktop.DBus.ObjectManager",
                                            "GetManagedObjects", NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
                                            G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
        g_assert_no_error(error);
        objects = g_variant_get_child_value(reply, 0);
        interfaces = g_variant_lookup_value(objects, DMBUS_MANAGER, G_VARIANT_TYPE("a{sa{sv}}"));
        g_assert_nonnull(interfaces);
        g_autoptr(GVariant) props = g_variant_lookup_value(interfaces, DMBUS_MANAGER_IFACE, G_VARIANT_TYPE("a{sv}"));
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

        g_autoptr(GVariant) driver = vm_get_property(DMBUS_MANAGER, DMBUS_MANAGER_IFACE, "DriverVersion", "s");
        g_assert_cmpstr(g_variant_get_string(driver, NULL), !=, "");

        bus = vm_system_bus();
        reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "RequestName", g_variant_new("(su)", DMBUS_NAME, 0), G_VARIANT_TYPE("(u)"),
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

        /* No 95-dm-notify.rules to complete a udev cookie: drive dmsetup without one. */
        vm_do("dmsetup --noudevsync create dmbus-t-linear -u DMBUS-TEST-linear-1 --table '0 16384 linear %s 0'", loop);
        vm_do("udevadm settle --timeout=30");
        minor = vm_sh("dmsetup info -c --noheadings -o minor dmbus-t-linear");
        mapper_target = g_strdup_printf("../dm-%s", minor);
        byid_target = g_strdup_printf("../../dm-%s", minor);

        assert_link("/dev/mapper/dmbus-t-linear", mapper_target);
        assert_link("/dev/disk/by-id/dm-name-dmbus-t-linear", byid_target);
        assert_link("/dev/disk/by-id/dm-uuid-DMBUS-TEST-linear-1", byid_target);

        props = vm_sh("udevadm info --query=property --name=/dev/dm-%s", minor);
        g_assert_nonnull(strstr(props, "DM_NAME=dmbus-t-linear\n"));
        g_assert_nonnull(strstr(props, "DM_UUID=DMBUS-TEST-linear-1\n"));

        vm_do("dmsetup --noudevsync remove dmbus-t-linear");
        vm_do("udevadm settle --timeout=30");
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
        g_assert_false(vm_name_has_owner(DMBUS_NAME));

        /* Journal-style "<N>" prefixes on every line. */
        log = vm_daemon_log(daemon_under_test);
        g_assert_true(g_str_has_prefix(log, "<"));
        g_assert_nonnull(strstr(log, "<6>dmbusd " PACKAGE_VERSION " ready"));
}

int main(int argc, char *argv[]) {
        int r;

        g_test_init(&argc, &argv, NULL);
        if (!g_test_subprocess()) {
                vm_require_guest();
                daemon_under_test = vm_daemon_start();
        }

        g_test_add_func("/foundation/ready-after-name", test_ready_after_name);
        g_test_add_func("/foundation/manager-properties", test_manager_properties);
        g_test_add_func("/foundation/introspection-matches-contract", test_introspection_matches_contract);
        g_test_add_func("/foundation/busctl-introspect-shows-contract", test_busctl_introspect_shows_contract);
        g_test_add_func("/foundation/object-manager", test_object_manager);
        g_test_add_func("/foundation/policy-non-root", test_policy_non_root);
        g_test_add_func("/foundation/policy-non-root/subprocess", test_policy_non_root_subprocess);
        g_test_add_func("/foundation/udev-links-from-project-rules-alone", test_udev_links_from_project_rules_alone);
        g_test_add_func("/foundation/sigterm-exits-cleanly", test_sigterm_exits_cleanly);

        r = g_test_run();
        vm_daemon_free(daemon_under_test);
        return r;
}
