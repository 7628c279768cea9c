/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"

int greedy_realloc(void **p, size_t *allocated, size_t need, size_t size) {
        size_t n;
        void *q;

        assert(p);
        assert(allocated);
        assert(size > 0);

        if (need <= *allocated)
                return 0;
        if (need > SIZE_MAX / 2 / size)
                return -ENOMEM;
        n = need < 8 ? 8 : need * 2;
        q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *allocated = n;
        return 0;
}

int free_and_strdup(char **p, const char *s) {
        char *copy;

        assert(p);
        assert(s);

        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*p);
        *p = copy;
        return 0;
}
