/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stacks, holders and health, proven in the guest: whole stacks torn down and built in one call
 * (refused while anything outside the stack uses them, undone when a step fails or the service is
 * killed halfway), who holds a device (a holder, a mount, a process), and Remove's Busy naming it. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm-util.h"

#define CRYPT_KEY "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"

static char *loops[6];
static VmDaemon *daemon_under_test;

static GVariant *options_new(const char *options) {
        return options ? g_variant_new_parsed(options) : g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

static char *path_of(const char *name) {
        g_autoptr(GVariant) reply = vm_call(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "ResolveName", g_variant_new("(s)", name),
                                            "(o)", NULL);
        char *path = NULL;

        if (reply)
                g_variant_get(reply, "(o)", &path);
        return path;
}

G_GNUC_PRINTF(2, 3)
static void dmsetup_create(const char *name, const char *format, ...) {
        g_autofree char *table = NULL;
        va_list ap;

        va_start(ap, format);
        table = g_strdup_vprintf(format, ap);
        va_end(ap);
        vm_do("dmsetup create %s --table '%s'", name, table);
}

static GVariant *device_call(const char *name, const char *method, GVariant *parameters, const char *reply_type, GError **error) {
        g_autofree char *path = path_of(name);

        g_assert_nonnull(path);
        return vm_call(path, DMBUS_DEVICE_INTERFACE, method, parameters, reply_type, error);
}

static void assert_error(const GError *error, const char *short_name, const char *contains) {
        g_autofree char *remote = error ? g_dbus_error_get_remote_error(error) : NULL;
        g_autofree char *want = g_strconcat(DMBUS_ERROR_PREFIX, short_name, NULL);

        g_assert_nonnull(error);
        g_assert_cmpstr(remote, ==, want);
        if (contains && !strstr(error->message, contains))
                g_error("\"%s\" does not say \"%s\"", error->message, contains);
}

static gboolean dm_exists(const char *name) {
        g_autofree char *out = vm_sh("dmsetup info %s >/dev/null 2>&1 && echo yes || echo no", name);

        return g_str_equal(out, "yes");
}

static unsigned records_left(void) {
        g_autofree char *out = vm_sh("ls /run/dmbus 2>/dev/null | grep -c '^op-' || true");

        return (unsigned) atoi(out);
}

/* The users GetUsers lists, one "KIND KEY=VALUE..." line each, in its order. */
static char *users_text(const char *name) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = device_call(name, "GetUsers", NULL, "(a(sa{sv}))", &error);
        g_autoptr(GVariantIter) iter = NULL;
        GString *s = g_string_new("");
        const char *kind;
        GVariant *dict;

        g_assert_no_error(error);
        g_variant_get(reply, "(a(sa{sv}))", &iter);
        while (g_variant_iter_next(iter, "(&s@a{sv})", &kind, &dict)) {
                g_autofree char *printed = g_variant_print(dict, FALSE);

                g_string_append_printf(s, "%s %s\n", kind, printed);
                g_variant_unref(dict);
        }
        return g_string_free(s, FALSE);
}

/* A process holding /dev/mapper/NAME open until killed; its pid. */
static pid_t hold_open(const char *name) {
        g_autofree char *pid = vm_sh("sleep 600 3</dev/mapper/%s >/dev/null 2>&1 & echo $!", name);

        return atoi(pid);
}

static void stop_holding(pid_t pid) {
        kill(pid, SIGKILL);
        vm_wait(30, "! kill -0 %d 2>/dev/null", (int) pid);
}

/* ---- Who holds a device ------------------------------------------------------------------ */

static void test_get_users(void) {
        g_autofree char *base = NULL, *top = NULL, *top_users = NULL, *after = NULL, *want = NULL;
        g_autofree char *top_path = NULL, *top_kernel_name = NULL;
        g_autoptr(GError) error = NULL;
        pid_t holder;

        dmsetup_create("u-base", "0 16384 linear %s 0", loops[0]);
        dmsetup_create("u-top", "0 16384 linear /dev/mapper/u-base 0");
        top_path = path_of("u-top");
        vm_do("mkfs.ext2 -q /dev/mapper/u-top && mkdir -p /mnt/u-top && mount /dev/mapper/u-top /mnt/u-top");
        holder = hold_open("u-top");

        base = users_text("u-base");
        top_kernel_name = vm_sh("basename $(readlink -f /dev/mapper/u-top)");
        want = g_strdup_printf("holder {'kernel-name': <'%s'>, 'name': <'u-top'>, 'object': <objectpath '%s'>}\n",
                               top_kernel_name, top_path);
        g_assert_cmpstr(base, ==, want);

        top = users_text("u-top");
        g_autofree char *process = g_strdup_printf("process {'pid': <uint32 %d>, 'comm': <'sleep'>, 'uid': <uint32 0>}\n", (int) holder);
        g_assert_true(g_str_has_prefix(top, "mount {'mount-point': <'/mnt/u-top'>}\n"));
        g_assert_nonnull(strstr(top, process));

        /* Remove names the first of them. */
        g_autoptr(GVariant) refused = device_call("u-top", "Remove", g_variant_new("(@a{sv})", options_new(NULL)), NULL, &error);
        assert_error(error, "Busy", "mounted on /mnt/u-top");
        g_clear_error(&error);
        vm_do("umount /mnt/u-top");
        g_autoptr(GVariant) refused_again = device_call("u-top", "Remove", g_variant_new("(@a{sv})", options_new(NULL)), NULL, &error);
        g_autofree char *by_pid = g_strdup_printf("held open by pid %d (sleep)", (int) holder);
        assert_error(error, "Busy", by_pid);

        stop_holding(holder);
        after = users_text("u-top");
        g_assert_cmpstr(after, ==, "");
        vm_do("dmsetup remove u-top && dmsetup remove u-base");
}

/* ---- RemoveStack ------------------------------------------------------------------------- */

static char **remove_stack(const char *name, const char *options, GError **error) {
        g_autoptr(GVariant) reply = device_call(name, "RemoveStack", g_variant_new("(@a{sv})", options_new(options)), "(ao)", error);
        char **removed = NULL;

        if (reply)
                g_variant_get(reply, "(^ao)", &removed);
        return removed;
}

/* lvm2-style: a linear volume on a crypt mapping on a linear over two loop devices. */
static void make_four_levels(void) {
        vm_do("printf '%%s\\n' '0 16384 linear %s 0' '16384 16384 linear %s 0' | dmsetup create s-lin", loops[1], loops[2]);
        dmsetup_create("s-crypt", "0 32768 crypt aes-xts-plain64 " CRYPT_KEY " 0 /dev/mapper/s-lin 0");
        vm_do("dmsetup create s-lv -u LVM-stackstackstackstackstackstackstackstackstackstack01 --table '0 32768 linear /dev/mapper/s-crypt 0'");
}

static void test_remove_stack(void) {
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) removed = NULL;
        g_autofree char *lv = NULL, *crypt = NULL, *lin = NULL;

        make_four_levels();
        lv = path_of("s-lv");
        crypt = path_of("s-crypt");
        lin = path_of("s-lin");
        vm_do("mkfs.ext2 -q /dev/mapper/s-lv && mkdir -p /mnt/s-lv && mount /dev/mapper/s-lv /mnt/s-lv");

        /* A mounted top: refused, nothing removed, the mount point named. */
        removed = remove_stack("s-lin", NULL, &error);
        assert_error(error, "Busy", "\"s-lv\"");
        g_assert_nonnull(strstr(error->message, "mounted on /mnt/s-lv"));
        g_assert_nonnull(strstr(error->message, "nothing was removed"));
        g_assert_true(dm_exists("s-lv") && dm_exists("s-crypt") && dm_exists("s-lin"));
        g_clear_error(&error);

        vm_do("umount /mnt/s-lv");
        removed = remove_stack("s-lin", NULL, &error);
        g_assert_no_error(error);
        /* Top first; the loop devices below stay. */
        g_assert_cmpuint(g_strv_length(removed), ==, 3);
        g_assert_cmpstr(removed[0], ==, lv);
        g_assert_cmpstr(removed[1], ==, crypt);
        g_assert_cmpstr(removed[2], ==, lin);
        g_assert_false(dm_exists("s-lv") || dm_exists("s-crypt") || dm_exists("s-lin"));
        vm_do("losetup %s && losetup %s", loops[1], loops[2]);
        g_assert_null(path_of("s-lin"));
        g_assert_cmpuint(records_left(), ==, 0);
}

/* A diamond: two devices on one, one on both; a process holding a middle one. */
static void test_remove_stack_diamond_and_holder(void) {
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) removed = NULL;
        pid_t holder;

        dmsetup_create("d-base", "0 16384 linear %s 0", loops[3]);
        dmsetup_create("d-left", "0 8192 linear /dev/mapper/d-base 0");
        dmsetup_create("d-right", "0 8192 linear /dev/mapper/d-base 8192");
        vm_do("printf '%%s\\n' '0 8192 linear /dev/mapper/d-left 0' '8192 8192 linear /dev/mapper/d-right 0' | dmsetup create d-top");
        holder = hold_open("d-right");
        removed = remove_stack("d-base", NULL, &error);
        g_autofree char *devnum = vm_sh("dmsetup info -c --noheadings -o major,minor --separator : d-right");
        g_autofree char *by_pid = g_strdup_printf("\"d-right\" (%s) is in use: held open by pid %d (sleep)", devnum, (int) holder);
        assert_error(error, "Busy", by_pid);
        g_assert_true(dm_exists("d-top"));
        g_clear_error(&error);
        stop_holding(holder);

        removed = remove_stack("d-base", NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_strv_length(removed), ==, 4);
        g_assert_false(dm_exists("d-top") || dm_exists("d-left") || dm_exists("d-right") || dm_exists("d-base"));
}

/* ---- CreateStack ------------------------------------------------------------------------- */

/* devices: "NAME|UUID|TABLE LINES" separated by ';' (rows by '\n'). */
static char **create_stack(const char *devices, GError **error) {
        g_auto(GStrv) list = g_strsplit(devices, ";", -1);
        GVariantBuilder b;
        g_autoptr(GVariant) reply = NULL;
        char **made = NULL;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a(ssa(ttss)a{sv})"));
        for (char **d = list; *d; d++) {
                g_auto(GStrv) parts = g_strsplit(*d, "|", 3);

                g_variant_builder_add(&b, "(ss@a(ttss)@a{sv})", parts[0], parts[1], vm_table_variant(parts[2]), options_new(NULL));
        }
        reply = vm_call(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "CreateStack",
                        g_variant_new("(a(ssa(ttss)a{sv})@a{sv})", &b, options_new(NULL)), "(ao)", error);
        if (reply)
                g_variant_get(reply, "(^ao)", &made);
        return made;
}

static void test_create_stack(void) {
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) made = NULL;
        g_autofree char *devices = g_strdup_printf(
                "c-lin||0 16384 linear %s 0;"
                "c-crypt|CRYPT-stack-test|0 16384 crypt aes-xts-plain64 " CRYPT_KEY " 0 /dev/mapper/c-lin 0;"
                "c-lv||0 16384 linear /dev/mapper/c-crypt 0", loops[4]);

        made = create_stack(devices, &error);
        g_assert_no_error(error);
        vm_assert_object_matches_contract(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE);
        vm_assert_object_matches_contract(made[0], DMBUS_DEVICE_INTERFACE);
        g_assert_cmpuint(g_strv_length(made), ==, 3);
        g_autofree char *lv = path_of("c-lv"), *uuid = vm_sh("dmsetup info -c --noheadings -o uuid c-crypt");
        g_assert_cmpstr(made[2], ==, lv);
        g_assert_cmpstr(uuid, ==, "CRYPT-stack-test");
        g_autofree char *deps = vm_sh("dmsetup deps -o devname c-lv");
        g_assert_nonnull(strstr(deps, "(c-crypt)"));
        g_assert_cmpuint(records_left(), ==, 0);
        g_auto(GStrv) removed = remove_stack("c-lin", NULL, &error);
        g_assert_no_error(error);
}

static void test_create_stack_refused(void) {
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) made = NULL;
        g_autofree char *kernel_refuses = g_strdup_printf(
                "x-a||0 16384 linear %s 0;"
                "x-b||0 16384 linear /dev/mapper/x-a 0;"
                "x-c||0 16384 linear /dev/mapper/x-b 99999999", loops[4]);
        g_autofree char *clash = g_strdup_printf("y-a||0 8 linear %s 0;y-a||0 8 zero", loops[4]);
        g_autofree char *later = g_strdup_printf("z-a||0 8 linear /dev/mapper/z-b 0;z-b||0 8 linear %s 0", loops[4]);

        made = create_stack(kernel_refuses, &error);
        assert_error(error, "InvalidArgument", "Device 3 of the stack");
        g_assert_nonnull(strstr(error->message, "Nothing this call made is left."));
        g_assert_false(dm_exists("x-a") || dm_exists("x-b") || dm_exists("x-c"));
        g_assert_null(path_of("x-a"));
        g_assert_cmpuint(records_left(), ==, 0);
        g_clear_error(&error);

        made = create_stack(clash, &error);
        assert_error(error, "InvalidArgument", "Devices 1 and 2 of the stack are both named \"y-a\"");
        g_clear_error(&error);
        made = create_stack(later, &error);
        assert_error(error, "InvalidArgument", "refers to /dev/mapper/z-b, which this call makes only later");
        g_clear_error(&error);
        made = create_stack("", &error);
        assert_error(error, "InvalidArgument", "no devices");
        g_assert_false(dm_exists("y-a") || dm_exists("z-a") || dm_exists("z-b"));
}

/* Killed halfway (udevd stopped, so the second device waits for it): the next start removes what
 * the stack made, top first. */
static void test_create_stack_killed(void) {
        g_autofree char *cmd = NULL;

        vm_do("pkill -STOP systemd-udevd");
        cmd = g_strdup_printf("gdbus call --system --dest " DMBUS_SERVICE_NAME " --object-path " DMBUS_MANAGER_PATH
                              " --method " DMBUS_MANAGER_INTERFACE ".CreateStack \"[('k-a', '', [(0, 8192, 'linear', '%s 0')], @a{sv} {}),"
                              " ('k-b', '', [(0, 8192, 'linear', '/dev/mapper/k-a 0')], @a{sv} {}), ('k-c', '', [(0, 8192, 'zero', '')], @a{sv} {})]\""
                              " \"{'udev-timeout-ms': <uint32 60000>}\" >/dev/null 2>&1 &", loops[5]);
        vm_do("%s", cmd);
        g_assert_true(vm_wait(60, "dmsetup info k-a >/dev/null 2>&1"));
        g_usleep(G_USEC_PER_SEC / 2);
        kill(daemon_under_test->pid, SIGKILL);
        g_assert_cmpint(waitpid(daemon_under_test->pid, NULL, 0), ==, daemon_under_test->pid);
        g_spawn_close_pid(daemon_under_test->pid);
        daemon_under_test->pid = 0;
        vm_daemon_free(daemon_under_test);
        g_assert_cmpuint(records_left(), >=, 1);
        vm_do("pkill -CONT systemd-udevd");

        daemon_under_test = vm_daemon_start();
        g_assert_false(dm_exists("k-a") || dm_exists("k-b") || dm_exists("k-c"));
        g_assert_cmpuint(records_left(), ==, 0);
}

int main(int argc, char *argv[]) {
        int r;

        g_test_init(&argc, &argv, NULL);
        vm_require_guest();
        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++)
                loops[i] = vm_loop_new(32);
        daemon_under_test = vm_daemon_start();

        g_test_add_func("/stacks/get-users", test_get_users);
        g_test_add_func("/stacks/remove-stack", test_remove_stack);
        g_test_add_func("/stacks/remove-stack-diamond-and-holder", test_remove_stack_diamond_and_holder);
        g_test_add_func("/stacks/create-stack", test_create_stack);
        g_test_add_func("/stacks/create-stack-refused", test_create_stack_refused);
        g_test_add_func("/stacks/create-stack-killed", test_create_stack_killed);
        r = g_test_run();

        g_assert_cmpint(vm_daemon_stop(daemon_under_test), ==, 0);
        vm_daemon_free(daemon_under_test);
        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++)
                vm_loop_free(loops[i]);
        return r;
}
