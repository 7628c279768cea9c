/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-bus.h>

#include "dmbus-names.h"
#include "macro.h"

/* dmbusctl: a client of dmbusd's D-Bus API, nothing more. It shares no code with the daemon, only
 * the contract's names (dbus/dmbus-names.h) and the generic helpers of service/basic/, the only
 * folder of the daemon's on its include path.
 *
 * The commands, and every helper that says what went wrong before it returns, return 0 or one of
 * the exit codes below, as they are: a failure is reported once, where it is seen. */

/* Exit codes besides 0: one per error the service names, as DMBUS_ERRORS (dmbus-names.h) lists
 * them (dmbusctl(1) too), and these. */
enum {
        EXIT_FAILED = 1,                /* Failed, or anything else that went wrong */
        EXIT_USAGE = 2,                 /* a command line dmbusctl itself cannot use */
        EXIT_NO_SERVICE = 10,           /* dmbusd is not reachable */
};

/* How long a mutation may take before dmbusctl gives up waiting, and no longer: polkit's question to
 * a person (5 minutes at most), udev (udev-timeout-ms, 10 minutes at most), and a minute for the
 * kernel. A service that never answers is an error, not a hang. */
#define CTL_OPERATION_TIMEOUT_USEC (16 * 60 * UINT64_C(1000000))

/* The options every command takes (--json where the command prints JSON, --no-ask-password,
 * --help), parsed once by main() for every command. */
extern bool arg_json;
extern bool arg_json_pretty;
extern bool arg_ask_password;

typedef enum VerbJson {
        VERB_JSON_NONE,
        VERB_JSON_DOCUMENT,     /* --json[=pretty|short]: one document */
        VERB_JSON_LINES,        /* --json[=short]: one object a line */
} VerbJson;

/* One option of a command, --NAME (and -LETTER where letter is not 0). */
typedef struct VerbOption {
        const char *name;
        char letter;
        const char *value;      /* what it takes, named for --help ("SECONDS"); NULL for a flag */
        const char *help;
        bool sent;              /* a flag sent to the service as the boolean option of its name */
} VerbOption;

typedef struct VerbOptionValue {
        const VerbOption *option;
        const char *value;      /* NULL for a flag */
} VerbOptionValue;

typedef struct Verb Verb;

/* A command line as main() parsed it. */
typedef struct VerbCall {
        const Verb *verb;
        VerbOptionValue *options;       /* the command's own, in the order given */
        size_t n_options;
        char **args;                    /* the arguments, verb->min_args to verb->max_args of them */
        size_t n_args;
} VerbCall;

/* One command: dmbusctl.c's table drives dispatch, option parsing, both levels of --help and the
 * bash completion. */
struct Verb {
        const char *name;
        const char *arguments;          /* the usage line after "dmbusctl NAME" */
        const char *summary;            /* its line in dmbusctl --help */
        const char *description;        /* its paragraph in dmbusctl NAME --help */
        unsigned min_args, max_args;
        unsigned device_args;           /* how many leading arguments are a DEVICE (completed with names) */
        VerbJson json;
        bool changes;                   /* a mutation: "Changing" in --help */
        const char *method;             /* the mutations' method (ctl-ops.c) */
        bool takes_table;
        int (*run)(const VerbCall *call);
        VerbOption options[6];
};

/* The last value given for --option ("" for a flag), or NULL when it was not given. */
const char *verb_call_value(const VerbCall *call, const char *option);
bool verb_call_has(const VerbCall *call, const char *option);

/* ctl-bus.c */
int bus_connect(sd_bus **ret);
/* Prints "dmbusctl: MESSAGE" for a failed call and returns the exit code for its kind. */
int bus_error_exit(const sd_bus_error *error, int r);
/* Prints "dmbusctl: WHAT: ERROR" for a local failure (-errno) and returns EXIT_FAILED. */
int failure_exit(int r, const char *what);
/* DEVICE as a name, a UUID, MAJ:MIN, a /dev path, or an object path, resolved by the service. */
int resolve_device(sd_bus *bus, const char *device, char **ret_path);
/* The options dict of a call that takes only the options every method takes: what
 * --no-ask-password says. */
int append_common_options(sd_bus_message *m);
/* A call polkit may hold: interactive authorization unless --no-ask-password, pkttyagent started
 * where it may ask, the reply awaited for timeout_usec. 0, or an exit code (the error printed). */
int call_as_polkit_allows(sd_bus *bus, sd_bus_message *m, uint64_t timeout_usec, sd_bus_message **ret_reply);
/* ctl-progress.c: sd_bus_call(), following the job the service makes of the call: on a terminal,
 * a spinner and the elapsed time (a bar where the job has progress) on stderr, and Ctrl-C asks the
 * job to cancel. 0 and the reply, or -errno and the error. */
int call_following_job(sd_bus *bus, sd_bus_message *m, uint64_t timeout_usec, sd_bus_message **ret_reply, sd_bus_error *error);
/* The bus, and DEVICE resolved on it. */
int open_device(const char *device, sd_bus **ret_bus, char **ret_path);
int usage_error(const char *format, ...) _printf_(1, 2);

/* ctl-agent.c: starts pkttyagent when a password may be asked for on this terminal (not root,
 * stdin a terminal, --no-ask-password not given); it is stopped at exit. */
void polkit_agent_open_if_enabled(void);

/* ctl-print.c */
/* Reads the next complete value from m and prints it: text (arrays one element per line, each
 * continuation line starting with indent), or JSON. */
int value_print(sd_bus_message *m, FILE *f, bool json, const char *indent);
void json_string(FILE *f, const char *s);
/* "32.0M": binary units, as lsblk prints them. */
void size_human(uint64_t bytes, char buf[static 16]);
/* ctl-health.c: one (sa{sv}) of GetUsers or PlanRemoveStack: "process pid=1234 comm=dd uid=0",
 * or a JSON object {"kind": ..., "details": {...}}. 1, 0 at the end of the array, or -errno. */
int print_kind_and_details(sd_bus_message *reply, bool first);
/* Runs print with standard output caught, then prints the one line of JSON it wrote indented two
 * spaces a level (--json=pretty). print's return value, or an exit code. */
int print_json_indented(int (*print)(const void *userdata), const void *userdata);
/* The time now, ISO 8601 in UTC with microseconds. */
void timestamp_now(char buf[static 32]);

/* ctl-ops.c: tables in dmsetup's syntax. */
typedef struct TableRow {
        uint64_t start, length;
        char type[64];
        char *params;
} TableRow;

typedef struct Table {
        TableRow *rows;
        size_t n, allocated;
} Table;
void table_done(Table *t);
/* One line, START LENGTH TYPE [PARAMETERS]; blank lines and # comments are skipped. where names
 * the source in a complaint. 0, or an exit code. */
int table_add_line(Table *t, const char *line, const char *where);
/* As the a(ttss) the service takes. */
int append_table(sd_bus_message *m, const Table *t);

/* ctl-nodes.c: what the service's objects say of each block device. */
typedef struct Node {
        char *path, *kernel_name, *name, *uuid, *subsystem, *types, *health, *health_reason;
        char *lvm_volume_group, *lvm_logical_volume;    /* "" unless lvm2's */
        Table table;
        uint32_t major, minor;
        uint64_t size;
        int32_t open_count;
        uint64_t suspended_since;       /* µs CLOCK_REALTIME, 0 when not suspended */
        char **parsed_status;           /* ParsedStatus: key, value, key, value...; numbers in decimal, booleans 1 or 0 */
        bool is_dm, read_only, suspended, live_table, inactive_table;
        char **dependencies, **holders;
        char **mount_points;            /* from our own mount table, by MAJ:MIN */
} Node;
/* Every block device, in dev_t order: 0, or an exit code. */
int load_nodes(sd_bus *bus, Node **ret, size_t *ret_n);
void nodes_free(Node *nodes, size_t n);
const Node *node_find(const Node *nodes, size_t n, const char *path);
/* A value of the device's ParsedStatus as text, NULL when it has none of that key. */
const char *node_parsed_status(const Node *node, const char *key);
/* Nothing is stacked on it. */
bool node_is_root(const Node *node);
/* Stacks deeper than this are a loop in the data, not a stack. */
#define NODE_DEPTH_MAX 64
/* Calls line once per device in tree order, each device nothing is stacked on followed by what it
 * maps onto, with its label: the tree's branches, then "NAME (MAJ:MIN)". */
typedef void (*NodeLine)(const Node *node, const char *label, void *userdata);
void nodes_walk_forest(const Node *nodes, size_t n, NodeLine line, void *userdata);

/* The commands: 0, or an exit code. */
int verb_tree(const VerbCall *call);            /* ctl-tree.c */
int verb_info(const VerbCall *call);            /* ctl-info.c */
int verb_resolve(const VerbCall *call);
int verb_monitor(const VerbCall *call);         /* ctl-monitor.c */
int verb_operation(const VerbCall *call);       /* ctl-ops.c: create, load, reload, ... message */
int verb_health(const VerbCall *call);          /* ctl-health.c */
int verb_list(const VerbCall *call);
int verb_who(const VerbCall *call);
int verb_create_stack(const VerbCall *call);    /* ctl-stack.c */
int verb_top(const VerbCall *call);             /* ctl-top.c */
int verb_metrics(const VerbCall *call);         /* ctl-metrics.c */
int verb_doctor(const VerbCall *call);          /* ctl-doctor.c */
int verb_show(const VerbCall *call);            /* ctl-show.c */
int verb_targets(const VerbCall *call);
int verb_wait(const VerbCall *call);            /* ctl-wait.c */
int verb_jobs(const VerbCall *call);            /* ctl-jobs.c */
int verb_cancel(const VerbCall *call);
