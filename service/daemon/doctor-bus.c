/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "alloc-util.h"
#include "bus-options.h"
#include "doctor-bus.h"
#include "doctor-scan.h"
#include "dmbus-errors.h"
#include "dmbus-names.h"
#include "name-mangle.h"
#include "object-path.h"
#include "operation-bus.h"
#include "strv.h"
#include "time-util.h"

/* Check's work is a readdir of /dev/mapper and /dev/disk/by-id, a stat per link and a read of
 * udev's entry per DM device: no ioctl (the kernel's side is the graph's) and no block I/O, so it
 * is answered at once, to anyone, as GetManagedObjects is. */

typedef struct Findings {
        DoctorDevice *devices;
        size_t n_devices;
        char **names;                   /* the devices' mangled names and UUIDs, owned */
        DoctorLink *links;
        size_t n_links;
        DoctorProblem *problems;
        size_t n_problems;
} Findings;

static void findings_done(Findings *f) {
        free(f->devices);
        strv_free(f->names);
        doctor_links_free(f->links, f->n_links);
        doctor_problems_free(f->problems, f->n_problems);
}

static int mangled(Findings *f, const char *s, const char **ret) {
        _cleanup_(freep) char *m = dm_string_mangle(s);

        if (!m || strv_extend(&f->names, m) < 0)
                return -ENOMEM;
        *ret = f->names[strv_length(f->names) - 1];
        return 0;
}

static int compare_devnums(const void *a, const void *b) {
        dev_t x = ((const DoctorDevice *) a)->devnum, y = ((const DoctorDevice *) b)->devnum;
        return (x > y) - (x < y);
}

static int find(Manager *m, uint64_t never_loaded_usec, Findings *f) {
        _cleanup_(freep) BlockDevice **list = NULL;
        uint64_t now = realtime_usec();
        ssize_t n;
        int r;

        n = graph_list(m->graph, true, &list);
        if (n < 0)
                return (int) n;
        f->devices = calloc(n ?: 1, sizeof(DoctorDevice));
        if (!f->devices)
                return -ENOMEM;
        for (ssize_t i = 0; i < n; i++) {
                const BlockDevice *b = list[i];
                DoctorDevice *d = &f->devices[f->n_devices++];
                uint64_t created = doctor_scan_created(b->devnum);

                *d = (DoctorDevice) {
                        .devnum = b->devnum,
                        .live_table = b->dm->info.live_table,
                        .inactive_table = b->dm->info.inactive_table,
                        .suspended = b->dm->info.suspended,
                        .read_only = b->read_only,
                        .deferred_remove = b->dm->info.deferred_remove,
                        .suspended_too_long = b->dm->suspended_too_long,
                        .age_usec = created > 0 && now > created ? now - created : 0,
                };
                r = mangled(f, b->dm->name, &d->name);
                if (r >= 0)
                        r = mangled(f, b->dm->uuid, &d->uuid);
                if (r < 0)
                        return r;
                /* Gone meanwhile: the next Check will not have it. */
                (void) doctor_scan_udev(m->udev, minor(b->devnum), d);
        }
        /* doctor.h looks them up by number. */
        qsort(f->devices, f->n_devices, sizeof(DoctorDevice), compare_devnums);
        r = doctor_scan_links(&f->links, &f->n_links);
        if (r < 0)
                return r;
        return doctor_check(f->devices, f->n_devices, f->links, f->n_links, doctor_scan_udev_busy(),
                            &(DoctorBounds) { .never_loaded_usec = never_loaded_usec }, &f->problems, &f->n_problems);
}

static int append_problem(sd_bus_message *reply, const Findings *f, const DoctorProblem *p) {
        _cleanup_(freep) char *sentence = NULL;
        char path[BLOCK_OBJECT_PATH_MAX], target[32];
        int r;

        r = doctor_problem_describe(p, f->devices, f->n_devices, &sentence);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'r', "ossa{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "oss", p->devnum ? block_object_path(p->devnum, path) : "/",
                                          doctor_problem_kind_to_string(p->kind), sentence);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0 && p->link)
                r = sd_bus_message_append(reply, "{sv}", "link", "s", p->link);
        if (r >= 0 && p->link_target) {
                snprintf(target, sizeof(target), "%u:%u", major(p->link_target), minor(p->link_target));
                r = sd_bus_message_append(reply, "{sv}", "target", "s", target);
        }
        if (r >= 0 && p->kind == DOCTOR_LINK_DANGLING)
                r = sd_bus_message_append(reply, "{sv}", "minor", "u", p->minor);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "repairable", "b", (int) doctor_problem_repairable(p->kind));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

int doctor_bus_check(Manager *m, sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(findings_done) Findings f = {};
        uint32_t never_loaded_sec = DOCTOR_NEVER_LOADED_SEC_DEFAULT;
        const BusOption options[] = {
                { .key = DMBUS_OPTION_NEVER_LOADED_SEC, .type = 'u', .value = &never_loaded_sec },
        };
        int r;

        r = bus_message_read_options(message, options, ELEMENTSOF(options), error);
        if (r < 0)
                return r;
        r = find(m, (uint64_t) never_loaded_sec * UINT64_C(1000000), &f);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read /dev and udev's database: %s", strerror(-r));
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ossa{sv})");
        for (size_t i = 0; r >= 0 && i < f.n_problems; i++)
                r = append_problem(reply, &f, &f.problems[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* The objects to repair: device paths, or "/" for /dev's links alone; none: everything. */
static int read_selection(sd_bus_message *message, dev_t **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_(freep) dev_t *list = NULL;
        size_t n = 0, allocated = 0;
        const char *path;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "o");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(message, "o", &path)) > 0) {
                dev_t devnum = 0;

                if (n >= 4096)
                        return sd_bus_error_set(error, DMBUS_ERROR_INVALID_ARGUMENT, "At most 4096 objects may be named.");
                if (strcmp(path, "/") != 0 && block_object_path_parse(path, &devnum) < 0)
                        return sd_bus_error_setf(error, DMBUS_ERROR_INVALID_ARGUMENT,
                                                 "\"%s\" is not a block device's object, nor \"/\" for /dev's links.", path);
                if (GREEDY_REALLOC(list, allocated, n + 1) < 0)
                        return -ENOMEM;
                list[n++] = devnum;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int doctor_bus_repair(Manager *m, sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(operation_freep) Operation *op = NULL;
        _cleanup_(findings_done) Findings f = {};
        _cleanup_(freep) dev_t *selection = NULL;
        size_t n_selection = 0;
        int r;

        r = read_selection(message, &selection, &n_selection, error);
        if (r < 0)
                return r;
        op = operation_new(m->operations, OPERATION_REPAIR, message);
        if (!op)
                return -ENOMEM;
        op->label = strdup("the doctor's repair");
        op->expected_name = strdup("");
        op->expected_uuid = strdup("");
        if (!op->label || !op->expected_name || !op->expected_uuid)
                return -ENOMEM;
        /* What Check finds now; the worker's steps each stand alone if things moved meanwhile. */
        r = find(m, UINT64_MAX, &f);
        if (r >= 0)
                r = doctor_plan(f.problems, f.n_problems, f.devices, f.n_devices, n_selection > 0 ? selection : NULL, n_selection,
                                doctor_scan_dm_major(), &op->repair);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read /dev and udev's database: %s", strerror(-r));
        return operation_bus_submit(m, TAKE_PTR(op), false, NULL, 0, NULL, error);
}
