/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "alloc-util.h"
#include "ctl.h"

/* metrics: Prometheus's text exposition of the DM devices, from one GetManagedObjects and one
 * Block.GetStatistics per DM device, with no privilege. Every series of a device is labelled with
 * its name and UUID, never dm-N, so it is the same series after a reboot. With --textfile, a file
 * kept current for node_exporter's textfile collector: written whole and renamed over the last,
 * at most once a second after the service's objects change, and every --interval seconds for the
 * I/O counters. */

#define USEC_PER_SEC UINT64_C(1000000)

/* GetStatistics' counters, named and scaled as node_exporter's node_disk_* are. */
static const struct {
        const char *key, *metric, *type, *help;
        double scale;
} io_counters[] = {
        { "read-ios", "dmbus_device_reads_completed_total", "counter", "Reads completed.", 1 },
        { "read-merges", "dmbus_device_reads_merged_total", "counter", "Reads merged.", 1 },
        { "read-sectors", "dmbus_device_read_bytes_total", "counter", "Bytes read.", 512 },
        { "read-ticks-ms", "dmbus_device_read_time_seconds_total", "counter", "Seconds spent by reads.", 0.001 },
        { "write-ios", "dmbus_device_writes_completed_total", "counter", "Writes completed.", 1 },
        { "write-merges", "dmbus_device_writes_merged_total", "counter", "Writes merged.", 1 },
        { "write-sectors", "dmbus_device_written_bytes_total", "counter", "Bytes written.", 512 },
        { "write-ticks-ms", "dmbus_device_write_time_seconds_total", "counter", "Seconds spent by writes.", 0.001 },
        { "in-flight", "dmbus_device_io_now", "gauge", "I/Os in progress.", 1 },
        { "io-ticks-ms", "dmbus_device_io_time_seconds_total", "counter", "Seconds spent doing I/Os.", 0.001 },
        { "time-in-queue-ms", "dmbus_device_io_time_weighted_seconds_total", "counter", "Seconds spent doing I/Os, weighted by their number.", 0.001 },
        { "discard-ios", "dmbus_device_discards_completed_total", "counter", "Discards completed.", 1 },
        { "discard-merges", "dmbus_device_discards_merged_total", "counter", "Discards merged.", 1 },
        { "discard-sectors", "dmbus_device_discarded_bytes_total", "counter", "Bytes discarded.", 512 },
        { "discard-ticks-ms", "dmbus_device_discard_time_seconds_total", "counter", "Seconds spent by discards.", 0.001 },
        { "flush-ios", "dmbus_device_flush_requests_total", "counter", "Flush requests completed.", 1 },
        { "flush-ticks-ms", "dmbus_device_flush_requests_time_seconds_total", "counter", "Seconds spent by flush requests.", 0.001 },
};

#define N_IO_COUNTERS ELEMENTSOF(io_counters)

/* One DM device as the exposition sees it. */
typedef struct Sample {
        const Node *node;
        char labels[1056];              /* name="...",uuid="..." */
        double io[N_IO_COUNTERS];
        bool has_io[N_IO_COUNTERS];
} Sample;

typedef struct Family Family;
struct Family {
        const char *metric, *type, *help;
        /* The device's value, false when it has none: its ParsedStatus's key of a target type (or
         * key over total), its I/O counter number io, or what value_of computes. */
        bool (*value_of)(const Family *f, const Sample *s, double *ret);
        const char *target_type, *key, *total;
        size_t io;
};

/* Prometheus's label value escapes: backslash, double quote, line feed. */
static void label_escape(const char *s, char *buf, size_t size) {
        size_t n = 0;

        for (; s && *s && n + 3 < size; s++) {
                if (*s == '\\' || *s == '"')
                        buf[n++] = '\\', buf[n++] = *s;
                else if (*s == '\n')
                        buf[n++] = '\\', buf[n++] = 'n';
                else
                        buf[n++] = *s;
        }
        buf[n] = 0;
}

/* The shortest text that reads back as the same double. */
static void value_format(double v, char buf[static 32]) {
        snprintf(buf, 32, "%.15g", v);
        if (strtod(buf, NULL) != v)
                snprintf(buf, 32, "%.17g", v);
}

static bool is_target(const Sample *s, const char *target_type) {
        const char *type = node_parsed_status(s->node, "target-type");

        /* A merging snapshot writes a snapshot's line. */
        return type && (strcmp(type, target_type) == 0 || (strcmp(target_type, "snapshot") == 0 && strcmp(type, "snapshot-merge") == 0));
}

static bool status_number(const Sample *s, const char *key, double *ret) {
        const char *v = node_parsed_status(s->node, key);
        char *end;

        if (!v || !v[0])
                return false;
        *ret = (double) strtoull(v, &end, 10);
        return *end == 0;
}

static bool value_status(const Family *f, const Sample *s, double *ret) {
        return is_target(s, f->target_type) && status_number(s, f->key, ret);
}

static bool value_ratio(const Family *f, const Sample *s, double *ret) {
        double used, total;

        if (!is_target(s, f->target_type) || !status_number(s, f->key, &used) || !status_number(s, f->total, &total) || total == 0)
                return false;
        *ret = used / total;
        return true;
}

static bool value_raid_failed(const Family *f, const Sample *s, double *ret) {
        const char *health = node_parsed_status(s->node, "dev-health");

        if (!is_target(s, f->target_type) || !health)
                return false;
        *ret = 0;
        for (; *health; health++)
                *ret += *health == 'D';
        return true;
}

static bool value_suspended(const Family *f, const Sample *s, double *ret) {
        struct timespec ts;
        double now;

        clock_gettime(CLOCK_REALTIME, &ts);
        now = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
        *ret = s->node->suspended_since == 0 ? 0 : now - (double) s->node->suspended_since / 1e6;
        if (*ret < 0)
                *ret = 0;
        return true;
}

static bool value_open_count(const Family *f, const Sample *s, double *ret) {
        *ret = s->node->open_count;
        return true;
}

static bool value_io(const Family *f, const Sample *s, double *ret) {
        *ret = s->io[f->io] * io_counters[f->io].scale;
        return s->has_io[f->io];
}

#define STATUS(metric, type, help, target, key) { metric, type, help, value_status, target, key, NULL, 0 }
#define RATIO(metric, help, target, key, total) { metric, "gauge", help, value_ratio, target, key, total, 0 }

static const Family device_families[] = {
        { "dmbus_device_suspended_seconds", "gauge", "Seconds the device has been suspended; 0 when it is not.", .value_of = value_suspended },
        { "dmbus_device_openers", "gauge", "Openers of the device (its open count).", .value_of = value_open_count },
        STATUS("dmbus_thin_pool_data_used_blocks", "gauge", "Data blocks of the thin pool in use.", "thin-pool", "used-data-blocks"),
        STATUS("dmbus_thin_pool_data_blocks", "gauge", "Data blocks of the thin pool.", "thin-pool", "total-data-blocks"),
        RATIO("dmbus_thin_pool_data_used_ratio", "Share of the thin pool's data blocks in use.", "thin-pool", "used-data-blocks", "total-data-blocks"),
        STATUS("dmbus_thin_pool_metadata_used_blocks", "gauge", "Metadata blocks of the thin pool in use.", "thin-pool", "used-metadata-blocks"),
        STATUS("dmbus_thin_pool_metadata_blocks", "gauge", "Metadata blocks of the thin pool.", "thin-pool", "total-metadata-blocks"),
        RATIO("dmbus_thin_pool_metadata_used_ratio", "Share of the thin pool's metadata blocks in use.", "thin-pool", "used-metadata-blocks",
              "total-metadata-blocks"),
        STATUS("dmbus_snapshot_used_sectors", "gauge", "Sectors of the snapshot's exception store in use.", "snapshot", "used-sectors"),
        STATUS("dmbus_snapshot_sectors", "gauge", "Sectors of the snapshot's exception store.", "snapshot", "total-sectors"),
        RATIO("dmbus_snapshot_used_ratio", "Share of the snapshot's exception store in use.", "snapshot", "used-sectors", "total-sectors"),
        STATUS("dmbus_raid_members", "gauge", "Members of the raid set.", "raid", "dev-count"),
        { "dmbus_raid_failed_members", "gauge", "Members of the raid set that failed ('D').", .value_of = value_raid_failed,
          .target_type = "raid" },
        RATIO("dmbus_raid_sync_ratio", "Share of the raid set's regions in sync.", "raid", "insync-regions", "total-regions"),
        STATUS("dmbus_cache_blocks", "gauge", "Blocks of the cache.", "cache", "total-blocks"),
        STATUS("dmbus_cache_used_blocks", "gauge", "Blocks of the cache in use.", "cache", "used-blocks"),
        STATUS("dmbus_cache_dirty_blocks", "gauge", "Blocks of the cache not yet written back.", "cache", "dirty-blocks"),
        STATUS("dmbus_integrity_mismatches_total", "counter", "Checksum mismatches dm-integrity counted.", "integrity", "mismatches"),
        STATUS("dmbus_verity_corrupted", "gauge", "Whether dm-verity found a corrupted block (1) or not (0).", "verity", "corrupted"),
};

static const char *const health_states[] = { "ok", "degraded", "suspended", "failed" };

static void family_header(FILE *f, const char *metric, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

static void print_family(FILE *f, const Family *family, const Sample *samples, size_t n) {
        bool header = false;

        for (size_t i = 0; i < n; i++) {
                char value[32];
                double v;

                if (!family->value_of(family, &samples[i], &v))
                        continue;
                if (!header)
                        family_header(f, family->metric, family->type, family->help);
                header = true;
                value_format(v, value);
                fprintf(f, "%s{%s} %s\n", family->metric, samples[i].labels, value);
        }
}

static void print_info(FILE *f, const Sample *samples, size_t n) {
        family_header(f, "dmbus_device_info", "gauge",
                      "A DM device: its subsystem (the UUID's prefix), lvm2's volume group and logical volume, its target types.");
        for (size_t i = 0; i < n; i++) {
                const Node *node = samples[i].node;
                char subsystem[256], vg[512], lv[512], targets[512];

                label_escape(node->subsystem, subsystem, sizeof(subsystem));
                label_escape(node->lvm_volume_group, vg, sizeof(vg));
                label_escape(node->lvm_logical_volume, lv, sizeof(lv));
                label_escape(node->types, targets, sizeof(targets));
                fprintf(f, "dmbus_device_info{%s,subsystem=\"%s\",vg=\"%s\",lv=\"%s\",targets=\"%s\"} 1\n", samples[i].labels, subsystem, vg,
                        lv, targets);
        }
}

/* Health as a state set: one series per state, 1 for the device's own. */
static void print_health(FILE *f, const Sample *samples, size_t n) {
        family_header(f, "dmbus_device_health", "gauge", "The device's Health: 1 for its state, 0 for the others.");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < ELEMENTSOF(health_states); k++)
                        fprintf(f, "dmbus_device_health{%s,state=\"%s\"} %d\n", samples[i].labels, health_states[k],
                                samples[i].node->health && strcmp(samples[i].node->health, health_states[k]) == 0);
}

static void read_io_counters(sd_bus *bus, Sample *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *key;
        uint64_t value;
        int r;

        /* Gone meanwhile: the device goes without its counters this time. */
        r = sd_bus_call_method(bus, DMBUS_SERVICE_NAME, s->node->path, DMBUS_BLOCK_INTERFACE, "GetStatistics", NULL, &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "{st}");
        while (r >= 0 && (r = sd_bus_message_read(reply, "{st}", &key, &value)) > 0)
                for (size_t i = 0; i < N_IO_COUNTERS; i++)
                        if (strcmp(key, io_counters[i].key) == 0) {
                                s->io[i] = (double) value;
                                s->has_io[i] = true;
                        }
}

/* The whole exposition: 0, or an exit code when the service could not be read (dmbus_up 0 is
 * written then). */
static int metrics_print(sd_bus *bus, FILE *f) {
        _cleanup_(freep) Sample *samples = NULL;
        Node *nodes = NULL;
        size_t n_nodes = 0, n = 0;
        int r;

        r = load_nodes(bus, &nodes, &n_nodes);
        family_header(f, "dmbus_up", "gauge", "Whether dmbusd answered (1) or not (0).");
        fprintf(f, "dmbus_up %d\n", r == 0);
        if (r != 0)
                return r;
        samples = calloc(n_nodes ?: 1, sizeof(Sample));
        if (!samples) {
                nodes_free(nodes, n_nodes);
                return failure_exit(-ENOMEM, "cannot write the metrics");
        }
        for (size_t i = 0; i < n_nodes; i++) {
                char name[512], uuid[512];

                if (!nodes[i].is_dm)
                        continue;
                samples[n].node = &nodes[i];
                label_escape(nodes[i].name, name, sizeof(name));
                label_escape(nodes[i].uuid, uuid, sizeof(uuid));
                snprintf(samples[n].labels, sizeof(samples[n].labels), "name=\"%s\",uuid=\"%s\"", name, uuid);
                read_io_counters(bus, &samples[n++]);
        }

        family_header(f, "dmbus_devices", "gauge", "DM devices.");
        fprintf(f, "dmbus_devices %zu\n", n);
        if (n > 0) {
                print_info(f, samples, n);
                print_health(f, samples, n);
        }
        for (size_t i = 0; i < ELEMENTSOF(device_families); i++)
                print_family(f, &device_families[i], samples, n);
        for (size_t i = 0; i < N_IO_COUNTERS; i++)
                print_family(f, &(Family) { io_counters[i].metric, io_counters[i].type, io_counters[i].help, value_io, .io = i },
                             samples, n);
        nodes_free(nodes, n_nodes);
        return 0;
}

/* Written beside it and renamed over it, so that a scrape reads the last file or this one, whole. */
static int textfile_write(sd_bus *bus, const char *path) {
        _cleanup_(freep) char *temporary = NULL;
        FILE *f;
        int r;

        if (asprintf(&temporary, "%s.tmp", path) < 0)
                return failure_exit(-ENOMEM, "cannot write the metrics");
        f = fopen(temporary, "we");
        if (!f)
                return failure_exit(-errno, temporary);
        (void) metrics_print(bus, f);
        r = fflush(f) == 0 && !ferror(f) ? 0 : -errno;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(temporary, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(temporary);
                return failure_exit(r, path);
        }
        return 0;
}

static int on_change(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        *(bool *) userdata = true;
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static int textfile_keep(sd_bus *bus, const char *path, uint64_t interval_usec) {
        uint64_t written;
        bool changed = false;
        int r;

        /* Every signal of the service's objects, and the service coming and going. */
        r = sd_bus_add_match(bus, NULL, "type='signal',sender='" DMBUS_SERVICE_NAME "',path_namespace='" DMBUS_ROOT_PATH "'", on_change,
                             &changed);
        if (r >= 0)
                r = sd_bus_add_match(bus, NULL,
                                     "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" DMBUS_SERVICE_NAME "'",
                                     on_change, &changed);
        if (r < 0)
                return failure_exit(r, "cannot subscribe to the service's signals");
        r = textfile_write(bus, path);
        if (r != 0)
                return r;
        written = now_usec();
        (void) sd_notify(false, "READY=1");
        for (;;) {
                uint64_t due = written + (changed ? USEC_PER_SEC : interval_usec), now = now_usec();

                if (now >= due) {
                        changed = false;
                        r = textfile_write(bus, path);
                        if (r != 0)
                                return r;
                        written = now_usec();
                        continue;
                }
                r = sd_bus_process(bus, NULL);
                if (r > 0)
                        continue;
                if (r >= 0)
                        r = sd_bus_wait(bus, due - now);
                if (r < 0)
                        return failure_exit(r, "lost the bus");
        }
}

int verb_metrics(const VerbCall *call) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *textfile = verb_call_value(call, "textfile"), *interval = verb_call_value(call, "interval");
        unsigned long seconds = 15;
        char *end;
        int r;

        if (interval) {
                if (!textfile)
                        return usage_error("--interval goes with --textfile");
                errno = 0;
                seconds = strtoul(interval, &end, 10);
                if (errno != 0 || *end || seconds < 1 || seconds > 3600)
                        return usage_error("--interval takes seconds from 1 to 3600, not \"%s\"", interval);
        }
        if (textfile && !textfile[0])
                return usage_error("--textfile takes a path");
        r = bus_connect(&bus);
        if (r != 0)
                return r;
        if (textfile)
                return textfile_keep(bus, textfile, seconds * USEC_PER_SEC);
        r = metrics_print(bus, stdout);
        fflush(stdout);
        return r;
}
