/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "devset.h"

void devset_done(DevSet *s) {
        hashmap_free(s->index);
        free(s->items);
        *s = (DevSet) {};
}

bool devset_contains(const DevSet *s, dev_t devnum) {
        return s->index && hashmap_get_u64(s->index, devnum);
}

int devset_add(DevSet *s, dev_t devnum) {
        if (!s->index && !(s->index = hashmap_new(HASHMAP_KEY_U64)))
                return -ENOMEM;
        if (devset_contains(s, devnum))
                return 0;
        if (s->n == s->allocated) {
                size_t allocated = s->allocated ? s->allocated * 2 : 16;
                dev_t *items = realloc(s->items, allocated * sizeof(dev_t));
                if (!items)
                        return -ENOMEM;
                s->items = items;
                s->allocated = allocated;
        }
        if (hashmap_put_u64(s->index, devnum, (void *) 1) < 0)
                return -ENOMEM;
        s->items[s->n++] = devnum;
        return 1;
}
