/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* The in-memory device graph: the daemon's one source of truth. Every block device that is a DM
 * device, or lies under one, with O(1) lookups by dev_t, DM name, DM UUID and kernel name, and
 * edges both ways (dependencies, and holders derived from them). Pure data: filled by the
 * inventory from the kernel, read by the bus layer. */

typedef struct DmTarget {
        uint64_t start;         /* sectors */
        uint64_t length;        /* sectors */
        char *type;
        char *params;           /* secrets already masked */
} DmTarget;

typedef enum StatusFieldType {
        STATUS_FIELD_U64 = 't',
        STATUS_FIELD_BOOL = 'b',
        STATUS_FIELD_STRING = 's',
} StatusFieldType;

/* One typed value of a target's parsed status, e.g. ("used-data-blocks", 't', 1234). */
typedef struct StatusField {
        const char *key;        /* static */
        StatusFieldType type;
        uint64_t u64;
        bool b;
        char *s;
} StatusField;

typedef struct DmDevice {
        char *name;
        char *uuid;             /* "" when none is set */
        bool suspended;
        bool live_table;
        bool inactive_table;
        bool read_only;
        bool deferred_remove;
        int32_t open_count;
        uint32_t event_nr;
        uint32_t target_count;
        DmTarget *table;
        size_t n_table;
        DmTarget *status;
        size_t n_status;
        StatusField *parsed_status;
        size_t n_parsed_status;
} DmDevice;

typedef struct BlockDevice {
        dev_t devnum;
        char *kernel_name;      /* "dm-3", "loop0" */
        char *devnode;          /* "/dev/dm-3" */
        uint64_t size;          /* bytes */
        bool read_only;
        char **symlinks;        /* from udev, sorted */
        dev_t *deps;            /* what it maps onto */
        size_t n_deps;
        DmDevice *dm;           /* NULL for a device that is not a DM device */
} BlockDevice;

DmDevice *dm_device_free(DmDevice *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(DmDevice *, dm_device_free);
BlockDevice *block_device_free(BlockDevice *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(BlockDevice *, block_device_free);
void dm_targets_free(DmTarget *targets, size_t n);
void status_fields_free(StatusField *fields, size_t n);

/* What differs between two readings of the same device, one bit per bus property. */
typedef enum BlockChange {
        BLOCK_CHANGE_DEVICE_NODE      = 1 << 0,
        BLOCK_CHANGE_PREFERRED_DEVICE = 1 << 1,
        BLOCK_CHANGE_SIZE             = 1 << 2,
        BLOCK_CHANGE_READ_ONLY        = 1 << 3,
        BLOCK_CHANGE_SYMLINKS         = 1 << 4,
        BLOCK_CHANGE_DEPENDENCIES     = 1 << 5,
} BlockChange;

typedef enum DeviceChange {
        DEVICE_CHANGE_NAME            = 1 << 0,
        DEVICE_CHANGE_UUID            = 1 << 1,       /* and Subsystem */
        DEVICE_CHANGE_SUSPENDED       = 1 << 2,
        DEVICE_CHANGE_LIVE_TABLE      = 1 << 3,
        DEVICE_CHANGE_INACTIVE_TABLE  = 1 << 4,
        DEVICE_CHANGE_READ_ONLY       = 1 << 5,
        DEVICE_CHANGE_OPEN_COUNT      = 1 << 6,
        DEVICE_CHANGE_EVENT_NUMBER    = 1 << 7,
        DEVICE_CHANGE_TARGET_COUNT    = 1 << 8,
        DEVICE_CHANGE_DEFERRED_REMOVE = 1 << 9,
        DEVICE_CHANGE_TABLE           = 1 << 10,
        DEVICE_CHANGE_STATUS          = 1 << 11,
        DEVICE_CHANGE_PARSED_STATUS   = 1 << 12,
} DeviceChange;

/* BlockChange bits, and DeviceChange bits (both DM devices) between a and b. */
void block_device_diff(const BlockDevice *a, const BlockDevice *b, unsigned *ret_block, unsigned *ret_device);
/* Whether the two lists hold the same dev_ts, in any order. */
bool devnums_equal(const dev_t *a, size_t n_a, const dev_t *b, size_t n_b);

/* "/dev/mapper/NAME" if udev made that link, else the device node. */
const char *block_device_preferred_device(const BlockDevice *d);

typedef struct Graph Graph;

Graph *graph_new(void);
Graph *graph_free(Graph *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(Graph *, graph_free);

/* Adds d, or replaces the device with the same dev_t; takes ownership of d either way. Returns 0
 * or -ENOMEM (d is freed then, and the graph wants a rescan). */
int graph_put(Graph *g, BlockDevice *d);
/* Removes and frees the device; returns false if there was none. */
bool graph_remove(Graph *g, dev_t devnum);

BlockDevice *graph_get(const Graph *g, dev_t devnum);
BlockDevice *graph_get_by_name(const Graph *g, const char *name);
BlockDevice *graph_get_by_uuid(const Graph *g, const char *uuid);
BlockDevice *graph_get_by_kernel_name(const Graph *g, const char *kernel_name);

/* The devices that list devnum among their dependencies (whether devnum is in the graph or not). */
void graph_get_holders(const Graph *g, dev_t devnum, const dev_t **ret, size_t *ret_n);

size_t graph_size(const Graph *g);
size_t graph_dm_count(const Graph *g);

/* for (size_t i = 0; graph_iterate(g, &i, &d); ) — any order; no changes while iterating. */
bool graph_iterate(const Graph *g, size_t *state, BlockDevice **ret);
/* All devices (or only DM devices) sorted by dev_t; free() the array. Returns the count or -ENOMEM. */
ssize_t graph_list(const Graph *g, bool dm_only, BlockDevice ***ret);
