/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "graph.h"
#include "hashmap.h"
#include "strv.h"
#include "validate.h"

/* The reverse edges of one dev_t. */
typedef struct HolderSet {
        dev_t *items;
        size_t n;
        size_t allocated;
} HolderSet;

struct Graph {
        Hashmap *by_devnum;
        Hashmap *by_name;
        Hashmap *by_uuid;
        Hashmap *holders;       /* dev_t → HolderSet */
        size_t n_dm;
};

void dm_targets_free(DmTarget *targets, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(targets[i].type);
                /* Parameters are masked, but wiping them costs nothing. */
                if (targets[i].params)
                        explicit_bzero(targets[i].params, strlen(targets[i].params));
                free(targets[i].params);
        }
        free(targets);
}

DmDevice *dm_device_free(DmDevice *d) {
        if (!d)
                return NULL;
        free(d->name);
        free(d->uuid);
        dm_targets_free(d->table, d->n_table);
        dm_targets_free(d->inactive_table, d->n_inactive_table);
        dm_targets_free(d->status, d->n_status);
        dm_status_done(&d->parsed_status);
        free(d->health_reason);
        return mfree(d);
}

BlockDevice *block_device_free(BlockDevice *d) {
        if (!d)
                return NULL;
        free(d->kernel_name);
        free(d->devnode);
        strv_free(d->symlinks);
        free(d->deps);
        dm_device_free(d->dm);
        return mfree(d);
}

const char *block_device_preferred_device(const BlockDevice *d) {
        for (char **l = d->symlinks; l && *l; l++)
                if (strncmp(*l, DM_DIR_PREFIX, strlen(DM_DIR_PREFIX)) == 0)
                        return *l;
        return d->devnode ?: "";
}

bool devnums_equal(const dev_t *a, size_t n_a, const dev_t *b, size_t n_b) {
        if (n_a != n_b)
                return false;
        for (size_t i = 0; i < n_a; i++) {
                bool found = false;
                for (size_t j = 0; j < n_b && !found; j++)
                        found = a[i] == b[j];
                if (!found)
                        return false;
        }
        return true;
}

static bool targets_equal(const DmTarget *a, size_t n_a, const DmTarget *b, size_t n_b) {
        if (n_a != n_b)
                return false;
        for (size_t i = 0; i < n_a; i++)
                if (a[i].start != b[i].start || a[i].length != b[i].length ||
                    strcmp(a[i].type, b[i].type) != 0 || strcmp(a[i].params, b[i].params) != 0)
                        return false;
        return true;
}

unsigned dm_info_diff(const DmInfo *a, const DmInfo *b) {
        unsigned changes = 0;

        assert(a);
        assert(b);

        if (a->suspended != b->suspended)
                changes |= DEVICE_CHANGE(SUSPENDED);
        if (a->live_table != b->live_table)
                changes |= DEVICE_CHANGE(LIVE_TABLE);
        if (a->inactive_table != b->inactive_table)
                changes |= DEVICE_CHANGE(INACTIVE_TABLE);
        if (a->read_only != b->read_only)
                changes |= DEVICE_CHANGE(READ_ONLY);
        if (a->open_count != b->open_count)
                changes |= DEVICE_CHANGE(OPEN_COUNT);
        if (a->event_nr != b->event_nr)
                changes |= DEVICE_CHANGE(EVENT_NUMBER);
        if (a->target_count != b->target_count)
                changes |= DEVICE_CHANGE(TARGET_COUNT);
        if (a->deferred_remove != b->deferred_remove)
                changes |= DEVICE_CHANGE(DEFERRED_REMOVE);
        return changes;
}

static unsigned dm_device_diff(const DmDevice *a, const DmDevice *b) {
        unsigned changes = dm_info_diff(&a->info, &b->info);

        if (strcmp(a->name, b->name) != 0)
                changes |= DEVICE_CHANGE(NAME) | DEVICE_LVM_CHANGES;
        if (strcmp(a->uuid, b->uuid) != 0)
                changes |= DEVICE_CHANGE(UUID) | DEVICE_CHANGE(SUBSYSTEM) | DEVICE_LVM_CHANGES;
        if (!targets_equal(a->table, a->n_table, b->table, b->n_table))
                changes |= DEVICE_CHANGE(TABLE);
        if (!targets_equal(a->inactive_table, a->n_inactive_table, b->inactive_table, b->n_inactive_table))
                changes |= DEVICE_CHANGE(INACTIVE_TABLE_ROWS);
        if (!targets_equal(a->status, a->n_status, b->status, b->n_status))
                changes |= DEVICE_CHANGE(STATUS);
        if (!dm_status_equal(&a->parsed_status, &b->parsed_status))
                changes |= DEVICE_CHANGE(PARSED_STATUS);
        if (a->target_health != b->target_health || a->suspended_too_long != b->suspended_too_long ||
            strcmp(a->health_reason ?: "", b->health_reason ?: "") != 0)
                changes |= DEVICE_CHANGE(HEALTH) | DEVICE_CHANGE(HEALTH_REASON);
        if (a->suspended_since != b->suspended_since)
                changes |= DEVICE_CHANGE(SUSPENDED_SINCE);
        return changes;
}

void block_device_diff(const BlockDevice *a, const BlockDevice *b, unsigned *ret_block, unsigned *ret_device) {
        unsigned changes = 0;

        assert(a);
        assert(b);
        assert(ret_block);
        assert(ret_device);

        if (strcmp(a->devnode, b->devnode) != 0)
                changes |= BLOCK_CHANGE(DEVICE_NODE);
        if (strcmp(block_device_preferred_device(a), block_device_preferred_device(b)) != 0)
                changes |= BLOCK_CHANGE(PREFERRED_DEVICE);
        if (a->size != b->size)
                changes |= BLOCK_CHANGE(SIZE);
        if (a->read_only != b->read_only)
                changes |= BLOCK_CHANGE(READ_ONLY);
        if (!strv_equal(a->symlinks, b->symlinks))
                changes |= BLOCK_CHANGE(SYMLINKS);
        if (!devnums_equal(a->deps, a->n_deps, b->deps, b->n_deps))
                changes |= BLOCK_CHANGE(DEPENDENCIES);
        *ret_block = changes;
        *ret_device = a->dm && b->dm ? dm_device_diff(a->dm, b->dm) : 0;
}

Graph *graph_new(void) {
        Graph *g = calloc(1, sizeof(Graph));

        if (!g)
                return NULL;
        g->by_devnum = hashmap_new(HASHMAP_KEY_U64);
        g->by_name = hashmap_new(HASHMAP_KEY_STRING);
        g->by_uuid = hashmap_new(HASHMAP_KEY_STRING);
        g->holders = hashmap_new(HASHMAP_KEY_U64);
        if (!g->by_devnum || !g->by_name || !g->by_uuid || !g->holders)
                return graph_free(g);
        return g;
}

Graph *graph_free(Graph *g) {
        BlockDevice *d;
        HolderSet *h;

        if (!g)
                return NULL;
        if (g->by_devnum)
                for (size_t i = 0; hashmap_iterate(g->by_devnum, &i, (void **) &d);)
                        block_device_free(d);
        if (g->holders)
                for (size_t i = 0; hashmap_iterate(g->holders, &i, (void **) &h);) {
                        free(h->items);
                        free(h);
                }
        hashmap_free(g->by_devnum);
        hashmap_free(g->by_name);
        hashmap_free(g->by_uuid);
        hashmap_free(g->holders);
        return mfree(g);
}

static int holder_add(Graph *g, dev_t target, dev_t holder) {
        HolderSet *h = hashmap_get_u64(g->holders, target);

        if (!h) {
                h = calloc(1, sizeof(HolderSet));
                if (!h)
                        return -ENOMEM;
                if (hashmap_put_u64(g->holders, target, h) < 0) {
                        free(h);
                        return -ENOMEM;
                }
        }
        /* Kept sorted: the order must not change while the set does not (a holder read again is
         * taken out and put back), or Holders would change without a PropertiesChanged. */
        size_t at = 0;
        while (at < h->n && h->items[at] < holder)
                at++;
        if (at < h->n && h->items[at] == holder)
                return 0;
        if (GREEDY_REALLOC(h->items, h->allocated, h->n + 1) < 0)
                return -ENOMEM;
        memmove(h->items + at + 1, h->items + at, (h->n - at) * sizeof(dev_t));
        h->items[at] = holder;
        h->n++;
        return 0;
}

static void holder_remove(Graph *g, dev_t target, dev_t holder) {
        HolderSet *h = hashmap_get_u64(g->holders, target);

        if (!h)
                return;
        for (size_t i = 0; i < h->n; i++)
                if (h->items[i] == holder) {
                        memmove(h->items + i, h->items + i + 1, (h->n - i - 1) * sizeof(dev_t));
                        h->n--;
                        break;
                }
        if (h->n == 0) {
                hashmap_remove_u64(g->holders, target);
                free(h->items);
                free(h);
        }
}

/* Drops d's entries from the name indexes and its edges from the holder sets. */
static void unindex(Graph *g, BlockDevice *d) {
        if (d->dm) {
                if (hashmap_get_string(g->by_name, d->dm->name) == d)
                        hashmap_remove_string(g->by_name, d->dm->name);
                if (d->dm->uuid[0] && hashmap_get_string(g->by_uuid, d->dm->uuid) == d)
                        hashmap_remove_string(g->by_uuid, d->dm->uuid);
                g->n_dm--;
        }
        for (size_t i = 0; i < d->n_deps; i++)
                holder_remove(g, d->deps[i], d->devnum);
}

static int index_device(Graph *g, BlockDevice *d) {
        int r;

        if (d->dm) {
                g->n_dm++;
                r = hashmap_put_string(g->by_name, d->dm->name, d);
                if (r < 0)
                        return r;
                if (d->dm->uuid[0]) {
                        r = hashmap_put_string(g->by_uuid, d->dm->uuid, d);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < d->n_deps; i++) {
                r = holder_add(g, d->deps[i], d->devnum);
                if (r < 0)
                        return r;
        }
        return 0;
}

int graph_put(Graph *g, BlockDevice *d) {
        BlockDevice *old;
        int r;

        assert(g);
        assert(d);

        old = hashmap_get_u64(g->by_devnum, d->devnum);

        if (old)
                unindex(g, old);
        r = hashmap_put_u64(g->by_devnum, d->devnum, d);
        if (r < 0) {
                block_device_free(d);
                return r;
        }
        block_device_free(old);
        return index_device(g, d);
}

bool graph_remove(Graph *g, dev_t devnum) {
        BlockDevice *d;

        assert(g);

        d = hashmap_remove_u64(g->by_devnum, devnum);

        if (!d)
                return false;
        unindex(g, d);
        block_device_free(d);
        return true;
}

BlockDevice *graph_get(const Graph *g, dev_t devnum) {
        assert(g);

        return hashmap_get_u64(g->by_devnum, devnum);
}

BlockDevice *graph_get_by_name(const Graph *g, const char *name) {
        assert(g);
        assert(name);

        return hashmap_get_string(g->by_name, name);
}

BlockDevice *graph_get_by_uuid(const Graph *g, const char *uuid) {
        assert(g);
        assert(uuid);

        return hashmap_get_string(g->by_uuid, uuid);
}

void graph_get_holders(const Graph *g, dev_t devnum, const dev_t **ret, size_t *ret_n) {
        HolderSet *h;

        assert(g);
        assert(ret);
        assert(ret_n);

        h = hashmap_get_u64(g->holders, devnum);

        *ret = h ? h->items : NULL;
        *ret_n = h ? h->n : 0;
}

typedef struct Collected {
        dev_t *items;
        size_t n, allocated;
} Collected;

static int collect_above(const Graph *g, dev_t devnum, Collected *c) {
        const dev_t *holders;
        size_t n;
        int r;

        for (size_t i = 0; i < c->n; i++)
                if (c->items[i] == devnum)
                        return 0;
        graph_get_holders(g, devnum, &holders, &n);
        for (size_t i = 0; i < n; i++) {
                const BlockDevice *holder = graph_get(g, holders[i]);

                if (holder && holder->dm) {
                        r = collect_above(g, holders[i], c);
                        if (r < 0)
                                return r;
                }
        }
        if (GREEDY_REALLOC(c->items, c->allocated, c->n + 1) < 0)
                return -ENOMEM;
        c->items[c->n++] = devnum;
        return 0;
}

int graph_collect_dm_above(const Graph *g, dev_t devnum, dev_t **ret, size_t *ret_n) {
        Collected c = {};
        int r;

        assert(g);
        assert(ret);
        assert(ret_n);

        r = collect_above(g, devnum, &c);
        if (r < 0) {
                free(c.items);
                return r;
        }
        *ret = c.items;
        *ret_n = c.n;
        return 0;
}

size_t graph_size(const Graph *g) {
        return hashmap_size(g->by_devnum);
}

size_t graph_dm_count(const Graph *g) {
        return g->n_dm;
}

bool graph_iterate(const Graph *g, size_t *state, BlockDevice **ret) {
        assert(g);

        return hashmap_iterate(g->by_devnum, state, (void **) ret);
}

static int compare_devnum(const void *a, const void *b) {
        dev_t x = (*(BlockDevice *const *) a)->devnum, y = (*(BlockDevice *const *) b)->devnum;

        return x < y ? -1 : x > y;
}

ssize_t graph_list(const Graph *g, bool dm_only, BlockDevice ***ret) {
        BlockDevice **list, *d;
        size_t n = 0;

        assert(g);
        assert(ret);

        list = malloc(sizeof(BlockDevice *) * (graph_size(g) + 1));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; graph_iterate(g, &i, &d);)
                if (!dm_only || d->dm)
                        list[n++] = d;
        qsort(list, n, sizeof(BlockDevice *), compare_devnum);
        *ret = list;
        return n;
}

size_t dm_uuid_subsystem_length(const char *uuid) {
        const char *dash;

        assert(uuid);

        dash = strchr(uuid, '-');
        return dash ? (size_t) (dash - uuid) : 0;
}
