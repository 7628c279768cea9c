/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

/* An operation that becomes a job (the service's Job objects), followed on a terminal: a spinner
 * and the elapsed time, or a bar where the job reports progress, on stderr; Ctrl-C asks the job
 * to cancel (once; a second one ends dmbusctl as usual). */

#define REDRAW_USEC (100 * UINT64_C(1000))

typedef struct Follow {
        sd_bus_message *reply;
        char *job;                      /* our job's path, once announced */
        bool cancel_sent;
        bool drawn;
} Follow;

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
        interrupted = 1;
        /* The next one is the user's to end us with. */
        signal(SIGINT, SIG_DFL);
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Follow *f = userdata;

        f->reply = sd_bus_message_ref(reply);
        return 0;
}

/* The first job announced after our call that this uid started is ours: one command, one call. */
static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Follow *f = userdata;
        const char *path, *interface;
        int r;

        if (f->job || sd_bus_message_read(m, "o", &path) < 0 || strncmp(path, DMBUS_JOB_PREFIX "/", strlen(DMBUS_JOB_PREFIX "/")) != 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                const char *name;
                uint32_t uid;

                r = sd_bus_message_read(m, "s", &interface);
                if (r >= 0 && strcmp(interface, DMBUS_JOB_INTERFACE) == 0) {
                        r = sd_bus_message_enter_container(m, 'a', "{sv}");
                        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                                r = sd_bus_message_read(m, "s", &name);
                                if (r >= 0 && strcmp(name, "StartedByUID") == 0) {
                                        r = sd_bus_message_read(m, "v", "u", &uid);
                                        if (r >= 0 && uid == getuid())
                                                f->job = strdup(path);
                                } else if (r >= 0)
                                        r = sd_bus_message_skip(m, "v");
                                if (r >= 0)
                                        r = sd_bus_message_exit_container(m);
                        }
                        return 0;
                }
                if (r >= 0)
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return 0;
}

static void draw(sd_bus *bus, Follow *f, uint64_t started) {
        static const char spinner[] = "|/-\\";
        struct timespec now;
        double elapsed, progress = 0;
        int valid = 0;

        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (double) ((uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000 - started) / 1e6;
        (void) sd_bus_get_property_trivial(bus, DMBUS_SERVICE_NAME, f->job, DMBUS_JOB_INTERFACE, "ProgressValid", NULL, 'b', &valid);
        if (valid) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                if (sd_bus_get_property(bus, DMBUS_SERVICE_NAME, f->job, DMBUS_JOB_INTERFACE, "Progress", NULL, &reply, "d") < 0 ||
                    sd_bus_message_read(reply, "d", &progress) < 0)
                        valid = 0;
        }
        if (valid) {
                int filled = (int) (progress * 30 + 0.5);

                fprintf(stderr, "\r[%-30.*s] %3.0f%% %.1fs%s\033[K", filled, "##############################", progress * 100, elapsed,
                        f->cancel_sent ? " cancelling" : " (Ctrl-C cancels)");
        } else
                fprintf(stderr, "\r%c %.1fs%s\033[K", spinner[(unsigned) (elapsed * 10) % 4], elapsed,
                        f->cancel_sent ? " cancelling" : " (Ctrl-C cancels)");
        f->drawn = true;
}

int call_following_job(sd_bus *bus, sd_bus_message *m, uint64_t timeout_usec, sd_bus_message **ret_reply, sd_bus_error *error) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *call = NULL, *match = NULL;
        struct sigaction old_action;
        Follow f = {};
        struct timespec now;
        uint64_t started;
        bool terminal = isatty(STDERR_FILENO) > 0;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &now);
        started = (uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000;
        if (terminal) {
                r = sd_bus_match_signal(bus, &match, DMBUS_SERVICE_NAME, DMBUS_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                                        "InterfacesAdded", on_interfaces_added, &f);
                if (r < 0)
                        return r;
                interrupted = 0;
                sigaction(SIGINT, &(struct sigaction) { .sa_handler = on_interrupt }, &old_action);
        }
        r = sd_bus_call_async(bus, &call, m, on_reply, &f, timeout_usec);
        while (r >= 0 && !f.reply) {
                r = sd_bus_process(bus, NULL);
                if (r != 0)
                        continue;
                if (interrupted && f.job && !f.cancel_sent) {
                        r = sd_bus_call_method_async(bus, NULL, DMBUS_SERVICE_NAME, f.job, DMBUS_JOB_INTERFACE, "Cancel", NULL, NULL,
                                                     "a{sv}", 0);
                        f.cancel_sent = true;
                }
                if (r >= 0 && f.job)
                        draw(bus, &f, started);
                if (r >= 0) {
                        r = sd_bus_wait(bus, REDRAW_USEC);
                        if (r == -EINTR)
                                r = 0;
                }
        }
        if (terminal)
                sigaction(SIGINT, &old_action, NULL);
        if (f.drawn)
                fputs("\r\033[K", stderr);
        free(f.job);
        if (r < 0) {
                sd_bus_message_unref(f.reply);
                return r;
        }
        if (sd_bus_message_is_method_error(f.reply, NULL)) {
                r = sd_bus_error_copy(error, sd_bus_message_get_error(f.reply));
                sd_bus_message_unref(f.reply);
                return r;
        }
        *ret_reply = f.reply;
        return 0;
}
