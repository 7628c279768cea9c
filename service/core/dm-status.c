/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm-status.h"
#include "utf8-escape.h"

static const char *const target_type_table[_DM_STATUS_KIND_MAX] = {
#define TARGET_TYPE_ENTRY(KIND, name, type, FIELDS) [DM_STATUS_##KIND] = type,
        DM_STATUS_KINDS(TARGET_TYPE_ENTRY)
#undef TARGET_TYPE_ENTRY
};

DmStatusKind dm_status_kind_from_target_type(const char *type) {
        for (DmStatusKind k = DM_STATUS_NONE + 1; k < _DM_STATUS_KIND_MAX; k++)
                if (strcmp(target_type_table[k], type) == 0)
                        return k;
        return DM_STATUS_NONE;
}

const char *dm_status_kind_to_target_type(DmStatusKind kind) {
        assert(kind > DM_STATUS_NONE && kind < _DM_STATUS_KIND_MAX);
        return target_type_table[kind];
}

/* Strings from the line may quote any bytes of a table. */
static int set_string(char **dest, const char *s) {
        *dest = utf8_escape_invalid(s ?: "");
        return *dest ? 0 : -ENOMEM;
}

/* The line's words, one at a time: the kernel separates them with single spaces. Every reader
 * returns false, and the parse refuses the line, when the word is missing or not what it must be. */
typedef struct Words {
        const char *p;
        char word[128];
} Words;

static bool next_word(Words *w) {
        size_t n;

        w->p += strspn(w->p, " ");
        n = strcspn(w->p, " ");
        if (n == 0 || n >= sizeof(w->word))
                return false;
        memcpy(w->word, w->p, n);
        w->word[n] = 0;
        w->p += n;
        return true;
}

static bool word_is(Words *w, const char *expected) {
        return next_word(w) && strcmp(w->word, expected) == 0;
}

/* Decimal digits only: no sign, no space, no overflow. */
static bool parse_u64(const char *s, const char **end, uint64_t *ret) {
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *end = s;
        *ret = v;
        return true;
}

static bool word_u64(Words *w, uint64_t *ret) {
        const char *end;

        return next_word(w) && parse_u64(w->word, &end, ret) && *end == 0;
}

/* "A/B" */
static bool word_ratio(Words *w, uint64_t *ret_a, uint64_t *ret_b) {
        const char *end;

        return next_word(w) && parse_u64(w->word, &end, ret_a) && *end == '/' && parse_u64(end + 1, &end, ret_b) && *end == 0;
}

/* "MAJ:MIN" */
static bool word_devnum(Words *w, uint32_t *ret_major, uint32_t *ret_minor) {
        uint64_t major, minor;
        const char *end;

        if (!next_word(w) || !parse_u64(w->word, &end, &major) || *end != ':' || !parse_u64(end + 1, &end, &minor) ||
            *end != 0 || major > UINT32_MAX || minor > UINT32_MAX)
                return false;
        *ret_major = major;
        *ret_minor = minor;
        return true;
}

/* "COUNT WORD..." */
static bool skip_counted_words(Words *w) {
        uint64_t n;

        if (!word_u64(w, &n))
                return false;
        for (uint64_t i = 0; i < n; i++)
                if (!next_word(w))
                        return false;
        return true;
}

/* "TRANSACTION USED/TOTAL(metadata) USED/TOTAL(data) HELD_ROOT|- rw|ro|out_of_data_space
 *  [no_]discard_passdown|ignore_discard error|queue_if_no_space needs_check|- LOW_WATERMARK",
 * or "Fail", or "Error". The words after the counts came one kernel at a time: read as flags. */
static int parse_thin_pool(const char *params, DmStatus *ret) {
        const char *discards = "passdown";
        Words w = { .p = params };

        if (strcmp(params, "Fail") == 0 || strcmp(params, "Error") == 0) {
                *ret = (DmStatus) { .kind = DM_STATUS_THIN_POOL, .thin_pool.fail = true };
                return set_string(&ret->thin_pool.discards, "");
        }
        if (!word_u64(&w, &ret->thin_pool.transaction_id) ||
            !word_ratio(&w, &ret->thin_pool.used_metadata_blocks, &ret->thin_pool.total_metadata_blocks) ||
            !word_ratio(&w, &ret->thin_pool.used_data_blocks, &ret->thin_pool.total_data_blocks))
                return 0;
        ret->kind = DM_STATUS_THIN_POOL;
        if (next_word(&w)) {
                const char *end;

                if (!parse_u64(w.word, &end, &ret->thin_pool.held_metadata_root) || *end != 0)
                        ret->thin_pool.held_metadata_root = 0;
        }
        while (next_word(&w)) {
                if (strcmp(w.word, "ro") == 0)
                        ret->thin_pool.read_only = true;
                else if (strcmp(w.word, "out_of_data_space") == 0)
                        ret->thin_pool.out_of_data_space = true;
                else if (strcmp(w.word, "no_discard_passdown") == 0)
                        discards = "no_passdown";
                else if (strcmp(w.word, "ignore_discard") == 0)
                        discards = "ignore";
                else if (strcmp(w.word, "error_if_no_space") == 0)
                        ret->thin_pool.error_if_no_space = true;
                else if (strcmp(w.word, "needs_check") == 0)
                        ret->thin_pool.needs_check = true;
        }
        return set_string(&ret->thin_pool.discards, discards);
}

/* "MAPPED_SECTORS HIGHEST_MAPPED_SECTOR|-", or "Fail". */
static int parse_thin(const char *params, DmStatus *ret) {
        Words w = { .p = params };
        uint64_t mapped, highest = 0;

        if (strcmp(params, "Fail") == 0) {
                *ret = (DmStatus) { .kind = DM_STATUS_THIN, .thin.fail = true };
                return 0;
        }
        if (!word_u64(&w, &mapped) || !(strcmp(w.p, " -") == 0 || word_u64(&w, &highest)))
                return 0;
        ret->kind = DM_STATUS_THIN;
        ret->thin.mapped_sectors = mapped;
        ret->thin.highest_mapped_sector = highest;
        return 0;
}

/* "USED/TOTAL [METADATA]", or "Invalid", "Merge failed", "Overflow". False when refused. */
static bool parse_snapshot_fields(const char *params, DmStatusSnapshot *ret) {
        Words w = { .p = params };
        uint64_t metadata;

        if (strcmp(params, "Invalid") == 0)
                ret->invalid = true;
        else if (strcmp(params, "Merge failed") == 0)
                ret->merge_failed = true;
        else if (strcmp(params, "Overflow") == 0)
                ret->overflow = true;
        else if (!word_ratio(&w, &ret->used_sectors, &ret->total_sectors))
                return false;
        else if (word_u64(&w, &metadata))
                ret->metadata_sectors = (DmStatusOptionalU64) { true, metadata };
        return true;
}

static int parse_snapshot(const char *params, DmStatus *ret) {
        if (parse_snapshot_fields(params, &ret->snapshot))
                ret->kind = DM_STATUS_SNAPSHOT;
        else
                *ret = (DmStatus) {};
        return 0;
}

/* As a snapshot's: USED shrinks to METADATA as the exceptions go back to the origin. */
static int parse_snapshot_merge(const char *params, DmStatus *ret) {
        if (parse_snapshot_fields(params, &ret->snapshot_merge))
                ret->kind = DM_STATUS_SNAPSHOT_MERGE;
        else
                *ret = (DmStatus) {};
        return 0;
}

/* "METADATA_BLOCK_SIZE USED/TOTAL(metadata) BLOCK_SIZE USED/TOTAL READ_HITS READ_MISSES WRITE_HITS
 *  WRITE_MISSES DEMOTIONS PROMOTIONS DIRTY #FEATURES FEATURE... #CORE_ARGS ARG... POLICY
 *  #POLICY_ARGS ARG... [rw|ro|Fail [needs_check|-]]", or "Fail", or "Error". */
static int parse_cache(const char *params, DmStatus *ret) {
        Words w = { .p = params };
        uint64_t *const counters[] = {
                &ret->cache.read_hits, &ret->cache.read_misses, &ret->cache.write_hits, &ret->cache.write_misses,
                &ret->cache.demotions, &ret->cache.promotions, &ret->cache.dirty_blocks,
        };

        if (strcmp(params, "Fail") == 0 || strcmp(params, "Error") == 0) {
                *ret = (DmStatus) { .kind = DM_STATUS_CACHE, .cache.fail = true, .cache.error = strcmp(params, "Error") == 0 };
                return set_string(&ret->cache.policy, "");
        }
        if (!word_u64(&w, &ret->cache.metadata_block_size) ||
            !word_ratio(&w, &ret->cache.metadata_used_blocks, &ret->cache.metadata_total_blocks) ||
            !word_u64(&w, &ret->cache.block_size) || !word_ratio(&w, &ret->cache.used_blocks, &ret->cache.total_blocks))
                goto refused;
        for (size_t i = 0; i < ELEMENTSOF(counters); i++)
                if (!word_u64(&w, counters[i]))
                        goto refused;
        if (!skip_counted_words(&w) || !skip_counted_words(&w) || !next_word(&w))
                goto refused;
        ret->kind = DM_STATUS_CACHE;
        if (set_string(&ret->cache.policy, w.word) < 0)
                return -ENOMEM;
        if (!skip_counted_words(&w))
                return 0;
        if (next_word(&w)) {
                ret->cache.read_only = strcmp(w.word, "ro") == 0;
                ret->cache.fail = strcmp(w.word, "Fail") == 0;
        }
        ret->cache.needs_check = word_is(&w, "needs_check");
        return 0;

refused:
        *ret = (DmStatus) {};
        return 0;
}

/* "#LEGS MAJ:MIN... IN_SYNC/TOTAL 1 HEALTH_CHARS #LOG_ARGS LOG_TYPE [MAJ:MIN HEALTH_CHAR]", one
 * health character per leg ('A' alive); a disk log names its device and its health. */
static int parse_mirror(const char *params, DmStatus *ret) {
        Words w = { .p = params };
        uint32_t leg_major[8], leg_minor[8];
        uint64_t legs, log_args;

        if (!word_u64(&w, &legs) || legs == 0 || legs > ELEMENTSOF(leg_major))
                return 0;
        for (uint64_t i = 0; i < legs; i++)
                if (!word_devnum(&w, &leg_major[i], &leg_minor[i]))
                        return 0;
        if (!word_ratio(&w, &ret->mirror.insync_regions, &ret->mirror.total_regions) || !word_is(&w, "1") || !next_word(&w) ||
            strlen(w.word) != legs)
                goto refused;
        for (uint64_t i = 0; i < legs && !ret->mirror.failed_leg.health; i++)
                if (w.word[i] != 'A')
                        ret->mirror.failed_leg = (DmStatusMirrorFault) { w.word[i], leg_major[i], leg_minor[i] };
        ret->mirror.dev_count = legs;
        if (set_string(&ret->mirror.dev_health, w.word) < 0)
                return -ENOMEM;
        if (!word_u64(&w, &log_args) || log_args == 0 || !next_word(&w)) {
                free(ret->mirror.dev_health);
                goto refused;
        }
        ret->kind = DM_STATUS_MIRROR;
        if (set_string(&ret->mirror.log_type, w.word) < 0)
                return -ENOMEM;
        if (log_args >= 3) {
                DmStatusMirrorFault log;

                if (word_devnum(&w, &log.major, &log.minor) && next_word(&w) && strlen(w.word) == 1 && w.word[0] != 'A') {
                        log.health = w.word[0];
                        ret->mirror.failed_log = log;
                }
        }
        return 0;

refused:
        *ret = (DmStatus) {};
        return 0;
}

/* "RAID_TYPE #DEVICES HEALTH_CHARS IN_SYNC/TOTAL SYNC_ACTION MISMATCHES [DATA_OFFSET [JOURNAL]]",
 * one health character per device; the kernel has written these six words since dm-raid 1.5
 * (Linux 3.13). */
static int parse_raid(const char *params, DmStatus *ret) {
        Words w = { .p = params };
        char raid_type[sizeof(w.word)], health[sizeof(w.word)], action[sizeof(w.word)];
        uint64_t devices;
        int r;

        if (!next_word(&w))
                return 0;
        strcpy(raid_type, w.word);
        if (!word_u64(&w, &devices) || !next_word(&w) || strlen(w.word) != devices)
                return 0;
        strcpy(health, w.word);
        if (!word_ratio(&w, &ret->raid.insync_regions, &ret->raid.total_regions) || !next_word(&w))
                goto refused;
        strcpy(action, w.word);
        if (!word_u64(&w, &ret->raid.mismatch_count))
                goto refused;
        ret->kind = DM_STATUS_RAID;
        ret->raid.dev_count = devices;
        r = set_string(&ret->raid.sync_action, action);
        if (r >= 0)
                r = set_string(&ret->raid.raid_type, raid_type);
        if (r >= 0)
                r = set_string(&ret->raid.dev_health, health);
        return r;

refused:
        *ret = (DmStatus) {};
        return 0;
}

/* "MISMATCHES PROVIDED_DATA_SECTORS [RECALC_SECTOR|-]": where a recalculation has come to, '-'
 * when none runs (kernels before 4.19 wrote two words). */
static int parse_integrity(const char *params, DmStatus *ret) {
        Words w = { .p = params };
        uint64_t recalculated;

        if (!word_u64(&w, &ret->integrity.mismatches) || !word_u64(&w, &ret->integrity.provided_data_sectors))
                goto refused;
        if (next_word(&w) && strcmp(w.word, "-") != 0) {
                const char *end;

                if (!parse_u64(w.word, &end, &recalculated) || *end != 0)
                        goto refused;
                ret->integrity.recalculate_sector = (DmStatusOptionalU64) { true, recalculated };
        }
        ret->kind = DM_STATUS_INTEGRITY;
        return 0;

refused:
        *ret = (DmStatus) {};
        return 0;
}

/* "V" verified so far, "C" corruption found (then more words since 1.9). */
static int parse_verity(const char *params, DmStatus *ret) {
        if (params[0] != 'V' && params[0] != 'C')
                return 0;
        ret->kind = DM_STATUS_VERITY;
        ret->verity.corrupted = params[0] == 'C';
        return 0;
}

/* Each path is "MAJ:MIN A|F FAIL_COUNT ...": count the F after a device. */
static int parse_multipath(const char *params, DmStatus *ret) {
        unsigned maj, min;
        char state;
        int n;

        ret->kind = DM_STATUS_MULTIPATH;
        for (const char *q = params; *q; q += strcspn(q, " "), q += strspn(q, " "))
                if (sscanf(q, "%u:%u %c%n", &maj, &min, &state, &n) == 3 && (q[n] == ' ' || q[n] == 0) &&
                    (state == 'A' || state == 'F')) {
                        ret->multipath.paths++;
                        ret->multipath.failed_paths += state == 'F';
                }
        return 0;
}

int dm_status_parse(const char *target_type, const char *params, DmStatus *ret) {
        static int (*const parsers[_DM_STATUS_KIND_MAX])(const char *params, DmStatus *ret) = {
                [DM_STATUS_THIN_POOL] = parse_thin_pool,
                [DM_STATUS_THIN] = parse_thin,
                [DM_STATUS_SNAPSHOT] = parse_snapshot,
                [DM_STATUS_SNAPSHOT_MERGE] = parse_snapshot_merge,
                [DM_STATUS_CACHE] = parse_cache,
                [DM_STATUS_MIRROR] = parse_mirror,
                [DM_STATUS_RAID] = parse_raid,
                [DM_STATUS_INTEGRITY] = parse_integrity,
                [DM_STATUS_VERITY] = parse_verity,
                [DM_STATUS_MULTIPATH] = parse_multipath,
        };
        DmStatusKind kind;
        int r;

        assert(target_type);
        assert(params);
        assert(ret);

        *ret = (DmStatus) {};
        kind = dm_status_kind_from_target_type(target_type);
        if (kind == DM_STATUS_NONE)
                return 0;
        r = parsers[kind](params, ret);
        if (r < 0) {
                dm_status_done(ret);
                return r;
        }
        return 0;
}

#define FIELD_DONE_U64(f)
#define FIELD_DONE_BOOL(f)
#define FIELD_DONE_OPTIONAL_U64(f)
#define FIELD_DONE_STRING(f) free(f);
#define FIELD_DONE(TYPE, member, key) FIELD_DONE_##TYPE(f->member)

void dm_status_done(DmStatus *s) {
        assert(s);

        switch (s->kind) {
#define KIND_DONE(KIND, name, type, FIELDS)                              \
        case DM_STATUS_##KIND: {                                                \
                __typeof__(s->name) *f = &s->name;                              \
                FIELDS(FIELD_DONE)                                              \
                (void) f;                                                       \
                break;                                                          \
        }
        DM_STATUS_KINDS(KIND_DONE)
#undef KIND_DONE
        default:
                break;
        }
        *s = (DmStatus) {};
}

#define FIELD_EQUAL_U64(a, b) ((a) == (b))
#define FIELD_EQUAL_BOOL(a, b) ((a) == (b))
#define FIELD_EQUAL_OPTIONAL_U64(a, b) ((a).present == (b).present && (a).value == (b).value)
#define FIELD_EQUAL_STRING(a, b) (strcmp((a), (b)) == 0)
#define FIELD_EQUAL(TYPE, member, key) &&FIELD_EQUAL_##TYPE(x->member, y->member)

bool dm_status_equal(const DmStatus *a, const DmStatus *b) {
        assert(a);
        assert(b);

        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
#define KIND_EQUAL(KIND, name, type, FIELDS)                             \
        case DM_STATUS_##KIND: {                                                \
                const __typeof__(a->name) *x = &a->name, *y = &b->name;         \
                return true FIELDS(FIELD_EQUAL);                                \
        }
        DM_STATUS_KINDS(KIND_EQUAL)
#undef KIND_EQUAL
        default:
                return true;
        }
}
