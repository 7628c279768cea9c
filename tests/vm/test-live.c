/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live updates, proven in the guest: a GDBus client mirrors the service from GetManagedObjects
 * and signals alone, while dmsetup and losetup change the kernel behind the service's back. After
 * every step the mirror must equal a fresh GetManagedObjects, and the right signals must have
 * come. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm-util.h"


static VmDaemon *daemon_under_test;
static GDBusConnection *bus;
/* path → interface → property → value */
static GHashTable *mirror;
/* One line per signal received since the last signals_clear(): "Member path detail". */
static GPtrArray *signals;

static GHashTable *new_table(GDestroyNotify value_free) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
}

static void mirror_set_properties(const char *path, const char *interface, GVariant *props) {
        GHashTable *interfaces = g_hash_table_lookup(mirror, path);
        GHashTable *properties;
        GVariantIter iter;
        const char *name;
        GVariant *value;

        if (!interfaces) {
                interfaces = new_table((GDestroyNotify) g_hash_table_unref);
                g_hash_table_insert(mirror, g_strdup(path), interfaces);
        }
        properties = g_hash_table_lookup(interfaces, interface);
        if (!properties) {
                properties = new_table((GDestroyNotify) g_variant_unref);
                g_hash_table_insert(interfaces, g_strdup(interface), properties);
        }
        g_variant_iter_init(&iter, props);
        while (g_variant_iter_next(&iter, "{&sv}", &name, &value))
                g_hash_table_insert(properties, g_strdup(name), value);
}

static void mirror_load(GVariant *objects) {
        GVariantIter iter, ifaces;
        const char *path, *interface;
        GVariant *interfaces, *props;

        g_hash_table_remove_all(mirror);
        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &interfaces)) {
                g_variant_iter_init(&ifaces, interfaces);
                while (g_variant_iter_next(&ifaces, "{&s@a{sv}}", &interface, &props)) {
                        mirror_set_properties(path, interface, props);
                        g_variant_unref(props);
                }
                g_variant_unref(interfaces);
        }
}

static void on_signal(GDBusConnection *c, const char *sender, const char *path, const char *interface,
                      const char *member, GVariant *parameters, gpointer user_data) {
        if (g_str_equal(member, "InterfacesAdded")) {
                g_autoptr(GVariant) interfaces = NULL;
                const char *object, *iface;
                GVariantIter iter;
                GVariant *props;

                g_variant_get(parameters, "(&o@a{sa{sv}})", &object, &interfaces);
                g_variant_iter_init(&iter, interfaces);
                while (g_variant_iter_next(&iter, "{&s@a{sv}}", &iface, &props)) {
                        mirror_set_properties(object, iface, props);
                        g_variant_unref(props);
                }
                g_ptr_array_add(signals, g_strdup_printf("InterfacesAdded %s", object));
        } else if (g_str_equal(member, "InterfacesRemoved")) {
                g_autofree const char **removed = NULL;
                const char *object;
                GHashTable *interfaces;

                g_variant_get(parameters, "(&o^a&s)", &object, &removed);
                interfaces = g_hash_table_lookup(mirror, object);
                for (unsigned i = 0; interfaces && removed[i]; i++)
                        g_hash_table_remove(interfaces, removed[i]);
                if (interfaces && g_hash_table_size(interfaces) == 0)
                        g_hash_table_remove(mirror, object);
                g_ptr_array_add(signals, g_strdup_printf("InterfacesRemoved %s", object));
        } else if (g_str_equal(member, "PropertiesChanged")) {
                g_autoptr(GVariant) changed = NULL;
                g_autofree const char **invalidated = NULL;
                const char *iface, *name;
                GVariantIter iter;
                GVariant *value;

                g_variant_get(parameters, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
                /* Only values: the service never just invalidates. */
                g_assert_cmpuint(g_strv_length((char **) invalidated), ==, 0);
                mirror_set_properties(path, iface, changed);
                g_variant_iter_init(&iter, changed);
                while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
                        g_autofree char *text = g_variant_print(value, FALSE);
                        g_ptr_array_add(signals, g_strdup_printf("PropertiesChanged %s %s=%s", path, name, text));
                        g_variant_unref(value);
                }
        } else if (g_str_equal(member, "Event")) {
                guint32 event_nr;

                g_variant_get(parameters, "(u)", &event_nr);
                g_ptr_array_add(signals, g_strdup_printf("Event %s %u", path, event_nr));
        }
}

static int compare_lines(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The mirror as sorted text, one property a line; the same for a GetManagedObjects reply. */
static char *mirror_text(GHashTable *m) {
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) s = g_string_new(NULL);
        GHashTableIter i, j, k;
        gpointer path, interfaces, iface, properties, name, value;

        g_hash_table_iter_init(&i, m);
        while (g_hash_table_iter_next(&i, &path, &interfaces)) {
                g_hash_table_iter_init(&j, interfaces);
                while (g_hash_table_iter_next(&j, &iface, &properties)) {
                        g_ptr_array_add(lines, g_strdup_printf("%s %s", (char *) path, (char *) iface));
                        g_hash_table_iter_init(&k, properties);
                        while (g_hash_table_iter_next(&k, &name, &value)) {
                                g_autofree char *text = g_variant_print(value, FALSE);
                                g_ptr_array_add(lines, g_strdup_printf("%s %s.%s=%s", (char *) path, (char *) iface,
                                                                       (char *) name, text));
                        }
                }
        }
        g_ptr_array_sort(lines, compare_lines);
        for (unsigned n = 0; n < lines->len; n++)
                g_string_append_printf(s, "%s\n", (char *) lines->pdata[n]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static void pump(unsigned msec) {
        gint64 end = g_get_monotonic_time() + msec * 1000;

        while (g_get_monotonic_time() < end)
                if (!g_main_context_iteration(NULL, FALSE))
                        g_usleep(10 * 1000);
}

static char *mirror_now(gpointer unused) {
        return mirror_text(mirror);
}

/* Waits (bounded, for liveness only) until what text_of(data) gives, a view built from signals,
 * equals a fresh GetManagedObjects, after udev settled; "what" names that view. */
static void assert_converges(char *(*text_of)(gpointer data), gpointer data, const char *what) {
        g_autofree char *ours = NULL, *theirs = NULL;

        vm_do("udevadm settle --timeout=60");
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                g_autoptr(GHashTable) fresh = new_table((GDestroyNotify) g_hash_table_unref);
                g_autoptr(GVariant) objects = NULL;
                GHashTable *saved = mirror;

                pump(100);
                objects = vm_get_managed_objects();
                mirror = fresh;
                mirror_load(objects);
                mirror = saved;
                g_free(ours);
                g_free(theirs);
                ours = text_of(data);
                theirs = mirror_text(fresh);
                if (g_str_equal(ours, theirs))
                        return;
        }
        g_error("%s differs from GetManagedObjects:\n--- ours\n%s--- service\n%s", what, ours, theirs);
}

static void assert_mirror_converges(void) {
        assert_converges(mirror_now, NULL, "the mirror built from signals");
}

static void signals_clear(void) {
        g_ptr_array_set_size(signals, 0);
}

/* Some signal line since the last signals_clear() starts with prefix. */
static gboolean got_signal(const char *prefix) {
        for (unsigned i = 0; i < signals->len; i++)
                if (g_str_has_prefix(signals->pdata[i], prefix))
                        return TRUE;
        return FALSE;
}

static void assert_signal(const char *format, ...) G_GNUC_PRINTF(1, 2);
static void assert_signal(const char *format, ...) {
        g_autofree char *prefix = NULL;
        va_list ap;

        va_start(ap, format);
        prefix = g_strdup_vprintf(format, ap);
        va_end(ap);
        if (!got_signal(prefix)) {
                for (unsigned i = 0; i < signals->len; i++)
                        g_printerr("  got: %s\n", (char *) signals->pdata[i]);
                g_error("no signal \"%s...\"", prefix);
        }
}

static char *path_of_name(const char *name) {
        g_autofree char *devno = vm_sh("dmsetup info -c --noheadings -o major,minor --separator _ %s", name);
        return g_strdup_printf(DMBUS_ROOT_PATH "/block/%s", devno);
}

static char *path_of_node(const char *node) {
        struct stat st;

        g_assert_cmpint(stat(node, &st), ==, 0);
        return g_strdup_printf(DMBUS_ROOT_PATH "/block/%u_%u", major(st.st_rdev), minor(st.st_rdev));
}

static char *loop_a, *loop_b;

static void test_create(void) {
        signals_clear();
        vm_do("dmsetup create dmbus-l-dev -u DMBUS-LIVE-dev --table '0 16384 linear %s 0'", loop_a);
        assert_mirror_converges();
        g_autofree char *path = path_of_name("dmbus-l-dev");
        g_autofree char *loop_path = path_of_node(loop_a);
        assert_signal("InterfacesAdded %s", path);
        assert_signal("InterfacesAdded %s", loop_path);
        assert_signal("PropertiesChanged " DMBUS_MANAGER_PATH " DeviceCount=1");
}

/* Linux (6.1 here) raises neither a uevent nor a DM event for a table load into the inactive slot
 * or for a suspend. The service sees them at the next DM event anywhere: each one makes it compare
 * every DM device's INFO flags. A device created and removed elsewhere is such an event. */
static void nudge(void) {
        vm_do("dmsetup create dmbus-l-nudge --table '0 8 zero' && dmsetup remove dmbus-l-nudge");
}

static void test_load_inactive(void) {
        g_autofree char *path = path_of_name("dmbus-l-dev");

        signals_clear();
        vm_do("dmsetup load dmbus-l-dev --table '0 8192 linear %s 0'", loop_a);
        nudge();
        assert_mirror_converges();
        assert_signal("PropertiesChanged %s InactiveTable=true", path);
}

static void test_resume_swaps_table(void) {
        g_autofree char *path = path_of_name("dmbus-l-dev");

        signals_clear();
        vm_do("dmsetup resume dmbus-l-dev");
        assert_mirror_converges();
        assert_signal("PropertiesChanged %s InactiveTable=false", path);
        assert_signal("PropertiesChanged %s Table=[(0, 8192, 'linear'", path);
        assert_signal("PropertiesChanged %s Size=4194304", path);
}

static void test_suspend_and_resume(void) {
        g_autofree char *path = path_of_name("dmbus-l-dev");

        signals_clear();
        vm_do("dmsetup suspend dmbus-l-dev");
        nudge();
        assert_mirror_converges();
        assert_signal("PropertiesChanged %s Suspended=true", path);
        /* Resume raises a uevent. */
        signals_clear();
        vm_do("dmsetup resume dmbus-l-dev");
        assert_mirror_converges();
        assert_signal("PropertiesChanged %s Suspended=false", path);
}

static void test_rename(void) {
        g_autofree char *path = path_of_name("dmbus-l-dev");

        signals_clear();
        vm_do("dmsetup rename dmbus-l-dev dmbus-l-renamed");
        assert_mirror_converges();
        /* The same object, renamed. */
        g_autofree char *renamed = path_of_name("dmbus-l-renamed");
        g_assert_cmpstr(renamed, ==, path);
        assert_signal("PropertiesChanged %s Name='dmbus-l-renamed'", path);
        assert_signal("PropertiesChanged %s PreferredDevice='/dev/mapper/dmbus-l-renamed'", path);
        assert_signal("PropertiesChanged %s Symlinks=", path);
        g_assert_false(got_signal("InterfacesRemoved"));
        g_assert_false(got_signal("InterfacesAdded"));
}

static void test_restack_onto_another_loop(void) {
        g_autofree char *path = path_of_name("dmbus-l-renamed");
        g_autofree char *old_loop = path_of_node(loop_a);
        g_autofree char *new_loop = path_of_node(loop_b);

        signals_clear();
        vm_do("dmsetup reload dmbus-l-renamed --table '0 8192 linear %s 0' && dmsetup resume dmbus-l-renamed", loop_b);
        assert_mirror_converges();
        assert_signal("PropertiesChanged %s Dependencies=['%s']", path, new_loop);
        assert_signal("InterfacesAdded %s", new_loop);
        /* Nothing holds the first loop device any more: not ours. */
        assert_signal("InterfacesRemoved %s", old_loop);
}

static void test_loop_detach_under_stack(void) {
        g_autofree char *loop_path = path_of_node(loop_b);

        /* Detaching a loop device in use only marks it: it goes when its holder does. */
        vm_do("losetup -d %s", loop_b);
        signals_clear();
        vm_do("dmsetup remove dmbus-l-renamed");
        assert_mirror_converges();
        assert_signal("InterfacesRemoved %s", loop_path);
        assert_signal("PropertiesChanged " DMBUS_MANAGER_PATH " DeviceCount=0");
        g_assert_cmpuint(g_hash_table_size(mirror), ==, 1);     /* the Manager alone */
}

static void test_thin_pool_low_water_mark(void) {
        g_autofree char *meta = vm_loop_new(8);
        g_autofree char *data = vm_loop_new(16);
        g_autofree char *pool = NULL;
        guint64 used = 0;

        /* 256 blocks of 64 KiB; an event once no more than 250 are free (dm-thin checks
         * free <= low water), so the refresh that follows it may see as few as 6 used. */
        vm_do("dmsetup create dmbus-l-pool --table '0 32768 thin-pool %s %s 128 250'", meta, data);
        vm_do("dmsetup message dmbus-l-pool 0 'create_thin 0'");
        vm_do("dmsetup create dmbus-l-thin --table '0 32768 thin /dev/mapper/dmbus-l-pool 0'");
        assert_mirror_converges();
        pool = path_of_name("dmbus-l-pool");

        signals_clear();
        vm_do("dd if=/dev/zero of=/dev/mapper/dmbus-l-thin bs=64k count=16 oflag=direct conv=fsync status=none");
        assert_mirror_converges();
        g_autofree char *events = vm_sh("dmsetup info -c --noheadings -o events dmbus-l-pool");
        assert_signal("Event %s ", pool);
        assert_signal("Event %s %s", pool, events);
        GVariant *parsed = g_hash_table_lookup(g_hash_table_lookup(g_hash_table_lookup(mirror, pool), DMBUS_DEVICE_INTERFACE), "ParsedStatus");
        g_assert_true(g_variant_lookup(parsed, "used-data-blocks", "t", &used));
        g_assert_cmpuint(used, >=, 256 - 250);

        vm_do("dmsetup remove dmbus-l-thin && dmsetup remove dmbus-l-pool");
        vm_loop_free(meta);
        vm_loop_free(data);
        assert_mirror_converges();
}

/* An outside process creates and removes 60 devices in batches while we mirror: each batch as
 * fast as the kernel takes it, udev catching up behind it (as under a busy lvm2), then the next.
 * (vm-pressure's storm is the large one.) */
static const char storm_script[] =
        "prev=''; "
        "for batch in $(seq 0 2); do "
        "  list=''; names=''; "
        "  for i in $(seq 1 20); do n=dmbus-storm-$batch-$i; list=\"$list$n,,,,0 8 zero;\"; names=\"$names $n\"; done; "
        "  dmsetup create --noudevsync --concise \"${list%;}\" || exit 1; "
        "  [ -z \"$prev\" ] || dmsetup remove --noudevsync $prev || exit 1; "
        "  prev=$names; "
        "  udevadm settle --timeout=300 || exit 1; "
        "done; "
        "dmsetup remove --noudevsync $prev && udevadm settle --timeout=300";

static void storm_start(GPid *ret) {
        char *argv[] = { "/bin/sh", "-c", (char *) storm_script, NULL };
        g_autoptr(GError) error = NULL;

        if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, ret, &error))
                g_error("cannot start the storm: %s", error->message);
}

static void print_daemon_cost(const char *when) {
        g_autofree char *stat = vm_sh("awk '{ print $14 + $15 }' /proc/%d/stat", daemon_under_test->pid);
        g_autofree char *rss = vm_sh("awk '/^VmRSS:/ { print $2 }' /proc/%d/status", daemon_under_test->pid);
        long ticks = sysconf(_SC_CLK_TCK);

        g_test_message("dmbusd %s: CPU %.2f s, RSS %s KiB", when, atof(stat) / ticks, rss);
}

static void test_storm(void) {
        GPid storm;
        int status;

        print_daemon_cost("before the storm");
        storm_start(&storm);
        /* Mirror while it blows. */
        while (waitpid(storm, &status, WNOHANG) == 0)
                pump(50);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_mirror_converges();
        print_daemon_cost("after 60 devices came and went");

        GHashTableIter iter;
        gpointer path, interfaces;
        g_hash_table_iter_init(&iter, mirror);
        while (g_hash_table_iter_next(&iter, &path, &interfaces))
                g_assert_true(g_str_equal(path, DMBUS_MANAGER_PATH));
}

static void test_daemon_started_mid_storm(void) {
        GPid storm;
        int status;

        g_assert_cmpint(vm_daemon_stop(daemon_under_test), ==, 0);
        vm_daemon_free(daemon_under_test);
        storm_start(&storm);
        g_usleep(G_USEC_PER_SEC);
        daemon_under_test = vm_daemon_start();
        g_autoptr(GVariant) objects = vm_get_managed_objects();
        mirror_load(objects);
        while (waitpid(storm, &status, WNOHANG) == 0)
                pump(50);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_mirror_converges();
        g_assert_cmpuint(g_hash_table_size(mirror), ==, 1);
}

/* ---- A GDBusObjectManagerClient, as UDisksClient-style frontends follow a service ---------- */

/* The client's cache in mirror_text()'s form: every object, interface and cached property. */
static char *client_text(gpointer client) {
        g_autoptr(GHashTable) cache = new_table((GDestroyNotify) g_hash_table_unref);
        GList *objects = g_dbus_object_manager_get_objects(client);
        GHashTable *saved = mirror;

        mirror = cache;
        for (GList *o = objects; o; o = o->next) {
                const char *path = g_dbus_object_get_object_path(o->data);
                GList *interfaces = g_dbus_object_get_interfaces(o->data);

                for (GList *i = interfaces; i; i = i->next) {
                        GDBusProxy *proxy = i->data;
                        g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names(proxy);
                        g_auto(GVariantBuilder) props = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a{sv}"));

                        for (char **n = names; n && *n; n++) {
                                g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property(proxy, *n);
                                g_variant_builder_add(&props, "{sv}", *n, value);
                        }
                        mirror_set_properties(path, g_dbus_proxy_get_interface_name(proxy), g_variant_builder_end(&props));
                }
                g_list_free_full(interfaces, g_object_unref);
        }
        g_list_free_full(objects, g_object_unref);
        mirror = saved;
        return mirror_text(cache);
}

/* The client's cache, property by property. */
static void assert_client_converges(GDBusObjectManager *client, const char *phase) {
        g_autofree char *what = g_strdup_printf("%s: the client's cache", phase);
        GList *objects_seen;

        assert_converges(client_text, client, what);
        objects_seen = g_dbus_object_manager_get_objects(client);
        g_test_message("%s: the client's cache equals GetManagedObjects (%u objects)", phase, g_list_length(objects_seen));
        g_list_free_full(objects_seen, g_object_unref);
}

#define LVM "LVM_SUPPRESS_FD_WARNINGS=1 lvm"
/* Only the test's loop device; no dmeventd. */
#define LVM_CONFIG "--config 'devices { use_devicesfile=0 filter=[ \"a|^%s$|\", \"r|.*|\" ] } activation { monitoring=0 }'"

static void test_object_manager_client(void) {
        g_autofree char *pv = vm_loop_new(64);
        g_autofree char *config = g_strdup_printf(LVM_CONFIG, pv);
        g_autoptr(GError) error = NULL;
        g_autoptr(GDBusObjectManager) client = NULL;

        client = g_dbus_object_manager_client_new_sync(bus, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, DMBUS_SERVICE_NAME,
                                                       DMBUS_ROOT_PATH, NULL, NULL, NULL, NULL, &error);
        g_assert_no_error(error);
        assert_client_converges(client, "at start");

        /* lvm2: a thin pool, three thin volumes and a snapshot of one, each its own transaction. */
        vm_do(LVM " pvcreate -q %s %s && " LVM " vgcreate -q %s dmbus-lvm %s", config, pv, config, pv);
        vm_do(LVM " lvcreate -q %s --type thin-pool -L 24M -n pool dmbus-lvm", config);
        for (unsigned i = 1; i <= 3; i++)
                vm_do(LVM " lvcreate -q %s -V 32M -T dmbus-lvm/pool -n thin%u", config, i);
        vm_do(LVM " lvcreate -q %s -s -kn -n snap dmbus-lvm/thin1", config);
        assert_client_converges(client, "lvm2 made a thin pool, three thin volumes and a snapshot");

        /* dmsetup on top, renamed, reloaded onto another thin volume, removed. */
        vm_do("dmsetup create dmbus-l-omc --table \"0 8192 linear /dev/mapper/dmbus--lvm-thin2 0\"");
        vm_do("dmsetup rename dmbus-l-omc dmbus-l-omc2");
        vm_do("dmsetup reload dmbus-l-omc2 --table \"0 8192 linear /dev/mapper/dmbus--lvm-thin3 0\" && dmsetup resume dmbus-l-omc2");
        assert_client_converges(client, "dmsetup stacked, renamed and reloaded a device");
        vm_do("dmsetup remove dmbus-l-omc2");
        vm_do(LVM " lvremove -q -f %s dmbus-lvm/snap dmbus-lvm/thin2", config);
        assert_client_converges(client, "dmsetup and lvm2 removed some");

        vm_do(LVM " vgremove -q -f %s dmbus-lvm && " LVM " pvremove -q %s %s", config, config, pv);
        assert_client_converges(client, "lvm2 removed the rest");
        vm_loop_free(pv);
}

static void add_cases(void) {
        bus = vm_system_bus();
        mirror = new_table((GDestroyNotify) g_hash_table_unref);
        signals = g_ptr_array_new_with_free_func(g_free);
        g_dbus_connection_signal_subscribe(bus, DMBUS_SERVICE_NAME, NULL, NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                           on_signal, NULL, NULL);
        g_autoptr(GVariant) objects = vm_get_managed_objects();
        mirror_load(objects);
        loop_a = vm_loop_new(16);
        loop_b = vm_loop_new(16);

        g_test_add_func("/live/1-create", test_create);
        g_test_add_func("/live/2-load-inactive", test_load_inactive);
        g_test_add_func("/live/3-resume-swaps-table", test_resume_swaps_table);
        g_test_add_func("/live/4-suspend-and-resume", test_suspend_and_resume);
        g_test_add_func("/live/5-rename", test_rename);
        g_test_add_func("/live/6-restack-onto-another-loop", test_restack_onto_another_loop);
        g_test_add_func("/live/7-loop-detach-under-stack", test_loop_detach_under_stack);
        g_test_add_func("/live/8-thin-pool-low-water-mark", test_thin_pool_low_water_mark);
        g_test_add_func("/live/9-storm", test_storm);
        g_test_add_func("/live/9-storm-daemon-started-midway", test_daemon_started_mid_storm);
        g_test_add_func("/live/10-object-manager-client", test_object_manager_client);
}

int main(int argc, char *argv[]) {
        return vm_suite_run(argc, argv, &(VmSuite) { .add_cases = add_cases }, &daemon_under_test);
}
