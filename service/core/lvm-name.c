/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lvm-name.h"
#include "macro.h"

/* Copies the part of the name that starts at s into out, '--' read as '-', up to a single '-' (a
 * '-' that ends the name belongs to the part). Returns where the next part starts. */
static const char *read_part(const char *s, char *out) {
        for (; *s; s++) {
                if (s[0] == '-' && s[1] != 0) {
                        if (s[1] != '-') {
                                *out = 0;
                                return s + 1;
                        }
                        s++;
                }
                *out++ = *s;
        }
        *out = 0;
        return s;
}

int lvm_name_split(const char *name, char **ret_vg, char **ret_lv, char **ret_layer) {
        size_t size = strlen(name) + 1;
        _cleanup_(freep) char *vg = malloc(size), *lv = malloc(size), *layer = malloc(size);
        const char *rest;

        assert(ret_vg);
        assert(ret_lv);
        assert(ret_layer);

        if (!vg || !lv || !layer)
                return -ENOMEM;
        rest = read_part(name, vg);
        rest = read_part(rest, lv);
        read_part(rest, layer);
        *ret_vg = TAKE_PTR(vg);
        *ret_lv = TAKE_PTR(lv);
        *ret_layer = TAKE_PTR(layer);
        return 0;
}
