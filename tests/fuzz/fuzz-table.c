/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Table rows as dmbusctl reads them, one per line: START LENGTH TYPE PARAMETERS. Whatever the rows
 * are, the checks give an answer, and the device references they collect are tokens of the rows. */
#include <inttypes.h>
#include <stdio.h>

#include "fuzz-util.h"
#include "strv.h"
#include "table.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_string(data, size), *line, *save = NULL, reason[256];
        DmTableRow rows[64];
        char **references = NULL;
        size_t n = 0;

        for (line = strtok_r(text, "\n", &save); line && n < 64; line = strtok_r(NULL, "\n", &save)) {
                int consumed = 0;
                char *type;

                if (sscanf(line, "%" SCNu64 " %" SCNu64 " %n", &rows[n].start, &rows[n].length, &consumed) != 2)
                        continue;
                type = line + consumed;
                rows[n].type = type;
                type += strcspn(type, " ");
                if (*type)
                        *type++ = 0;
                rows[n].params = type;
                n++;
        }
        (void) table_invalid_reason(rows, n, reason, sizeof(reason));
        if (table_collect_references(rows, n, &references, reason, sizeof(reason)) == 0)
                for (char **r = references; r && *r; r++)
                        if ((*r)[0] == 0 || strchr(*r, ' '))
                                abort();
        strv_free(references);
        for (size_t i = 0; i < n; i++)
                (void) target_message_invalid_reason(rows[i].params);
        free(text);
        return 0;
}
