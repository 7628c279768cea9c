/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dmbusctl against a real stack in the guest: every command, its output compared with what
 * dmsetup says; --json parsed back by python3's json (tests/vm/ctl-json-flatten); --dot rendered
 * by Graphviz; exit codes per error kind; --help everywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vm-util.h"

static char *loops[3];
static VmDaemon *daemon_under_test;
static const char *ctl, *flatten;

static char *ctl_v(gboolean keep_status, const char *format, va_list ap) {
        g_autofree char *args = g_strdup_vprintf(format, ap);

        return keep_status ? vm_sh("%s %s 2>&1; echo exit=$?", ctl, args) : vm_sh("%s %s", ctl, args);
}

/* Runs dmbusctl ARGS, with its stdout and stderr together and "exit=N" as the last line. */
G_GNUC_PRINTF(1, 2)
static char *run_ctl(const char *format, ...) {
        va_list ap;
        char *out;

        va_start(ap, format);
        out = ctl_v(TRUE, format, ap);
        va_end(ap);
        return out;
}

/* Runs dmbusctl ARGS, which must succeed; its stdout. */
G_GNUC_PRINTF(1, 2)
static char *ctl_ok(const char *format, ...) {
        va_list ap;
        char *out;

        va_start(ap, format);
        out = ctl_v(FALSE, format, ap);
        va_end(ap);
        return out;
}

static void assert_contains(const char *haystack, const char *needle) {
        if (!strstr(haystack, needle))
                g_error("expected \"%s\" in:\n%s", needle, haystack);
}

/* One whole line of text is line. */
static void assert_line(const char *text, const char *line) {
        g_autofree char *framed_text = g_strconcat("\n", text, "\n", NULL);
        g_autofree char *framed_line = g_strconcat("\n", line, "\n", NULL);

        assert_contains(framed_text, framed_line);
}

static char *devnum_of(const char *name) {
        return vm_sh("dmsetup info -c --noheadings -o major,minor --separator : %s", name);
}

static char *object_path_of(const char *name) {
        g_autofree char *devnum = devnum_of(name);

        g_strdelimit(devnum, ":", '_');
        return g_strconcat(DMBUS_ROOT_PATH "/block/", devnum, NULL);
}

static void build_stack(void) {
        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++)
                loops[i] = vm_loop_new(16);
        vm_do("dmsetup create ctl-base -u DMBUS-CTL-base --table '0 32768 linear %s 0\n32768 32768 linear %s 0'", loops[0], loops[1]);
        vm_do("dmsetup create ctl-top --table '0 16384 linear /dev/mapper/ctl-base 0'");
        vm_do("dmsetup create ctl-susp --table '0 2048 zero' && dmsetup suspend ctl-susp");
        vm_do("dmsetup create ctl-inact --table '0 2048 zero' && dmsetup load ctl-inact --table '0 4096 zero'");
}

static int compare_string_pointers(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* "NAME MAJ:MIN BYTES PARENT" lines as dmsetup sees the stack, for the DM devices and loops. */
static char *expected_tree_lines(void) {
        g_autoptr(GString) s = g_string_new(NULL);
        static const char *const roots[] = { "ctl-inact", "ctl-susp", "ctl-top" };
        g_auto(GStrv) lines = NULL;
        g_autofree char *joined = NULL;

        for (unsigned i = 0; i < G_N_ELEMENTS(roots); i++) {
                g_autofree char *devnum = devnum_of(roots[i]);
                g_autofree char *bytes = vm_sh("echo $(( $(dmsetup table %s | awk '{ s += $2 } END { print s }') * 512 ))", roots[i]);
                g_string_append_printf(s, "%s %s %s -\n", roots[i], devnum, bytes);
        }
        g_autofree char *base = devnum_of("ctl-base");
        g_string_append_printf(s, "ctl-base %s %u ctl-top\n", base, 65536 * 512);
        for (unsigned i = 0; i < 2; i++) {
                g_autofree char *loop_devnum = vm_sh("printf '%%d:%%d' $(stat -c '0x%%t 0x%%T' %s)", loops[i]);
                g_string_append_printf(s, "%s %s %u ctl-base\n", loops[i] + strlen("/dev/"), loop_devnum, 16 * 1024 * 1024);
        }
        /* Sorted as ctl-json-flatten sorts them. */
        lines = g_strsplit(g_strstrip(s->str), "\n", -1);
        qsort(lines, g_strv_length(lines), sizeof(char *), compare_string_pointers);
        joined = g_strjoinv("\n", lines);
        return g_steal_pointer(&joined);
}

static void test_tree(void) {
        g_autofree char *printed = ctl_ok("tree");
        g_autofree char *out = g_strconcat(printed, "\n", NULL);     /* every line ends in one */
        g_autofree char *top = devnum_of("ctl-top");
        g_autofree char *base = devnum_of("ctl-base");
        g_autofree char *top_line = g_strdup_printf("ctl-top (%s) 8.0M linear\n", top);
        g_autofree char *base_line = g_strdup_printf("└─ctl-base (%s) 32.0M linear\n", base);

        g_test_message("%s", out);
        assert_contains(out, top_line);
        assert_contains(out, base_line);
        assert_contains(out, " zero [suspended]\n");
        assert_contains(out, " zero [inactive-table]\n");
        for (unsigned i = 0; i < 2; i++) {
                g_autofree char *loop = g_strdup_printf("─%s (", loops[i] + strlen("/dev/"));
                assert_contains(out, loop);
        }
}

static void test_tree_json(void) {
        g_autofree char *flat = vm_sh("%s tree --json | %s tree", ctl, flatten);
        g_autofree char *want = expected_tree_lines();

        g_assert_cmpstr(flat, ==, want);
}

static void test_tree_dot(void) {
        g_autofree char *edges = vm_sh("%s tree --dot | grep -c -- '->'", ctl);
        g_autofree char *deps = vm_sh("dmsetup deps -o devno | grep -o '([0-9]*, [0-9]*)' | wc -l");

        /* Every dependency dmsetup knows is an edge; Graphviz renders the graph without a word. */
        g_assert_cmpstr(edges, ==, deps);
        vm_do("%s tree --dot | dot -Tsvg -o /dev/null", ctl);
}

static void test_info_and_resolve(void) {
        g_autofree char *path = object_path_of("ctl-base");
        g_autofree char *devnum = devnum_of("ctl-base");
        g_autofree char *kernel = vm_sh("basename $(readlink -f /dev/mapper/ctl-base)");
        const char *forms[] = { "ctl-base", "DMBUS-CTL-base", devnum, "/dev/mapper/ctl-base", NULL, path };
        g_autofree char *dev_path = g_strconcat("/dev/", kernel, NULL);
        g_autofree char *text = NULL, *flat = NULL;
        g_autofree char *table = vm_sh("dmsetup table ctl-base | sed 's/ *$//' | paste -sd'|'");

        forms[4] = dev_path;
        for (unsigned i = 0; i < G_N_ELEMENTS(forms); i++) {
                g_autofree char *resolved = ctl_ok("resolve %s", forms[i]);
                g_assert_cmpstr(resolved, ==, path);
        }

        text = ctl_ok("info /dev/mapper/ctl-base");
        g_test_message("%s", text);
        assert_contains(text, "Name: ctl-base\n");
        assert_contains(text, "UUID: DMBUS-CTL-base\n");
        assert_contains(text, "Size: 33554432 (32.0M)\n");
        assert_contains(text, "/dev/mapper/ctl-base");

        flat = vm_sh("%s info --json ctl-base | %s info", ctl, flatten);
        g_autofree char *want_path = g_strconcat("path=", path, NULL);
        g_autofree char *want_table = g_strconcat("Device.Table=", table, NULL);
        g_autofree char *want_kernel = g_strconcat("Block.KernelName=", kernel, NULL);
        assert_line(flat, want_path);
        assert_line(flat, want_table);
        assert_line(flat, want_kernel);
        assert_line(flat, "Device.Name=ctl-base");
        assert_line(flat, "Device.Suspended=False");
        assert_line(flat, "Block.Size=33554432");
}

static void assert_dmsetup(const char *command, const char *want) {
        g_autofree char *have = vm_sh("dmsetup %s", command);

        g_assert_cmpstr(have, ==, want);
}

static void test_operations(void) {
        g_autofree char *out = NULL;

        /* A table from stdin, in dmsetup's syntax, comments and blank lines allowed. */
        out = vm_sh("printf '# two zeros\\n0 1024 zero\\n\\n1024 1024 zero\\n' | %s create ctl-new --uuid DMBUS-CTL-new --table-file -", ctl);
        g_autofree char *path = object_path_of("ctl-new");
        g_assert_cmpstr(out, ==, path);
        assert_dmsetup("table ctl-new | sed 's/ *$//'", "0 1024 zero\n1024 1024 zero");
        assert_dmsetup("info -c --noheadings -o uuid ctl-new", "DMBUS-CTL-new");
        g_assert_true(access("/dev/mapper/ctl-new", F_OK) == 0);

        g_free(ctl_ok("load ctl-new --table '0 4096 zero'"));
        assert_dmsetup("table --inactive ctl-new | sed 's/ *$//'", "0 4096 zero");
        g_free(ctl_ok("clear ctl-new"));
        assert_dmsetup("info ctl-new | grep -c INACTIVE || true", "0");
        g_free(ctl_ok("suspend --nolockfs ctl-new"));
        assert_dmsetup("info ctl-new | sed -n 's/^State: *//p'", "SUSPENDED");
        g_free(ctl_ok("resume ctl-new"));
        assert_dmsetup("info ctl-new | sed -n 's/^State: *//p'", "ACTIVE");
        g_free(ctl_ok("reload ctl-new --table '0 3072 zero'"));
        assert_dmsetup("table ctl-new | sed 's/ *$//'", "0 3072 zero");
        g_free(ctl_ok("rename ctl-new ctl-renamed"));
        assert_dmsetup("info -c --noheadings -o name -u DMBUS-CTL-new", "ctl-renamed");
        g_assert_true(access("/dev/mapper/ctl-renamed", F_OK) == 0);
        g_free(ctl_ok("remove --retry ctl-renamed"));
        assert_dmsetup("ls | grep -c ctl-renamed || true", "0");

        /* set-uuid and message on a thin-pool. */
        g_free(ctl_ok("create ctl-nouuid --table '0 8 zero'"));
        g_free(ctl_ok("set-uuid ctl-nouuid DMBUS-CTL-later"));
        assert_dmsetup("info -c --noheadings -o uuid ctl-nouuid", "DMBUS-CTL-later");
        g_free(ctl_ok("remove DMBUS-CTL-later"));
}

static void test_message(void) {
        g_autofree char *meta = NULL;

        g_free(ctl_ok("create ctl-meta --table '0 4096 linear %s 0'", loops[2]));
        g_free(ctl_ok("create ctl-data --table '0 16384 linear %s 4096'", loops[2]));
        g_free(ctl_ok("create ctl-pool --table '0 16384 thin-pool /dev/mapper/ctl-meta /dev/mapper/ctl-data 128 0'"));
        meta = ctl_ok("message ctl-pool 0 'create_thin 3'");
        g_assert_cmpstr(meta, ==, "");
        g_free(ctl_ok("create ctl-thin --table '0 8192 thin /dev/mapper/ctl-pool 3'"));
        assert_dmsetup("table ctl-thin | cut -d' ' -f3,5", "thin 3");
        g_free(ctl_ok("remove ctl-thin"));
        g_free(ctl_ok("remove ctl-pool"));
        g_free(ctl_ok("remove ctl-meta"));
        g_free(ctl_ok("remove ctl-data"));
}

static void assert_exit(const char *out, int code) {
        g_autofree char *want = g_strdup_printf("exit=%d", code);

        if (!g_str_has_suffix(out, want))
                g_error("expected %s:\n%s", want, out);
        if (code != 0)
                assert_contains(out, "dmbusctl: ");
}

static void test_errors(void) {
        struct {
                const char *args;
                int code;
        } cases[] = {
                { "resolve no-such-device", 3 },
                { "info 250:250", 3 },
                { "create 'a/b' --table '0 8 zero'", 4 },
                { "create ctl-bad --table '0 8 zero' --table '4 8 zero'", 4 },
                { "create ctl-top --table '0 8 zero'", 5 },
                { "create ctl-bad --table '0 8 no-such-target'", 9 },
                { "message ctl-base 0 hello", 4 },
                { "create ctl-bad", 2 },
                { "frobnicate", 2 },
                { "remove", 2 },
                { "create ctl-bad --table 'zero'", 2 },
                { "message ctl-base x hello", 2 },
        };
        g_autofree char *busy = NULL, *refused = NULL;

        for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *out = run_ctl("%s", cases[i].args);
                g_test_message("dmbusctl %s -> %s", cases[i].args, out);
                assert_exit(out, cases[i].code);
        }
        /* In use: held by ctl-top. */
        busy = run_ctl("remove ctl-base");
        assert_exit(busy, 6);
        /* Not root, and polkit grants nobody anything. */
        refused = vm_sh("setpriv --reuid=nobody --regid=nogroup --clear-groups %s remove --no-ask-password ctl-susp 2>&1; echo exit=$?", ctl);
        assert_exit(refused, 7);
        assert_dmsetup("info -c --noheadings -o name ctl-susp", "ctl-susp");
}

static void test_help(void) {
        static const char *const commands[] = {
                "tree", "info", "resolve", "monitor", "create", "load", "reload", "clear", "suspend", "resume",
                "remove", "rename", "set-uuid", "message",
        };
        g_autofree char *top = ctl_ok("--help");

        for (unsigned i = 0; i < G_N_ELEMENTS(commands); i++) {
                g_autofree char *out = ctl_ok("%s --help", commands[i]);
                g_autofree char *usage = g_strdup_printf("dmbusctl %s", commands[i]);
                assert_contains(out, usage);
                assert_contains(top, commands[i]);
        }
}

static void test_monitor(void) {
        g_autofree char *log = g_strdup_printf("/run/dmbusctl-monitor-%d", getpid());
        g_autofree char *flat = NULL, *text = NULL;
        g_autofree char *path = NULL;

        for (unsigned json = 0; json <= 1; json++) {
                vm_do("%s monitor %s > %s.%u 2> %s.err & echo $! > %s.pid", ctl, json ? "--json" : "", log, json, log, log);
                g_assert_true(vm_wait(60, "grep -q Monitoring %s.err", log));
                g_free(ctl_ok("create ctl-watched --table '0 8 zero'"));
                g_free(path);
                path = object_path_of("ctl-watched");
                g_free(ctl_ok("suspend ctl-watched"));
                g_free(ctl_ok("remove ctl-watched"));
                /* The reply comes after the signals; the monitor prints each on arrival. */
                vm_do("sleep 0.5; kill $(cat %s.pid)", log);
        }
        text = vm_sh("cat %s.0", log);
        g_test_message("%s", text);
        g_autofree char *added = g_strdup_printf(" added %s ", path);
        g_autofree char *changed = g_strdup_printf(" changed %s Device ", path);
        g_autofree char *removed = g_strdup_printf(" removed %s\n", path);
        assert_contains(text, added);
        assert_contains(text, changed);
        assert_contains(text, "Suspended=yes");
        assert_contains(text, removed);

        flat = vm_sh("%s monitor < %s.1", flatten, log);
        g_autofree char *json_added = g_strdup_printf("added %s", path);
        g_autofree char *json_removed = g_strdup_printf("removed %s", path);
        assert_line(flat, json_added);
        assert_line(flat, json_removed);
}

/* GetTargets, as dmsetup targets lists them (a module loaded by another tool shows within a tick). */
static void test_targets(void) {
        g_assert_true(vm_wait(30, "test \"$(dmsetup targets | sort)\" = \"$(%s targets | sort)\"", ctl));
        g_autofree char *json = vm_sh("%s targets --json | python3 -c 'import json, sys; "
                                      "print([t[\"version\"] for t in json.load(sys.stdin) if t[\"name\"] == \"zero\"])'", ctl);
        g_autofree char *zero = vm_sh("dmsetup targets | sed -n 's/^zero *v\\([0-9]*\\)\\.\\([0-9]*\\)\\.\\([0-9]*\\)$/[[\\1, \\2, \\3]]/p'");
        g_assert_cmpstr(json, ==, zero);
}

/* The inactive slot's table (read at start, then after our Load, masked), and lvm2's split of a
 * name, in the properties and in tree. */
static void test_inactive_table_and_lvm(void) {
        g_autofree char *inactive = object_path_of("ctl-inact");
        g_autofree char *loop = vm_sh("lsblk -dno MAJ:MIN %s | tr -d ' '", loops[2]);
        g_autofree char *want = g_strdup_printf("0 2048 crypt aes-xts-plain64 <masked> 0 %s 0|", loop);
        g_autoptr(GVariant) at_start = vm_get_property(inactive, DMBUS_DEVICE_INTERFACE, "InactiveTableRows", "a(ttss)");
        g_autofree char *text = vm_bus_targets(at_start), *dmsetup = vm_dmsetup_targets("table --inactive", "ctl-inact");

        g_assert_cmpstr(text, ==, dmsetup);
        g_free(ctl_ok("load ctl-inact --table '0 2048 crypt aes-xts-plain64 %s 0 %s 0'",
                      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", loops[2]));
        g_autoptr(GVariant) loaded = vm_get_property(inactive, DMBUS_DEVICE_INTERFACE, "InactiveTableRows", "a(ttss)");
        g_autofree char *masked = vm_bus_targets(loaded);
        g_assert_cmpstr(masked, ==, want);
        g_free(ctl_ok("clear ctl-inact"));
        g_autoptr(GVariant) cleared = vm_get_property(inactive, DMBUS_DEVICE_INTERFACE, "InactiveTableRows", "a(ttss)");
        g_assert_cmpuint(g_variant_n_children(cleared), ==, 0);
        vm_do("dmsetup load ctl-inact --table '0 4096 zero'");

        /* lvm2's: "my--vg-thin--pool_tdata" is VG my-vg, LV thin-pool_tdata; one with a layer. */
        vm_do("dmsetup create my--vg-root-real -u LVM-ctlrealxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-real --table '0 8 zero'");
        g_assert_true(vm_wait(30, "%s tree | grep -q 'my--vg-root-real .* lvm my-vg/root$'", ctl));
        g_autofree char *lvm = object_path_of("my--vg-root-real");
        g_autoptr(GVariant) vg = vm_get_property(lvm, DMBUS_DEVICE_INTERFACE, "LvmVolumeGroup", "s");
        g_autoptr(GVariant) lv = vm_get_property(lvm, DMBUS_DEVICE_INTERFACE, "LvmLogicalVolume", "s");
        g_autoptr(GVariant) layer = vm_get_property(lvm, DMBUS_DEVICE_INTERFACE, "LvmLayer", "s");
        g_assert_cmpstr(g_variant_get_string(vg, NULL), ==, "my-vg");
        g_assert_cmpstr(g_variant_get_string(lv, NULL), ==, "root");
        g_assert_cmpstr(g_variant_get_string(layer, NULL), ==, "real");
        /* Not lvm2's: nothing, whatever the name. */
        g_autoptr(GVariant) none = vm_get_property(inactive, DMBUS_DEVICE_INTERFACE, "LvmVolumeGroup", "s");
        g_assert_cmpstr(g_variant_get_string(none, NULL), ==, "");
        vm_do("dmsetup remove my--vg-root-real");
}

/* A stack shown in both formats create-stack reads, and made again from each: the same tables. */
static void test_show_and_concise(void) {
        g_autofree char *concise = NULL, *own = NULL, *again = NULL, *warned = NULL;

        /* dmsetup's concise format in, with an escaped ',' in a UUID. */
        g_free(ctl_ok("create-stack --file - <<'EOF'\n"
                      "ctl-low,DMBUS-CTL-low\\,1,,rw,0 2048 linear %s 0,2048 2048 zero;"
                      "ctl-high,,,ro,0 4096 linear /dev/mapper/ctl-low 0\n"
                      "EOF", loops[2]));
        assert_dmsetup("info -c --noheadings -o uuid --manglename none ctl-low", "DMBUS-CTL-low,1");
        assert_dmsetup("info ctl-high | sed -n 's/^State: *//p'", "ACTIVE (READ-ONLY)");
        g_autofree char *loop = vm_sh("lsblk -dno MAJ:MIN %s | tr -d ' '", loops[2]);
        g_autofree char *want = g_strdup_printf("ctl-low,DMBUS-CTL-low\\,1,,rw,0 2048 linear %s 0,2048 2048 zero;"
                                                "ctl-high,,,ro,0 4096 linear /dev/mapper/ctl-low 0", loop);
        concise = ctl_ok("show --concise ctl-high");
        g_assert_cmpstr(concise, ==, want);
        own = ctl_ok("show ctl-high");
        g_free(ctl_ok("remove --stack ctl-low"));

        /* Each made again from what show printed. */
        g_free(ctl_ok("create-stack --file - <<'EOF'\n%s\nEOF", concise));
        again = ctl_ok("show --concise ctl-high");
        g_assert_cmpstr(again, ==, want);
        g_free(ctl_ok("remove --stack ctl-low"));
        g_free(ctl_ok("create-stack --file - <<'EOF'\n%s\nEOF", own));
        g_free(again);
        again = ctl_ok("show --concise ctl-high");
        g_assert_cmpstr(again, ==, want);
        g_free(ctl_ok("remove --stack ctl-low"));

        /* A key is shown masked, and said so. */
        g_free(ctl_ok("create ctl-key --table '0 2048 crypt aes-xts-plain64 %s 0 %s 0'",
                      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", loops[2]));
        warned = run_ctl("show --concise ctl-key");
        assert_contains(warned, "<masked>");
        assert_contains(warned, "hold a key shown as <masked>");
        g_free(ctl_ok("remove ctl-key"));
}

/* suspend --lease: the command stays while the lease runs and ends with it, the device resumed;
 * stopped, it ends the lease at once (SIGTERM here: a non-interactive shell starts a background
 * command with SIGINT ignored). */
static void test_suspend_lease(void) {
        g_autofree char *out = NULL, *state = NULL;

        vm_do("dmsetup create ctl-lease --table '0 2048 zero'");
        /* A hang would be this test's failure, not the guest's. */
        out = vm_sh("timeout 60 %s suspend --lease=2 ctl-lease 2>&1; echo exit=$?", ctl);
        if (!strstr(out, "exit=0")) {
                g_autofree char *log = vm_daemon_log(daemon_under_test);
                g_error("suspend --lease=2 said:\n%s\nthe service's log:\n%s", out, log);
        }
        assert_contains(out, "Suspended until ");
        state = vm_sh("dmsetup info ctl-lease | sed -n 's/^State: *//p'");
        g_assert_cmpstr(state, ==, "ACTIVE");
        vm_do("%s suspend --lease=600 ctl-lease & pid=$!; "
              "until dmsetup info ctl-lease | grep -q SUSPENDED; do sleep 0.1; done; kill -TERM $pid; wait $pid || true", ctl);
        g_assert_true(vm_wait(60, "dmsetup info ctl-lease | grep -q '^State: *ACTIVE'"));
        g_free(out);
        out = run_ctl("suspend --lease=0 ctl-lease");
        assert_contains(out, "--lease takes whole seconds from 1 to 86400");
        assert_contains(out, "exit=2");
        vm_do("dmsetup remove ctl-lease");
}

/* WaitForDevice through dmbusctl wait: a device another tool makes 2 s after the call, by name
 * and by UUID; one already active; gone; a timeout; a state that is none. */
static void test_wait(void) {
        g_autofree char *present = NULL, *by_uuid = NULL, *active = NULL, *gone = NULL, *timeout = NULL, *bad = NULL;

        present = vm_sh("(sleep 2; dmsetup create ctl-later -u DMBUS-CTL-later2 --table '0 8 zero') & "
                        "%s wait ctl-later && test -e /dev/mapper/ctl-later && echo linked", ctl);
        g_autofree char *path = object_path_of("ctl-later");
        g_autofree char *want = g_strdup_printf("%s\nlinked", path);
        g_assert_cmpstr(present, ==, want);
        by_uuid = ctl_ok("wait --state active DMBUS-CTL-later2");
        g_assert_cmpstr(by_uuid, ==, path);
        active = ctl_ok("wait --state=active /dev/mapper/ctl-later");
        g_assert_cmpstr(active, ==, path);
        gone = vm_sh("(sleep 2; dmsetup remove ctl-later) & %s wait --state gone /dev/mapper/ctl-later && "
                     "test ! -e /dev/mapper/ctl-later && echo unlinked", ctl);
        g_assert_cmpstr(gone, ==, "/\nunlinked");
        timeout = run_ctl("wait --timeout 1 ctl-never");
        assert_contains(timeout, "ctl-never was not present within 1000 ms.");
        assert_exit(timeout, 8);
        bad = run_ctl("wait --state sideways ctl-never");
        assert_contains(bad, "not \"sideways\"");
        assert_exit(bad, 4);
}

static void set_up(void) {
        ctl = g_getenv("DMBUSCTL");
        flatten = g_getenv("DMBUS_CTL_JSON_FLATTEN");
        g_assert_nonnull(ctl);
        g_assert_nonnull(flatten);
        build_stack();
}

static void add_cases(void) {
        g_test_add_func("/ctl/tree", test_tree);
        g_test_add_func("/ctl/tree-json", test_tree_json);
        g_test_add_func("/ctl/tree-dot", test_tree_dot);
        g_test_add_func("/ctl/info-and-resolve", test_info_and_resolve);
        g_test_add_func("/ctl/operations", test_operations);
        g_test_add_func("/ctl/message", test_message);
        g_test_add_func("/ctl/errors", test_errors);
        g_test_add_func("/ctl/help", test_help);
        g_test_add_func("/ctl/monitor", test_monitor);
        g_test_add_func("/ctl/targets", test_targets);
        g_test_add_func("/ctl/inactive-table-and-lvm", test_inactive_table_and_lvm);
        g_test_add_func("/ctl/show-and-concise", test_show_and_concise);
        g_test_add_func("/ctl/wait", test_wait);
        g_test_add_func("/ctl/suspend-lease", test_suspend_lease);
}

static void tear_down(void) {
        vm_do("dmsetup remove ctl-top ctl-base ctl-inact && dmsetup resume ctl-susp && dmsetup remove ctl-susp");
        for (unsigned i = 0; i < G_N_ELEMENTS(loops); i++)
                vm_loop_free(loops[i]);
}

int main(int argc, char *argv[]) {
        return vm_suite_run(argc, argv, &(VmSuite) { .set_up = set_up, .add_cases = add_cases, .tear_down = tear_down },
                            &daemon_under_test);
}
