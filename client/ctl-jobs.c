/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc-util.h"
#include "ctl.h"

/* jobs: the operations under way, as systemctl list-jobs shows its own; cancel: Job.Cancel. */

typedef struct JobRow {
        const char *path, *operation;
        uint32_t uid;
        uint64_t start_time;
        double progress;
        bool progress_valid, cancelable;
        char *objects;                  /* their paths' last parts, ", " apart */
} JobRow;

static int read_bool(sd_bus_message *reply, bool *ret) {
        int b, r;

        r = sd_bus_message_read(reply, "v", "b", &b);
        if (r >= 0)
                *ret = b;
        return r;
}

/* One job's Job properties, from GetManagedObjects' a{sv}; the strings stay in the reply. */
static int read_job_properties(sd_bus_message *reply, JobRow *job) {
        const char *name, *object;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        break;
                if (strcmp(name, "Operation") == 0)
                        r = sd_bus_message_read(reply, "v", "s", &job->operation);
                else if (strcmp(name, "StartedByUID") == 0)
                        r = sd_bus_message_read(reply, "v", "u", &job->uid);
                else if (strcmp(name, "StartTime") == 0)
                        r = sd_bus_message_read(reply, "v", "t", &job->start_time);
                else if (strcmp(name, "Progress") == 0)
                        r = sd_bus_message_read(reply, "v", "d", &job->progress);
                else if (strcmp(name, "ProgressValid") == 0)
                        r = read_bool(reply, &job->progress_valid);
                else if (strcmp(name, "Cancelable") == 0)
                        r = read_bool(reply, &job->cancelable);
                else if (strcmp(name, "Objects") == 0) {
                        r = sd_bus_message_enter_container(reply, 'v', "ao");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(reply, 'a', "o");
                        while (r >= 0 && (r = sd_bus_message_read(reply, "o", &object)) > 0) {
                                char *joined;

                                if (asprintf(&joined, "%s%s%s", job->objects ?: "", job->objects ? ", " : "", strrchr(object, '/') + 1) < 0)
                                        return -ENOMEM;
                                free(job->objects);
                                job->objects = joined;
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

/* The objects' Job interfaces, in the order the service lists them. */
static int read_jobs(sd_bus_message *reply, JobRow **ret, size_t *ret_n) {
        _cleanup_(freep) JobRow *jobs = NULL;
        size_t n = 0, allocated = 0;
        const char *path, *interface;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        r = sd_bus_message_read(reply, "s", &interface);
                        if (r >= 0 && strcmp(interface, DMBUS_JOB_INTERFACE) == 0) {
                                if (GREEDY_REALLOC(jobs, allocated, n + 1) < 0)
                                        return -ENOMEM;
                                jobs[n] = (JobRow) { .path = path };
                                r = read_job_properties(reply, &jobs[n++]);
                        } else if (r >= 0)
                                r = sd_bus_message_skip(reply, "a{sv}");
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(jobs[i].objects);
                return r;
        }
        *ret = TAKE_PTR(jobs);
        *ret_n = n;
        return 0;
}

int verb_jobs(const VerbCall *call) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) JobRow *jobs = NULL;
        struct timespec now;
        size_t n = 0;
        int r;

        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                               &error, &reply, NULL);
        if (r < 0)
                return bus_error_exit(&error, r);
        r = read_jobs(reply, &jobs, &n);
        if (r < 0)
                return failure_exit(r, "cannot read the reply");
        clock_gettime(CLOCK_REALTIME, &now);
        if (n > 0)
                printf("%-5s %-21s %-6s %8s %8s %-10s %s\n", "JOB", "OPERATION", "UID", "ELAPSED", "PROGRESS", "CANCELABLE", "OBJECTS");
        for (size_t i = 0; i < n; i++) {
                uint64_t now_usec = (uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000;
                double elapsed = now_usec > jobs[i].start_time ? (double) (now_usec - jobs[i].start_time) / 1e6 : 0;
                char progress[16] = "-";

                if (jobs[i].progress_valid)
                        snprintf(progress, sizeof(progress), "%.0f%%", jobs[i].progress * 100);
                printf("%-5s %-21s %-6" PRIu32 " %7.1fs %8s %-10s %s\n", strrchr(jobs[i].path, '/') + 1, jobs[i].operation ?: "?",
                       jobs[i].uid, elapsed, progress, jobs[i].cancelable ? "yes" : "no", jobs[i].objects ?: "-");
                free(jobs[i].objects);
        }
        if (n == 0)
                printf("No jobs running.\n");
        else
                printf("\n%zu job%s listed.\n", n, n == 1 ? "" : "s");
        return 0;
}

int verb_cancel(const VerbCall *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) char *path = NULL;
        const char *job = call->args[0];
        int r;

        if (!job[0] || strspn(job, "0123456789") != strlen(job))
                return usage_error("JOB is the number \"dmbusctl jobs\" shows, not \"%s\"", job);
        if (asprintf(&path, DMBUS_JOB_PREFIX "/%s", job) < 0)
                return failure_exit(-ENOMEM, "cannot build the call");
        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, path, DMBUS_JOB_INTERFACE, "Cancel");
        if (r >= 0)
                r = append_common_options(m);
        if (r < 0)
                return failure_exit(r, "cannot build the call");
        return call_as_polkit_allows(bus, m, CTL_OPERATION_TIMEOUT_USEC, &reply);
}
