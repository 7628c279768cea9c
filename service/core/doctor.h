/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Where the kernel, udev's database and /dev disagree (Manager.Check), from facts gathered
 * elsewhere (doctor-scan.h), and what Manager.Repair does about it. Pure. */

/* X(ID, "code"): the code as Check names it. */
#define DOCTOR_PROBLEMS(X)                                      \
        X(LINK_MISSING, "link-missing")                         \
        X(LINK_WRONG, "link-wrong")                             \
        X(LINK_STALE, "link-stale")                             \
        X(LINK_DANGLING, "link-dangling")                       \
        X(UDEV_ENTRY_MISSING, "udev-entry-missing")             \
        X(UDEV_RULES_DISABLED, "udev-rules-disabled")           \
        X(NEVER_LOADED, "never-loaded")                         \
        X(DEFERRED_REMOVE, "deferred-remove")                   \
        X(SUSPENDED_TOO_LONG, "suspended-too-long")             \
        X(UDEV_BUSY, "udev-busy")

#define _DOCTOR_PROBLEM_ENUM(id, code) DOCTOR_##id,
typedef enum DoctorProblemKind {
        DOCTOR_PROBLEMS(_DOCTOR_PROBLEM_ENUM)
        _DOCTOR_PROBLEM_MAX,
} DoctorProblemKind;
#undef _DOCTOR_PROBLEM_ENUM

/* A DM device as the kernel and udev's database have it. */
typedef struct DoctorDevice {
        dev_t devnum;
        const char *name, *uuid;        /* as in /dev (name-mangle.h); uuid "" for none */
        bool live_table, inactive_table, suspended, read_only, deferred_remove, suspended_too_long;
        uint64_t age_usec;              /* since its node appeared; 0 when unknown */
        bool udev_entry;                /* udev's database has it */
        bool udev_primary;              /* DM_UDEV_PRIMARY_SOURCE_FLAG: a resume's event went through the rules */
        bool udev_no_dm_links;          /* that event's flags: no /dev/mapper link (DISABLE_DM_RULES) */
        bool udev_no_disk_links;        /* no disk/by-id links (DISABLE_DISK_RULES) */
} DoctorDevice;

/* A link in /dev/mapper or /dev/disk/by-id/dm-*. */
typedef struct DoctorLink {
        char *path;                     /* "/dev/mapper/vg-root" */
        dev_t target;                   /* the block device it leads to; 0 when nothing is there */
        bool target_dm;                 /* its target's name is dm-N ... */
        unsigned target_minor;          /* ... with this N */
} DoctorLink;

typedef struct DoctorProblem {
        DoctorProblemKind kind;
        dev_t devnum;                   /* its device; 0 for one of /dev's alone */
        char *link;                     /* the link it is about, or NULL */
        dev_t link_target;              /* LINK_WRONG, LINK_STALE: where the link leads now */
        unsigned minor;                 /* LINK_DANGLING: the dm-N its target was */
} DoctorProblem;

typedef struct DoctorBounds {
        uint64_t never_loaded_usec;     /* a device without a table for longer is a problem */
} DoctorBounds;

#define DOCTOR_NEVER_LOADED_SEC_DEFAULT 60

const char *doctor_problem_kind_to_string(DoctorProblemKind kind) _pure_;

/* The links a device has when the rules went through its resume: /dev/mapper/NAME,
 * disk/by-id/dm-name-NAME, disk/by-id/dm-uuid-UUID; none for one without a live table or made
 * read-only by the block layer. -ENOMEM. */
int doctor_expected_links(const DoctorDevice *d, char ***ret);

/* Every problem, devices' first in their order, then /dev's alone. devices: sorted by devnum, here
 * and in every call below that takes them. -ENOMEM. */
int doctor_check(const DoctorDevice *devices, size_t n_devices, const DoctorLink *links, size_t n_links, bool udev_busy,
                 const DoctorBounds *bounds, DoctorProblem **ret, size_t *ret_n);
void doctor_problems_free(DoctorProblem *problems, size_t n);

/* A sentence for a person: what is wrong and what Repair does about it. -ENOMEM. */
int doctor_problem_describe(const DoctorProblem *p, const DoctorDevice *devices, size_t n_devices, char **ret);

/* What Repair does: re-announce each device of reannounce (a synthetic "change" uevent that the
 * rules take as a resume, so that udev makes its links again and drops the ones its database
 * recorded and no longer makes), and for each minor of clear_minors, whose device is gone, have
 * udev drop the links its database still records for it. Both sorted, without repeats. */
typedef struct DoctorPlan {
        unsigned dm_major;
        dev_t *reannounce;
        size_t n_reannounce;
        unsigned *clear_minors;
        size_t n_clear_minors;
} DoctorPlan;

/* The plan for the problems, those of selected devices only (selected NULL: all; a devnum of 0
 * in it selects /dev's alone). Problems no repair mends (never-loaded, deferred-remove,
 * suspended-too-long, udev-busy) are a person's to decide, and left. dm_major: the DM devices'. */
int doctor_plan(const DoctorProblem *problems, size_t n, const DoctorDevice *devices, size_t n_devices, const dev_t *selected,
                size_t n_selected, unsigned dm_major, DoctorPlan *ret);
void doctor_plan_done(DoctorPlan *plan);
bool doctor_problem_repairable(DoctorProblemKind kind) _pure_;
