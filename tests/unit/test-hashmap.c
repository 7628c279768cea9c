/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "hashmap.h"

static void test_u64_put_get_remove(void) {
        Hashmap *h = hashmap_new(HASHMAP_KEY_U64);
        static int values[5000];

        for (uint64_t i = 0; i < G_N_ELEMENTS(values); i++)
                g_assert_cmpint(hashmap_put_u64(h, i * 4096, &values[i]), ==, 0);
        g_assert_cmpuint(hashmap_size(h), ==, G_N_ELEMENTS(values));
        for (uint64_t i = 0; i < G_N_ELEMENTS(values); i++)
                g_assert_true(hashmap_get_u64(h, i * 4096) == &values[i]);
        g_assert_null(hashmap_get_u64(h, 1));

        /* Remove every other one: the rest must stay reachable past the holes. */
        for (uint64_t i = 0; i < G_N_ELEMENTS(values); i += 2)
                g_assert_true(hashmap_remove_u64(h, i * 4096) == &values[i]);
        for (uint64_t i = 0; i < G_N_ELEMENTS(values); i++)
                g_assert_true(hashmap_get_u64(h, i * 4096) == (i % 2 ? &values[i] : NULL));
        g_assert_cmpuint(hashmap_size(h), ==, G_N_ELEMENTS(values) / 2);
        g_assert_null(hashmap_remove_u64(h, 0));
        hashmap_free(h);
}

static void test_string_replace_and_iterate(void) {
        Hashmap *h = hashmap_new(HASHMAP_KEY_STRING);
        int a, b, c;
        size_t n = 0;
        void *v;

        g_assert_cmpint(hashmap_put_string(h, "vg-root", &a), ==, 0);
        g_assert_cmpint(hashmap_put_string(h, "vg-swap", &b), ==, 0);
        g_assert_cmpint(hashmap_put_string(h, "vg-root", &c), ==, 0);
        g_assert_cmpuint(hashmap_size(h), ==, 2);
        g_assert_true(hashmap_get_string(h, "vg-root") == &c);
        g_assert_null(hashmap_get_string(h, "vg-home"));
        for (size_t i = 0; hashmap_iterate(h, &i, &v);)
                n++;
        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpint(hashmap_put_string(h, "x", NULL), <, 0);
        hashmap_free(h);
}

static void test_random_against_reference(void) {
        /* Random puts and removes, checked against GHashTable. */
        Hashmap *h = hashmap_new(HASHMAP_KEY_U64);
        GHashTable *ref = g_hash_table_new(g_int64_hash, g_int64_equal);
        static gint64 keys[512];
        GRand *rand = g_rand_new_with_seed(42);

        for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
                keys[i] = i * 7919;
        for (unsigned round = 0; round < 100000; round++) {
                gint64 *k = &keys[g_rand_int_range(rand, 0, G_N_ELEMENTS(keys))];

                if (g_rand_boolean(rand)) {
                        g_assert_cmpint(hashmap_put_u64(h, *k, k), ==, 0);
                        g_hash_table_insert(ref, k, k);
                } else {
                        g_assert_true(hashmap_remove_u64(h, *k) == g_hash_table_lookup(ref, k));
                        g_hash_table_remove(ref, k);
                }
        }
        g_assert_cmpuint(hashmap_size(h), ==, g_hash_table_size(ref));
        for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
                g_assert_true(hashmap_get_u64(h, keys[i]) == g_hash_table_lookup(ref, &keys[i]));
        g_rand_free(rand);
        g_hash_table_unref(ref);
        hashmap_free(h);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/hashmap/u64-put-get-remove", test_u64_put_get_remove);
        g_test_add_func("/hashmap/string-replace-and-iterate", test_string_replace_and_iterate);
        g_test_add_func("/hashmap/random-against-reference", test_random_against_reference);
        return g_test_run();
}
