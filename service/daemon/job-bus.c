/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "bus-options.h"
#include "dmbus-names.h"
#include "job-bus.h"
#include "list.h"
#include "log.h"
#include "device-bus.h"
#include "object-path.h"
#include "operation-bus.h"
#include "polkit.h"
#include "sender-uid.h"
#include "strv.h"
#include "time-util.h"

#define JOB_OBJECT_PATH_MAX (sizeof(DMBUS_JOB_PREFIX "/") + 10)

typedef struct Job Job;
struct Job {
        Manager *manager;
        Operation *op;                  /* NULL for the kernel's own work */
        /* The kernel's own work: on which device, what, and of how much: the line's total or, for
         * work that only counts down, the most it was seen to have left. */
        dev_t devnum;
        KernelWorkKind work;
        uint64_t baseline;
        double first_progress;          /* at start_time, for the rate */
        uint32_t id;
        uid_t started_by;
        uint64_t start_time;            /* CLOCK_REALTIME, us */
        /* Operations report none (udisks2's shape with ProgressValid false). */
        double progress;
        bool progress_valid;
        uint64_t expected_end_time;     /* CLOCK_REALTIME, us; 0 while no rate is known */
        bool announced;
        sd_event_source *announce;
        /* A Cancel from someone polkit must allow: its request, while the question is open. */
        sd_bus_message *cancel_request;
        PolkitQuery *authorization;
        LIST_FIELDS(Job, jobs);         /* Jobs.jobs */
};

struct Jobs {
        Job *jobs;
        uint32_t last_id;
};

static const char *job_operation(const Job *job) {
        return job->op ? operation_kind_to_name(job->op->kind) : kernel_work_kind_to_string(job->work);
}

/* What Cancel can stop (job-bus.h): nothing of the kernel's own. */
static bool job_cancelable(const Job *job) {
        if (!job->op)
                return false;
        switch (job->op->kind) {
        case OPERATION_REMOVE:
                return job->op->retry;
        case OPERATION_SUSPEND:
        case OPERATION_RELOAD:
        case OPERATION_REMOVE_STACK:
        case OPERATION_CREATE_STACK:
                return true;
        default:
                return false;
        }
}

static char *job_path(const Job *job, char buf[static JOB_OBJECT_PATH_MAX]) {
        snprintf(buf, JOB_OBJECT_PATH_MAX, DMBUS_JOB_PREFIX "/%" PRIu32, job->id);
        return buf;
}

static void job_answer_cancel(Job *job, const char *error_name, const char *message) {
        job->authorization = polkit_query_cancel(job->authorization);
        if (!job->cancel_request)
                return;
        if (error_name)
                (void) sd_bus_reply_method_errorf(job->cancel_request, error_name, "%s", message);
        else
                (void) sd_bus_reply_method_return(job->cancel_request, NULL);
        job->cancel_request = sd_bus_message_unref(job->cancel_request);
}

static Job *job_free(Job *job) {
        if (!job)
                return NULL;
        if (job->jobs_pprev)
                LIST_REMOVE(jobs, job);
        job_answer_cancel(job, DMBUS_ERROR_NOT_FOUND, "The job ended before polkit answered; there is nothing to cancel.");
        sd_event_source_disable_unref(job->announce);
        if (job->op)
                job->op->job = NULL;
        return mfree(job);
}

int jobs_new(Jobs **ret) {
        assert(ret);

        *ret = calloc(1, sizeof(Jobs));
        return *ret ? 0 : -ENOMEM;
}

Jobs *jobs_free(Jobs *j) {
        if (!j)
                return NULL;
        while (j->jobs)
                job_free(j->jobs);
        return mfree(j);
}

static int on_announce(sd_event_source *s, uint64_t usec, void *userdata) {
        Job *job = userdata;
        char buf[JOB_OBJECT_PATH_MAX];

        job->announce = sd_event_source_disable_unref(job->announce);
        job->announced = true;
        (void) sd_bus_emit_object_added(job->manager->bus, job_path(job, buf));
        return 0;
}

/* A job of an operation, or of the kernel's work on a device; announced after the delay unless it
 * ended before. */
static Job *job_new(Manager *m, Operation *op, KernelWorkKind work, dev_t devnum) {
        Job *job;
        int r;

        job = calloc(1, sizeof(Job));
        if (!job)
                return log_oom(), NULL;
        *job = (Job) {
                .manager = m,
                .op = op,
                .work = work,
                .devnum = devnum,
                .id = ++m->jobs->last_id,
                .started_by = op ? op->caller_uid : 0,
                .start_time = realtime_usec(),
        };
        r = sd_event_add_time_relative(m->event, &job->announce, CLOCK_MONOTONIC, JOB_ANNOUNCE_DELAY_USEC, 0, on_announce, job);
        if (r < 0) {
                log_warning_errno(r, "Cannot time the announcement of a job; %s goes without one: %m", job_operation(job));
                return mfree(job);
        }
        LIST_PREPEND(jobs, m->jobs->jobs, job);
        return job;
}

void job_start(Manager *m, Operation *op) {
        assert(!op->job);

        op->job = job_new(m, op, KERNEL_WORK_NONE, 0);
}

/* Completed, then the object goes. */
static void job_complete(Job *job, bool success, const char *message) {
        char buf[JOB_OBJECT_PATH_MAX];

        if (job->announced) {
                (void) sd_bus_emit_signal(job->manager->bus, job_path(job, buf), DMBUS_JOB_INTERFACE, "Completed", "bs", success,
                                          message ?: "");
                (void) sd_bus_emit_object_removed(job->manager->bus, buf);
        }
        job_free(job);
}

void job_end(Manager *m, Operation *op, bool success, const char *message) {
        if (op->job)
                job_complete(op->job, success, message);
}

void job_objects_changed(Manager *m, Operation *op) {
        char buf[JOB_OBJECT_PATH_MAX];

        if (op->job && op->job->announced)
                (void) sd_bus_emit_properties_changed(m->bus, job_path(op->job, buf), DMBUS_JOB_INTERFACE, "Objects", NULL);
}

/* ---- The kernel's own work ---------------------------------------------------------------- */

static Job *kernel_job_of(Manager *m, dev_t devnum) {
        LIST_FOREACH(jobs, job, m->jobs->jobs)
                if (!job->op && job->devnum == devnum)
                        return job;
        return NULL;
}

static void job_progress_changed(Job *job) {
        char buf[JOB_OBJECT_PATH_MAX];

        if (job->announced)
                (void) sd_bus_emit_properties_changed(job->manager->bus, job_path(job, buf), DMBUS_JOB_INTERFACE, "Progress",
                                                      "ProgressValid", "ExpectedEndTime", NULL);
}

/* What the status says now: Progress, and ExpectedEndTime at the rate seen since the start. */
static void kernel_job_take(Job *job, const KernelWork *w, uint64_t now) {
        double progress;

        job->baseline = w->total > 0 ? w->total : (job->baseline > w->left ? job->baseline : w->left);
        if (job->baseline == 0)
                return;
        progress = (double) (job->baseline - (w->left < job->baseline ? w->left : job->baseline)) / (double) job->baseline;
        if (job->progress_valid && progress == job->progress)
                return;
        job->progress = progress;
        job->progress_valid = true;
        job->expected_end_time = 0;
        if (progress > job->first_progress && now > job->start_time)
                job->expected_end_time = now + (uint64_t) ((1.0 - progress) * (double) (now - job->start_time) /
                                                           (progress - job->first_progress));
        job_progress_changed(job);
}

static void kernel_job_start(Manager *m, dev_t devnum, const DmDevice *dm, uint64_t now) {
        Job *job = job_new(m, NULL, dm->kernel_work.kind, devnum);

        if (!job)
                return;
        kernel_job_take(job, &dm->kernel_work, now);
        job->first_progress = job->progress;
        log_info("%s: %s under way, %.0f %% done.", dm->name, job_operation(job), job->progress * 100);
}

/* Done when the device has no work left undone; stopped otherwise, or gone. */
static void kernel_job_end(Job *job, const DmDevice *dm) {
        char message[128];
        bool success = dm && !dm->kernel_work.unfinished;

        if (success) {
                snprintf(message, sizeof(message), "The %s is done.", job_operation(job));
                job->progress = 1.0;
                job->progress_valid = true;
                job->expected_end_time = realtime_usec();
                job_progress_changed(job);
                log_info("%s: %s", dm->name, message);
        } else if (dm) {
                snprintf(message, sizeof(message), "The %s stopped with %.0f %% done.", job_operation(job), job->progress * 100);
                log_info("%s: %s", dm->name, message);
        } else {
                snprintf(message, sizeof(message), "The device went away before its %s was done.", job_operation(job));
                log_info("%u:%u: %s", major(job->devnum), minor(job->devnum), message);
        }
        job_complete(job, success, message);
}

void jobs_kernel_work_refreshed(Manager *m, const DevSet *devices) {
        uint64_t now = realtime_usec();

        for (size_t i = 0; i < devices->n; i++) {
                dev_t devnum = devices->items[i];
                const BlockDevice *d = graph_get(m->graph, devnum);
                const DmDevice *dm = d ? d->dm : NULL;
                KernelWorkKind kind = dm ? dm->kernel_work.kind : KERNEL_WORK_NONE;
                Job *job = kernel_job_of(m, devnum);

                if (job && job->work != kind) {
                        kernel_job_end(job, dm);
                        job = NULL;
                }
                if (kind == KERNEL_WORK_NONE)
                        continue;
                if (job)
                        kernel_job_take(job, &dm->kernel_work, now);
                else
                        kernel_job_start(m, devnum, dm, now);
        }
}

static void job_cancel(Job *job) {
        log_info("%s: cancel asked.", job->op->label ?: job_operation(job));
        operation_cancel(job->op);
}

static void on_cancel_authorized(void *userdata, const char *error_name, const char *error_message) {
        Job *job = userdata;

        /* The question is over: polkit.c frees it. */
        job->authorization = NULL;
        if (!error_name)
                job_cancel(job);
        job_answer_cancel(job, error_name, error_message);
}

static int method_cancel(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(strv_freep) char **details = NULL;
        Job *job = userdata;
        Manager *m = job->manager;
        uid_t uid;
        int r;

        bool no_user_interaction = false;
        const BusOption options[] = {
                { .key = DMBUS_OPTION_NO_USER_INTERACTION, .type = 'b', .value = &no_user_interaction,
                  DMBUS_OPTION_NO_USER_INTERACTION_UDISKS },
        };

        r = bus_message_read_options(message, options, ELEMENTSOF(options), error);
        if (r < 0)
                return r;
        if (!job->op)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_SUPPORTED, "A %s is the kernel's own work: its job cannot stop it%s.",
                                         job_operation(job),
                                         job->work == KERNEL_WORK_RAID_CHECK || job->work == KERNEL_WORK_RAID_REPAIR ?
                                         " (the target message \"idle\" does)" : "");
        if (!job_cancelable(job))
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_SUPPORTED, "A %s cannot be cancelled once it began.", job_operation(job));
        r = sender_uids_get(m->sender_uids, message, &uid);
        if (r < 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_AUTHORIZED, "Cannot tell who is calling (%s): not authorized.",
                                         strerror(-r));
        if (uid == 0 || uid == job->started_by) {
                job_cancel(job);
                return sd_bus_reply_method_return(message, NULL);
        }
        /* Someone else's job: as polkit allows the operation itself, one question at a time. */
        if (job->cancel_request)
                return sd_bus_error_set(error, DMBUS_ERROR_BUSY, "A cancel of this job is waiting for authorization already.");
        r = operation_bus_polkit_details(job->op, &details);
        if (r >= 0)
                r = polkit_check(message, operation_bus_polkit_action(job->op->kind), details,
                                 sd_bus_message_get_allow_interactive_authorization(message) > 0 && !no_user_interaction,
                                 on_cancel_authorized, job,
                                 &job->authorization);
        if (r < 0)
                return sd_bus_error_setf(error, DMBUS_ERROR_NOT_AUTHORIZED, "Cannot ask polkit whether you may (%s): not authorized.",
                                         strerror(-r));
        job->cancel_request = sd_bus_message_ref(message);
        return 1;
}

static int property_get_operation(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *job = userdata;

        return sd_bus_message_append(reply, "s", job_operation(job));
}

/* The devices it is about: its device, or a stack's (those made so far, for a CreateStack). */
static int property_get_objects(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *job = userdata;
        const Operation *op = job->op;
        dev_t devs[(op ? op->n_members : 0) + 1];
        size_t n = 0;

        if (!op)
                devs[n++] = job->devnum;
        else if (operation_kind_is_stack(op->kind)) {
                for (size_t i = 0; i < op->n_members; i++)
                        if (op->members[i].devnum != 0)
                                devs[n++] = op->members[i].devnum;
        } else if (op->devnum != 0)
                devs[n++] = op->devnum;
        return block_object_paths_append(reply, job->manager->graph, devs, n);
}

static int property_get_cancelable(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", job_cancelable(userdata));
}

static int property_get_progress_valid(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *job = userdata;

        return sd_bus_message_append(reply, "b", job->progress_valid);
}

#define JOB_FIELD(field) offsetof(Job, field)

static const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Operation", "s", property_get_operation, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Objects", "ao", property_get_objects, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_PROPERTY("StartedByUID", "u", NULL, JOB_FIELD(started_by), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StartTime", "t", NULL, JOB_FIELD(start_time), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Progress", "d", NULL, JOB_FIELD(progress), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ProgressValid", "b", property_get_progress_valid, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ExpectedEndTime", "t", NULL, JOB_FIELD(expected_end_time), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Cancelable", "b", property_get_cancelable, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_cancel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("Completed", SD_BUS_ARGS("b", success, "s", message), 0),
        SD_BUS_VTABLE_END,
};

/* The announced job at path, if any. */
static Job *job_at(Manager *m, const char *path) {
        char buf[JOB_OBJECT_PATH_MAX];

        LIST_FOREACH(jobs, job, m->jobs->jobs)
                if (job->announced && strcmp(job_path(job, buf), path) == 0)
                        return job;
        return NULL;
}

static int job_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found, sd_bus_error *error) {
        Job *job = job_at(userdata, path);

        if (!job)
                return 0;
        *found = job;
        return 1;
}

static int job_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***ret, sd_bus_error *error) {
        _cleanup_(strv_freep) char **paths = NULL;
        Manager *m = userdata;
        char buf[JOB_OBJECT_PATH_MAX];

        LIST_FOREACH(jobs, job, m->jobs->jobs)
                if (job->announced && strv_extend(&paths, job_path(job, buf)) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(paths);
        return 0;
}

int job_bus_register(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, DMBUS_JOB_PREFIX, DMBUS_JOB_INTERFACE, job_vtable, job_find, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, DMBUS_JOB_PREFIX, job_enumerate, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Job interface: %m");
        return 0;
}
