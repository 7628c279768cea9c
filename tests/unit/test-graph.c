/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <glib.h>

#include "graph.h"

static BlockDevice *make(unsigned major, unsigned minor, const char *kernel_name, const char *dm_name,
                         const char *uuid, const dev_t *deps, size_t n_deps) {
        /* Freed by block_device_free(), which uses free(): allocated with malloc() and its kin. */
        BlockDevice *d = calloc(1, sizeof(BlockDevice));

        d->devnum = makedev(major, minor);
        d->kernel_name = strdup(kernel_name);
        g_assert_cmpint(asprintf(&d->devnode, "/dev/%s", kernel_name), >, 0);
        if (n_deps) {
                d->deps = malloc(n_deps * sizeof(dev_t));
                memcpy(d->deps, deps, n_deps * sizeof(dev_t));
                d->n_deps = n_deps;
        }
        if (dm_name) {
                d->dm = calloc(1, sizeof(DmDevice));
                d->dm->name = strdup(dm_name);
                d->dm->uuid = strdup(uuid ?: "");
        }
        return d;
}

static void assert_holders(Graph *g, dev_t devnum, size_t n, dev_t first) {
        const dev_t *holders;
        size_t n_holders;

        graph_get_holders(g, devnum, &holders, &n_holders);
        g_assert_cmpuint(n_holders, ==, n);
        if (n)
                g_assert_true(holders[0] == first);
}

static void test_lookups_and_holders(void) {
        Graph *g = graph_new();
        dev_t loop0 = makedev(7, 0), base = makedev(254, 0), top = makedev(254, 1);

        /* Put the top first: holders must not depend on the order of discovery. */
        g_assert_cmpint(graph_put(g, make(254, 1, "dm-1", "top", NULL, &base, 1)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 0, "dm-0", "base", "LVM-abc", &loop0, 1)), ==, 0);
        g_assert_cmpint(graph_put(g, make(7, 0, "loop0", NULL, NULL, NULL, 0)), ==, 0);

        g_assert_cmpuint(graph_size(g), ==, 3);
        g_assert_cmpuint(graph_dm_count(g), ==, 2);
        g_assert_true(graph_get_by_name(g, "base") == graph_get(g, base));
        g_assert_true(graph_get_by_uuid(g, "LVM-abc") == graph_get(g, base));
        g_assert_null(graph_get_by_uuid(g, ""));
        assert_holders(g, loop0, 1, base);
        assert_holders(g, base, 1, top);
        assert_holders(g, top, 0, 0);

        BlockDevice **list;
        g_assert_cmpint(graph_list(g, true, &list), ==, 2);
        g_assert_true(list[0]->devnum == base && list[1]->devnum == top);
        free(list);

        graph_free(g);
}

/* A holder read again (put back into the graph) keeps its place: Holders is sorted by dev_t. */
static void test_holders_order_stable(void) {
        Graph *g = graph_new();
        dev_t base = makedev(254, 0), low = makedev(254, 1), high = makedev(254, 2);
        const dev_t *holders;
        size_t n;

        g_assert_cmpint(graph_put(g, make(254, 2, "dm-2", "high", NULL, &base, 1)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 1, "dm-1", "low", NULL, &base, 1)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 0, "dm-0", "base", NULL, NULL, 0)), ==, 0);
        for (unsigned again = 0; again < 2; again++) {
                graph_get_holders(g, base, &holders, &n);
                g_assert_cmpuint(n, ==, 2);
                g_assert_true(holders[0] == low && holders[1] == high);
                /* The lower one read again: it must not move behind the other. */
                g_assert_cmpint(graph_put(g, make(254, 1, "dm-1", "low", NULL, &base, 1)), ==, 0);
        }
        graph_free(g);
}

static void test_rename_and_restack(void) {
        Graph *g = graph_new();
        dev_t loop0 = makedev(7, 0), loop1 = makedev(7, 1), base = makedev(254, 0);

        g_assert_cmpint(graph_put(g, make(254, 0, "dm-0", "old", "U1", &loop0, 1)), ==, 0);
        /* The same dev_t again: a rename and a reload onto another disk. */
        g_assert_cmpint(graph_put(g, make(254, 0, "dm-0", "new", "U1", &loop1, 1)), ==, 0);

        g_assert_cmpuint(graph_size(g), ==, 1);
        g_assert_cmpuint(graph_dm_count(g), ==, 1);
        g_assert_null(graph_get_by_name(g, "old"));
        g_assert_true(graph_get_by_name(g, "new") == graph_get(g, base));
        g_assert_true(graph_get_by_uuid(g, "U1") == graph_get(g, base));
        assert_holders(g, loop0, 0, 0);
        assert_holders(g, loop1, 1, base);

        g_assert_true(graph_remove(g, base));
        g_assert_false(graph_remove(g, base));
        g_assert_null(graph_get_by_name(g, "new"));
        g_assert_null(graph_get_by_uuid(g, "U1"));
        g_assert_cmpuint(graph_dm_count(g), ==, 0);
        assert_holders(g, loop1, 0, 0);
        graph_free(g);
}

static void test_name_taken_over(void) {
        /* A snapshot can see "a" renamed away and a new "a" created: the index follows the newest,
         * and removing the older device does not drop the newer one's entry. */
        Graph *g = graph_new();

        g_assert_cmpint(graph_put(g, make(254, 0, "dm-0", "a", NULL, NULL, 0)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 1, "dm-1", "a", NULL, NULL, 0)), ==, 0);
        g_assert_true(graph_remove(g, makedev(254, 0)));
        g_assert_true(graph_get_by_name(g, "a") == graph_get(g, makedev(254, 1)));
        graph_free(g);
}

static void test_preferred_device(void) {
        BlockDevice *d = make(254, 3, "dm-3", "vg-root", NULL, NULL, 0);

        g_assert_cmpstr(block_device_preferred_device(d), ==, "/dev/dm-3");
        d->symlinks = calloc(3, sizeof(char *));
        d->symlinks[0] = strdup("/dev/disk/by-id/dm-name-vg-root");
        d->symlinks[1] = strdup("/dev/mapper/vg-root");
        g_assert_cmpstr(block_device_preferred_device(d), ==, "/dev/mapper/vg-root");
        block_device_free(d);
}

static void test_diff(void) {
        dev_t loop0 = makedev(7, 0), loop1 = makedev(7, 1);
        BlockDevice *a = make(254, 0, "dm-0", "old", "U", &loop0, 1);
        BlockDevice *b = make(254, 0, "dm-0", "old", "U", &loop0, 1);
        unsigned block, device;

        block_device_diff(a, b, &block, &device);
        g_assert_cmpuint(block, ==, 0);
        g_assert_cmpuint(device, ==, 0);

        /* A rename, a suspend and a restack, as one reading after another sees them. */
        free(b->dm->name);
        b->dm->name = strdup("new");
        b->dm->info.suspended = true;
        b->deps[0] = loop1;
        b->size = 4096;
        block_device_diff(a, b, &block, &device);
        g_assert_cmpuint(block, ==, BLOCK_CHANGE(DEPENDENCIES) | BLOCK_CHANGE(SIZE));
        g_assert_cmpuint(device, ==, DEVICE_CHANGE(NAME) | DEVICE_LVM_CHANGES | DEVICE_CHANGE(SUSPENDED));

        g_assert_true(devnums_equal((dev_t[]) { loop0, loop1 }, 2, (dev_t[]) { loop1, loop0 }, 2));
        g_assert_false(devnums_equal((dev_t[]) { loop0 }, 1, (dev_t[]) { loop1 }, 1));
        block_device_free(a);
        block_device_free(b);
}

/* A diamond over a loop device, a plain device beside it: loop0 <- base <- {left, right} <- top. */
static void test_collect_dm_above(void) {
        Graph *g = graph_new();
        dev_t loop0 = makedev(7, 0), base = makedev(254, 0), left = makedev(254, 1), right = makedev(254, 2), top = makedev(254, 3);
        dev_t both[] = { left, right };
        dev_t *collected;
        size_t n;

        g_assert_cmpint(graph_put(g, make(7, 0, "loop0", NULL, NULL, NULL, 0)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 0, "dm-0", "base", NULL, &loop0, 1)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 1, "dm-1", "left", NULL, &base, 1)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 2, "dm-2", "right", NULL, &base, 1)), ==, 0);
        g_assert_cmpint(graph_put(g, make(254, 3, "dm-3", "top", NULL, both, 2)), ==, 0);

        g_assert_cmpint(graph_collect_dm_above(g, base, &collected, &n), ==, 0);
        g_assert_cmpuint(n, ==, 4);
        g_assert_true(collected[0] == top);
        g_assert_true(collected[3] == base);
        g_assert_true((collected[1] == left && collected[2] == right) || (collected[1] == right && collected[2] == left));
        free(collected);

        g_assert_cmpint(graph_collect_dm_above(g, top, &collected, &n), ==, 0);
        g_assert_cmpuint(n, ==, 1);
        g_assert_true(collected[0] == top);
        free(collected);
        graph_free(g);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/graph/lookups-and-holders", test_lookups_and_holders);
        g_test_add_func("/graph/holders-order-stable", test_holders_order_stable);
        g_test_add_func("/graph/rename-and-restack", test_rename_and_restack);
        g_test_add_func("/graph/name-taken-over", test_name_taken_over);
        g_test_add_func("/graph/preferred-device", test_preferred_device);
        g_test_add_func("/graph/diff", test_diff);
        g_test_add_func("/graph/collect-dm-above", test_collect_dm_above);
        return g_test_run();
}
