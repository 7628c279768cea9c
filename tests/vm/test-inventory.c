/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The read side, proven in the guest: real stacks of every common kind are built from loop devices
 * first, dmbusd is started after them, and everything it says is checked against dmsetup, sysfs
 * and udev. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vm-util.h"


/* A key no one would type by chance; it must never reach the bus or the log. */
#define CRYPT_KEY "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"
#define LARGE_TABLE_TARGETS 5000

static const char *const device_names[] = {
        "dmbus-concat", "dmbus-striped", "dmbus-crypt", "dmbus-snapbase", "dmbus-snap-origin", "dmbus-snap",
        "dmbus-pool", "dmbus-thin1", "dmbus-thin2", "dmbus-inactive", "dmbus-suspended", "dmbus-nouuid",
        "dmbus-large", "dmbus-notable",
};

static char *loops[8];
static VmDaemon *daemon_under_test;

/* A thin-pool commits its metadata on a timer (every second), changing its status with no event
 * to announce it: wait until two readings a commit period apart agree, so that the daemon's
 * reading and dmsetup's are of the same state. */
static void wait_for_stable_status(const char *name) {
        g_autofree char *before = vm_sh("dmsetup status %s", name);

        for (unsigned attempt = 0; attempt < 30; attempt++) {
                g_usleep(1500 * 1000);
                g_autofree char *now = vm_sh("dmsetup status %s", name);
                if (g_str_equal(now, before))
                        return;
                g_free(before);
                before = g_steal_pointer(&now);
        }
        g_error("the status of %s kept changing", name);
}

static void build_stacks(void) {
        g_autoptr(GString) large = g_string_new(NULL);

        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++)
                loops[i] = vm_loop_new(16);

        /* With udev sync: each create returns once udev made the links the next one names. */
        vm_do("dmsetup create dmbus-concat -u DMBUS-TEST-concat --table '0 32768 linear %s 0\n32768 32768 linear %s 0'",
              loops[0], loops[1]);
        vm_do("dmsetup create dmbus-striped -u DMBUS-TEST-striped --table '0 65536 striped 2 128 %s 0 %s 0'",
              loops[2], loops[3]);
        vm_do("dmsetup create dmbus-crypt -u CRYPT-PLAIN-dmbus-crypt "
              "--table '0 65536 crypt aes-xts-plain64 " CRYPT_KEY " 0 /dev/mapper/dmbus-concat 0'");
        vm_do("dmsetup create dmbus-snapbase -u DMBUS-TEST-snapbase --table '0 32768 linear %s 0'", loops[4]);
        vm_do("dmsetup create dmbus-snap-origin -u DMBUS-TEST-snap-origin "
              "--table '0 32768 snapshot-origin /dev/mapper/dmbus-snapbase'");
        vm_do("dmsetup create dmbus-snap -u DMBUS-TEST-snap --table '0 32768 snapshot /dev/mapper/dmbus-snapbase %s P 8'",
              loops[5]);
        vm_do("dd if=/dev/urandom of=/dev/mapper/dmbus-snap-origin bs=4k count=64 oflag=direct status=none");
        vm_do("dmsetup create dmbus-pool -u DMBUS-TEST-pool --table '0 32768 thin-pool %s %s 128 0'",
              loops[6], loops[7]);
        vm_do("dmsetup message dmbus-pool 0 'create_thin 0' && dmsetup message dmbus-pool 0 'create_thin 1'");
        vm_do("dmsetup create dmbus-thin1 -u DMBUS-TEST-thin1 --table '0 65536 thin /dev/mapper/dmbus-pool 0'");
        vm_do("dmsetup create dmbus-thin2 -u DMBUS-TEST-thin2 --table '0 65536 thin /dev/mapper/dmbus-pool 1'");
        vm_do("dd if=/dev/urandom of=/dev/mapper/dmbus-thin1 bs=64k count=8 oflag=direct status=none");
        wait_for_stable_status("dmbus-pool");
        vm_do("dmsetup create dmbus-inactive -u DMBUS-TEST-inactive --notable");
        vm_do("dmsetup load dmbus-inactive --table '0 8 zero'");
        vm_do("dmsetup create dmbus-notable -u DMBUS-TEST-notable --notable");
        vm_do("dmsetup create dmbus-suspended -u DMBUS-TEST-suspended --table '0 2048 zero'");
        vm_do("dmsetup suspend dmbus-suspended");
        vm_do("dmsetup create dmbus-nouuid --table '0 2048 error'");
        /* Big enough that the kernel answers DM_BUFFER_FULL to the first TABLE and STATUS. */
        for (unsigned i = 0; i < LARGE_TABLE_TARGETS; i++)
                g_string_append_printf(large, "%u 1 zero\n", i);
        g_assert_true(g_file_set_contents("/run/dmbus-large.table", large->str, -1, NULL));
        vm_do("dmsetup create dmbus-large -u DMBUS-TEST-large /run/dmbus-large.table");
        vm_do("udevadm settle --timeout=60");
}

static char *resolve(const char *method, GVariant *args, GError **error) {
        g_autoptr(GVariant) reply = vm_call(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, method, args, "(o)", error);
        char *path = NULL;

        if (reply)
                g_variant_get(reply, "(o)", &path);
        return path;
}

static char *resolve_ok(const char *method, GVariant *args) {
        g_autoptr(GError) error = NULL;
        char *path = resolve(method, args, &error);

        g_assert_no_error(error);
        return path;
}

static void assert_resolve_error(const char *method, GVariant *args, const char *error_name) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = resolve(method, args, &error);
        g_autofree char *remote = NULL;

        g_assert_null(path);
        g_assert_nonnull(error);
        remote = g_dbus_error_get_remote_error(error);
        g_assert_cmpstr(remote, ==, error_name);
        /* A sentence for a person, not just a name. */
        g_dbus_error_strip_remote_error(error);
        g_assert_cmpuint(strlen(error->message), >, 10);
        g_test_message("%s → %s: %s", method, remote, error->message);
}

static char *object_path_of(unsigned maj, unsigned min) {
        return g_strdup_printf(DMBUS_ROOT_PATH "/block/%u_%u", maj, min);
}

typedef struct DmsetupInfo {
        char *name, *uuid;
        unsigned major, minor, open, segments, events;
        gboolean live, inactive, suspended, read_only;
} DmsetupInfo;

static void dmsetup_info_clear(DmsetupInfo *i) {
        g_free(i->name);
        g_free(i->uuid);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DmsetupInfo, dmsetup_info_clear)

/* dmsetup's view of every device, taken with one command each: under TCG a fork costs about a
 * fifth of a second, and nothing changes while the cases read it. Each maps a name to that
 * device's lines, with dmsetup's "NAME: " prefix cut. */
static GHashTable *dmsetup_view_info, *dmsetup_view_table, *dmsetup_view_status, *dmsetup_view_deps;

static GHashTable *dmsetup_view_take(const char *command, const char *separator) {
        g_autofree char *out = vm_sh("dmsetup %s", command);
        g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
        GHashTable *view = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        for (unsigned i = 0; lines[i]; i++) {
                const char *sep = strstr(lines[i], separator);
                g_autofree char *name = NULL;
                char *before;

                if (!sep)
                        continue;
                name = g_strndup(lines[i], sep - lines[i]);
                before = g_hash_table_lookup(view, name);
                g_hash_table_insert(view, g_strdup(name), g_strconcat(before ?: "", sep + strlen(separator), "\n", NULL));
        }
        return view;
}

static void dmsetup_view_load(void) {
        if (dmsetup_view_info)
                return;
        dmsetup_view_info = dmsetup_view_take("info -c --noheadings --separator ';' -o name,uuid,major,minor,open,segments,events,attr", ";");
        dmsetup_view_table = dmsetup_view_take("table --showkeys", ": ");
        dmsetup_view_status = dmsetup_view_take("status", ": ");
        dmsetup_view_deps = dmsetup_view_take("deps -o devno", ": ");
}

/* What dmsetup view holds for name: "" for a device with no line (no table). */
static const char *dmsetup_view_of(GHashTable *view, const char *name) {
        const char *lines = g_hash_table_lookup(view, name);

        return lines ?: "";
}

/* The lines as the comparable text vm_bus_targets() gives. */
static char *dmsetup_view_targets(GHashTable *view, const char *name) {
        g_autoptr(GVariant) targets = g_variant_ref_sink(vm_table_variant(dmsetup_view_of(view, name)));

        return vm_bus_targets(targets);
}

/* dmsetup's own view, field by field. */
static void dmsetup_info(const char *name, DmsetupInfo *ret) {
        g_autofree char *line = NULL;

        dmsetup_view_load();
        line = g_strconcat(name, ";", dmsetup_view_of(dmsetup_view_info, name), NULL);
        g_auto(GStrv) f = g_strsplit(g_strchomp(line), ";", -1);

        g_assert_cmpuint(g_strv_length(f), ==, 8);
        ret->name = g_strdup(f[0]);
        ret->uuid = g_strdup(f[1]);
        ret->major = atoi(f[2]);
        ret->minor = atoi(f[3]);
        ret->open = atoi(f[4]);
        ret->segments = atoi(f[5]);
        ret->events = atoi(f[6]);
        /* attr: L(ive) I(nactive) s(uspended) r(ead-only)/w */
        ret->live = f[7][0] == 'L';
        ret->inactive = f[7][1] == 'I';
        ret->suspended = f[7][2] == 's';
        ret->read_only = f[7][3] == 'r';
}

static char *read_file(const char *format, ...) G_GNUC_PRINTF(1, 2);
static char *read_file(const char *format, ...) {
        g_autofree char *path = NULL;
        g_autoptr(GError) error = NULL;
        char *contents = NULL;
        va_list ap;

        va_start(ap, format);
        path = g_strdup_vprintf(format, ap);
        va_end(ap);
        if (!g_file_get_contents(path, &contents, NULL, &error))
                g_error("%s", error->message);
        return g_strchomp(contents);
}

static guint64 sysfs_u64(unsigned maj, unsigned min, const char *attr) {
        g_autofree char *out = read_file("/sys/dev/block/%u:%u/%s", maj, min, attr);
        return g_ascii_strtoull(out, NULL, 10);
}

static int compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Words, sorted, joined by single spaces. */
static char *sorted_text(GPtrArray *words) {
        g_ptr_array_sort(words, compare_strings);
        g_ptr_array_add(words, NULL);
        return g_strjoinv(" ", (char **) words->pdata);
}

/* dev_t of every entry of a sysfs holders/ or slaves/ directory, as object paths, sorted. */
static char *sysfs_links(unsigned maj, unsigned min, const char *dir) {
        g_autofree char *path = g_strdup_printf("/sys/dev/block/%u:%u/%s", maj, min, dir);
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *entry;

        g_assert_nonnull(d);
        while ((entry = g_dir_read_name(d))) {
                g_autofree char *devnum = read_file("%s/%s/dev", path, entry);
                unsigned emaj, emin;

                g_assert_cmpint(sscanf(devnum, "%u:%u", &emaj, &emin), ==, 2);
                g_ptr_array_add(paths, g_strdup_printf(DMBUS_ROOT_PATH "/block/%u_%u", emaj, emin));
        }
        return sorted_text(paths);
}

/* The links udev made for a device, from its database ("S:" lines), sorted. */
static char *udev_symlinks(unsigned maj, unsigned min) {
        g_autofree char *db = read_file("/run/udev/data/b%u:%u", maj, min);
        g_auto(GStrv) lines = g_strsplit(db, "\n", -1);
        g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func(g_free);

        for (unsigned i = 0; lines[i]; i++)
                if (g_str_has_prefix(lines[i], "S:"))
                        g_ptr_array_add(links, g_strconcat("/dev/", lines[i] + 2, NULL));
        return sorted_text(links);
}

/* dmsetup deps -o devno's "N dependencies  : (7, 0) (7, 1)" as object paths, sorted. */
static char *dmsetup_deps(const char *name) {
        const char *line = strchr(dmsetup_view_of(dmsetup_view_deps, name), ':');
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        unsigned dmaj, dmin;
        int consumed;

        g_assert_nonnull(line);
        for (const char *p = line + 1; sscanf(p, " (%u, %u)%n", &dmaj, &dmin, &consumed) == 2; p += consumed)
                g_ptr_array_add(paths, g_strdup_printf(DMBUS_ROOT_PATH "/block/%u_%u", dmaj, dmin));
        return sorted_text(paths);
}

/* An ao as "p1 p2" sorted, the form sysfs_links() gives. */
static char *paths_text(GVariant *paths) {
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
        GVariantIter iter;
        const char *p;

        g_variant_iter_init(&iter, paths);
        while (g_variant_iter_next(&iter, "&o", &p))
                g_ptr_array_add(list, g_strdup(p));
        return sorted_text(list);
}

static GVariant *get_all(const char *path, const char *interface) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = vm_call(path, "org.freedesktop.DBus.Properties", "GetAll",
                                            g_variant_new("(s)", interface), "(a{sv})", &error);

        g_assert_no_error(error);
        return g_variant_get_child_value(reply, 0);
}

static char *lookup_string(GVariant *props, const char *key) {
        const char *s = NULL;

        if (!g_variant_lookup(props, key, "&s", &s))
                g_error("property %s missing", key);
        return g_strdup(s);
}

#define LOOKUP(props, key, fmt, type) ({                                        \
                type _v;                                                        \
                if (!g_variant_lookup(props, key, fmt, &_v))                    \
                        g_error("property %s missing", key);                    \
                _v;                                                             \
        })

/* Every property of one DM device against dmsetup, sysfs and udev. */
static void check_device(const char *name) {
        g_auto(DmsetupInfo) info = {};
        g_autofree char *path = NULL;
        g_autoptr(GVariant) block = NULL;
        g_autoptr(GVariant) device = NULL;

        dmsetup_info(name, &info);
        path = resolve_ok("ResolveName", g_variant_new("(s)", name));
        g_autofree char *expected_path = object_path_of(info.major, info.minor);
        g_assert_cmpstr(path, ==, expected_path);

        device = get_all(path, DMBUS_DEVICE_INTERFACE);
        block = get_all(path, DMBUS_BLOCK_INTERFACE);

        g_autofree char *bus_name = lookup_string(device, "Name");
        g_autofree char *bus_uuid = lookup_string(device, "UUID");
        g_autofree char *subsystem = lookup_string(device, "Subsystem");
        g_assert_cmpstr(bus_name, ==, info.name);
        g_assert_cmpstr(bus_uuid, ==, info.uuid);
        const char *dash = strchr(info.uuid, '-');
        g_autofree char *expected_subsystem = dash ? g_strndup(info.uuid, dash - info.uuid) : g_strdup("");
        g_assert_cmpstr(subsystem, ==, expected_subsystem);
        g_assert_cmpint(LOOKUP(device, "LiveTable", "b", gboolean), ==, info.live);
        g_assert_cmpint(LOOKUP(device, "InactiveTable", "b", gboolean), ==, info.inactive);
        g_assert_cmpint(LOOKUP(device, "Suspended", "b", gboolean), ==, info.suspended);
        g_assert_cmpint(LOOKUP(device, "ReadOnly", "b", gboolean), ==, info.read_only);
        g_assert_cmpint(LOOKUP(device, "OpenCount", "i", gint32), ==, info.open);
        g_assert_cmpuint(LOOKUP(device, "EventNumber", "u", guint32), ==, info.events);
        g_assert_cmpuint(LOOKUP(device, "TargetCount", "u", guint32), ==, info.segments);
        g_assert_false(LOOKUP(device, "DeferredRemove", "b", gboolean));

        /* Tables and status lines: dmsetup shows crypt keys only with --showkeys; we never. */
        g_autoptr(GVariant) table = g_variant_lookup_value(device, "Table", G_VARIANT_TYPE("a(ttss)"));
        g_autoptr(GVariant) status = g_variant_lookup_value(device, "Status", G_VARIANT_TYPE("a(ttss)"));
        g_autofree char *our_table = vm_bus_targets(table);
        g_autofree char *our_status = vm_bus_targets(status);
        g_autofree char *their_table = dmsetup_view_targets(dmsetup_view_table, name);
        g_autofree char *their_status = dmsetup_view_targets(dmsetup_view_status, name);
        if (strstr(their_table, CRYPT_KEY)) {
                g_autofree char *masked = NULL;
                g_auto(GStrv) parts = g_strsplit(their_table, CRYPT_KEY, -1);
                masked = g_strjoinv("<masked>", parts);
                g_assert_cmpstr(our_table, ==, masked);
        } else {
                g_assert_cmpstr(our_table, ==, their_table);
        }
        /* Thin-pool and snapshot usage can move between the two readings only if written to. */
        g_assert_cmpstr(our_status, ==, their_status);

        /* The block side, against sysfs and udev. */
        g_autofree char *kernel_name = lookup_string(block, "KernelName");
        g_autofree char *sysfs_dir = g_strdup_printf("/sys/dev/block/%u:%u", info.major, info.minor);
        if (!g_file_test(sysfs_dir, G_FILE_TEST_EXISTS)) {
                /* Created, never loaded: the kernel has not registered a block device yet. */
                g_autofree char *no_node = lookup_string(block, "DeviceNode");
                g_autofree char *expected_name = g_strdup_printf("dm-%u", info.minor);
                g_assert_cmpstr(kernel_name, ==, expected_name);
                g_assert_cmpstr(no_node, ==, "");
                g_assert_cmpuint(LOOKUP(block, "Size", "t", guint64), ==, 0);
                vm_assert_object_matches_contract(path, DMBUS_DEVICE_INTERFACE);
                return;
        }
        g_autofree char *node = lookup_string(block, "DeviceNode");
        g_autofree char *preferred = lookup_string(block, "PreferredDevice");
        g_autofree char *expected_kernel_name = g_strdup_printf("dm-%u", info.minor);
        g_assert_cmpstr(kernel_name, ==, expected_kernel_name);
        g_autofree char *expected_node = g_strdup_printf("/dev/dm-%u", info.minor);
        g_assert_cmpstr(node, ==, expected_node);
        g_assert_cmpuint(LOOKUP(block, "Major", "u", guint32), ==, info.major);
        g_assert_cmpuint(LOOKUP(block, "Minor", "u", guint32), ==, info.minor);
        g_assert_cmpuint(LOOKUP(block, "DeviceNumber", "t", guint64), ==, makedev(info.major, info.minor));
        g_assert_cmpuint(LOOKUP(block, "Size", "t", guint64), ==, sysfs_u64(info.major, info.minor, "size") * 512);
        g_assert_cmpint(LOOKUP(block, "ReadOnly", "b", gboolean), ==, sysfs_u64(info.major, info.minor, "ro") != 0);

        g_autofree char *udev_links = udev_symlinks(info.major, info.minor);
        g_autoptr(GVariant) symlinks = g_variant_lookup_value(block, "Symlinks", G_VARIANT_TYPE("as"));
        g_autofree const char **links = g_variant_get_strv(symlinks, NULL);
        g_autofree char *our_links = g_strjoinv(" ", (char **) links);
        g_assert_cmpstr(our_links, ==, udev_links);

        g_autofree char *mapper = g_strdup_printf("/dev/mapper/%s", name);
        g_assert_cmpstr(preferred, ==, info.live ? mapper : node);

        g_autoptr(GVariant) deps = g_variant_lookup_value(block, "Dependencies", G_VARIANT_TYPE("ao"));
        g_autoptr(GVariant) holders = g_variant_lookup_value(block, "Holders", G_VARIANT_TYPE("ao"));
        g_autofree char *our_deps = paths_text(deps);
        g_autofree char *our_holders = paths_text(holders);
        g_autofree char *their_deps = dmsetup_deps(name);
        g_autofree char *sysfs_slaves = sysfs_links(info.major, info.minor, "slaves");
        g_autofree char *sysfs_holders = sysfs_links(info.major, info.minor, "holders");
        g_assert_cmpstr(our_deps, ==, their_deps);
        g_assert_cmpstr(our_deps, ==, sysfs_slaves);
        g_assert_cmpstr(our_holders, ==, sysfs_holders);

        vm_assert_object_matches_contract(path, DMBUS_BLOCK_INTERFACE);
        vm_assert_object_matches_contract(path, DMBUS_DEVICE_INTERFACE);
}


static void test_properties(gconstpointer data) {
        check_device(data);
}

static void test_daemon_started_after_sees_all(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = vm_call(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "GetDevices", NULL, "(ao)", &error);
        g_autoptr(GVariant) count = vm_get_property(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "DeviceCount", "u");
        g_autofree char *dmsetup_count = vm_sh("dmsetup ls | wc -l");
        g_autoptr(GVariant) devices = g_variant_get_child_value(reply, 0);

        g_assert_cmpuint(g_variant_n_children(devices), ==, G_N_ELEMENTS(device_names));
        g_assert_cmpuint(g_variant_n_children(devices), ==, atoi(dmsetup_count));
        g_assert_cmpuint(g_variant_get_uint32(count), ==, G_N_ELEMENTS(device_names));
        for (unsigned i = 0; i < G_N_ELEMENTS(device_names); i++) {
                g_autofree char *path = resolve_ok("ResolveName", g_variant_new("(s)", device_names[i]));
                gboolean listed = FALSE;
                GVariantIter iter;
                const char *p;

                g_variant_iter_init(&iter, devices);
                while (g_variant_iter_next(&iter, "&o", &p))
                        listed = listed || g_str_equal(p, path);
                g_assert_true(listed);
        }
}

static void test_resolve_every_way(void) {
        for (unsigned i = 0; i < G_N_ELEMENTS(device_names); i++) {
                const char *name = device_names[i];
                g_auto(DmsetupInfo) info = {};
                g_autofree char *expected = NULL;

                dmsetup_info(name, &info);
                expected = object_path_of(info.major, info.minor);

                g_autofree char *by_name = resolve_ok("ResolveName", g_variant_new("(s)", name));
                g_autofree char *by_devnum = resolve_ok("ResolveDevNum", g_variant_new("(uu)", info.major, info.minor));
                g_autofree char *dm_node = g_strdup_printf("/dev/dm-%u", info.minor);
                g_assert_cmpstr(by_name, ==, expected);
                g_assert_cmpstr(by_devnum, ==, expected);
                /* A device never loaded has no node yet. */
                if (g_file_test(dm_node, G_FILE_TEST_EXISTS)) {
                        g_autofree char *by_node = resolve_ok("ResolvePath", g_variant_new("(s)", dm_node));
                        g_assert_cmpstr(by_node, ==, expected);
                }
                if (info.uuid[0]) {
                        g_autofree char *by_uuid = resolve_ok("ResolveUUID", g_variant_new("(s)", info.uuid));
                        g_assert_cmpstr(by_uuid, ==, expected);
                }
                if (info.live) {
                        g_autofree char *mapper = g_strdup_printf("/dev/mapper/%s", name);
                        g_autofree char *by_id = g_strdup_printf("/dev/disk/by-id/dm-name-%s", name);
                        g_autofree char *by_mapper = resolve_ok("ResolvePath", g_variant_new("(s)", mapper));
                        g_autofree char *by_link = resolve_ok("ResolvePath", g_variant_new("(s)", by_id));
                        g_assert_cmpstr(by_mapper, ==, expected);
                        g_assert_cmpstr(by_link, ==, expected);
                }
        }

        /* The loop devices at the bottom are objects too. */
        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++) {
                struct stat st;
                g_assert_cmpint(stat(loops[i], &st), ==, 0);
                g_autofree char *expected = object_path_of(major(st.st_rdev), minor(st.st_rdev));
                g_autofree char *by_path = resolve_ok("ResolvePath", g_variant_new("(s)", loops[i]));
                g_assert_cmpstr(by_path, ==, expected);
                g_autoptr(GVariant) kernel_name = vm_get_property(expected, DMBUS_BLOCK_INTERFACE, "KernelName", "s");
                g_assert_cmpstr(g_variant_get_string(kernel_name, NULL), ==, loops[i] + strlen("/dev/"));
        }
}

static void test_resolve_bad_input(void) {
        g_autofree char *long_name = g_strnfill(128, 'n');
        g_autofree char *long_uuid = g_strnfill(129, 'u');

        assert_resolve_error("ResolveName", g_variant_new("(s)", ""), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveName", g_variant_new("(s)", "a/b"), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveName", g_variant_new("(s)", ".."), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveName", g_variant_new("(s)", long_name), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveName", g_variant_new("(s)", "dmbus-no-such-device"), DMBUS_ERROR_NOT_FOUND);
        assert_resolve_error("ResolveUUID", g_variant_new("(s)", ""), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveUUID", g_variant_new("(s)", long_uuid), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveUUID", g_variant_new("(s)", "DMBUS-NO-SUCH-UUID"), DMBUS_ERROR_NOT_FOUND);
        assert_resolve_error("ResolveDevNum", g_variant_new("(uu)", 0, 0), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveDevNum", g_variant_new("(uu)", 1u << 12, 0), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolveDevNum", g_variant_new("(uu)", 1, 3), DMBUS_ERROR_NOT_FOUND);
        assert_resolve_error("ResolvePath", g_variant_new("(s)", "dev/mapper/dmbus-concat"), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolvePath", g_variant_new("(s)", ""), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolvePath", g_variant_new("(s)", "/dev/mapper/dmbus-no-such-device"), DMBUS_ERROR_NOT_FOUND);
        assert_resolve_error("ResolvePath", g_variant_new("(s)", "/etc/passwd"), DMBUS_ERROR_INVALID_ARGUMENT);
        assert_resolve_error("ResolvePath", g_variant_new("(s)", "/dev/null"), DMBUS_ERROR_INVALID_ARGUMENT);
        /* /dev/ram0 may not exist, but a block device outside the graph does: the first disk-less
         * loop device node the loop module made. */
        g_autofree char *unused_loop = vm_sh("losetup -f");
        assert_resolve_error("ResolvePath", g_variant_new("(s)", unused_loop), DMBUS_ERROR_NOT_FOUND);
}

static void test_parsed_status(void) {
        g_autofree char *pool = resolve_ok("ResolveName", g_variant_new("(s)", "dmbus-pool"));
        g_autofree char *thin = resolve_ok("ResolveName", g_variant_new("(s)", "dmbus-thin1"));
        g_autofree char *snap = resolve_ok("ResolveName", g_variant_new("(s)", "dmbus-snap"));
        g_autofree char *linear = resolve_ok("ResolveName", g_variant_new("(s)", "dmbus-concat"));
        g_autoptr(GVariant) p = vm_get_property(pool, DMBUS_DEVICE_INTERFACE, "ParsedStatus", "a{sv}");
        g_autoptr(GVariant) t = vm_get_property(thin, DMBUS_DEVICE_INTERFACE, "ParsedStatus", "a{sv}");
        g_autoptr(GVariant) s = vm_get_property(snap, DMBUS_DEVICE_INTERFACE, "ParsedStatus", "a{sv}");
        g_autoptr(GVariant) l = vm_get_property(linear, DMBUS_DEVICE_INTERFACE, "ParsedStatus", "a{sv}");
        g_autofree char *target = NULL;
        guint64 used_data, total_data, used_meta, total_meta, transaction;

        /* "0 32768 thin-pool TRANSACTION USED_META/TOTAL_META USED_DATA/TOTAL_DATA ..." */
        g_autofree char *status = vm_sh("dmsetup status dmbus-pool");
        g_assert_cmpint(sscanf(status, "%*u %*u thin-pool %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                               &transaction, &used_meta, &total_meta, &used_data, &total_data), ==, 5);
        g_assert_true(g_variant_lookup(p, "target-type", "s", &target));
        g_assert_cmpstr(target, ==, "thin-pool");
        g_assert_cmpuint(LOOKUP(p, "used-data-blocks", "t", guint64), ==, used_data);
        g_assert_cmpuint(LOOKUP(p, "total-data-blocks", "t", guint64), ==, total_data);
        g_assert_cmpuint(LOOKUP(p, "used-metadata-blocks", "t", guint64), ==, used_meta);
        g_assert_cmpuint(LOOKUP(p, "total-metadata-blocks", "t", guint64), ==, total_meta);
        g_assert_cmpuint(LOOKUP(p, "transaction-id", "t", guint64), ==, transaction);
        g_assert_cmpuint(used_data, >, 0);
        g_assert_false(LOOKUP(p, "read-only", "b", gboolean));
        g_assert_false(LOOKUP(p, "out-of-data-space", "b", gboolean));

        g_autofree char *thin_status = vm_sh("dmsetup status dmbus-thin1 | cut -d' ' -f4");
        g_assert_cmpuint(LOOKUP(t, "mapped-sectors", "t", guint64), ==, g_ascii_strtoull(thin_status, NULL, 10));
        g_assert_cmpuint(LOOKUP(t, "mapped-sectors", "t", guint64), >, 0);

        /* "0 32768 snapshot USED/TOTAL METADATA" */
        g_autofree char *snap_status = vm_sh("dmsetup status dmbus-snap | cut -d' ' -f4");
        g_autofree char *ours = g_strdup_printf("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                                                LOOKUP(s, "used-sectors", "t", guint64), LOOKUP(s, "total-sectors", "t", guint64));
        g_assert_cmpstr(ours, ==, snap_status);
        g_assert_false(LOOKUP(s, "invalid", "b", gboolean));

        g_assert_cmpuint(g_variant_n_children(l), ==, 0);
}

static void test_large_table(void) {
        g_autofree char *path = resolve_ok("ResolveName", g_variant_new("(s)", "dmbus-large"));
        g_autoptr(GVariant) table = vm_get_property(path, DMBUS_DEVICE_INTERFACE, "Table", "a(ttss)");
        g_autoptr(GVariant) status = vm_get_property(path, DMBUS_DEVICE_INTERFACE, "Status", "a(ttss)");

        g_assert_cmpuint(g_variant_n_children(table), ==, LARGE_TABLE_TARGETS);
        g_assert_cmpuint(g_variant_n_children(status), ==, LARGE_TABLE_TARGETS);
}

/* Edges (holder → dependency) as "254:1>254:0" words, sorted, from dmsetup ls --tree. */
static char *dmsetup_tree_edges(void) {
        g_autofree char *out = vm_sh("dmsetup ls --tree -o ascii");
        g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
        g_autoptr(GPtrArray) edges = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
        struct { size_t indent; char devno[32]; } stack[64];
        unsigned depth = 0;
        g_autoptr(GString) s = g_string_new(NULL);

        for (unsigned i = 0; lines[i]; i++) {
                const char *open = strrchr(lines[i], '(');
                size_t indent = strspn(lines[i], " |`-");
                char devno[32];

                if (!open || sscanf(open, "(%31[0-9:])", devno) != 1)
                        continue;
                while (depth > 0 && stack[depth - 1].indent >= indent)
                        depth--;
                if (depth > 0)
                        g_ptr_array_add(edges, g_strdup_printf("%s>%s", stack[depth - 1].devno, devno));
                g_ptr_array_add(nodes, g_strdup(devno));
                g_assert_cmpuint(depth, <, G_N_ELEMENTS(stack));
                stack[depth].indent = indent;
                g_strlcpy(stack[depth].devno, devno, sizeof(stack[depth].devno));
                depth++;
        }

        g_ptr_array_sort(edges, compare_strings);
        g_ptr_array_sort(nodes, compare_strings);
        for (unsigned i = 0; i < edges->len; i++)
                if (i == 0 || strcmp(edges->pdata[i], edges->pdata[i - 1]) != 0)
                        g_string_append_printf(s, "%s ", (char *) edges->pdata[i]);
        g_string_append(s, "| ");
        for (unsigned i = 0; i < nodes->len; i++)
                if (i == 0 || strcmp(nodes->pdata[i], nodes->pdata[i - 1]) != 0)
                        g_string_append_printf(s, "%s ", (char *) nodes->pdata[i]);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

static char *devno_of_path(const char *path) {
        unsigned maj, min;

        g_assert_cmpint(sscanf(path, DMBUS_ROOT_PATH "/block/%u_%u", &maj, &min), ==, 2);
        return g_strdup_printf("%u:%u", maj, min);
}

static void test_tree_matches_dmsetup(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) reply = vm_call(DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "GetTree", NULL, "(a(oao))", &error);
        g_autoptr(GPtrArray) edges = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) s = g_string_new(NULL);
        g_autoptr(GVariantIter) iter = NULL;
        g_autoptr(GVariantIter) deps = NULL;
        g_autofree char *theirs = dmsetup_tree_edges();
        const char *path;

        g_assert_no_error(error);
        g_variant_get(reply, "(a(oao))", &iter);
        while (g_variant_iter_next(iter, "(&oao)", &path, &deps)) {
                g_autofree char *from = devno_of_path(path);
                const char *dep;

                g_ptr_array_add(nodes, g_strdup(from));
                while (g_variant_iter_next(deps, "&o", &dep)) {
                        g_autofree char *to = devno_of_path(dep);
                        g_ptr_array_add(edges, g_strdup_printf("%s>%s", from, to));
                }
                g_clear_pointer(&deps, g_variant_iter_free);
        }
        g_ptr_array_sort(edges, compare_strings);
        g_ptr_array_sort(nodes, compare_strings);
        for (unsigned i = 0; i < edges->len; i++)
                g_string_append_printf(s, "%s ", (char *) edges->pdata[i]);
        g_string_append(s, "| ");
        for (unsigned i = 0; i < nodes->len; i++)
                g_string_append_printf(s, "%s ", (char *) nodes->pdata[i]);
        g_assert_cmpstr(s->str, ==, theirs);
}

static void test_crypt_key_never_shown(void) {
        g_autoptr(GVariant) objects = vm_get_managed_objects();
        g_autofree char *text = g_variant_print(objects, TRUE);
        g_autofree char *upper = g_ascii_strup(CRYPT_KEY, -1);
        g_autofree char *path = resolve_ok("ResolveName", g_variant_new("(s)", "dmbus-crypt"));
        g_autofree char *introspected = vm_sh("busctl --system introspect " DMBUS_SERVICE_NAME " %s", path);
        g_autofree char *log = vm_daemon_log(daemon_under_test);

        /* The table is there, with the mask where the key was. */
        g_assert_nonnull(strstr(text, "aes-xts-plain64 <masked> 0"));
        g_assert_null(strstr(text, CRYPT_KEY));
        g_assert_null(strstr(text, upper));
        g_assert_null(strstr(introspected, CRYPT_KEY));
        g_assert_null(strstr(log, CRYPT_KEY));
        g_assert_null(strstr(log, upper));
}

#define MANY 40

/* Enough devices at start for the links to be read on worker threads (links-scan.c): each one's
 * links are its own, none missing, none another's. */
static void test_many_at_start(void) {
        g_autoptr(GVariant) objects = NULL;
        GVariantIter iter;
        GVariant *interfaces;
        unsigned seen = 0;

        vm_do("dmsetup create --noudevsync --concise \"$(seq 0 %d | sed 's/.*/dmbus-i-many-&,DMBUS-MANY-&,,,0 8 zero/' | paste -sd';')\" "
              "&& udevadm settle", MANY - 1);
        g_assert_cmpint(vm_daemon_stop(daemon_under_test), ==, 0);
        vm_daemon_free(daemon_under_test);
        daemon_under_test = vm_daemon_start();

        objects = vm_get_managed_objects();
        g_variant_iter_init(&iter, objects);
        while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", NULL, &interfaces)) {
                g_autoptr(GVariant) device = g_variant_lookup_value(interfaces, DMBUS_DEVICE_INTERFACE, NULL);
                g_autoptr(GVariant) block = g_variant_lookup_value(interfaces, DMBUS_BLOCK_INTERFACE, NULL);
                g_autofree const char **links = NULL;
                const char *name, *uuid;

                g_variant_unref(interfaces);
                if (!device || !g_variant_lookup(device, "Name", "&s", &name) || !g_str_has_prefix(name, "dmbus-i-many-"))
                        continue;
                g_assert_true(g_variant_lookup(device, "UUID", "&s", &uuid));
                g_assert_true(g_variant_lookup(block, "Symlinks", "^a&s", &links));
                g_autofree char *expected = g_strdup_printf("/dev/disk/by-id/dm-name-%s /dev/disk/by-id/dm-uuid-%s /dev/mapper/%s",
                                                            name, uuid, name);
                g_autofree char *got = g_strjoinv(" ", (char **) links);
                g_assert_cmpstr(got, ==, expected);
                seen++;
        }
        g_assert_cmpuint(seen, ==, MANY);
        vm_do("dmsetup remove --noudevsync $(seq 0 %d | sed 's/^/dmbus-i-many-/') && udevadm settle", MANY - 1);
}

static void add_cases(void) {
        g_test_add_func("/inventory/daemon-started-after-sees-all", test_daemon_started_after_sees_all);
        for (unsigned i = 0; i < G_N_ELEMENTS(device_names); i++) {
                g_autofree char *test_path = g_strdup_printf("/inventory/properties/%s", device_names[i]);
                g_test_add_data_func(test_path, device_names[i], test_properties);
        }
        g_test_add_func("/inventory/resolve-every-way", test_resolve_every_way);
        g_test_add_func("/inventory/resolve-bad-input", test_resolve_bad_input);
        g_test_add_func("/inventory/parsed-status", test_parsed_status);
        g_test_add_func("/inventory/large-table", test_large_table);
        g_test_add_func("/inventory/tree-matches-dmsetup", test_tree_matches_dmsetup);
        g_test_add_func("/inventory/crypt-key-never-shown", test_crypt_key_never_shown);
        g_test_add_func("/inventory/many-at-start", test_many_at_start);
}

int main(int argc, char *argv[]) {
        /* The stacks are built first: all the daemon knows comes from its start-up scan. */
        return vm_suite_run(argc, argv, &(VmSuite) { .set_up = build_stacks, .add_cases = add_cases }, &daemon_under_test);
}
