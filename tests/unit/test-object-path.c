/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/sysmacros.h>

#include <glib.h>

#include "object-path.h"

static void test_round_trip(void) {
        const dev_t devnums[] = { makedev(254, 0), makedev(7, 12), makedev(4095, (1u << 20) - 1), makedev(8, 1) };
        char buf[BLOCK_OBJECT_PATH_MAX];

        for (size_t i = 0; i < G_N_ELEMENTS(devnums); i++) {
                dev_t parsed = 0;

                g_assert_cmpint(block_object_path_parse(block_object_path(devnums[i], buf), &parsed), ==, 0);
                g_assert_true(parsed == devnums[i]);
        }
        g_assert_cmpstr(block_object_path(makedev(254, 3), buf), ==, "/org/dmbus/DeviceMapper1/block/254_3");
}

static void test_strict(void) {
        static const char *const bad[] = {
                "/org/dmbus/DeviceMapper1/block/254_4294967296",        /* wraps to 254:0 with %u */
                "/org/dmbus/DeviceMapper1/block/254_99999999999",
                "/org/dmbus/DeviceMapper1/block/254_1048576",           /* minor out of the kernel's range */
                "/org/dmbus/DeviceMapper1/block/4096_0",
                "/org/dmbus/DeviceMapper1/block/0_0",
                "/org/dmbus/DeviceMapper1/block/0254_0",
                "/org/dmbus/DeviceMapper1/block/254_00",
                "/org/dmbus/DeviceMapper1/block/254_",
                "/org/dmbus/DeviceMapper1/block/_0",
                "/org/dmbus/DeviceMapper1/block/+254_0",
                "/org/dmbus/DeviceMapper1/block/254_0/x",
                "/org/dmbus/DeviceMapper1/block/254_0_1",
                "/org/dmbus/DeviceMapper1/block/254",
                "/org/dmbus/DeviceMapper1/block/",
                "/org/dmbus/DeviceMapper1/blocks/254_0",
                "/org/dmbus/DeviceMapper1/Manager",
                "",
        };
        dev_t parsed;

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_test_message("%s", bad[i]);
                g_assert_cmpint(block_object_path_parse(bad[i], &parsed), ==, -EINVAL);
        }
        g_assert_cmpint(block_object_path_parse("/org/dmbus/DeviceMapper1/block/0_5", &parsed), ==, 0);
        g_assert_true(parsed == makedev(0, 5));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/object-path/round-trip", test_round_trip);
        g_test_add_func("/object-path/strict", test_strict);
        return g_test_run();
}
