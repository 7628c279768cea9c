/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

typedef struct Entry {
        union {
                const char *string;
                uint64_t u64;
        } key;
        void *value;            /* NULL marks a free slot */
        uint64_t hash;
} Entry;

struct Hashmap {
        HashmapKeyType type;
        Entry *entries;
        size_t n_buckets;       /* a power of two, or 0 */
        size_t n_entries;
};

#define MIN_BUCKETS 16

static uint64_t hash_string(const char *s) {
        /* FNV-1a, then a final mix so that low bits depend on the whole string. */
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * UINT64_C(0x100000001b3);
        h ^= h >> 32;
        return h;
}

static uint64_t hash_u64(uint64_t x) {
        /* splitmix64's finalizer */
        x ^= x >> 30;
        x *= UINT64_C(0xbf58476d1ce4e5b9);
        x ^= x >> 27;
        x *= UINT64_C(0x94d049bb133111eb);
        x ^= x >> 31;
        return x;
}

Hashmap *hashmap_new(HashmapKeyType type) {
        Hashmap *h = calloc(1, sizeof(Hashmap));

        if (h)
                h->type = type;
        return h;
}

Hashmap *hashmap_free(Hashmap *h) {
        if (h) {
                free(h->entries);
                free(h);
        }
        return NULL;
}

static bool key_equal(const Hashmap *h, const Entry *e, uint64_t hash, const char *string, uint64_t u64) {
        if (e->hash != hash)
                return false;
        return h->type == HASHMAP_KEY_STRING ? strcmp(e->key.string, string) == 0 : e->key.u64 == u64;
}

static Entry *find(const Hashmap *h, uint64_t hash, const char *string, uint64_t u64) {
        assert(h);
        assert(h->type == HASHMAP_KEY_U64 || string);

        if (h->n_buckets == 0)
                return NULL;

        for (size_t i = hash & (h->n_buckets - 1);; i = (i + 1) & (h->n_buckets - 1)) {
                Entry *e = &h->entries[i];

                if (!e->value)
                        return NULL;
                if (key_equal(h, e, hash, string, u64))
                        return e;
        }
}

static void insert_new(Entry *entries, size_t n_buckets, const Entry *entry) {
        size_t i = entry->hash & (n_buckets - 1);

        while (entries[i].value)
                i = (i + 1) & (n_buckets - 1);
        entries[i] = *entry;
}

static int resize(Hashmap *h, size_t n_buckets) {
        Entry *entries = calloc(n_buckets, sizeof(Entry));

        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_buckets; i++)
                if (h->entries[i].value)
                        insert_new(entries, n_buckets, &h->entries[i]);
        free(h->entries);
        h->entries = entries;
        h->n_buckets = n_buckets;
        return 0;
}

static int put(Hashmap *h, uint64_t hash, const char *string, uint64_t u64, void *value) {
        Entry *e;
        int r;

        assert(h);
        assert(h->type == HASHMAP_KEY_U64 || string);

        if (!value)
                return -EINVAL;

        e = find(h, hash, string, u64);
        if (e) {
                e->value = value;
                if (h->type == HASHMAP_KEY_STRING)
                        e->key.string = string;
                return 0;
        }

        /* Keeps the load at or below 3/4, where linear probing stays short. */
        if ((h->n_entries + 1) * 4 > h->n_buckets * 3) {
                r = resize(h, h->n_buckets ? h->n_buckets * 2 : MIN_BUCKETS);
                if (r < 0)
                        return r;
        }

        Entry entry = { .hash = hash, .value = value };
        if (h->type == HASHMAP_KEY_STRING)
                entry.key.string = string;
        else
                entry.key.u64 = u64;
        insert_new(h->entries, h->n_buckets, &entry);
        h->n_entries++;
        return 0;
}

static void *remove_entry(Hashmap *h, Entry *e) {
        size_t mask = h->n_buckets - 1, hole = e - h->entries;
        void *value = e->value;

        /* Backward-shift: move later members of the probe run into the hole, so that no
         * lookup ever stops early at it. */
        for (size_t i = (hole + 1) & mask; h->entries[i].value; i = (i + 1) & mask) {
                size_t home = h->entries[i].hash & mask;

                /* Can the entry at i move to hole? Only if hole lies in [home, i] cyclically. */
                if (((i - home) & mask) >= ((i - hole) & mask)) {
                        h->entries[hole] = h->entries[i];
                        hole = i;
                }
        }
        h->entries[hole] = (Entry) {};
        h->n_entries--;
        return value;
}

int hashmap_put_string(Hashmap *h, const char *key, void *value) {
        return put(h, hash_string(key), key, 0, value);
}

int hashmap_put_u64(Hashmap *h, uint64_t key, void *value) {
        return put(h, hash_u64(key), NULL, key, value);
}

void *hashmap_get_string(const Hashmap *h, const char *key) {
        Entry *e = find(h, hash_string(key), key, 0);
        return e ? e->value : NULL;
}

void *hashmap_get_u64(const Hashmap *h, uint64_t key) {
        Entry *e = find(h, hash_u64(key), NULL, key);
        return e ? e->value : NULL;
}

void *hashmap_remove_string(Hashmap *h, const char *key) {
        Entry *e = find(h, hash_string(key), key, 0);
        return e ? remove_entry(h, e) : NULL;
}

void *hashmap_remove_u64(Hashmap *h, uint64_t key) {
        Entry *e = find(h, hash_u64(key), NULL, key);
        return e ? remove_entry(h, e) : NULL;
}

size_t hashmap_size(const Hashmap *h) {
        assert(h);

        return h->n_entries;
}

bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_value) {
        assert(h);
        assert(state);
        assert(ret_value);

        for (; *state < h->n_buckets; (*state)++)
                if (h->entries[*state].value) {
                        *ret_value = h->entries[(*state)++].value;
                        return true;
                }
        return false;
}
