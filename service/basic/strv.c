/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        for (char **i = l; i && *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t i;

        for (i = 0; a && a[i]; i++)
                if (!b || !b[i] || strcmp(a[i], b[i]) != 0)
                        return false;
        return !b || !b[i];
}

int strv_extend(char ***l, const char *s) {
        char **grown, *copy;
        size_t n;

        assert(l);
        assert(s);

        n = strv_length(*l);

        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        grown = realloc(*l, sizeof(char *) * (n + 2));
        if (!grown) {
                free(copy);
                return -ENOMEM;
        }
        grown[n] = copy;
        grown[n + 1] = NULL;
        *l = grown;
        return 0;
}
