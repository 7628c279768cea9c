/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dm-status.h"
#include "kernel-work.h"
#include "macro.h"

/* The in-memory device graph: the daemon's one source of truth. Every block device that is a DM
 * device, or lies under one, with O(1) lookups by dev_t, DM name and DM UUID, and
 * edges both ways (dependencies, and holders derived from them). Pure data: filled by the
 * inventory from the kernel, read by the bus layer. */

typedef struct DmTarget {
        uint64_t start;         /* sectors */
        uint64_t length;        /* sectors */
        char *type;
        char *params;           /* secrets already masked */
} DmTarget;

/* A DM device's flags and counters, as one INFO ioctl reports them. */
typedef struct DmInfo {
        bool suspended;
        bool live_table;
        bool inactive_table;
        bool read_only;
        bool deferred_remove;
        int32_t open_count;
        uint32_t event_nr;
        uint32_t target_count;
} DmInfo;

/* Worst last: a device's health is the worst of its targets' and of its suspend. */
typedef enum Health {
        HEALTH_OK,
        HEALTH_DEGRADED,
        HEALTH_SUSPENDED,       /* suspended for longer than the configured bound */
        HEALTH_FAILED,
        _HEALTH_MAX,
} Health;

typedef struct DmDevice {
        /* As the kernel has them, escaped where they are not UTF-8 (utf8-escape.h). */
        char *name;
        char *uuid;             /* "" when none is set */
        DmInfo info;
        DmTarget *table;
        size_t n_table;
        DmTarget *inactive_table;       /* the inactive slot's, when there is one; masked too */
        size_t n_inactive_table;
        DmTarget *status;
        size_t n_status;
        DmStatus parsed_status; /* the first row that ParsedStatus shows (health.h) */
        /* What the targets' status says (health.h), and why, "" when all is well. */
        Health target_health;
        char *health_reason;
        /* The kernel's own long work that the status shows (kernel-work.h). */
        KernelWork kernel_work;
        /* A target whose health changes with no event of the kernel's (integrity counts its
         * mismatches silently): read at every tick. */
        bool silent_health;
        /* Not the kernel's: when the daemon first saw it suspended (CLOCK_REALTIME, µs; 0 when
         * not), and whether that has lasted longer than the bound (health.h). Carried from one
         * reading of the device to the next by the refresh. */
        uint64_t suspended_since;
        bool suspended_too_long;
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

/* The properties of a device that can change, each once: X(ID, NAME) gives its change bit,
 * BLOCK_CHANGE(ID) or DEVICE_CHANGE(ID), and its name on the bus. The bus layer checks at start
 * that its vtables hold these and no other changing ones. */
#define BLOCK_PROPERTIES(X)                                                     \
        X(DEVICE_NODE, "DeviceNode")                                            \
        X(PREFERRED_DEVICE, "PreferredDevice")                                  \
        X(SIZE, "Size")                                                         \
        X(READ_ONLY, "ReadOnly")                                                \
        X(SYMLINKS, "Symlinks")                                                 \
        X(DEPENDENCIES, "Dependencies")                                         \
        X(HOLDERS, "Holders")   /* a reverse edge: set by the refresh, never by a diff */

#define DEVICE_PROPERTIES(X)                                                    \
        X(NAME, "Name")                                                         \
        X(UUID, "UUID")                                                         \
        X(SUBSYSTEM, "Subsystem")       /* derived from the UUID: changes with it */ \
        X(SUSPENDED, "Suspended")                                               \
        X(LIVE_TABLE, "LiveTable")                                              \
        X(INACTIVE_TABLE, "InactiveTable")                                      \
        X(READ_ONLY, "ReadOnly")                                                \
        X(OPEN_COUNT, "OpenCount")                                              \
        X(EVENT_NUMBER, "EventNumber")                                          \
        X(TARGET_COUNT, "TargetCount")                                          \
        X(DEFERRED_REMOVE, "DeferredRemove")                                    \
        X(TABLE, "Table")                                                       \
        X(INACTIVE_TABLE_ROWS, "InactiveTableRows")                             \
        X(STATUS, "Status")                                                     \
        X(PARSED_STATUS, "ParsedStatus")                                        \
        X(HEALTH, "Health")                                                     \
        X(HEALTH_REASON, "HealthReason")                                        \
        X(SUSPENDED_SINCE, "SuspendedSince")                                    \
        /* lvm2's split of the name: change with the name or the UUID */       \
        X(LVM_VOLUME_GROUP, "LvmVolumeGroup")                                   \
        X(LVM_LOGICAL_VOLUME, "LvmLogicalVolume")                               \
        X(LVM_LAYER, "LvmLayer")                                                \
        X(SUSPEND_LEASE_UNTIL, "SuspendLeaseUntil")     /* lease.h's: never by a diff */

#define _BLOCK_PROPERTY_ENUM(id, name) BLOCK_PROPERTY_##id,
#define _DEVICE_PROPERTY_ENUM(id, name) DEVICE_PROPERTY_##id,
typedef enum BlockProperty {
        BLOCK_PROPERTIES(_BLOCK_PROPERTY_ENUM)
        _BLOCK_PROPERTY_MAX,
} BlockProperty;

typedef enum DeviceProperty {
        DEVICE_PROPERTIES(_DEVICE_PROPERTY_ENUM)
        _DEVICE_PROPERTY_MAX,
} DeviceProperty;

#define BLOCK_CHANGE(p) (1u << BLOCK_PROPERTY_##p)
#define DEVICE_CHANGE(p) (1u << DEVICE_PROPERTY_##p)
#define DEVICE_LVM_CHANGES (DEVICE_CHANGE(LVM_VOLUME_GROUP) | DEVICE_CHANGE(LVM_LOGICAL_VOLUME) | DEVICE_CHANGE(LVM_LAYER))

/* DEVICE_CHANGE bits of the INFO fields that differ. */
unsigned dm_info_diff(const DmInfo *a, const DmInfo *b) _pure_;

/* BLOCK_CHANGE bits, and DEVICE_CHANGE bits (both DM devices), between a and b. */
void block_device_diff(const BlockDevice *a, const BlockDevice *b, unsigned *ret_block, unsigned *ret_device);
/* Whether the two lists hold the same dev_ts, in any order. */
bool devnums_equal(const dev_t *a, size_t n_a, const dev_t *b, size_t n_b);

/* "/dev/mapper/NAME" if udev made that link, else the device node. */
const char *block_device_preferred_device(const BlockDevice *d);

/* The subsystem a DM UUID names, its prefix before the first '-' ("CRYPT", "LVM"): its length, 0
 * when there is none. */
size_t dm_uuid_subsystem_length(const char *uuid) _pure_;

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

/* The devices that list devnum among their dependencies (whether devnum is in the graph or not). */
void graph_get_holders(const Graph *g, dev_t devnum, const dev_t **ret, size_t *ret_n);
/* devnum's device and every DM device above it, each once and after every one that sits on it:
 * the order a teardown goes in, top first (*ret freed by the caller). 0 or -ENOMEM. */
int graph_collect_dm_above(const Graph *g, dev_t devnum, dev_t **ret, size_t *ret_n);

size_t graph_size(const Graph *g);
size_t graph_dm_count(const Graph *g);

/* for (size_t i = 0; graph_iterate(g, &i, &d); ) — any order; no changes while iterating. */
bool graph_iterate(const Graph *g, size_t *state, BlockDevice **ret);
/* All devices (or only DM devices) sorted by dev_t; free() the array. Returns the count or -ENOMEM. */
ssize_t graph_list(const Graph *g, bool dm_only, BlockDevice ***ret);
