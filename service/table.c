/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "validate.h"

static bool is_type_character(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static const char *row_invalid_reason(const DmTableRow *row, size_t i, uint64_t expected_start, char *buf, size_t size) {
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

        assert(rows || n == 0);
        assert(buf);

        if (n == 0)
                return "The table is empty: give at least one row.";
        if (n > TABLE_ROWS_MAX) {
                snprintf(buf, size, "The table has %zu rows; at most %d are accepted.", n, TABLE_ROWS_MAX);
                return buf;
        }
        for (size_t i = 0; i < n; i++) {
                const char *reason = row_invalid_reason(&rows[i], i, next, buf, size);

                if (reason)
                        return reason;
                next = rows[i].start + rows[i].length;
        }
        return NULL;
}

static bool is_devnum_token(const char *s, size_t len) {
        size_t colon = 0;

        for (size_t i = 0; i < len; i++) {
                if (s[i] == ':') {
                        if (colon || i == 0)
                                return false;
                        colon = i;
                } else if (s[i] < '0' || s[i] > '9')
                        return false;
        }
        return colon > 0 && colon < len - 1;
}

int table_foreach_device_reference(const DmTableRow *rows, size_t n,
                                   int (*cb)(const char *reference, void *userdata), void *userdata) {
        assert(rows || n == 0);
        assert(cb);

        for (size_t i = 0; i < n; i++)
                for (const char *p = rows[i].params; *p;) {
                        size_t len = strcspn(p, " ");

                        if (len > 0 && (is_devnum_token(p, len) || strncmp(p, "/dev/", 5) == 0)) {
                                char token[len + 1];
                                int r;

                                memcpy(token, p, len);
                                token[len] = 0;
                                r = cb(token, userdata);
                                if (r < 0)
                                        return r;
                        }
                        p += len;
                        p += strspn(p, " ");
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
