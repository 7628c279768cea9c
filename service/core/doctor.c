/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "doctor.h"
#include "strv.h"

#define USEC_PER_SEC UINT64_C(1000000)

const char *doctor_problem_kind_to_string(DoctorProblemKind kind) {
#define _DOCTOR_PROBLEM_NAME(id, code) [DOCTOR_##id] = code,
        static const char *const table[_DOCTOR_PROBLEM_MAX] = { DOCTOR_PROBLEMS(_DOCTOR_PROBLEM_NAME) };
#undef _DOCTOR_PROBLEM_NAME
        assert(kind >= 0 && kind < _DOCTOR_PROBLEM_MAX);
        return table[kind];
}

bool doctor_problem_repairable(DoctorProblemKind kind) {
        return kind <= DOCTOR_UDEV_RULES_DISABLED;
}

static int add_link(char ***links, const char *prefix, const char *name) {
        _cleanup_(freep) char *link = NULL;

        if (asprintf(&link, "%s%s", prefix, name) < 0)
                return -ENOMEM;
        return strv_extend(links, link);
}

int doctor_expected_links(const DoctorDevice *d, char ***ret) {
        _cleanup_(strv_freep) char **links = calloc(1, sizeof(char *));
        int r = 0;

        if (!links)
                return -ENOMEM;
        if (d->live_table && !d->read_only) {
                /* The flags of an event that went through the rules say which; before one did,
                 * what a plain resume gets. */
                if (!(d->udev_primary && d->udev_no_dm_links))
                        r = add_link(&links, "/dev/mapper/", d->name);
                if (r >= 0 && !(d->udev_primary && d->udev_no_disk_links)) {
                        r = add_link(&links, "/dev/disk/by-id/dm-name-", d->name);
                        if (r >= 0 && d->uuid[0])
                                r = add_link(&links, "/dev/disk/by-id/dm-uuid-", d->uuid);
                }
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(links);
        return 0;
}

static bool strv_has(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
        return false;
}

typedef struct Problems {
        DoctorProblem *items;
        size_t n, allocated;
} Problems;

static int add(Problems *p, DoctorProblemKind kind, dev_t devnum, const char *link, dev_t link_target, unsigned minor) {
        if (GREEDY_REALLOC(p->items, p->allocated, p->n + 1) < 0)
                return -ENOMEM;
        p->items[p->n] = (DoctorProblem) { .kind = kind, .devnum = devnum, .link_target = link_target, .minor = minor };
        if (link) {
                p->items[p->n].link = strdup(link);
                if (!p->items[p->n].link)
                        return -ENOMEM;
        }
        p->n++;
        return 0;
}

/* The links by path, for a lookup per expected link: a machine with thousands of devices has
 * three times as many links. */
static int compare_link_paths(const void *a, const void *b) {
        return strcmp((*(const DoctorLink *const *) a)->path, (*(const DoctorLink *const *) b)->path);
}

static const DoctorLink *link_find(const DoctorLink *const *sorted, size_t n, const char *path) {
        const DoctorLink key = { .path = (char *) path }, *k = &key, *const *found;

        found = n > 0 ? bsearch(&k, sorted, n, sizeof(*sorted), compare_link_paths) : NULL;
        return found ? *found : NULL;
}

static int compare_device_devnum(const void *key, const void *element) {
        dev_t x = *(const dev_t *) key, y = ((const DoctorDevice *) element)->devnum;
        return (x > y) - (x < y);
}

/* devices: sorted by devnum (doctor.h). */
static const DoctorDevice *device_find(const DoctorDevice *devices, size_t n, dev_t devnum) {
        return n > 0 ? bsearch(&devnum, devices, n, sizeof(*devices), compare_device_devnum) : NULL;
}

static int check_device(Problems *p, const DoctorDevice *d, const DoctorLink *const *links, size_t n_links, const DoctorBounds *bounds) {
        _cleanup_(strv_freep) char **expected = NULL;
        int r = 0;

        if (d->deferred_remove)
                r = add(p, DOCTOR_DEFERRED_REMOVE, d->devnum, NULL, 0, 0);
        if (r >= 0 && d->suspended_too_long)
                r = add(p, DOCTOR_SUSPENDED_TOO_LONG, d->devnum, NULL, 0, 0);
        if (r >= 0 && !d->live_table && !d->inactive_table && d->age_usec > bounds->never_loaded_usec)
                r = add(p, DOCTOR_NEVER_LOADED, d->devnum, NULL, 0, 0);
        /* Live and resumed: udev must have gone through a resume's event. */
        if (r >= 0 && d->live_table && !d->read_only && !d->suspended) {
                if (!d->udev_entry)
                        r = add(p, DOCTOR_UDEV_ENTRY_MISSING, d->devnum, NULL, 0, 0);
                else if (!d->udev_primary)
                        r = add(p, DOCTOR_UDEV_RULES_DISABLED, d->devnum, NULL, 0, 0);
        }
        if (r < 0)
                return r;

        r = doctor_expected_links(d, &expected);
        if (r < 0)
                return r;
        for (char **e = expected; *e; e++) {
                const DoctorLink *l = link_find(links, n_links, *e);

                if (!l)
                        r = add(p, DOCTOR_LINK_MISSING, d->devnum, *e, 0, 0);
                else if (l->target != d->devnum)
                        r = add(p, DOCTOR_LINK_WRONG, d->devnum, *e, l->target, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A link no device claims: its target gone (dangling), or a device it is not the link of (stale:
 * an old name, a device made again under another). */
static int check_link(Problems *p, const DoctorLink *l, const DoctorDevice *devices, size_t n_devices) {
        _cleanup_(strv_freep) char **expected = NULL;
        const DoctorDevice *d;
        int r;

        if (l->target == 0)
                return l->target_dm ? add(p, DOCTOR_LINK_DANGLING, 0, l->path, 0, l->target_minor) : 0;
        d = device_find(devices, n_devices, l->target);
        if (d) {
                r = doctor_expected_links(d, &expected);
                if (r < 0)
                        return r;
                if (strv_has(expected, l->path))
                        return 0;
        }
        return add(p, DOCTOR_LINK_STALE, 0, l->path, l->target, 0);
}

int doctor_check(const DoctorDevice *devices, size_t n_devices, const DoctorLink *links, size_t n_links, bool udev_busy,
                 const DoctorBounds *bounds, DoctorProblem **ret, size_t *ret_n) {
        _cleanup_(freep) const DoctorLink **sorted = NULL;
        Problems p = {};
        int r = 0;

        assert(devices || n_devices == 0);
        assert(links || n_links == 0);
        assert(bounds);

        sorted = calloc(n_links ?: 1, sizeof(DoctorLink *));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < n_links; i++)
                sorted[i] = &links[i];
        if (n_links > 0)
                qsort(sorted, n_links, sizeof(*sorted), compare_link_paths);

        for (size_t i = 0; r >= 0 && i < n_devices; i++)
                r = check_device(&p, &devices[i], sorted, n_links, bounds);
        for (size_t i = 0; r >= 0 && i < n_links; i++)
                r = check_link(&p, &links[i], devices, n_devices);
        if (r >= 0 && udev_busy)
                r = add(&p, DOCTOR_UDEV_BUSY, 0, NULL, 0, 0);
        if (r < 0) {
                doctor_problems_free(p.items, p.n);
                return r;
        }
        *ret = p.items;
        *ret_n = p.n;
        return 0;
}

void doctor_problems_free(DoctorProblem *problems, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(problems[i].link);
        free(problems);
}

int doctor_problem_describe(const DoctorProblem *p, const DoctorDevice *devices, size_t n_devices, char **ret) {
        const DoctorDevice *d = device_find(devices, n_devices, p->devnum);
        char device[256] = "", target[32];
        int r;

        if (d)
                snprintf(device, sizeof(device), "\"%s\" (%u:%u)", d->name, major(d->devnum), minor(d->devnum));
        snprintf(target, sizeof(target), "%u:%u", major(p->link_target), minor(p->link_target));
        switch (p->kind) {
        case DOCTOR_LINK_MISSING:
                r = asprintf(ret, "%s has a live table, but %s is missing: udev did not make it. Repair announces the device "
                             "to udev again.", device, p->link);
                break;
        case DOCTOR_LINK_WRONG:
                r = asprintf(ret, "%s leads to %s, not to %s. Repair announces the device to udev again.", p->link, target, device);
                break;
        case DOCTOR_LINK_STALE:
                r = asprintf(ret, "%s leads to %s, whose link it is not (an old name, or a device made again). Repair announces "
                             "that device to udev again, which drops the links it no longer has.", p->link, target);
                break;
        case DOCTOR_LINK_DANGLING:
                r = asprintf(ret, "%s leads to dm-%u, which is gone: udev missed its removal. Repair has udev drop the links "
                             "it still records for it.", p->link, p->minor);
                break;
        case DOCTOR_UDEV_ENTRY_MISSING:
                r = asprintf(ret, "%s is live, but udev's database has no entry for it: udev missed its events. Repair "
                             "announces the device to udev again.", device);
                break;
        case DOCTOR_UDEV_RULES_DISABLED:
                r = asprintf(ret, "%s is live, but udev's database still has it as a device without a table (its resume "
                             "event was lost): nothing probed it, and systemd may wait for it. Repair announces the "
                             "device to udev again.", device);
                break;
        case DOCTOR_NEVER_LOADED:
                r = asprintf(ret, "%s was created but has had no table for a while: a tool that made it may have failed "
                             "half-way. Load a table, or remove it.", device);
                break;
        case DOCTOR_DEFERRED_REMOVE:
                r = asprintf(ret, "%s waits for a deferred remove: it goes once its last user closes it (dmbusctl who).",
                             device);
                break;
        case DOCTOR_SUSPENDED_TOO_LONG:
                r = asprintf(ret, "%s has been suspended for longer than SuspendedAlertSec: everything that uses it "
                             "waits. Resume it once whoever suspended it is done.", device);
                break;
        case DOCTOR_UDEV_BUSY:
                r = asprintf(ret, "udev is still processing events: what it has not finished may show as a problem, or "
                             "hide one. Check again in a moment.");
                break;
        default:
                r = asprintf(ret, "%s", doctor_problem_kind_to_string(p->kind));
        }
        return r < 0 ? -ENOMEM : 0;
}

static bool selected(const dev_t *list, size_t n, dev_t devnum) {
        if (!list)
                return true;
        for (size_t i = 0; i < n; i++)
                if (list[i] == devnum)
                        return true;
        return false;
}

static int compare_devnums(const void *a, const void *b) {
        dev_t x = *(const dev_t *) a, y = *(const dev_t *) b;
        return (x > y) - (x < y);
}

static int compare_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return (x > y) - (x < y);
}

static int plan_reannounce(DoctorPlan *plan, size_t *allocated, dev_t devnum) {
        for (size_t i = 0; i < plan->n_reannounce; i++)
                if (plan->reannounce[i] == devnum)
                        return 0;
        if (GREEDY_REALLOC(plan->reannounce, *allocated, plan->n_reannounce + 1) < 0)
                return -ENOMEM;
        plan->reannounce[plan->n_reannounce++] = devnum;
        return 0;
}

int doctor_plan(const DoctorProblem *problems, size_t n, const DoctorDevice *devices, size_t n_devices, const dev_t *selection,
                size_t n_selection, unsigned dm_major, DoctorPlan *ret) {
        DoctorPlan plan = { .dm_major = dm_major };
        size_t allocated = 0, allocated_minors = 0;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                const DoctorProblem *p = &problems[i];
                dev_t now_there;

                if (!doctor_problem_repairable(p->kind) || !selected(selection, n_selection, p->devnum))
                        continue;
                switch (p->kind) {
                case DOCTOR_LINK_STALE:
                        /* A device's own old link, which its database records: udev drops it. */
                        if (device_find(devices, n_devices, p->link_target))
                                r = plan_reannounce(&plan, &allocated, p->link_target);
                        break;
                case DOCTOR_LINK_DANGLING:
                        /* A device made since at that minor: its event drops them. */
                        now_there = makedev(dm_major, p->minor);
                        if (device_find(devices, n_devices, now_there)) {
                                r = plan_reannounce(&plan, &allocated, now_there);
                                break;
                        }
                        bool known = false;
                        for (size_t k = 0; k < plan.n_clear_minors; k++)
                                known = known || plan.clear_minors[k] == p->minor;
                        if (known)
                                break;
                        if (GREEDY_REALLOC(plan.clear_minors, allocated_minors, plan.n_clear_minors + 1) < 0)
                                r = -ENOMEM;
                        else
                                plan.clear_minors[plan.n_clear_minors++] = p->minor;
                        break;
                default:
                        r = plan_reannounce(&plan, &allocated, p->devnum);
                        break;
                }
        }
        if (r < 0) {
                doctor_plan_done(&plan);
                return r;
        }
        if (plan.n_reannounce > 0)
                qsort(plan.reannounce, plan.n_reannounce, sizeof(dev_t), compare_devnums);
        if (plan.n_clear_minors > 0)
                qsort(plan.clear_minors, plan.n_clear_minors, sizeof(unsigned), compare_unsigned);
        *ret = plan;
        return 0;
}

void doctor_plan_done(DoctorPlan *plan) {
        plan->reannounce = mfree(plan->reannounce);
        plan->clear_minors = mfree(plan->clear_minors);
        plan->n_reannounce = plan->n_clear_minors = 0;
}
