/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* An open-addressing hash table (linear probing, backward-shift deletion, no tombstones) from a
 * string or a 64-bit integer to a pointer. String keys are borrowed: they must live as long as
 * their entry, which they do when they belong to the value. */

typedef enum HashmapKeyType {
        HASHMAP_KEY_STRING,
        HASHMAP_KEY_U64,
} HashmapKeyType;

typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(HashmapKeyType type);
Hashmap *hashmap_free(Hashmap *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hashmap *, hashmap_free);

/* Inserts or replaces; returns 0, or -ENOMEM. */
int hashmap_put_string(Hashmap *h, const char *key, void *value);
int hashmap_put_u64(Hashmap *h, uint64_t key, void *value);
void *hashmap_get_string(const Hashmap *h, const char *key);
void *hashmap_get_u64(const Hashmap *h, uint64_t key);
/* Removes the entry and returns its value, or NULL. */
void *hashmap_remove_string(Hashmap *h, const char *key);
void *hashmap_remove_u64(Hashmap *h, uint64_t key);

size_t hashmap_size(const Hashmap *h);

/* for (size_t i = 0; hashmap_iterate(h, &i, &v); ) — any order; no changes while iterating. */
bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_value);
