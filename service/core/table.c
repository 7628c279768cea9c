/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/param.h>
#include <sys/sysmacros.h>

#include "hashmap.h"
#include "strv.h"
#include "table.h"
#include "validate.h"

static bool is_type_character(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

const char *table_row_invalid_reason(const DmTableRow *row, size_t i, uint64_t expected_start, char *buf, size_t size) {
        size_t type_len = strlen(row->type);

        if (row->start != expected_start) {
                if (i == 0)
                        snprintf(buf, size, "The first row of the table must start at sector 0, not %" PRIu64 ".", row->start);
                else if (row->start > expected_start)
                        snprintf(buf, size, "Row %zu starts at sector %" PRIu64 ", leaving a gap after sector %" PRIu64 ".",
                                 i + 1, row->start, expected_start);
                else
                        snprintf(buf, size, "Row %zu starts at sector %" PRIu64 ", overlapping the row before, which ends at %" PRIu64 ".",
                                 i + 1, row->start, expected_start);
                return buf;
        }
        if (row->length == 0) {
                snprintf(buf, size, "Row %zu has length 0.", i + 1);
                return buf;
        }
        if (row->length > UINT64_MAX - row->start) {
                snprintf(buf, size, "Row %zu runs past the largest sector number.", i + 1);
                return buf;
        }
        if (type_len == 0 || type_len > TARGET_TYPE_MAX) {
                snprintf(buf, size, "Row %zu: a target type is 1 to %d characters long.", i + 1, TARGET_TYPE_MAX);
                return buf;
        }
        for (const char *c = row->type; *c; c++)
                if (!is_type_character(*c)) {
                        snprintf(buf, size, "Row %zu: a target type is made of letters, digits, '-' and '_'.", i + 1);
                        return buf;
                }
        if (strlen(row->params) > TABLE_PARAMS_MAX) {
                snprintf(buf, size, "Row %zu: parameters are at most %d bytes long.", i + 1, TABLE_PARAMS_MAX);
                return buf;
        }
        if (string_has_control_characters(row->params)) {
                snprintf(buf, size, "Row %zu: parameters cannot contain control characters (newlines, tabs).", i + 1);
                return buf;
        }
        return NULL;
}

const char *table_invalid_reason(const DmTableRow *rows, size_t n, char *buf, size_t size) {
        uint64_t next = 0;
        size_t text = 0;

        assert(rows || n == 0);
        assert(buf);

        if (n == 0)
                return "The table is empty: give at least one row.";
        if (n > TABLE_ROWS_MAX) {
                snprintf(buf, size, "The table has %zu rows; at most %d are accepted.", n, TABLE_ROWS_MAX);
                return buf;
        }
        for (size_t i = 0; i < n; i++) {
                const char *reason = table_row_invalid_reason(&rows[i], i, next, buf, size);

                if (reason)
                        return reason;
                next = rows[i].start + rows[i].length;
                text += strlen(rows[i].type) + strlen(rows[i].params);
                if (text > TABLE_TEXT_MAX) {
                        snprintf(buf, size, "The table's types and parameters add up to more than %d bytes.", TABLE_TEXT_MAX);
                        return buf;
                }
        }
        return NULL;
}

/* "MAJOR:MINOR" in decimal: 1 if it is one within the kernel's range, 0 if it is no dev_t at all,
 * -EINVAL if it is one out of range. */
static int devnum_token(const char *s, size_t len) {
        uint64_t maj = 0, min = 0, *v = &maj;
        size_t colon = 0;

        for (size_t i = 0; i < len; i++) {
                if (s[i] == ':') {
                        if (colon || i == 0)
                                return 0;
                        colon = i;
                        v = &min;
                } else if (s[i] < '0' || s[i] > '9')
                        return 0;
                else if (*v <= UINT32_MAX)
                        *v = *v * 10 + (uint64_t) (s[i] - '0');
        }
        if (colon == 0 || colon == len - 1)
                return 0;
        return maj <= UINT32_MAX && min <= UINT32_MAX && !devnum_invalid_reason(maj, min) ? 1 : -EINVAL;
}

typedef struct References {
        Hashmap *set;           /* the distinct tokens, keys owned by list */
        char **list;
        size_t n;
        char token[TABLE_PARAMS_MAX + 1];
} References;

/* One token of the parameters, a reference or not. Most are repeats or not references at all:
 * those cost a scan and, for a reference, one lookup, with nothing allocated. */
static int collect_token(References *refs, const char *p, size_t len, char *buf, size_t size) {
        int r = p[0] == '/' ? 1 : devnum_token(p, len);

        /* The kernel would resolve "dev/../run/x" or "proc/self/fd/3" from / (lookup_bdev): a
         * path is one beneath /dev, whole. */
        if (r == 0 && memchr(p, '/', len)) {
                snprintf(buf, size, "The table names \"%.*s\": a device is MAJOR:MINOR or a path that starts with /dev/.",
                         (int) MIN(len, (size_t) 64), p);
                return -EINVAL;
        }
        if (r == 0)
                return 0;
        memcpy(refs->token, p, len);
        refs->token[len] = 0;
        if (r < 0 || (p[0] == '/' && path_invalid_reason(refs->token))) {
                snprintf(buf, size, "The table names the device \"%.64s\", which is neither MAJOR:MINOR in range nor a path under /dev.",
                         refs->token);
                return -EINVAL;
        }
        if (hashmap_get_string(refs->set, refs->token))
                return 0;
        if (refs->n == TABLE_REFERENCES_MAX) {
                snprintf(buf, size, "The table names more than %d distinct devices.", TABLE_REFERENCES_MAX);
                return -E2BIG;
        }
        if (strv_extend(&refs->list, refs->token) < 0)
                return -ENOMEM;
        refs->n++;
        return hashmap_put_string(refs->set, refs->list[refs->n - 1], (void *) 1);
}

int table_collect_references(const DmTableRow *rows, size_t n, char ***ret, char *buf, size_t size) {
        _cleanup_(freep) References *refs = NULL;
        int r = 0;

        assert(rows || n == 0);
        assert(ret);
        assert(buf);

        refs = calloc(1, sizeof(References));
        if (!refs || !(refs->set = hashmap_new(HASHMAP_KEY_STRING)))
                r = -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++)
                for (const char *p = rows[i].params, *end; *p && r >= 0; p = end) {
                        while (*p == ' ')
                                p++;
                        for (end = p; *end && *end != ' '; end++)
                                ;
                        if (end > p)
                                r = collect_token(refs, p, end - p, buf, size);
                }
        if (refs)
                hashmap_free(refs->set);
        if (r < 0) {
                if (refs)
                        strv_free(refs->list);
                return r;
        }
        *ret = refs->list;
        return 0;
}

int table_substitute_paths(DmTableRow *rows, size_t n, char *const *paths, const dev_t *devnums, char ***ret_owned) {
        _cleanup_(hashmap_freep) Hashmap *index = hashmap_new(HASHMAP_KEY_STRING);
        char token[TABLE_PARAMS_MAX + 1];
        int r;

        assert(rows || n == 0);
        assert(ret_owned);

        if (!index)
                return -ENOMEM;
        for (size_t i = 0; paths && paths[i]; i++)
                if (paths[i][0] == '/' && hashmap_put_string(index, paths[i], (void *) &devnums[i]) < 0)
                        return -ENOMEM;
        if (hashmap_size(index) == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                /* A path is at least "/dev/x", six bytes; "4095:1048575" twelve at most. */
                size_t length = strlen(rows[i].params);
                _cleanup_(freep) char *params = malloc(length * 3 + 1);
                bool changed = false;
                char *out = params;

                if (!params)
                        return -ENOMEM;
                for (const char *p = rows[i].params, *end; *p; p = end) {
                        const dev_t *devnum = NULL;

                        for (end = p; *end == ' '; end++)
                                *out++ = ' ';
                        p = end;
                        for (; *end && *end != ' '; end++)
                                ;
                        if (end > p && p[0] == '/') {
                                memcpy(token, p, end - p);
                                token[end - p] = 0;
                                devnum = hashmap_get_string(index, token);
                        }
                        if (devnum) {
                                out += sprintf(out, "%u:%u", major(*devnum), minor(*devnum));
                                changed = true;
                        } else {
                                memcpy(out, p, end - p);
                                out += end - p;
                        }
                }
                *out = 0;
                if (!changed) {
                        explicit_bzero(params, length * 3 + 1);
                        continue;
                }
                r = strv_extend(ret_owned, params);
                explicit_bzero(params, length * 3 + 1);
                if (r < 0)
                        return r;
                rows[i].params = (*ret_owned)[strv_length(*ret_owned) - 1];
        }
        return 0;
}

const char *target_message_invalid_reason(const char *message) {
        assert(message);

        if (message[0] == 0)
                return "The message is empty.";
        if (strlen(message) > TARGET_MESSAGE_MAX)
                return "A target message is at most 4096 bytes long.";
        if (string_has_control_characters(message))
                return "A target message cannot contain control characters.";
        return NULL;
}
