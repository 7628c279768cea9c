/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hashmap.h"

/* A set of dev_t with O(1) membership, kept in insertion order. Zero-initialized is empty. */
typedef struct DevSet {
        Hashmap *index;
        dev_t *items;
        size_t n, allocated;
} DevSet;

void devset_done(DevSet *s);
bool devset_contains(const DevSet *s, dev_t devnum);
/* 1 if added, 0 if already there, -ENOMEM. */
int devset_add(DevSet *s, dev_t devnum);
