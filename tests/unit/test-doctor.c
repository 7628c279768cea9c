/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/sysmacros.h>

#include <glib.h>

#include "doctor.h"

#define SEC UINT64_C(1000000)

static const DoctorBounds bounds = { .never_loaded_usec = 60 * SEC };

/* A live device udev went through: its three links, leading to it. */
static DoctorDevice live(unsigned minor, const char *name, const char *uuid) {
        return (DoctorDevice) { .devnum = makedev(254, minor), .name = name, .uuid = uuid, .live_table = true,
                                .udev_entry = true, .udev_primary = true };
}

static char *check_text(const DoctorDevice *devices, size_t n, const DoctorLink *links, size_t n_links, bool busy) {
        GString *s = g_string_new("");
        DoctorProblem *problems;
        size_t n_problems;

        g_assert_cmpint(doctor_check(devices, n, links, n_links, busy, &bounds, &problems, &n_problems), ==, 0);
        for (size_t i = 0; i < n_problems; i++)
                g_string_append_printf(s, "%s %u:%u %s\n", doctor_problem_kind_to_string(problems[i].kind), major(problems[i].devnum),
                                       minor(problems[i].devnum), problems[i].link ?: "-");
        doctor_problems_free(problems, n_problems);
        return g_string_free(s, false);
}

static void test_clean(void) {
        DoctorDevice d[] = { live(0, "vg-root", "LVM-x") };
        DoctorLink l[] = {
                { .path = (char *) "/dev/mapper/vg-root", .target = makedev(254, 0), .target_dm = true },
                { .path = (char *) "/dev/disk/by-id/dm-name-vg-root", .target = makedev(254, 0), .target_dm = true },
                { .path = (char *) "/dev/disk/by-id/dm-uuid-LVM-x", .target = makedev(254, 0), .target_dm = true },
        };
        g_autofree char *text = check_text(d, 1, l, 3, false);

        g_assert_cmpstr(text, ==, "");
}

/* What lost events leave: a device renamed (its old links), one made (no entry, no links), one
 * removed (links to nothing). */
static void test_lost_events(void) {
        DoctorDevice d[] = { live(1, "kept", ""), live(2, "new", "") };
        DoctorLink l[] = {
                { .path = (char *) "/dev/mapper/keep", .target = makedev(254, 1), .target_dm = true, .target_minor = 1 },
                { .path = (char *) "/dev/mapper/gone", .target = 0, .target_dm = true, .target_minor = 0 },
        };
        g_autofree char *text = NULL;
        DoctorProblem *problems;
        size_t n;
        DoctorPlan plan;

        d[1].udev_entry = d[1].udev_primary = false;
        text = check_text(d, 2, l, 2, true);
        g_assert_cmpstr(text, ==,
                        "link-missing 254:1 /dev/mapper/kept\n"
                        "link-missing 254:1 /dev/disk/by-id/dm-name-kept\n"
                        "udev-entry-missing 254:2 -\n"
                        "link-missing 254:2 /dev/mapper/new\n"
                        "link-missing 254:2 /dev/disk/by-id/dm-name-new\n"
                        "link-stale 0:0 /dev/mapper/keep\n"
                        "link-dangling 0:0 /dev/mapper/gone\n"
                        "udev-busy 0:0 -\n");

        g_assert_cmpint(doctor_check(d, 2, l, 2, false, &bounds, &problems, &n), ==, 0);
        g_assert_cmpint(doctor_plan(problems, n, d, 2, NULL, 0, 254, &plan), ==, 0);
        g_assert_cmpuint(plan.n_reannounce, ==, 2);
        g_assert_cmpuint(plan.reannounce[0], ==, makedev(254, 1));
        g_assert_cmpuint(plan.reannounce[1], ==, makedev(254, 2));
        g_assert_cmpuint(plan.n_clear_minors, ==, 1);
        g_assert_cmpuint(plan.clear_minors[0], ==, 0);
        doctor_plan_done(&plan);

        /* "/" alone: the links of no device, and the device a stale link leads to. */
        dev_t slash = 0;
        g_assert_cmpint(doctor_plan(problems, n, d, 2, &slash, 1, 254, &plan), ==, 0);
        g_assert_cmpuint(plan.n_reannounce, ==, 1);
        g_assert_cmpuint(plan.reannounce[0], ==, makedev(254, 1));
        g_assert_cmpuint(plan.n_clear_minors, ==, 1);
        doctor_plan_done(&plan);

        /* A device made since at the gone one's minor: its own event drops the links. */
        d[0].devnum = makedev(254, 0);
        l[0].target = makedev(254, 0);
        doctor_problems_free(problems, n);
        g_assert_cmpint(doctor_check(d, 2, l, 2, false, &bounds, &problems, &n), ==, 0);
        g_assert_cmpint(doctor_plan(problems, n, d, 2, NULL, 0, 254, &plan), ==, 0);
        g_assert_cmpuint(plan.n_clear_minors, ==, 0);
        g_assert_cmpuint(plan.reannounce[0], ==, makedev(254, 0));
        doctor_plan_done(&plan);
        doctor_problems_free(problems, n);
}

static void test_device_states(void) {
        DoctorDevice d[] = { live(3, "x", ""), live(4, "y", ""), live(5, "z", ""), live(6, "ro", "") };
        DoctorLink l[] = {
                { .path = (char *) "/dev/mapper/x", .target = makedev(254, 3), .target_dm = true },
                { .path = (char *) "/dev/disk/by-id/dm-name-x", .target = makedev(7, 0) },
        };
        g_autofree char *text = NULL;

        /* No table for 2 minutes; a table never resumed is not "never loaded". */
        d[1].live_table = false;
        d[1].age_usec = 120 * SEC;
        d[2].live_table = false;
        d[2].inactive_table = true;
        d[2].age_usec = 120 * SEC;
        /* Read-only by the block layer: the rules make no links. */
        d[3].read_only = true;
        /* A lost resume: the database holds the "add" of a device without a table. */
        d[0].udev_primary = false;
        d[0].deferred_remove = true;
        d[0].suspended_too_long = true;
        text = check_text(d, 4, l, 2, false);
        g_assert_cmpstr(text, ==,
                        "deferred-remove 254:3 -\n"
                        "suspended-too-long 254:3 -\n"
                        "udev-rules-disabled 254:3 -\n"
                        "link-wrong 254:3 /dev/disk/by-id/dm-name-x\n"
                        "never-loaded 254:4 -\n"
                        "link-stale 0:0 /dev/disk/by-id/dm-name-x\n");
}

/* The flags of a real event say which links the device has: lvm2's private layers have none. */
static void test_flags(void) {
        DoctorDevice d = live(7, "vg-pool_tdata", "LVM-y-tdata");
        char **links = NULL;

        d.udev_no_dm_links = d.udev_no_disk_links = true;
        g_assert_cmpint(doctor_expected_links(&d, &links), ==, 0);
        g_assert_null(links[0]);
        g_strfreev(links);
        /* Without an event through the rules, the flags are not the device's own. */
        d.udev_primary = false;
        g_assert_cmpint(doctor_expected_links(&d, &links), ==, 0);
        g_assert_cmpuint(g_strv_length(links), ==, 3);
        g_strfreev(links);
}

static void test_describe(void) {
        DoctorDevice d = live(1, "kept", "");
        DoctorProblem p = { .kind = DOCTOR_LINK_DANGLING, .link = (char *) "/dev/mapper/gone", .minor = 9 };
        g_autofree char *a = NULL, *b = NULL;

        g_assert_cmpint(doctor_problem_describe(&p, &d, 1, &a), ==, 0);
        g_assert_true(g_str_has_prefix(a, "/dev/mapper/gone leads to dm-9, which is gone"));
        p = (DoctorProblem) { .kind = DOCTOR_NEVER_LOADED, .devnum = makedev(254, 1) };
        g_assert_cmpint(doctor_problem_describe(&p, &d, 1, &b), ==, 0);
        g_assert_true(g_str_has_prefix(b, "\"kept\" (254:1) was created but has had no table"));
        g_assert_false(doctor_problem_repairable(DOCTOR_NEVER_LOADED));
        g_assert_true(doctor_problem_repairable(DOCTOR_LINK_DANGLING));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/doctor/clean", test_clean);
        g_test_add_func("/doctor/lost-events", test_lost_events);
        g_test_add_func("/doctor/device-states", test_device_states);
        g_test_add_func("/doctor/flags", test_flags);
        g_test_add_func("/doctor/describe", test_describe);
        return g_test_run();
}
