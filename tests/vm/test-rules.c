/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The udev rules, proven with the real udevd in the guest: every step of a device's life, escaped
 * names, disabled rules, cookie completion, and no leftovers. The same program runs twice: with
 * this project's rules alone, and beside Debian's DM rules (tests/vm/run --debian-dm-rules). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm-util.h"

static gboolean beside_debian_rules;

/* Every /dev link of the device, sorted, space-separated. */
static char *links_of(const char *name) {
        g_autofree char *minor = vm_sh("dmsetup --manglename none info -c --noheadings -o minor '%s'", name);

        return vm_sh("udevadm info --query=symlink --name=/dev/dm-%s | tr ' ' '\\n' | sed '/^$/d' | sort | tr '\\n' ' '",
                     minor);
}

static char *property_of(const char *name, const char *key) {
        g_autofree char *minor = vm_sh("dmsetup --manglename none info -c --noheadings -o minor '%s'", name);

        return vm_sh("udevadm info --query=property --name=/dev/dm-%s | sed -n 's/^%s=//p'", minor, key);
}

static void assert_link_to(const char *link, const char *name) {
        g_autofree char *minor = vm_sh("dmsetup --manglename none info -c --noheadings -o minor '%s'", name);
        g_autofree char *target = g_file_read_link(link, NULL);
        g_autofree char *expected = g_strdup_printf("dm-%s", minor);
        struct stat st;

        if (!target)
                g_error("%s is missing", link);
        g_assert_cmpint(lstat(link, &st), ==, 0);
        g_assert_true(S_ISLNK(st.st_mode));
        g_assert_true(g_str_has_suffix(target, expected));
        g_assert_true(target[strlen(target) - strlen(expected) - 1] == '/');
}

static void assert_missing(const char *path) {
        struct stat st;

        if (lstat(path, &st) == 0)
                g_error("%s exists", path);
}

/* Nothing in /dev/mapper but control and what is listed, and no /dev/disk link dangles. */
static void assert_nothing_left(void) {
        g_autofree char *mapper = vm_sh("ls /dev/mapper | grep -v '^control$' || true");
        g_autofree char *dangling = vm_sh("find /dev/disk -xtype l 2>/dev/null");
        g_autofree char *by_id = vm_sh("ls /dev/disk/by-id 2>/dev/null | grep '^dm-' || true");
        g_autofree char *devices = vm_sh("dmsetup ls | grep -v '^No devices found' || true");

        g_assert_cmpstr(devices, ==, "");
        g_assert_cmpstr(mapper, ==, "");
        g_assert_cmpstr(dangling, ==, "");
        g_assert_cmpstr(by_id, ==, "");
}

static void test_plain_dmsetup_returns(void) {
        /* udev sync on: dmsetup waits for the cookie our rule (or lvm2's, beside it) completes;
         * the timeout only turns a hang into a failure. */
        vm_do("timeout 60 dmsetup create dmbus-r-sync --table '0 2048 zero'");
        /* The cookie is completed after the links: they are there when dmsetup returns. */
        assert_link_to("/dev/mapper/dmbus-r-sync", "dmbus-r-sync");
        assert_link_to("/dev/disk/by-id/dm-name-dmbus-r-sync", "dmbus-r-sync");
        g_autofree char *vsn = property_of("dmbus-r-sync", "DM_UDEV_RULES_VSN");
        g_assert_cmpstr(vsn, ==, "2");
        vm_do("timeout 60 dmsetup remove dmbus-r-sync");
        assert_missing("/dev/mapper/dmbus-r-sync");
        assert_missing("/dev/disk/by-id/dm-name-dmbus-r-sync");
        assert_nothing_left();
}

static void test_life_cycle(void) {
        g_autofree char *loop = vm_loop_new(32);
        g_autofree char *minor = NULL;
        g_autofree char *links = NULL;
        g_autofree char *fs_uuid = NULL;
        g_autofree char *by_uuid = NULL;

        /* Create: since Linux 5.14 the kernel registers no block device until a table is
         * loaded, so there is nothing for udev yet. */
        vm_do("dmsetup create dmbus-r-life --notable");
        vm_do("udevadm settle");
        minor = vm_sh("dmsetup info -c --noheadings -o minor dmbus-r-life");
        assert_missing("/dev/mapper/dmbus-r-life");

        /* Load: "add" for a device with no live table yet: no links, left alone. */
        vm_do("dmsetup load dmbus-r-life --table '0 65536 linear %s 0'", loop);
        vm_do("udevadm settle");
        assert_missing("/dev/mapper/dmbus-r-life");
        g_autofree char *disabled = property_of("dmbus-r-life", "DM_UDEV_DISABLE_OTHER_RULES_FLAG");
        g_assert_cmpstr(disabled, ==, "1");
        vm_do("dmsetup resume dmbus-r-life");
        assert_link_to("/dev/mapper/dmbus-r-life", "dmbus-r-life");
        assert_link_to("/dev/disk/by-id/dm-name-dmbus-r-life", "dmbus-r-life");

        /* A filesystem: closing after writing makes udev look again (inotify watch). */
        vm_do("mkfs.ext4 -q -F /dev/mapper/dmbus-r-life");
        vm_do("udevadm settle");
        g_autofree char *fs_type = property_of("dmbus-r-life", "ID_FS_TYPE");
        g_assert_cmpstr(fs_type, ==, "ext4");
        fs_uuid = property_of("dmbus-r-life", "ID_FS_UUID_ENC");
        by_uuid = g_strdup_printf("/dev/disk/by-uuid/%s", fs_uuid);
        assert_link_to(by_uuid, "dmbus-r-life");
        links = links_of("dmbus-r-life");

        /* Suspend raises nothing; a synthetic event on the suspended device keeps everything
         * and probes nothing (a probe would hang udevd's worker on the suspended device). */
        vm_do("dmsetup suspend dmbus-r-life");
        vm_do("udevadm trigger --action=change --settle /dev/dm-%s", minor);
        g_autofree char *links_suspended = links_of("dmbus-r-life");
        g_assert_cmpstr(links_suspended, ==, links);
        g_autofree char *fs_type_suspended = property_of("dmbus-r-life", "ID_FS_TYPE");
        g_assert_cmpstr(fs_type_suspended, ==, "ext4");
        g_autofree char *suspended = property_of("dmbus-r-life", "DM_SUSPENDED");
        g_assert_cmpstr(suspended, ==, "1");

        vm_do("dmsetup resume dmbus-r-life");
        g_autofree char *links_resumed = links_of("dmbus-r-life");
        g_assert_cmpstr(links_resumed, ==, links);

        /* A synthetic event on the live device: the same links. */
        vm_do("udevadm trigger --action=change --settle /dev/dm-%s", minor);
        g_autofree char *links_triggered = links_of("dmbus-r-life");
        g_assert_cmpstr(links_triggered, ==, links);

        /* Rename: the old links go, the new ones come, the content links stay. */
        vm_do("dmsetup rename dmbus-r-life dmbus-r-renamed");
        assert_missing("/dev/mapper/dmbus-r-life");
        assert_missing("/dev/disk/by-id/dm-name-dmbus-r-life");
        assert_link_to("/dev/mapper/dmbus-r-renamed", "dmbus-r-renamed");
        assert_link_to("/dev/disk/by-id/dm-name-dmbus-r-renamed", "dmbus-r-renamed");
        assert_link_to(by_uuid, "dmbus-r-renamed");

        /* Set a UUID: its link appears. */
        assert_missing("/dev/disk/by-id/dm-uuid-DMBUS-RULES-life");
        vm_do("dmsetup rename dmbus-r-renamed --setuuid DMBUS-RULES-life");
        assert_link_to("/dev/disk/by-id/dm-uuid-DMBUS-RULES-life", "dmbus-r-renamed");

        /* Reload with another table. */
        vm_do("dmsetup reload dmbus-r-renamed --table '0 32768 linear %s 0' && dmsetup resume dmbus-r-renamed", loop);
        assert_link_to("/dev/mapper/dmbus-r-renamed", "dmbus-r-renamed");
        assert_link_to("/dev/disk/by-id/dm-uuid-DMBUS-RULES-life", "dmbus-r-renamed");

        /* Remove: every link goes, and udev forgets the device. */
        vm_do("dmsetup remove dmbus-r-renamed");
        assert_missing("/dev/mapper/dmbus-r-renamed");
        assert_missing("/dev/disk/by-id/dm-uuid-DMBUS-RULES-life");
        assert_missing(by_uuid);
        g_autofree char *db = g_strdup_printf("/run/udev/data/b254:%s", minor);
        assert_missing(db);
        assert_nothing_left();
        vm_loop_free(loop);
}

static void test_escaped_names(void) {
        /* The kernel holds the raw name (no mangling on the way in); the links escape it. */
        vm_do("dmsetup --manglename none create 'dmbus r esc' --table '0 2048 zero'");
        assert_link_to("/dev/mapper/dmbus\\x20r\\x20esc", "dmbus r esc");
        assert_link_to("/dev/disk/by-id/dm-name-dmbus\\x20r\\x20esc", "dmbus r esc");
        /* Not split at the spaces into wrong links. */
        assert_missing("/dev/mapper/dmbus");
        assert_missing("/dev/r");
        assert_missing("/dev/esc");
        g_autofree char *name = property_of("dmbus r esc", "DM_NAME");
        g_assert_cmpstr(name, ==, "dmbus\\x20r\\x20esc");
        vm_do("dmsetup --manglename none remove 'dmbus r esc'");
        assert_nothing_left();
}

static void test_disabled_rules_respected(void) {
        struct stat st;

        /* --noudevrules: libdevmapper manages /dev/mapper itself and asks udev rules to keep out. */
        vm_do("dmsetup --noudevrules create dmbus-r-norules --table '0 2048 zero'");
        g_autofree char *flag = property_of("dmbus-r-norules", "DM_UDEV_DISABLE_DM_RULES_FLAG");
        g_assert_cmpstr(flag, ==, "1");
        if (lstat("/dev/mapper/dmbus-r-norules", &st) == 0)
                g_assert_false(S_ISLNK(st.st_mode));
        vm_do("dmsetup --noudevrules remove dmbus-r-norules");
        assert_nothing_left();
}

static void test_create_remove_cycles(void) {
        /* Enough for a leak of links, database entries or cookies to show; beside Debian's rules,
         * which run the same cycle, fewer keep CI short. */
        unsigned cycles = g_strcmp0(g_getenv("DMBUS_VM_DEBIAN_RULES"), "1") == 0 ? 15 : 40;

        for (unsigned i = 0; i < cycles; i++) {
                vm_do("dmsetup create dmbus-r-cycle -u DMBUS-RULES-cycle-%u --table '0 2048 zero'", i);
                assert_link_to("/dev/mapper/dmbus-r-cycle", "dmbus-r-cycle");
                vm_do("dmsetup remove dmbus-r-cycle");
        }
        assert_missing("/dev/mapper/dmbus-r-cycle");
        assert_nothing_left();
        g_autofree char *db = vm_sh("ls /run/udev/data | grep '^b254:' || true");
        g_assert_cmpstr(db, ==, "");
}

/* A cookie of our own making, handed to the helper as udev would: completed by our rule when it is
 * the only one, left to lvm2's 95-dm-notify.rules beside it. */
static void test_cookie_completed_exactly_once(void) {
        const unsigned base = 0x4242, flags = 0x0040;   /* DM_UDEV_PRIMARY_SOURCE_FLAG */
        int semid = semget((key_t) (0x0D4D << 16 | base), 1, IPC_CREAT | IPC_EXCL | 0600);

        g_assert_cmpint(semid, >=, 0);
        g_assert_cmpint(semctl(semid, 0, SETVAL, 1), ==, 0);
        vm_do("/lib/udev/dmbus-udev complete %u", flags << 16 | base);
        g_assert_cmpint(semctl(semid, 0, GETVAL), ==, beside_debian_rules ? 1 : 0);
        /* Twice is never a second decrement. */
        vm_do("/lib/udev/dmbus-udev complete %u", flags << 16 | base);
        g_assert_cmpint(semctl(semid, 0, GETVAL), ==, beside_debian_rules ? 1 : 0);
        g_assert_cmpint(semctl(semid, 0, IPC_RMID), ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        vm_require_guest();
        beside_debian_rules = !g_file_test("/etc/udev/rules.d/55-dm.rules", G_FILE_TEST_IS_SYMLINK);
        g_test_message("project rules %s", beside_debian_rules ? "beside Debian's DM rules" : "alone");

        g_test_add_func("/rules/plain-dmsetup-returns", test_plain_dmsetup_returns);
        g_test_add_func("/rules/life-cycle", test_life_cycle);
        g_test_add_func("/rules/escaped-names", test_escaped_names);
        g_test_add_func("/rules/disabled-rules-respected", test_disabled_rules_respected);
        g_test_add_func("/rules/create-remove-cycles", test_create_remove_cycles);
        g_test_add_func("/rules/cookie-completed-exactly-once", test_cookie_completed_exactly_once);
        return g_test_run();
}
