/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc-util.h"
#include "ctl.h"

/* The mapping operations: each is one method call, with its flags as the options dict. */

typedef struct Verb {
        const char *name;
        const char *method;             /* on the Device, or Create on the Manager */
        const char *arguments;          /* for --help */
        const char *summary;
        unsigned n_args;                /* positional arguments, DEVICE (or NAME) included */
        bool takes_table;
        const char *flags[4];           /* boolean options, named as the service names them; "stack" is ours */
} Verb;

static const Verb verbs[] = {
        { "create", "Create", "NAME [--uuid UUID] (--table LINE... | --table-file FILE) [--read-only] [--inactive]",
          "Create a device, load its table and (unless --inactive) resume it.", 1, true, { DMBUS_OPTION_READ_ONLY } },
        { "load", "Load", "DEVICE (--table LINE... | --table-file FILE) [--read-only]",
          "Load a table into the inactive slot.", 1, true, { DMBUS_OPTION_READ_ONLY } },
        { "reload", "Reload", "DEVICE (--table LINE... | --table-file FILE) [--read-only] [--noflush] [--nolockfs]",
          "Load, suspend and resume as one step.", 1, true, { DMBUS_OPTION_READ_ONLY, DMBUS_OPTION_NOFLUSH, DMBUS_OPTION_NOLOCKFS } },
        { "clear", "ClearInactive", "DEVICE", "Drop the inactive table.", 1, false, {} },
        { "suspend", "Suspend", "DEVICE [--noflush] [--nolockfs]", "Suspend the device.", 1, false,
          { DMBUS_OPTION_NOFLUSH, DMBUS_OPTION_NOLOCKFS } },
        { "resume", "Resume", "DEVICE", "Resume the device, swapping in its inactive table if any.", 1, false, {} },
        { "remove", "Remove", "DEVICE [--retry] [--deferred] [--force] [--stack]",
          "Remove the device; with --stack, every DM device above it too, top first (RemoveStack).", 1, false,
          { DMBUS_OPTION_RETRY, DMBUS_OPTION_DEFERRED, DMBUS_OPTION_FORCE, "stack" } },
        { "rename", "Rename", "DEVICE NEW_NAME", "Rename the device.", 2, false, {} },
        { "set-uuid", "SetUUID", "DEVICE UUID", "Set the UUID of a device that has none.", 2, false, {} },
        { "message", "SendMessage", "DEVICE SECTOR MESSAGE", "Send a message to the target at SECTOR; print its reply.", 3, false, {} },
};



void table_done(Table *t) {
        for (size_t i = 0; i < t->n; i++)
                free(t->rows[i].params);
        free(t->rows);
}

/* One line of dmsetup's table syntax: START LENGTH TYPE [PARAMETERS]. Blank lines and # comments
 * are skipped. 0, or an exit code. */
int table_add_line(Table *t, const char *line, const char *where) {
        uint64_t start, length;
        char type[64];
        int consumed = 0;

        line += strspn(line, " \t");
        if (!line[0] || line[0] == '#' || line[0] == '\n')
                return 0;
        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %63s%n", &start, &length, type, &consumed) != 3) {
                fprintf(stderr, "dmbusctl: %s: \"%s\" is not START LENGTH TYPE [PARAMETERS]\n", where, line);
                return EXIT_USAGE;
        }
        if (GREEDY_REALLOC(t->rows, t->allocated, t->n + 1) < 0)
                return failure_exit(-ENOMEM, "cannot read the table");
        line += consumed;
        line += strspn(line, " \t");
        t->rows[t->n] = (TableRow) { .start = start, .length = length, .params = strndup(line, strcspn(line, "\n")) };
        snprintf(t->rows[t->n].type, sizeof(t->rows[t->n].type), "%s", type);
        if (!t->rows[t->n].params)
                return failure_exit(-ENOMEM, "cannot read the table");
        t->n++;
        return 0;
}

static int table_add_file(Table *t, const char *path) {
        FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
        char *line = NULL;
        size_t size = 0;
        int r = 0;

        if (!f) {
                fprintf(stderr, "dmbusctl: cannot open %s: %s\n", path, strerror(errno));
                return EXIT_USAGE;
        }
        while (r == 0 && getline(&line, &size, f) >= 0)
                r = table_add_line(t, line, path);
        free(line);
        if (f != stdin)
                fclose(f);
        return r;
}

int append_table(sd_bus_message *m, const Table *t) {
        int r = sd_bus_message_open_container(m, 'a', "(ttss)");

        for (size_t i = 0; r >= 0 && i < t->n; i++)
                r = sd_bus_message_append(m, "(ttss)", t->rows[i].start, t->rows[i].length, t->rows[i].type, t->rows[i].params);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_options(sd_bus_message *m, const Verb *verb, const bool *flags, bool inactive) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(verb->flags) && verb->flags[i]; i++)
                if (flags[i] && strcmp(verb->flags[i], "stack") != 0)
                        r = sd_bus_message_append(m, "{sv}", verb->flags[i], "b", 1);
        if (r >= 0 && inactive)
                r = sd_bus_message_append(m, "{sv}", DMBUS_OPTION_ACTIVATE, "b", 0);
        if (r >= 0 && !arg_ask_password)
                r = sd_bus_message_append(m, "{sv}", DMBUS_OPTION_NO_USER_INTERACTION, "b", 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int help_verb(const Verb *verb) {
        printf("dmbusctl %s %s\n\n%s\n", verb->name, verb->arguments, verb->summary);
        if (verb->takes_table)
                printf("\n  --table LINE       one target, \"START LENGTH TYPE PARAMETERS\" (again for more)\n"
                       "  --table-file FILE  targets in dmsetup's table syntax, one per line (- for stdin)\n");
        if (strcmp(verb->name, "create") == 0)
                printf("  --uuid UUID        the device's UUID\n"
                       "  --inactive         leave the table inactive and the device not resumed\n");
        for (size_t i = 0; i < ELEMENTSOF(verb->flags) && verb->flags[i]; i++)
                printf("  --%s\n", verb->flags[i]);
        printf("  --no-ask-password  do not ask for a password (polkit)\n");
        if (strcmp(verb->name, "create") != 0)
                printf("\nDEVICE is a DM name, a UUID, MAJ:MIN, a path in /dev, or an object path.\n");
        return 0;
}

/* What the command line asked for. */
typedef struct Request {
        const Verb *verb;
        Table table;
        bool flags[4];
        bool inactive;
        const char *uuid;
        char **args;                    /* the positional arguments, verb->n_args of them */
} Request;

static void request_done(Request *req) {
        table_done(&req->table);
}

/* 0, -1 when --help was printed, or an exit code. */
static int parse_request(int argc, char *argv[], Request *req) {
        enum { OPT_TABLE = OPT_COMMAND_FIRST, OPT_TABLE_FILE, OPT_UUID, OPT_INACTIVE, OPT_FLAG0 };
        enum { N_FIXED = 7 };           /* COMMON_OPTIONS and the four above */
        struct option options[N_FIXED + ELEMENTSOF(((const Verb *) NULL)->flags) + 1] = {
                COMMON_OPTIONS,
                { "table", required_argument, NULL, OPT_TABLE },
                { "table-file", required_argument, NULL, OPT_TABLE_FILE },
                { "uuid", required_argument, NULL, OPT_UUID },
                { "inactive", no_argument, NULL, OPT_INACTIVE },
        };
        const Verb *verb = req->verb;
        bool create = strcmp(verb->name, "create") == 0;
        int c, r = 0;

        for (size_t i = 0; i < ELEMENTSOF(verb->flags) && verb->flags[i]; i++)
                options[N_FIXED + i] = (struct option) { verb->flags[i], no_argument, NULL, OPT_FLAG0 + (int) i };

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (c == 'h')
                        return help_verb(verb), -1;
                if (c >= OPT_FLAG0 && c < OPT_FLAG0 + (int) ELEMENTSOF(verb->flags))
                        req->flags[c - OPT_FLAG0] = true;
                else if (c == OPT_TABLE && verb->takes_table)
                        r = table_add_line(&req->table, optarg, "--table");
                else if (c == OPT_TABLE_FILE && verb->takes_table)
                        r = table_add_file(&req->table, optarg);
                else if (c == OPT_UUID && create)
                        req->uuid = optarg;
                else if (c == OPT_INACTIVE && create)
                        req->inactive = true;
                else if (c == OPT_JSON || c == OPT_NO_ASK_PASSWORD || c == '?')
                        r = common_option(c, optarg, verb->name, false);
                else
                        return usage_error("%s does not take that option", verb->name);
                if (r != 0)
                        return r;
        }
        if (req->flags[3] && req->flags[0])
                return usage_error("--retry does not go with --stack: every device of a stack is retried while briefly open");
        if ((unsigned) (argc - optind) != verb->n_args)
                return usage_error("usage: dmbusctl %s %s", verb->name, verb->arguments);
        if (verb->takes_table && req->table.n == 0)
                return usage_error("%s needs a table: --table or --table-file", verb->name);
        req->args = argv + optind;
        return 0;
}

static bool is_remove_stack(const Request *req) {
        return strcmp(req->verb->name, "remove") == 0 && req->flags[3];
}

/* The method call with its arguments, table and options. 0, or an exit code. */
static int build_call(sd_bus *bus, const Request *req, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(freep) char *path = NULL;
        const Verb *verb = req->verb;
        int r;

        if (strcmp(verb->method, "Create") == 0) {
                r = sd_bus_message_new_method_call(bus, &call, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "Create");
                if (r >= 0)
                        r = sd_bus_message_append(call, "ss", req->args[0], req->uuid ?: "");
        } else {
                r = resolve_device(bus, req->args[0], &path);
                if (r != 0)
                        return r;
                r = sd_bus_message_new_method_call(bus, &call, DMBUS_SERVICE_NAME, path, DMBUS_DEVICE_INTERFACE,
                                                   is_remove_stack(req) ? "RemoveStack" : verb->method);
                if (r >= 0 && verb->n_args == 2)
                        r = sd_bus_message_append(call, "s", req->args[1]);
                else if (r >= 0 && verb->n_args == 3) {
                        char *end;
                        uint64_t sector = strtoull(req->args[1], &end, 10);

                        if (!req->args[1][0] || *end)
                                return usage_error("SECTOR must be a number, not \"%s\"", req->args[1]);
                        r = sd_bus_message_append(call, "ts", sector, req->args[2]);
                }
        }
        if (r >= 0 && verb->takes_table)
                r = append_table(call, &req->table);
        if (r >= 0)
                r = append_options(call, verb, req->flags, req->inactive);
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(call, arg_ask_password);
        if (r < 0)
                return failure_exit(r, "cannot build the call");
        *ret = TAKE_PTR(call);
        return 0;
}

int verb_operation(int argc, char *argv[]) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(request_done) Request req = {};
        const char *out;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(verbs) && !req.verb; i++)
                if (strcmp(verbs[i].name, argv[0]) == 0)
                        req.verb = &verbs[i];
        if (!req.verb)
                return usage_error("unknown command \"%s\"", argv[0]);
        r = parse_request(argc, argv, &req);
        if (r != 0)
                return r < 0 ? 0 : r;

        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = build_call(bus, &req, &call);
        if (r != 0)
                return r;
        polkit_agent_open_if_enabled();
        /* Waits as long as the service may take, and no longer: polkit's question to a person (5
         * minutes at most), udev (udev-timeout-ms, 10 minutes at most), and a minute for the
         * kernel. A service that never answers is an error, not a hang. */
        r = sd_bus_call(bus, call, CTL_OPERATION_TIMEOUT_USEC, &error, &reply);
        if (r < 0)
                return bus_error_exit(&error, r);

        if (is_remove_stack(&req)) {
                /* The devices removed, top first: their objects are gone, their paths say which. */
                r = sd_bus_message_enter_container(reply, 'a', "o");
                while (r >= 0 && (r = sd_bus_message_read(reply, "o", &out)) > 0)
                        printf("%s\n", out);
                return r < 0 ? failure_exit(r, "cannot read the reply") : 0;
        }
        if (strcmp(req.verb->method, "Create") != 0 && strcmp(req.verb->method, "SendMessage") != 0)
                return 0;
        r = sd_bus_message_read(reply, strcmp(req.verb->method, "Create") == 0 ? "o" : "s", &out);
        if (r < 0)
                return failure_exit(r, "cannot read the reply");
        if (out[0])
                printf("%s\n", out);
        return 0;
}
