/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "alloc-util.h"
#include "devset.h"

void devset_done(DevSet *s) {
        assert(s);

        hashmap_free(s->index);
        free(s->items);
        *s = (DevSet) {};
}

bool devset_contains(const DevSet *s, dev_t devnum) {
        assert(s);

        return s->index && hashmap_get_u64(s->index, devnum);
}

int devset_add(DevSet *s, dev_t devnum) {
        assert(s);

        if (!s->index && !(s->index = hashmap_new(HASHMAP_KEY_U64)))
                return -ENOMEM;
        if (devset_contains(s, devnum))
                return 0;
        if (GREEDY_REALLOC(s->items, s->allocated, s->n + 1) < 0)
                return -ENOMEM;
        if (hashmap_put_u64(s->index, devnum, (void *) 1) < 0)
                return -ENOMEM;
        s->items[s->n++] = devnum;
        return 1;
}
