/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Two readings of a one-row device compared as the refresh compares them: the first byte picks the
 * target type, then "STATUS BEFORE\nSTATUS NOW\nTABLE PARAMS\nVERITY ERROR" (each part may be
 * missing). Every failure found must be one of the kinds, and describable. */
#include "failure.h"
#include "fuzz-util.h"

static char *next_part(char **p) {
        char *part = *p, *end = strchr(part, '\n');

        if (end) {
                *end = 0;
                *p = end + 1;
        } else
                *p = part + strlen(part);
        return part;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const types[] = { "thin-pool", "thin", "snapshot", "cache", "mirror", "raid",
                                             "integrity", "verity", "multipath", "linear", "snapshot-merge" };
        DmTarget status_before = {}, status_now = {}, table = {};
        DmDevice before = { .status = &status_before, .n_status = 1, .table = &table, .n_table = 1 };
        DmDevice now = { .status = &status_now, .n_status = 1, .table = &table, .n_table = 1 };
        char *input, *p, *errors[2] = {};
        Failure *failures;
        size_t n;

        if (size < 1)
                return 0;
        input = p = fuzz_string(data + 1, size - 1);
        status_before.type = status_now.type = table.type = (char *) types[data[0] % (sizeof(types) / sizeof(types[0]))];
        status_before.params = next_part(&p);
        status_now.params = next_part(&p);
        table.params = next_part(&p);
        errors[0] = next_part(&p);
        if (failures_between(&before, &now, errors, &failures, &n) < 0)
                abort();
        for (size_t i = 0; i < n; i++) {
                char what[160];

                if (failures[i].kind < 0 || failures[i].kind >= _FAILURE_KIND_MAX || failures[i].row != 0)
                        abort();
                failure_describe(&failures[i], what, sizeof(what));
        }
        free(failures);
        free(input);
        return 0;
}
