/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A target's status line, as the kernel hands it over, parsed and judged as the daemon does: the
 * first byte picks the target type. Every string kept must be valid UTF-8. */
#include "fuzz-util.h"
#include "health.h"
#include "utf8-escape.h"

/* Fit for the bus and the log: escaping it again changes nothing. */
static void check_text(const char *s) {
        char *again = utf8_escape_invalid(s);

        if (!again || strcmp(again, s) != 0)
                abort();
        free(again);
}

#define CHECK_U64(v)
#define CHECK_BOOL(v)
#define CHECK_OPTIONAL_U64(v)
#define CHECK_STRING(v) check_text(v);
#define CHECK_FIELD(TYPE, member, key) CHECK_##TYPE(f->member)

static void check_status(const DmStatus *s) {
        switch (s->kind) {
#define CHECK_KIND(KIND, name, type, FIELDS)                             \
        case DM_STATUS_##KIND: {                                                \
                const __typeof__(s->name) *f = &s->name;                        \
                FIELDS(CHECK_FIELD)                                             \
                (void) f;                                                       \
                break;                                                          \
        }
        DM_STATUS_KINDS(CHECK_KIND)
#undef CHECK_KIND
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const types[] = { "thin-pool", "thin", "snapshot", "cache", "mirror",
                                             "raid", "integrity", "verity", "multipath", "linear", "snapshot-merge" };
        DmTarget row = {};
        DmDevice dm = { .status = &row, .n_status = 1 };

        if (size < 1)
                return 0;
        row.type = (char *) types[data[0] % (sizeof(types) / sizeof(types[0]))];
        row.params = fuzz_string(data + 1, size - 1);
        if (dm_device_read_status(&dm) < 0)
                abort();
        check_text(dm.health_reason);
        check_status(&dm.parsed_status);
        /* Work under way is work left. */
        if (dm.kernel_work.kind != KERNEL_WORK_NONE && (!dm.kernel_work.unfinished || dm.kernel_work.left == 0))
                abort();
        free(row.params);
        free(dm.health_reason);
        dm_status_done(&dm.parsed_status);
        return 0;
}
