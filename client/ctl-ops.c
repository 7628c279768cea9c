/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc-util.h"
#include "ctl.h"

/* The mapping operations: each is one method call, with its flags as the options dict. */

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

/* The flags the service takes as booleans of their names, in the options dict. */
/* --lease=SEC: 0, or an exit code. */
static int parse_lease(const VerbCall *call, uint32_t *ret) {
        const char *lease = verb_call_value(call, "lease");
        unsigned long seconds;
        char *end;

        *ret = 0;
        if (!lease)
                return 0;
        errno = 0;
        seconds = strtoul(lease, &end, 10);
        if (errno != 0 || !lease[0] || *end || lease[0] == '-' || seconds == 0 || seconds > 86400)
                return usage_error("--lease takes whole seconds from 1 to 86400, not \"%s\"", lease);
        *ret = (uint32_t) seconds;
        return 0;
}

static int append_options(sd_bus_message *m, const VerbCall *call, uint32_t lease_sec) {
        int r = sd_bus_message_open_container(m, 'a', "{sv}");

        for (size_t i = 0; r >= 0 && i < call->n_options; i++)
                if (call->options[i].option->sent)
                        r = sd_bus_message_append(m, "{sv}", call->options[i].option->name, "b", 1);
        if (r >= 0 && lease_sec > 0)
                r = sd_bus_message_append(m, "{sv}", DMBUS_OPTION_LEASE_SEC, "u", lease_sec);
        if (r >= 0 && verb_call_has(call, "inactive"))
                r = sd_bus_message_append(m, "{sv}", DMBUS_OPTION_ACTIVATE, "b", 0);
        if (r >= 0 && !arg_ask_password)
                r = sd_bus_message_append(m, "{sv}", DMBUS_OPTION_NO_USER_INTERACTION, "b", 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* --table and --table-file, in the order given. 0, or an exit code. */
static int read_table(const VerbCall *call, Table *t) {
        for (size_t i = 0; i < call->n_options; i++) {
                const char *name = call->options[i].option->name, *value = call->options[i].value;
                int r = 0;

                if (strcmp(name, "table") == 0)
                        r = table_add_line(t, value, "--table");
                else if (strcmp(name, "table-file") == 0)
                        r = table_add_file(t, value);
                if (r != 0)
                        return r;
        }
        if (t->n == 0)
                return usage_error("%s needs a table: --table or --table-file", call->verb->name);
        return 0;
}

static bool is_remove_stack(const VerbCall *call) {
        return strcmp(call->verb->name, "remove") == 0 && verb_call_has(call, "stack");
}

/* The method call with its arguments, table and options. 0, or an exit code. */
/* The call, and the device's object path (NULL for Create). 0, or an exit code. */
static int build_call(sd_bus *bus, const VerbCall *call, const Table *table, uint32_t lease_sec, sd_bus_message **ret,
                      char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(freep) char *path = NULL;
        const Verb *verb = call->verb;
        int r;

        if (strcmp(verb->method, "Create") == 0) {
                r = sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "Create");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", call->args[0], verb_call_value(call, "uuid") ?: "");
        } else {
                r = resolve_device(bus, call->args[0], &path);
                if (r != 0)
                        return r;
                r = sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, path, DMBUS_DEVICE_INTERFACE,
                                                   is_remove_stack(call) ? "RemoveStack" : verb->method);
                if (r >= 0 && call->n_args == 2)
                        r = sd_bus_message_append(m, "s", call->args[1]);
                else if (r >= 0 && call->n_args == 3) {
                        char *end;
                        uint64_t sector = strtoull(call->args[1], &end, 10);

                        if (!call->args[1][0] || *end)
                                return usage_error("SECTOR must be a number, not \"%s\"", call->args[1]);
                        r = sd_bus_message_append(m, "ts", sector, call->args[2]);
                }
        }
        if (r >= 0 && verb->takes_table)
                r = append_table(m, table);
        if (r >= 0)
                r = append_options(m, call, lease_sec);
        if (r < 0)
                return failure_exit(r, "cannot build the call");
        *ret = TAKE_PTR(m);
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int on_device_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        *(bool *) userdata = true;
        return 0;
}

/* suspend --lease: the lease is this command's, whose leaving the bus ends it. So it stays until
 * the lease ends (or the device is resumed by other means, or removed), or until it is stopped
 * (Ctrl-C), which ends the lease at once. */
static int hold_lease(sd_bus *bus, const char *path) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        bool changed = true;
        uint64_t until;
        int r;

        r = sd_bus_match_signal(bus, &slot, DMBUS_SERVICE_NAME, path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                on_device_changed, &changed);
        if (r < 0)
                return failure_exit(r, "cannot follow the device");
        for (bool told = false;;) {
                if (changed) {
                        changed = false;
                        if (sd_bus_get_property_trivial(bus, DMBUS_SERVICE_NAME, path, DMBUS_DEVICE_INTERFACE, "SuspendLeaseUntil",
                                                        NULL, 't', &until) < 0 || until == 0)
                                return 0;
                        if (!told) {
                                time_t t = (time_t) (until / 1000000);
                                char when[32];

                                strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
                                fprintf(stderr, "Suspended until %s, or until this command ends (Ctrl-C).\n", when);
                                told = true;
                        }
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return failure_exit(r, "lost the bus");
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        return failure_exit(r, "lost the bus");
        }
}

/* remove --stack --dry-run: PlanRemoveStack's steps, one a line. */
static int plan_remove_stack(const VerbCall *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(freep) char *path = NULL;
        int r;

        r = open_device(call->args[0], &bus, &path);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, path, DMBUS_DEVICE_INTERFACE, "PlanRemoveStack");
        if (r >= 0)
                r = append_common_options(m);
        if (r < 0)
                return failure_exit(r, "cannot build the call");
        r = call_as_polkit_allows(bus, m, CTL_OPERATION_TIMEOUT_USEC, &reply);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sa{sv})");
        for (bool first = true; r >= 0 && (r = print_kind_and_details(reply, first)) > 0; first = false)
                ;
        return r < 0 ? failure_exit(r, "cannot read the reply") : 0;
}

int verb_operation(const VerbCall *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(table_done) Table table = {};
        _cleanup_(freep) char *path = NULL;
        const char *method = call->verb->method, *out;
        uint32_t lease_sec;
        int r;

        if (is_remove_stack(call) && verb_call_has(call, DMBUS_OPTION_RETRY))
                return usage_error("--retry does not go with --stack: every device of a stack is retried while briefly open");
        if (verb_call_has(call, "dry-run"))
                return is_remove_stack(call) ? plan_remove_stack(call) : usage_error("--dry-run goes with --stack");
        if (call->verb->takes_table) {
                r = read_table(call, &table);
                if (r != 0)
                        return r;
        }
        r = parse_lease(call, &lease_sec);
        if (r != 0)
                return r;
        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = build_call(bus, call, &table, lease_sec, &m, &path);
        if (r != 0)
                return r;
        r = call_as_polkit_allows(bus, m, CTL_OPERATION_TIMEOUT_USEC, &reply);
        if (r != 0)
                return r;
        if (lease_sec > 0)
                return hold_lease(bus, path);

        if (is_remove_stack(call)) {
                /* The devices removed, top first: their objects are gone, their paths say which. */
                r = sd_bus_message_enter_container(reply, 'a', "o");
                while (r >= 0 && (r = sd_bus_message_read(reply, "o", &out)) > 0)
                        printf("%s\n", out);
                return r < 0 ? failure_exit(r, "cannot read the reply") : 0;
        }
        if (strcmp(method, "Create") != 0 && strcmp(method, "SendMessage") != 0)
                return 0;
        r = sd_bus_message_read(reply, strcmp(method, "Create") == 0 ? "o" : "s", &out);
        if (r < 0)
                return failure_exit(r, "cannot read the reply");
        if (out[0])
                printf("%s\n", out);
        return 0;
}
