/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "secret-mask.h"

/* "name:alg:key" → "name:alg:<masked>"; an option without a key stays as it is. */
static bool mask_after_second_colon(const char *word, size_t len, char **out) {
        const char *first = memchr(word, ':', len), *second;

        if (!first)
                return false;
        second = memchr(first + 1, ':', len - (first + 1 - word));
        if (!second)
                return false;
        memcpy(*out, word, second + 1 - word);
        *out += second + 1 - word;
        *out = stpcpy(*out, SECRET_MASK);
        return true;
}

static bool has_prefix(const char *word, size_t len, const char *prefix) {
        size_t n = strlen(prefix);

        return len >= n && memcmp(word, prefix, n) == 0;
}

char *secret_mask_params(const char *target_type, const char *params) {
        bool crypt = strcmp(target_type, "crypt") == 0;
        bool integrity = strcmp(target_type, "integrity") == 0;
        bool verity = strcmp(target_type, "verity") == 0;
        bool mask_next = false;
        size_t index = 0;
        char *result, *out;

        assert(target_type);
        assert(params);

        /* Each mask adds at most its own length, and masked words are longer than it or come
         * once per table, so twice the input is room enough. */
        result = malloc(strlen(params) * 2 + sizeof(SECRET_MASK) + 1);
        if (!result)
                return NULL;
        out = result;

        for (const char *p = params; *p;) {
                size_t len = strcspn(p, " ");

                if ((crypt && index == 1) || mask_next) {
                        out = stpcpy(out, SECRET_MASK);
                        mask_next = false;
                } else if (!(integrity && (has_prefix(p, len, "internal_hash:") ||
                                           has_prefix(p, len, "journal_crypt:") ||
                                           has_prefix(p, len, "journal_mac:")) &&
                             mask_after_second_colon(p, len, &out))) {
                        memcpy(out, p, len);
                        out += len;
                }
                if (verity && len == strlen("root_hash_sig_key_desc") && has_prefix(p, len, "root_hash_sig_key_desc"))
                        mask_next = true;

                p += len;
                while (*p == ' ')
                        *out++ = *p++;
                index++;
        }
        *out = 0;
        return result;
}
