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

#include "journal-fields.h"
#include "vm-util.h"

#define CRYPT_KEY "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"

static char *loops[12];
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
        /* A process whose name is not UTF-8 (any bytes make a comm): shown escaped, the reply intact. */
        g_autofree char *odd = vm_sh("cp /bin/sleep \"/run/$(printf '\\377')nap\" && "
                                     "\"/run/$(printf '\\377')nap\" 600 3</dev/mapper/u-top >/dev/null 2>&1 & echo $!");

        base = users_text("u-base");
        top_kernel_name = vm_sh("basename $(readlink -f /dev/mapper/u-top)");
        want = g_strdup_printf("holder {'kernel-name': <'%s'>, 'name': <'u-top'>, 'object': <objectpath '%s'>}\n",
                               top_kernel_name, top_path);
        g_assert_cmpstr(base, ==, want);

        top = users_text("u-top");
        g_autofree char *process = g_strdup_printf("process {'pid': <uint32 %d>, 'comm': <'sleep'>, 'uid': <uint32 0>}\n", (int) holder);
        g_assert_true(g_str_has_prefix(top, "mount {'mount-point': <'/mnt/u-top'>}\n"));
        g_assert_nonnull(strstr(top, process));
        g_assert_nonnull(strstr(top, "'\\\\xffnap'"));
        stop_holding(atoi(odd));

        /* The same through dmbusctl, and the tree with its mount points. */
        g_autofree char *who = vm_sh("$DMBUSCTL who u-top");
        g_test_message("dmbusctl who: %s", who);
        g_assert_true(g_str_has_prefix(who, "mount "));
        g_assert_nonnull(strstr(who, "/mnt/u-top"));
        g_assert_nonnull(strstr(who, "process"));
        g_autofree char *tree = vm_sh("$DMBUSCTL tree | grep 'u-top'");
        g_assert_nonnull(strstr(tree, " on /mnt/u-top"));
        g_autofree char *pretty = vm_sh("$DMBUSCTL tree --json=pretty");
        g_assert_nonnull(strstr(pretty, "\"mount_points\": [\n"));
        g_assert_nonnull(strstr(pretty, "\"/mnt/u-top\""));
        vm_do("$DMBUSCTL tree --json=pretty | python3 -m json.tool >/dev/null && $DMBUSCTL tree --json=short | python3 -m json.tool >/dev/null");

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

        /* Swap, from /proc/swaps; RemoveStack names it. */
        dmsetup_create("u-swap", "0 8192 linear %s 16384", loops[0]);
        vm_do("mkswap -q /dev/mapper/u-swap >/dev/null && swapon /dev/mapper/u-swap");
        g_autofree char *swap = users_text("u-swap");
        g_assert_true(g_str_has_prefix(swap, "swap {'path': <'/dev/"));
        g_clear_error(&error);
        g_autoptr(GVariant) kept = device_call("u-swap", "RemoveStack", g_variant_new("(@a{sv})", options_new(NULL)), "(ao)", &error);
        assert_error(error, "Busy", "is in use: used as swap; nothing was removed");
        vm_do("swapoff /dev/mapper/u-swap && dmsetup remove u-swap");
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

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* One step of a plan as "ACTION KEY=VALUE ..." (the keys sorted), a line each. */
static char *plan_text(GVariant *plan) {
        GString *s = g_string_new(NULL);
        GVariantIter steps;
        const char *action;
        GVariant *details;

        g_variant_iter_init(&steps, plan);
        while (g_variant_iter_next(&steps, "(&s@a{sv})", &action, &details)) {
                g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
                GVariantIter i;
                const char *key;
                GVariant *value;

                g_variant_iter_init(&i, details);
                while (g_variant_iter_next(&i, "{&sv}", &key, &value)) {
                        g_autofree char *v = g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
                                                     g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH)
                                                     ? g_variant_dup_string(value, NULL) : g_variant_print(value, FALSE);
                        g_ptr_array_add(items, g_strdup_printf("%s=%s", key, v));
                        g_variant_unref(value);
                }
                g_ptr_array_sort(items, compare_strings);
                g_ptr_array_add(items, NULL);
                g_autofree char *joined = g_strjoinv(" ", (char **) items->pdata);
                g_string_append_printf(s, "%s %s\n", action, joined);
                g_variant_unref(details);
        }
        return g_string_free(s, FALSE);
}

/* PlanRemoveStack over a mounted ext4 on LUKS on a linear device, with a process holding the LUKS
 * device: unmount and close first, then the removals top first, the LUKS one cryptsetup's; and
 * nothing changed. The same through dmbusctl remove --stack --dry-run. */
static void test_plan_remove_stack(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) waited = NULL, reply = NULL, plan = NULL;
        g_autofree char *luks = NULL, *lin = NULL, *text = NULL, *want = NULL, *dry = NULL;
        pid_t holder;

        /* The whole loop: LUKS2's header takes 16 MiB of it. */
        dmsetup_create("p-lin", "0 65536 linear %s 0", loops[8]);
        vm_do("printf 'dmbus-passphrase' > /run/dmbus-plan.key && cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 "
              "--pbkdf-force-iterations 1000 --key-file /run/dmbus-plan.key /dev/mapper/p-lin && "
              "cryptsetup open --disable-keyring --key-file /run/dmbus-plan.key /dev/mapper/p-lin p-luks");
        vm_do("mkfs.ext4 -q -F /dev/mapper/p-luks && mkdir -p /mnt/p-luks && mount /dev/mapper/p-luks /mnt/p-luks");
        waited = vm_call(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "WaitForDevice",
                         g_variant_new("(ss@a{sv})", "p-luks", "active", options_new(NULL)), "(o)", &error);
        g_assert_no_error(error);
        holder = hold_open("p-luks");
        luks = path_of("p-luks");
        lin = path_of("p-lin");

        reply = device_call("p-lin", "PlanRemoveStack", g_variant_new("(@a{sv})", options_new(NULL)), "(a(sa{sv}))", &error);
        g_assert_no_error(error);
        plan = g_variant_get_child_value(reply, 0);
        text = plan_text(plan);
        g_autofree char *uuid = vm_sh("dmsetup info -c --noheadings -o uuid p-luks");
        g_assert_true(g_str_has_prefix(uuid, "CRYPT-LUKS2-"));
        want = g_strdup_printf("unmount device=%s mount-point=/mnt/p-luks\n"
                               "close comm=sleep device=%s pid=%d uid=0\n"
                               "remove name=p-luks object=%s owner=cryptsetup subsystem=CRYPT\n"
                               "remove name=p-lin object=%s subsystem=\n",
                               luks, luks, (int) holder, luks, lin);
        g_assert_cmpstr(text, ==, want);
        g_assert_true(dm_exists("p-luks") && dm_exists("p-lin"));

        dry = vm_sh("$DMBUSCTL remove --stack --dry-run p-lin");
        g_test_message("dmbusctl remove --stack --dry-run: %s", dry);
        g_assert_true(g_str_has_prefix(dry, "unmount "));
        g_assert_nonnull(strstr(dry, "/mnt/p-luks"));
        g_assert_nonnull(strstr(dry, "\nclose "));
        g_assert_nonnull(strstr(dry, "cryptsetup"));

        stop_holding(holder);
        vm_do("umount /mnt/p-luks && cryptsetup close p-luks && dmsetup remove p-lin");
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
        /* systemd starts it again a second after (Restart=on-failure, RestartSec=1s). */
        vm_daemon_signal(daemon_under_test, SIGKILL);
        g_assert_cmpuint(records_left(), >=, 1);
        vm_do("pkill -CONT systemd-udevd");
        vm_daemon_wait_restarted(daemon_under_test);
        g_assert_false(dm_exists("k-a") || dm_exists("k-b") || dm_exists("k-c"));
        g_assert_cmpuint(records_left(), ==, 0);
}

/* ---- Health and thresholds ---------------------------------------------------------------- */

static char *string_property(const char *name, const char *property) {
        g_autofree char *path = path_of(name);
        g_autoptr(GVariant) v = NULL;

        g_assert_nonnull(path);
        v = vm_get_property(path, DMBUS_DEVICE_INTERFACE, property, "s");
        return g_variant_dup_string(v, NULL);
}

static guint64 u64_property(const char *name, const char *property) {
        g_autofree char *path = path_of(name);
        g_autoptr(GVariant) v = NULL;

        g_assert_nonnull(path);
        v = vm_get_property(path, DMBUS_DEVICE_INTERFACE, property, "t");
        return g_variant_get_uint64(v);
}

/* Health becomes want within seconds (the monitor ticks every second here). */
static void wait_for_health(const char *name, const char *want, unsigned seconds) {
        g_autofree char *health = NULL;
        gint64 deadline = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;

        for (;;) {
                g_free(health);
                health = string_property(name, "Health");
                if (g_str_equal(health, want) || g_get_monotonic_time() > deadline)
                        break;
                g_usleep(G_USEC_PER_SEC / 5);
        }
        g_assert_cmpstr(health, ==, want);
}

static void on_threshold_crossed(GDBusConnection *bus, const char *sender, const char *path, const char *interface,
                                 const char *signal, GVariant *parameters, gpointer userdata) {
        GString *seen = userdata;
        const char *what;
        guint32 percent;

        g_variant_get(parameters, "(&su)", &what, &percent);
        g_string_append_printf(seen, "%s %u\n", what, percent);
}

static void wait_for_signal_text(GString *seen, const char *want, unsigned seconds) {
        gint64 deadline = g_get_monotonic_time() + (gint64) seconds * G_USEC_PER_SEC;

        while (!strstr(seen->str, want) && g_get_monotonic_time() < deadline) {
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                g_usleep(G_USEC_PER_SEC / 20);
        }
        if (!strstr(seen->str, want))
                g_error("no signal \"%s\" within %u s; seen: \"%s\"", want, seconds, seen->str);
}

/* Device.Failure as "KIND DETAILS\n" lines, the details as GVariant text ("{'row': <uint32 0>, ...}"). */
static void on_failure(GDBusConnection *bus, const char *sender, const char *path, const char *interface, const char *signal,
                       GVariant *parameters, gpointer userdata) {
        GString *seen = userdata;
        g_autoptr(GVariant) details = NULL;
        g_autofree char *text = NULL;
        const char *kind;

        g_variant_get(parameters, "(&s@a{sv})", &kind, &details);
        text = g_variant_print(details, TRUE);
        g_string_append_printf(seen, "%s %s\n", kind, text);
}

static guint subscribe_failures(GDBusConnection *bus, const char *name, GString *seen) {
        g_autofree char *path = path_of(name);

        g_assert_nonnull(path);
        return g_dbus_connection_signal_subscribe(bus, DMBUS_SERVICE_NAME, DMBUS_DEVICE_INTERFACE, "Failure", path, NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, on_failure, seen, NULL);
}

/* Once, not once a tick: the lines holding needle after a few more ticks (1 s each here). */
static unsigned failures_after_ticks(GString *seen, const char *needle) {
        unsigned n = 0;

        g_usleep(5 * G_USEC_PER_SEC / 2);
        while (g_main_context_iteration(NULL, FALSE))
                ;
        for (const char *p = seen->str; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

/* "MAJ:MIN" of a DM device. */
static char *devnum_of(const char *name) {
        return vm_sh("dmsetup info -c --noheadings -o major,minor %s", name);
}

/* A thin-pool of 128 blocks of 64 KiB, filled through a thin device: 80 and 90 %, then out of
 * data space (error_if_no_space). */
static void test_thin_pool_thresholds_and_health(void) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GString) seen = g_string_new(""), failures = g_string_new("");
        g_autofree char *pool_path = NULL, *reason = NULL;
        guint subscription, failures_subscription;

        dmsetup_create("h-pool", "0 16384 thin-pool %s %s 128 0 1 error_if_no_space", loops[6], loops[7]);
        vm_do("dmsetup message h-pool 0 'create_thin 0'");
        dmsetup_create("h-thin", "0 65536 thin /dev/mapper/h-pool 0");
        pool_path = path_of("h-pool");
        subscription = g_dbus_connection_signal_subscribe(bus, DMBUS_SERVICE_NAME, DMBUS_DEVICE_INTERFACE, "ThresholdCrossed",
                                                          pool_path, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_threshold_crossed, seen, NULL);
        failures_subscription = subscribe_failures(bus, "h-pool", failures);
        g_assert_cmpstr(string_property("h-pool", "Health"), ==, "ok");
        /* Let a tick read it empty first. */
        g_usleep(3 * G_USEC_PER_SEC / 2);

        vm_do("dd if=/dev/zero of=/dev/mapper/h-thin bs=64K count=106 oflag=direct status=none");
        wait_for_signal_text(seen, "data 80\n", 30);
        g_assert_null(strstr(seen->str, "data 90"));
        vm_do("dd if=/dev/zero of=/dev/mapper/h-thin bs=64K seek=106 count=12 oflag=direct status=none");
        wait_for_signal_text(seen, "data 90\n", 30);

        vm_do("dd if=/dev/zero of=/dev/mapper/h-thin bs=64K seek=118 count=30 oflag=direct status=none 2>/dev/null || true");
        wait_for_health("h-pool", "failed", 30);
        reason = string_property("h-pool", "HealthReason");
        g_assert_cmpstr(reason, ==, "thin-pool: out of data space");
        wait_for_signal_text(failures, "thin-pool-out-of-data-space {'row': <uint32 0>}\n", 30);
        g_assert_cmpuint(failures_after_ticks(failures, "thin-pool-out-of-data-space"), ==, 1);
        g_dbus_connection_signal_unsubscribe(bus, subscription);
        g_dbus_connection_signal_unsubscribe(bus, failures_subscription);
        /* The writes end with a close, on which udev probes the device again: wait for it. */
        vm_do("dmsetup remove --retry h-thin && dmsetup remove --retry h-pool");
}

/* raid1 NAME with metadata, over DM legs NAME-meta0, NAME-leg0, NAME-meta1, NAME-leg1 (as lvm2
 * makes it) on loops[8] and loops[9], in sync and ok. */
static void raid1_over_legs_create(const char *name) {
        vm_do("modprobe dm-raid");
        for (unsigned i = 0; i < 2; i++) {
                g_autofree char *meta = g_strdup_printf("%s-meta%u", name, i), *leg = g_strdup_printf("%s-leg%u", name, i);

                dmsetup_create(meta, "0 8192 linear %s 0", loops[8 + i]);
                dmsetup_create(leg, "0 16384 linear %s 8192", loops[8 + i]);
        }
        dmsetup_create(name, "0 16384 raid raid1 1 1024 2 /dev/mapper/%s-meta0 /dev/mapper/%s-leg0 /dev/mapper/%s-meta1 /dev/mapper/%s-leg1",
                       name, name, name, name);
        vm_wait(60, "dmsetup status %s | grep -q ' AA '", name);
        wait_for_health(name, "ok", 10);
}

/* Its second leg and that leg's metadata swapped for the error target, then written to: the
 * kernel records the failure in the other leg's metadata. */
static void raid1_fail_second_leg(const char *name) {
        vm_do("for d in %s-meta1 %s-leg1; do dmsetup suspend $d && dmsetup load $d --table \"0 $(blockdev --getsz /dev/mapper/$d) error\" "
              "&& dmsetup resume $d; done", name, name);
        vm_do("timeout 60 dd if=/dev/zero of=/dev/mapper/%s bs=4K count=4 oflag=direct status=none 2>/dev/null || true", name);
}

static void raid1_over_legs_remove(const char *name) {
        vm_do("dmsetup remove --retry %s && dmsetup remove --retry %s-leg0 %s-leg1 %s-meta0 %s-meta1", name, name, name, name, name);
}

static void test_raid_failed_leg(void) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GString) failures = g_string_new("");
        g_autofree char *reason = NULL, *leg_devnum = NULL, *want = NULL;
        guint subscription;

        raid1_over_legs_create("r-raid");
        subscription = subscribe_failures(bus, "r-raid", failures);
        leg_devnum = devnum_of("r-raid-leg1");
        raid1_fail_second_leg("r-raid");
        wait_for_health("r-raid", "degraded", 30);
        reason = string_property("r-raid", "HealthReason");
        g_assert_cmpstr(reason, ==, "raid1: 1 of 2 members failed (AD)");
        want = g_strdup_printf("raid-member-failed {'row': <uint32 0>, 'member': <uint32 1>, 'health': <'D'>, 'device': <'%s'>}\n", leg_devnum);
        wait_for_signal_text(failures, want, 30);
        g_assert_cmpuint(failures_after_ticks(failures, "raid-member-failed"), ==, 1);
        g_dbus_connection_signal_unsubscribe(bus, subscription);
        raid1_over_legs_remove("r-raid");
}

/* Debian's node_exporter, its textfile collector alone, on loopback. It serves a series' labels
 * sorted by name. */
#define NODE_EXPORTER_METRICS "curl -sf http://127.0.0.1:9100/metrics"

static gboolean node_exporter_serves(const char *line) {
        if (vm_wait(30, NODE_EXPORTER_METRICS " | grep -qxF '%s'", line))
                return TRUE;
        g_test_message("node_exporter serves:\n%s", vm_sh(NODE_EXPORTER_METRICS " | grep -E '^(dmbus_(up|devices|device_health|thin_pool_data|raid)|node_textfile)'"));
        return FALSE;
}

/* dmbus-metrics.service as installed (DynamicUser=, no privilege) keeps the file Debian's
 * node_exporter serves: a thin pool's ratio and a raid1's health follow their changes. */
static void test_metrics(void) {
        g_autofree char *user = NULL, *exposition = NULL, *check = NULL;

        vm_do("printf 'ARGS=\"--web.listen-address=127.0.0.1:9100 --collector.disable-defaults --collector.textfile\"\\n' "
              ">/etc/default/prometheus-node-exporter");
        vm_do("systemctl start prometheus-node-exporter dmbus-metrics");
        g_assert_true(vm_wait(30, "test -L /var/lib/prometheus/node-exporter/dmbus.prom"));
        user = vm_sh("ps -o user= -p $(systemctl show -P MainPID dmbus-metrics)");
        g_test_message("dmbus-metrics runs as %s", user);
        g_assert_cmpstr(user, !=, "root");
        g_assert_true(node_exporter_serves("dmbus_up 1"));

        dmsetup_create("m-pool", "0 16384 thin-pool %s %s 128 0 1 error_if_no_space", loops[6], loops[7]);
        vm_do("dmsetup message m-pool 0 'create_thin 0'");
        dmsetup_create("m-thin", "0 65536 thin /dev/mapper/m-pool 0");
        g_assert_true(node_exporter_serves("dmbus_thin_pool_data_used_ratio{name=\"m-pool\",uuid=\"\"} 0"));
        g_assert_true(node_exporter_serves("dmbus_thin_pool_data_blocks{name=\"m-pool\",uuid=\"\"} 128"));
        vm_do("dd if=/dev/zero of=/dev/mapper/m-thin bs=64K count=32 oflag=direct status=none");
        g_assert_true(node_exporter_serves("dmbus_thin_pool_data_used_ratio{name=\"m-pool\",uuid=\"\"} 0.25"));
        vm_do("dd if=/dev/zero of=/dev/mapper/m-thin bs=64K seek=32 count=64 oflag=direct status=none");
        g_assert_true(node_exporter_serves("dmbus_thin_pool_data_used_ratio{name=\"m-pool\",uuid=\"\"} 0.75"));

        raid1_over_legs_create("m-raid");
        g_assert_true(node_exporter_serves("dmbus_device_health{name=\"m-raid\",state=\"ok\",uuid=\"\"} 1"));
        g_assert_true(node_exporter_serves("dmbus_raid_failed_members{name=\"m-raid\",uuid=\"\"} 0"));
        raid1_fail_second_leg("m-raid");
        g_assert_true(node_exporter_serves("dmbus_device_health{name=\"m-raid\",state=\"degraded\",uuid=\"\"} 1"));
        g_assert_true(node_exporter_serves("dmbus_device_health{name=\"m-raid\",state=\"ok\",uuid=\"\"} 0"));
        g_assert_true(node_exporter_serves("dmbus_raid_failed_members{name=\"m-raid\",uuid=\"\"} 1"));

        /* A Prometheus server scraping node_exporter every second answers the query. */
        vm_do("mkdir -p /run/prometheus && printf 'global:\\n  scrape_interval: 1s\\nscrape_configs:\\n  - job_name: node\\n"
              "    static_configs:\\n      - targets: [\"127.0.0.1:9100\"]\\n' >/run/prometheus/prometheus.yml");
        vm_do("prometheus --config.file=/run/prometheus/prometheus.yml --storage.tsdb.path=/run/prometheus/data "
              "--web.listen-address=127.0.0.1:9090 >/run/prometheus/log 2>&1 & echo $! >/run/prometheus/pid");
        g_assert_true(vm_wait(120, "curl -sf 'http://127.0.0.1:9090/api/v1/query?query=dmbus_thin_pool_data_used_ratio' | grep -q '\"m-pool\".*\"0.75\"'"));
        g_assert_true(vm_wait(30, "curl -sf 'http://127.0.0.1:9090/api/v1/query?query=dmbus_device_health%%7Bstate%%3D%%22degraded%%22%%7D%%3D%%3D1' "
                                  "| grep -q '\"m-raid\"'"));
        vm_do("kill $(cat /run/prometheus/pid)");

        /* What dmbusctl prints is valid exposition, for anyone. */
        exposition = vm_sh("runuser -u nobody -- $DMBUSCTL metrics");
        g_assert_nonnull(strstr(exposition, "dmbus_device_info{name=\"m-thin\",uuid=\"\",subsystem=\"\",vg=\"\",lv=\"\",targets=\"thin\"} 1\n"));
        g_assert_nonnull(strstr(exposition, "dmbus_device_read_bytes_total{name=\"m-thin\""));
        check = vm_sh("$DMBUSCTL metrics | promtool check metrics 2>&1; echo \"exit $?\"");
        g_test_message("%s", check);
        g_assert_true(g_str_has_suffix(check, "exit 0"));

        raid1_over_legs_remove("m-raid");
        vm_do("dmsetup remove --retry m-thin && dmsetup remove --retry m-pool");
        g_assert_true(vm_wait(30, "! " NODE_EXPORTER_METRICS " | grep -q 'name=\"m-'"));
        vm_do("systemctl stop dmbus-metrics prometheus-node-exporter");
        g_assert_cmpint(system("test -L /var/lib/prometheus/node-exporter/dmbus.prom"), !=, 0);
}

/* A snapshot whose exception store (32 KiB) fills up. */
static void test_snapshot_overflow(void) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GString) failures = g_string_new("");
        g_autofree char *reason = NULL;
        guint subscription;

        dmsetup_create("o-origin", "0 16384 linear %s 0", loops[10]);
        dmsetup_create("o-cow", "0 64 linear %s 0", loops[11]);
        dmsetup_create("o-snap", "0 16384 snapshot /dev/mapper/o-origin /dev/mapper/o-cow P 8");
        wait_for_health("o-snap", "ok", 10);
        subscription = subscribe_failures(bus, "o-snap", failures);
        vm_do("dd if=/dev/zero of=/dev/mapper/o-snap bs=64K count=16 oflag=direct status=none 2>/dev/null || true");
        wait_for_health("o-snap", "failed", 30);
        reason = string_property("o-snap", "HealthReason");
        g_assert_true(g_str_has_prefix(reason, "snapshot: "));
        wait_for_signal_text(failures, "snapshot-invalid {'row': <uint32 0>, 'reason': <'", 30);
        g_assert_cmpuint(failures_after_ticks(failures, "snapshot-invalid"), ==, 1);
        g_dbus_connection_signal_unsubscribe(bus, subscription);
        vm_do("dmsetup remove --retry o-snap && dmsetup remove --retry o-cow && dmsetup remove --retry o-origin");
}

/* A block corrupted under veritysetup, then read: the kernel's uevent names it, Device.Failure
 * carries it (once), Health is "failed", and dmbusctl monitor shows it. */
static void test_verity_failure(void) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GString) failures = g_string_new("");
        g_autofree char *root = NULL, *monitored = NULL;
        guint subscription;

        vm_do("dd if=/dev/urandom of=%s bs=1M count=8 oflag=direct status=none", loops[4]);
        root = vm_sh("veritysetup format --data-blocks=2048 --hash-offset=8388608 %s %s | awk '/Root hash/ { print $3 }'",
                     loops[4], loops[4]);
        vm_do("veritysetup open %s f-verity %s %s --hash-offset=8388608", loops[4], loops[4], root);
        wait_for_health("f-verity", "ok", 10);
        subscription = subscribe_failures(bus, "f-verity", failures);
        /* Its match is in place once it says so on stderr. */
        vm_do("%s monitor >/run/monitor.out 2>/run/monitor.err & echo $! >/run/monitor.pid", g_getenv("DMBUSCTL"));
        if (!vm_wait(30, "grep -q Monitoring /run/monitor.err"))
                g_error("dmbusctl monitor did not start: %s", vm_sh("cat /run/monitor.err"));
        vm_do("dd if=/dev/urandom of=%s bs=4096 seek=5 count=1 oflag=direct status=none", loops[4]);
        vm_do("dd if=/dev/mapper/f-verity of=/dev/null bs=4096 iflag=direct status=none 2>/dev/null || true");
        wait_for_signal_text(failures, "verity-corruption {'row': <uint32 0>, 'block': <uint64 5>, 'block-type': <'data'>}\n", 30);
        wait_for_health("f-verity", "failed", 30);
        g_assert_cmpuint(failures_after_ticks(failures, "verity-corruption"), ==, 1);
        g_dbus_connection_signal_unsubscribe(bus, subscription);
        g_assert_true(vm_wait(30, "grep -q ' failure .* verity-corruption ' /run/monitor.out"));
        monitored = vm_sh("grep ' failure ' /run/monitor.out");
        g_test_message("%s", monitored);
        g_assert_nonnull(strstr(monitored, " verity-corruption "));
        g_assert_nonnull(strstr(monitored, "block"));
        /* And the journal, with its MESSAGE_ID and the kind as a field. */
        g_autofree char *journal = vm_journal_wait(1, "DM_NAME=f-verity %s DMBUS_FAILURE=verity-corruption PRIORITY=4",
                                                   JOURNAL_MESSAGE_FAILURE);
        g_assert_nonnull(strstr(journal, "f-verity ("));
        vm_do("kill $(cat /run/monitor.pid); veritysetup close f-verity");
}

/* Sectors corrupted under integritysetup, then read: dm-integrity counts the mismatches with no
 * event, the tick reads them: Health "degraded", Device.Failure with the count. */
static void test_integrity_failure(void) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autoptr(GString) failures = g_string_new("");
        g_autofree char *reason = NULL;
        guint subscription;

        vm_do("integritysetup format -q --batch-mode %s && integritysetup open %s f-integrity", loops[5], loops[5]);
        vm_do("dd if=/dev/urandom of=/dev/mapper/f-integrity bs=1M count=4 oflag=direct status=none && integritysetup close f-integrity");
        vm_do("dd if=/dev/urandom of=%s bs=4096 seek=2000 count=4 oflag=direct status=none && integritysetup open %s f-integrity",
              loops[5], loops[5]);
        wait_for_health("f-integrity", "ok", 10);
        subscription = subscribe_failures(bus, "f-integrity", failures);
        vm_do("dd if=/dev/mapper/f-integrity of=/dev/null bs=1M iflag=direct status=none 2>/dev/null || true");
        wait_for_signal_text(failures, "integrity-mismatch {'row': <uint32 0>, 'mismatches': <uint64 ", 30);
        wait_for_health("f-integrity", "degraded", 30);
        reason = string_property("f-integrity", "HealthReason");
        g_assert_true(g_str_has_prefix(reason, "integrity: "));
        g_assert_cmpuint(failures_after_ticks(failures, "integrity-mismatch"), ==, 1);
        g_dbus_connection_signal_unsubscribe(bus, subscription);
        vm_do("integritysetup close f-integrity");
}

/* ---- The kernel's own work as jobs --------------------------------------------------------- */

/* What a kernel job showed from its announcement to its end. */
typedef struct KernelJob {
        char *path;
        GArray *progress;               /* each Progress it announced, as doubles */
        guint64 expected_end_time;      /* the last nonzero one */
        gboolean completed, success;
        char *message;
} KernelJob;

static void on_job_properties_changed(GDBusConnection *bus, const char *sender, const char *path, const char *interface,
                                      const char *signal, GVariant *parameters, gpointer userdata) {
        KernelJob *job = userdata;
        g_autoptr(GVariant) changed = NULL;
        double progress;
        guint64 end;

        if (!job->path || strcmp(path, job->path) != 0)
                return;
        g_variant_get(parameters, "(&s@a{sv}@as)", NULL, &changed, NULL);
        if (g_variant_lookup(changed, "Progress", "d", &progress))
                g_array_append_val(job->progress, progress);
        if (g_variant_lookup(changed, "ExpectedEndTime", "t", &end) && end != 0)
                job->expected_end_time = end;
}

static void on_job_completed(GDBusConnection *bus, const char *sender, const char *path, const char *interface, const char *signal,
                             GVariant *parameters, gpointer userdata) {
        KernelJob *job = userdata;

        if (job->path && strcmp(path, job->path) == 0) {
                g_variant_get(parameters, "(bs)", &job->success, &job->message);
                job->completed = TRUE;
        }
}

/* Follows the job of operation on device from its announcement to Completed, after start made
 * the kernel begin it: its properties on the way, Cancel refused, dmbusctl jobs listing it, and
 * every Progress it announced. */
static void follow_kernel_job(const char *operation, const char *device, void (*start)(void), KernelJob *job) {
        g_autoptr(GDBusConnection) bus = vm_system_bus();
        g_autofree char *device_path = NULL, *listed = NULL;
        g_autoptr(GVariant) objects = NULL, cancelable = NULL, uid = NULL;
        g_autoptr(GError) error = NULL;
        guint changed, completed;

        *job = (KernelJob) { .progress = g_array_new(FALSE, FALSE, sizeof(double)) };
        changed = g_dbus_connection_signal_subscribe(bus, DMBUS_SERVICE_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                                     NULL, DMBUS_JOB_INTERFACE, G_DBUS_SIGNAL_FLAGS_NONE, on_job_properties_changed, job, NULL);
        completed = g_dbus_connection_signal_subscribe(bus, DMBUS_SERVICE_NAME, DMBUS_JOB_INTERFACE, "Completed", NULL, NULL,
                                                       G_DBUS_SIGNAL_FLAGS_NONE, on_job_completed, job, NULL);
        start();
        job->path = vm_job_wait(operation);
        device_path = path_of(device);
        vm_assert_object_matches_contract(job->path, DMBUS_JOB_INTERFACE);
        objects = vm_get_property(job->path, DMBUS_JOB_INTERFACE, "Objects", "ao");
        g_assert_cmpuint(g_variant_n_children(objects), ==, 1);
        g_autoptr(GVariant) object = g_variant_get_child_value(objects, 0);
        g_assert_cmpstr(g_variant_get_string(object, NULL), ==, device_path);
        cancelable = vm_get_property(job->path, DMBUS_JOB_INTERFACE, "Cancelable", "b");
        g_assert_false(g_variant_get_boolean(cancelable));
        uid = vm_get_property(job->path, DMBUS_JOB_INTERFACE, "StartedByUID", "u");
        g_assert_cmpuint(g_variant_get_uint32(uid), ==, 0);
        g_autoptr(GVariant) reply = vm_call(job->path, DMBUS_JOB_INTERFACE, "Cancel", g_variant_new_parsed("(@a{sv} {},)"), NULL, &error);
        assert_error(error, "NotSupported", "the kernel's own work");
        listed = vm_sh("$DMBUSCTL jobs");
        g_test_message("%s", listed);
        g_assert_nonnull(strstr(listed, operation));

        for (gint64 until = g_get_monotonic_time() + 120 * G_USEC_PER_SEC; !job->completed;) {
                if (g_get_monotonic_time() > until)
                        g_error("the %s job did not complete within 120 s", operation);
                g_main_context_iteration(NULL, FALSE);
                g_usleep(G_USEC_PER_SEC / 100);
        }
        g_dbus_connection_signal_unsubscribe(bus, changed);
        g_dbus_connection_signal_unsubscribe(bus, completed);
        g_autofree char *after = vm_job_of(operation);
        g_assert_null(after);
}

/* Progress rose, by steps the monitor saw, to 1; Completed said it was done. */
static void assert_kernel_job_done(KernelJob *job, const char *operation) {
        g_autofree char *done = g_strdup_printf("The %s is done.", operation);
        double *p = (double *) job->progress->data;
        unsigned between = 0;

        g_test_message("%s: %u progress steps, the last expected end %" G_GUINT64_FORMAT, operation, job->progress->len,
                       job->expected_end_time);
        g_assert_cmpuint(job->progress->len, >=, 2);
        for (unsigned i = 0; i < job->progress->len; i++) {
                g_assert_cmpfloat(p[i], >=, 0.0);
                g_assert_cmpfloat(p[i], <=, 1.0);
                g_assert_true(i == 0 || p[i] >= p[i - 1]);
                between += p[i] > 0.0 && p[i] < 1.0;
        }
        g_assert_cmpuint(between, >=, 1);
        g_assert_cmpfloat(p[job->progress->len - 1], ==, 1.0);
        g_assert_cmpuint(job->expected_end_time, >, 0);
        g_assert_true(job->success);
        g_assert_cmpstr(job->message, ==, done);
        g_array_unref(job->progress);
        g_free(job->path);
        g_free(job->message);
}

static char *work_loops[2];

/* A fresh 64 MiB raid1 with metadata, its resync held to 8 MiB/s. */
static void raid1_create(void) {
        for (unsigned i = 0; i < 2; i++) {
                work_loops[i] = vm_loop_new(72);
                vm_do("dmsetup create w-meta%u --table '0 8192 linear %s 0' && dmsetup create w-leg%u --table '0 131072 linear %s 8192'",
                      i, work_loops[i], i, work_loops[i]);
        }
        dmsetup_create("w-raid", "0 131072 raid raid1 3 0 max_recovery_rate 8192 2 /dev/mapper/w-meta0 /dev/mapper/w-leg0 "
                                 "/dev/mapper/w-meta1 /dev/mapper/w-leg1");
}

static void test_raid_resync_job(void) {
        g_autofree char *status = NULL;
        KernelJob job;

        vm_do("modprobe dm-raid");
        follow_kernel_job("raid-resync", "w-raid", raid1_create, &job);
        assert_kernel_job_done(&job, "raid-resync");
        status = vm_sh("dmsetup status w-raid | awk '{ print $6, $7, $8 }'");
        g_assert_cmpstr(status, ==, "AA 131072/131072 idle");
        vm_do("dmsetup remove --retry w-raid && dmsetup remove --retry w-leg0 w-leg1 w-meta0 w-meta1");
        for (unsigned i = 0; i < 2; i++)
                g_clear_pointer(&work_loops[i], vm_loop_free);
}

/* An origin on a slow base (each write held 40 ms) whose snapshot took 64 scattered chunks, then
 * merged back as dmsetup (and lvconvert --merge) does it: the snapshot goes, the origin's table
 * becomes a snapshot-merge. */
static void snapshot_merge_start(void) {
        for (unsigned i = 0; i < 2; i++)
                work_loops[i] = vm_loop_new(40);
        dmsetup_create("w-base", "0 65536 delay %s 0 0 %s 0 40", work_loops[0], work_loops[0]);
        dmsetup_create("w-origin", "0 65536 snapshot-origin /dev/mapper/w-base");
        dmsetup_create("w-snap", "0 65536 snapshot /dev/mapper/w-base %s P 8", work_loops[1]);
        vm_do("for i in $(seq 0 63); do dd if=/dev/urandom of=/dev/mapper/w-snap bs=4096 count=1 seek=$((i * 2)) oflag=direct "
              "conv=notrunc status=none; done");
        /* The writes end with a close, on which udev probes the snapshot: --retry waits it out. */
        vm_do("dmsetup remove --retry w-snap && dmsetup suspend w-origin && "
              "dmsetup reload w-origin --table '0 65536 snapshot-merge /dev/mapper/w-base %s P 8' && dmsetup resume w-origin",
              work_loops[1]);
}

static void test_snapshot_merge_job(void) {
        KernelJob job;

        follow_kernel_job("snapshot-merge", "w-origin", snapshot_merge_start, &job);
        assert_kernel_job_done(&job, "snapshot-merge");
        vm_do("dmsetup remove --retry w-origin && dmsetup remove --retry w-base");
        for (unsigned i = 0; i < 2; i++)
                g_clear_pointer(&work_loops[i], vm_loop_free);
}

/* Suspended by another tool: seen within a tick, "suspended" once past the bound (2 s here). */
static void test_suspended_too_long(void) {
        g_autofree char *reason = NULL;
        guint64 since;

        dmsetup_create("h-sus", "0 8 zero");
        vm_do("dmsetup suspend h-sus");
        g_assert_true(vm_wait(30, "[ \"$(busctl get-property " DMBUS_SERVICE_NAME " %s " DMBUS_DEVICE_INTERFACE
                                  " Suspended)\" = 'b true' ]", path_of("h-sus")));
        since = u64_property("h-sus", "SuspendedSince");
        g_assert_cmpuint(since, >, (guint64) (g_get_real_time() - 60 * G_USEC_PER_SEC));
        wait_for_health("h-sus", "suspended", 30);
        reason = string_property("h-sus", "HealthReason");
        g_assert_cmpstr(reason, ==, "suspended for more than 2 s");
        g_autofree char *journal = vm_journal_wait(1, "DM_NAME=h-sus %s", JOURNAL_MESSAGE_SUSPENDED_TOO_LONG);
        g_assert_nonnull(strstr(journal, "has been suspended for more than 2 s"));
        /* dmbusctl health as a check: it names the device and fails. */
        g_autofree char *health = vm_sh("$DMBUSCTL health; echo \"exit $?\"");
        g_assert_nonnull(strstr(health, "h-sus ("));
        g_assert_nonnull(strstr(health, ") suspended: suspended for more than 2 s\nexit 1"));
        vm_do("dmsetup resume h-sus");
        wait_for_health("h-sus", "ok", 30);
        g_assert_cmpuint(u64_property("h-sus", "SuspendedSince"), ==, 0);
        vm_do("dmsetup remove h-sus");
        vm_do("$DMBUSCTL health");
}

/* `systemctl reload` (SIGHUP) reads the configuration again; a line it cannot use is logged and
 * passed over. */
static void test_config_reload(void) {
        const char *config = "[Monitor]\\nPollIntervalSec=1\\nSuspendedAlertSec=2\\nThresholds=80 90\\nThresholds=90 80\\n";
        g_autofree char *log = NULL;

        vm_do("printf '%s' >/etc/dmbus/dmbusd.conf", config);
        vm_do("systemctl reload " VM_UNIT);
        log = vm_daemon_log_wait(daemon_under_test, "Reloaded /etc/dmbus/dmbusd.conf");
        g_assert_nonnull(strstr(log, "/etc/dmbus/dmbusd.conf:5 expects percentages in rising order, each once; passed over."));
}

/* ---- dmbusctl ------------------------------------------------------------------------------ */

static void test_ctl_stacks(void) {
        g_autofree char *made = NULL, *removed = NULL, *names = NULL;

        made = vm_sh("printf '%%s\\n' '# two devices' 'name=t-base' '0 8192 linear %s 0' '' 'name=t-top' 'uuid=T-TOP' 'read-only=yes' "
                     "'0 8192 linear /dev/mapper/t-base 0' | $DMBUSCTL create-stack --file -", loops[0]);
        g_assert_cmpuint(g_strv_length(g_strsplit(made, "\n", -1)), ==, 2);
        g_assert_true(dm_exists("t-base") && dm_exists("t-top"));
        g_autofree char *attr = vm_sh("dmsetup info -c --noheadings -o attr,uuid t-top");
        g_assert_cmpstr(attr, ==, "L--r:T-TOP");
        names = vm_sh("$DMBUSCTL list | grep '^t-' | tr '\\n' ' '");
        g_assert_cmpstr(names, ==, "t-base t-top");
        removed = vm_sh("$DMBUSCTL remove --stack t-base");
        g_assert_cmpuint(g_strv_length(g_strsplit(removed, "\n", -1)), ==, 2);
        g_assert_false(dm_exists("t-base") || dm_exists("t-top"));
        /* A file that is not one: said where. */
        g_autofree char *bad = vm_sh("printf 'nom=x\\n0 8 zero\\n' | $DMBUSCTL create-stack --file - 2>&1; echo \"exit $?\"");
        g_assert_nonnull(strstr(bad, "-:1: \"nom\" is not name=, uuid= or read-only=yes|no\nexit 2"));
}

static void test_ctl_top(void) {
        g_autofree char *out = NULL;
        g_auto(GStrv) lines = NULL;
        unsigned headers = 0, rows = 0;

        dmsetup_create("t-zero", "0 2097152 zero");
        /* Reading until the checks are done (a slow guest may take seconds over the first top). */
        vm_do("(timeout 120 dd if=/dev/mapper/t-zero of=/dev/null bs=4K iflag=direct status=none || true) >/dev/null 2>&1 &");
        out = vm_sh("$DMBUSCTL top -n 2 -d 0.5 </dev/null");
        lines = g_strsplit(out, "\n", -1);
        for (char **l = lines; *l; l++) {
                headers += g_str_has_prefix(*l, "dmbusctl top - ");
                rows += g_str_has_prefix(*l, "t-zero (");
                if (g_str_has_prefix(*l, "t-zero ("))
                        g_assert_true(g_str_has_suffix(*l, " ok"));
        }
        g_assert_cmpuint(headers, ==, 2);
        g_assert_cmpuint(rows, ==, 2);
        /* The reads of dd show: some row has a rate above zero. */
        g_assert_nonnull(g_strrstr(out, "t-zero ("));
        g_autofree char *reads = vm_sh("$DMBUSCTL top -n 1 -d 0.5 </dev/null | awk '$1 == \"t-zero\" { print ($3 > 0) }'");
        g_assert_cmpstr(reads, ==, "1");
        vm_do("pkill -x dd || true");
        g_assert_true(vm_wait(30, "! pgrep -x dd >/dev/null"));
        vm_do("dmsetup remove t-zero");
}

/* What bash completes for the words (a bash array's text), the last one being completed, with the
 * installed completion. */
static char *complete(const char *words) {
        g_autofree char *script = g_strdup_printf(
                "PATH=$(dirname \"$DMBUSCTL\"):$PATH\n"
                ". %s\n"
                "COMP_WORDS=(%s)\n"
                "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
                "_dmbusctl\n"
                "printf '%%s\\n' \"${COMPREPLY[@]}\" | sort | tr '\\n' ' '\n", DMBUS_BASH_COMPLETION, words);
        char *argv[] = { "bash", "-c", script, NULL };
        g_autoptr(GError) error = NULL;
        char *out = NULL;
        int status;

        if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status, &error))
                g_error("bash: %s", error->message);
        g_assert_cmpint(status, ==, 0);
        g_strchomp(out);
        return out;
}

static void test_completion(void) {
        g_autofree char *commands = NULL, *devices = NULL, *options = NULL;

        dmsetup_create("comp-one", "0 8 zero");
        commands = complete("dmbusctl he");
        g_assert_cmpstr(commands, ==, "health");
        devices = complete("dmbusctl remove comp");
        g_assert_cmpstr(devices, ==, "comp-one");
        options = complete("dmbusctl remove --s");
        g_assert_cmpstr(options, ==, "--stack");
        vm_do("dmsetup remove comp-one");
}

/* A user whom polkit asks for their own password: dmbusctl starts pkttyagent on its terminal
 * (tmux's), which asks; the password typed there lets the Remove through. */
#define AGENT_USER "dmbusagent"
#define AGENT_PASSWORD "pw-for-the-agent-7"

static char *pane_text(void) {
        return vm_sh("tmux capture-pane -p -t agent 2>/dev/null || true");
}

static void test_pkttyagent(void) {
        g_autofree char *result = NULL, *pane = NULL;

        vm_do("getent passwd " AGENT_USER " >/dev/null || useradd --no-create-home --gid nogroup " AGENT_USER);
        vm_do("echo '" AGENT_USER ":" AGENT_PASSWORD "' | chpasswd");
        vm_do("mkdir -p /etc/polkit-1/rules.d && cat > /etc/polkit-1/rules.d/50-dmbus-agent.rules <<'EOF'\n"
              "polkit.addRule(function(action, subject) {\n"
              "        if (action.id == 'org.dmbus.devicemapper1.remove' && subject.user == '" AGENT_USER "')\n"
              "                return polkit.Result.AUTH_SELF;\n"
              "});\nEOF");
        vm_polkit_start();
        dmsetup_create("p-dev", "0 8 zero");

        vm_do("rm -f /run/agent-result; tmux new-session -d -s agent -x 160 -y 40 "
              "\"setpriv --reuid=" AGENT_USER " --regid=nogroup --init-groups %s remove p-dev; echo exit=\\$? >/run/agent-result; sleep 60\"",
              g_getenv("DMBUSCTL"));
        if (!vm_wait(60, "tmux capture-pane -p -t agent | grep -q 'Password:'")) {
                pane = pane_text();
                g_error("pkttyagent asked for no password; the terminal shows:\n%s", pane);
        }
        vm_do("tmux send-keys -t agent '" AGENT_PASSWORD "' Enter");
        if (!vm_wait(60, "test -s /run/agent-result")) {
                pane = pane_text();
                g_error("dmbusctl did not finish; the terminal shows:\n%s", pane);
        }
        result = vm_sh("cat /run/agent-result");
        if (!g_str_equal(result, "exit=0")) {
                pane = pane_text();
                g_error("dmbusctl said %s; the terminal shows:\n%s", result, pane);
        }
        g_assert_false(dm_exists("p-dev"));
        vm_do("tmux kill-server; rm -f /etc/polkit-1/rules.d/50-dmbus-agent.rules /run/agent-result");
}

static void set_up(void) {
        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++)
                loops[i] = vm_loop_new(32);
        /* The monitor every second, a suspend flagged after two, thresholds at 80 and 90 %. */
        vm_do("mkdir -p /etc/dmbus && printf '[Monitor]\\nPollIntervalSec=1\\nSuspendedAlertSec=2\\nThresholds=80 90\\n' "
              ">/etc/dmbus/dmbusd.conf");
}

static void add_cases(void) {
        g_test_add_func("/stacks/get-users", test_get_users);
        g_test_add_func("/stacks/remove-stack", test_remove_stack);
        g_test_add_func("/stacks/remove-stack-diamond-and-holder", test_remove_stack_diamond_and_holder);
        g_test_add_func("/stacks/plan-remove-stack", test_plan_remove_stack);
        g_test_add_func("/stacks/create-stack", test_create_stack);
        g_test_add_func("/stacks/create-stack-refused", test_create_stack_refused);
        g_test_add_func("/stacks/create-stack-killed", test_create_stack_killed);
        g_test_add_func("/stacks/thin-pool-thresholds-and-health", test_thin_pool_thresholds_and_health);
        g_test_add_func("/stacks/raid-failed-leg", test_raid_failed_leg);
        g_test_add_func("/stacks/metrics", test_metrics);
        g_test_add_func("/stacks/snapshot-overflow", test_snapshot_overflow);
        g_test_add_func("/stacks/verity-failure", test_verity_failure);
        g_test_add_func("/stacks/integrity-failure", test_integrity_failure);
        g_test_add_func("/stacks/raid-resync-job", test_raid_resync_job);
        g_test_add_func("/stacks/snapshot-merge-job", test_snapshot_merge_job);
        g_test_add_func("/stacks/suspended-too-long", test_suspended_too_long);
        g_test_add_func("/stacks/config-reload", test_config_reload);
        g_test_add_func("/stacks/ctl-stacks", test_ctl_stacks);
        g_test_add_func("/stacks/ctl-top", test_ctl_top);
        g_test_add_func("/stacks/completion", test_completion);
        g_test_add_func("/stacks/pkttyagent", test_pkttyagent);
}

static void tear_down(void) {
        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++)
                vm_loop_free(loops[i]);
        vm_do("rm -f /etc/dmbus/dmbusd.conf");
}

int main(int argc, char *argv[]) {
        return vm_suite_run(argc, argv, &(VmSuite) { .set_up = set_up, .add_cases = add_cases, .tear_down = tear_down },
                            &daemon_under_test);
}
