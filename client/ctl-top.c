/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "alloc-util.h"
#include "ctl.h"

/* top: the stacks in tree order with each device's I/O rates, from Block.GetStatistics, and its
 * health; refreshed every interval. On a terminal the screen is redrawn and q quits; otherwise
 * each report is plain lines, then a blank one. */

typedef struct Sample {
        uint64_t read_ios, write_ios, read_sectors, write_sectors;
} Sample;

static int read_sample(sd_bus *bus, const char *path, Sample *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *key;
        uint64_t value;
        int r;

        *ret = (Sample) {};
        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, path, DMBUS_BLOCK_INTERFACE, "GetStatistics", &error, &reply, NULL);
        if (r < 0)
                return r;       /* gone meanwhile: shown as idle */
        r = sd_bus_message_enter_container(reply, 'a', "{st}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{st}", &key, &value)) > 0) {
                if (strcmp(key, "read-ios") == 0)
                        ret->read_ios = value;
                else if (strcmp(key, "write-ios") == 0)
                        ret->write_ios = value;
                else if (strcmp(key, "read-sectors") == 0)
                        ret->read_sectors = value;
                else if (strcmp(key, "write-sectors") == 0)
                        ret->write_sectors = value;
        }
        return r;
}

/* One report: the devices as a forest, with their rates since before (dt seconds). */
typedef struct Report {
        const Node *nodes;
        size_t n;
        const Sample *before, *now;
        double dt;
} Report;

static void print_row(const Node *node, const char *label, void *userdata) {
        const Report *rep = userdata;
        const Sample *a = &rep->before[node - rep->nodes], *b = &rep->now[node - rep->nodes];
        char read_bytes[16], write_bytes[16];

        size_human((uint64_t) ((b->read_sectors - a->read_sectors) * 512 / rep->dt), read_bytes);
        size_human((uint64_t) ((b->write_sectors - a->write_sectors) * 512 / rep->dt), write_bytes);
        printf("%-40s %8.1f %8.1f %8s %8s  %s\n", label, (b->read_ios - a->read_ios) / rep->dt, (b->write_ios - a->write_ios) / rep->dt,
               read_bytes, write_bytes, node->is_dm ? node->health ?: "" : "");
}

static void print_report(const Report *rep, bool terminal) {
        char now[32];

        timestamp_now(now);
        if (terminal)
                printf("\033[H\033[2J");
        printf("dmbusctl top - %s, %zu devices, every %.1f s%s\n", now, rep->n, rep->dt, terminal ? " (q quits)" : "");
        printf("%-40s %8s %8s %8s %8s  %s\n", "DEVICE", "READS/S", "WRITES/S", "READ/S", "WRITE/S", "HEALTH");
        nodes_walk_forest(rep->nodes, rep->n, print_row, (void *) rep);
        if (!terminal)
                printf("\n");
        fflush(stdout);
}

/* Waits seconds; true when q was pressed (a terminal only). */
static bool wait_or_quit(double seconds, bool terminal) {
        struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
        struct timespec end, now;
        char c;

        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += (time_t) seconds;
        end.tv_nsec += (long) ((seconds - (double) (time_t) seconds) * 1e9);
        if (end.tv_nsec >= 1000000000L) {
                end.tv_sec++;
                end.tv_nsec -= 1000000000L;
        }
        for (;;) {
                long ms;

                clock_gettime(CLOCK_MONOTONIC, &now);
                ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
                if (ms <= 0)
                        return false;
                if (!terminal) {
                        poll(NULL, 0, (int) ms);
                        continue;
                }
                if (poll(&pfd, 1, (int) ms) > 0 && read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
                        return true;
        }
}

static Sample *take_samples(sd_bus *bus, const Node *nodes, size_t n) {
        Sample *samples = calloc(n ? n : 1, sizeof(Sample));

        for (size_t i = 0; samples && i < n; i++)
                (void) read_sample(bus, nodes[i].path, &samples[i]);
        return samples;
}

static int top_loop(sd_bus *bus, double interval, unsigned count, bool terminal) {
        for (unsigned done = 0; count == 0 || done < count; done++) {
                _cleanup_(freep) Sample *before = NULL, *now = NULL;
                Node *nodes = NULL;
                size_t n = 0;
                bool quit;
                int r;

                r = load_nodes(bus, &nodes, &n);
                if (r != 0)
                        return r;
                before = take_samples(bus, nodes, n);
                quit = wait_or_quit(interval, terminal);
                now = take_samples(bus, nodes, n);
                if (!before || !now) {
                        nodes_free(nodes, n);
                        return failure_exit(-ENOMEM, "cannot sample");
                }
                if (!quit)
                        print_report(&(Report) { nodes, n, before, now, interval }, terminal);
                nodes_free(nodes, n);
                if (quit)
                        break;
        }
        return 0;
}

int verb_top(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *delay = verb_call_value(call, "delay"), *iterations = verb_call_value(call, "iterations");
        struct termios saved, raw;
        double interval = 1.0;
        unsigned count = 0;
        bool terminal;
        char *end;
        int r;

        if (delay) {
                interval = strtod(delay, &end);
                if (*end || !(interval >= 0.1 && interval <= 3600))
                        return usage_error("--delay takes seconds from 0.1 to 3600, not \"%s\"", delay);
        }
        if (iterations) {
                count = (unsigned) strtoul(iterations, &end, 10);
                if (*end || count == 0)
                        return usage_error("--iterations takes a count above 0, not \"%s\"", iterations);
        }
        r = bus_connect(&bus);
        if (r != 0)
                return r;
        terminal = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
        if (terminal) {
                /* Keys as they are pressed, not echoed: q quits without Enter. */
                raw = saved;
                raw.c_lflag &= ~(ICANON | ECHO);
                raw.c_cc[VMIN] = 0;
                raw.c_cc[VTIME] = 0;
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
        r = top_loop(bus, interval, count, terminal);
        if (terminal)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        return r;
}
