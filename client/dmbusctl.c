/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

bool arg_json = false;
bool arg_json_pretty = false;
bool arg_ask_password = true;

#define DEVICE_IS "DEVICE is a DM name, a UUID, MAJ:MIN, a path in /dev, or an object path."
#define TABLE_OPTIONS                                                                                   \
        { "table", 0, "LINE", "one target, \"START LENGTH TYPE PARAMETERS\" (again for more)" },      \
        { "table-file", 0, "FILE", "targets in dmsetup's table syntax, one per line (- for stdin)" }
#define READ_ONLY_OPTION { DMBUS_OPTION_READ_ONLY, 0, NULL, "map the device read-only", .sent = true }
#define NOFLUSH_OPTIONS                                                                                 \
        { DMBUS_OPTION_NOFLUSH, 0, NULL, "suspend without flushing queued I/O", .sent = true },        \
        { DMBUS_OPTION_NOLOCKFS, 0, NULL, "suspend without freezing the filesystem", .sent = true }

/* Every command once: dispatch, its options (parsed here, once), dmbusctl --help, COMMAND --help
 * and the bash completion (--bash-completion, run at build time) all read this table. */
static const Verb verbs[] = {
        { "tree", "[--json[=pretty|short] | --dot]", "the block devices as a forest of stacks",
          "The block devices the service knows, as a forest: each device that nothing is stacked on, with\n"
          "what it maps onto below it: name (or kernel name), MAJ:MIN, size, target types, [state], the\n"
          "health when it is not ok, and where it is mounted.",
          .json = VERB_JSON_DOCUMENT, .run = verb_tree,
          .options = { { "dot", 0, NULL, "a Graphviz digraph, holder -> dependency" } } },
        { "list", "", "the DM devices' names", "The names of the DM devices, one a line.", .run = verb_list },
        { "who", "DEVICE", "what keeps DEVICE in use",
          "What keeps DEVICE in use: devices stacked on it (holder), mounts, swap, and processes that have\n"
          "it open (pid, comm, uid). Nothing printed: nothing uses it.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .json = VERB_JSON_DOCUMENT, .run = verb_who },
        { "health", "", "the devices that are not ok (exits 1 if any)",
          "The DM devices whose Health is not \"ok\" (degraded, suspended, failed), with why. Exits 0 when\n"
          "every device is ok, 1 when one is not: a check for monitoring.",
          .json = VERB_JSON_DOCUMENT, .run = verb_health },
        { "top", "[-d SECONDS] [-n COUNT]", "I/O rates and health, refreshed",
          "The stacks in tree order, each device with its reads and writes per second, bytes read and\n"
          "written per second, and health; refreshed every interval. q quits.",
          .run = verb_top,
          .options = { { "delay", 'd', "SECONDS", "the interval (default 1)" },
                       { "iterations", 'n', "COUNT", "stop after COUNT reports" } } },
        { "doctor", "[--repair] [--never-loaded-sec SEC] [--cookie-age-sec SEC]", "where the kernel, udev and /dev disagree",
          "The service's Check: links in /dev/mapper and /dev/disk/by-id missing, wrong or left behind, live\n"
          "devices udev's database lacks or still holds as without a table (a lost event), devices never\n"
          "loaded, deferred removes, long suspends; and libdevmapper's udev cookies nothing completed (a\n"
          "dmsetup, lvm2 or cryptsetup hanging). With --repair: the service's Repair (udev asked to look\n"
          "again; polkit decides), the cookies completed (root only), and what is left. Exits 0 when all\n"
          "is clean, 1 when something is not.",
          .run = verb_doctor, .changes = true,
          .options = { { "repair", 0, NULL, "repair what can be, then check again" },
                       { "never-loaded-sec", 0, "SEC", "a device without a table for longer is a problem (default 60)" },
                       { "cookie-age-sec", 0, "SEC", "a cookie older than this is stale (default 60)" } } },
        { "metrics", "[--textfile PATH [--interval SECONDS]]", "Prometheus metrics of the DM devices",
          "Prints the DM devices' metrics in Prometheus's text format, with no privilege: dmbus_up,\n"
          "dmbus_devices, and for each device (labelled name and uuid, never dm-N) its info (subsystem,\n"
          "vg, lv, targets), health as a state set, seconds suspended, openers, thin-pool, snapshot, raid,\n"
          "cache, integrity and verity figures, and the kernel's I/O counters. Exits 10 (after\n"
          "\"dmbus_up 0\") when the service does not answer. With --textfile, keeps PATH current for\n"
          "node_exporter's textfile collector until stopped, as dmbus-metrics.service does.",
          .run = verb_metrics,
          .options = { { "textfile", 0, "PATH", "rewrite PATH (a new file renamed over it) within a second of a change" },
                       { "interval", 0, "SECONDS", "with --textfile: rewrite it at least this often (default 15)" } } },
        { "info", "DEVICE", "every property of a device",
          "Every property of the device's object, as {\"path\": ..., \"Block\": {...}, \"Device\": {...}} in JSON.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .json = VERB_JSON_DOCUMENT, .run = verb_info },
        { "resolve", "DEVICE", "the device's object path", "The object path of DEVICE.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .run = verb_resolve },
        { "show", "[--concise] DEVICE", "DEVICE's stack, as create-stack reads it",
          "The DM devices DEVICE stands on and DEVICE itself, bottom first, as create-stack reads them: its\n"
          "own format, or dmsetup's concise one (dmsetup(8)). A table's reference to a device of the stack\n"
          "is written /dev/mapper/NAME. Keys show as <masked>, and a line on stderr says so.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .run = verb_show,
          .options = { { "concise", 0, NULL, "dmsetup's concise format, on one line" } } },
        { "targets", "", "the kernel's target types and versions",
          "The target types the kernel has loaded, with their versions, as dmsetup targets lists them.",
          .json = VERB_JSON_DOCUMENT, .run = verb_targets },
        { "wait", "[--state present|active|gone] [--timeout SECONDS] DEVICE", "wait for one device",
          "Waits until DEVICE is present (udev has processed it and its /dev/mapper link is there, the\n"
          "default), active (present, with a live table, not suspended) or gone, and prints its object\n"
          "path (\"/\" for gone): WaitForDevice, a wait scoped to one device instead of udevadm settle.\n"
          "DEVICE is a DM name, a UUID or a path in /dev, which need not exist yet. Exits 8 (Timeout)\n"
          "when the time is up.",
          .min_args = 1, .max_args = 1, .device_args = 1, .run = verb_wait,
          .options = { { "state", 0, "STATE", "present (the default), active or gone" },
                       { "timeout", 0, "SECONDS", "give up after this long (default 30, at most 300)" } } },
        { "jobs", "", "the operations under way",
          "The operations still running 0.3 s after they were authorized, as jobs: number, operation,\n"
          "whose, how long so far, whether cancel can stop it, and the devices it is about.",
          .run = verb_jobs },
        { "cancel", "JOB", "stop an operation under way",
          "Cancel the job numbered JOB (dmbusctl jobs): a suspend waiting for its I/O is interrupted and\n"
          "the device left active, a reload in its suspend drops its new table, a stack stops before its\n"
          "next device (create-stack removes what it made), a remove --retry stops trying. Its caller\n"
          "gets Cancelled (exit 12).",
          .min_args = 1, .max_args = 1, .changes = true, .run = verb_cancel },
        { "monitor", "", "the service's signals as they come",
          "Prints each signal of the service as it arrives, one line each, with a UTC timestamp:\n"
          "added PATH PROPERTIES, removed PATH, changed PATH INTERFACE NEW-VALUES, event PATH event_nr=N.\n"
          "Runs until interrupted.",
          .json = VERB_JSON_LINES, .run = verb_monitor },
        { "create", "NAME (--table LINE... | --table-file FILE) [--uuid UUID] [--read-only] [--inactive]",
          "create a device with a table", "Create a device, load its table and (unless --inactive) resume it.",
          .min_args = 1, .max_args = 1, .changes = true, .method = "Create", .takes_table = true, .run = verb_operation,
          .options = { TABLE_OPTIONS, { "uuid", 0, "UUID", "the device's UUID" }, READ_ONLY_OPTION,
                       { "inactive", 0, NULL, "leave the table inactive and the device not resumed" } } },
        { "create-stack", "--file FILE|-", "several devices as one, undone if a step fails",
          "Create the devices FILE describes as one: in order, each activated before the next; if a step\n"
          "fails, what was made is removed again. One device a block, blocks apart by blank lines:\n"
          "name=NAME, then optionally uuid=UUID and read-only=yes, then its table in dmsetup's syntax.\n"
          "Or dmsetup's concise format (dmsetup(8)): NAME,UUID,MINOR,ro|rw,TABLE[,TABLE...][;...] (the\n"
          "kernel picks the minors). A table may name a device made earlier as /dev/mapper/NAME.",
          .changes = true, .run = verb_create_stack,
          .options = { { "file", 'f', "FILE", "the stack's description (- for stdin)" } } },
        { "load", "DEVICE (--table LINE... | --table-file FILE) [--read-only]", "load a table into the inactive slot",
          "Load a table into the inactive slot.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .changes = true, .method = "Load", .takes_table = true,
          .run = verb_operation, .options = { TABLE_OPTIONS, READ_ONLY_OPTION } },
        { "reload", "DEVICE (--table LINE... | --table-file FILE) [--read-only] [--noflush] [--nolockfs]",
          "load, suspend and resume as one step", "Load, suspend and resume as one step.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .changes = true, .method = "Reload", .takes_table = true,
          .run = verb_operation, .options = { TABLE_OPTIONS, READ_ONLY_OPTION, NOFLUSH_OPTIONS } },
        { "clear", "DEVICE", "drop the inactive table", "Drop the inactive table.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .changes = true, .method = "ClearInactive", .run = verb_operation },
        { "suspend", "DEVICE [--noflush] [--nolockfs] [--lease=SEC]", "suspend the device",
          "Suspend the device. With --lease, the service resumes it after SEC seconds, or as soon as this\n"
          "command ends (Ctrl-C), whichever comes first: the command stays until then.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .changes = true, .method = "Suspend", .run = verb_operation,
          .options = { NOFLUSH_OPTIONS, { "lease", 0, "SEC", "resumed after SEC seconds, or when this command ends" } } },
        { "resume", "DEVICE", "resume the device", "Resume the device, swapping in its inactive table if any.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .changes = true, .method = "Resume", .run = verb_operation },
        { "remove", "DEVICE [--retry] [--deferred] [--force] [--stack [--dry-run]]", "remove the device, or its stack",
          "Remove the device; with --stack, every DM device above it too, top first (RemoveStack). With\n"
          "--dry-run, print what that would do and do nothing (PlanRemoveStack): what to unmount, swap\n"
          "off, close or release first, then each removal, top first, with the tool that owns it.\n" DEVICE_IS,
          .min_args = 1, .max_args = 1, .device_args = 1, .changes = true, .method = "Remove", .run = verb_operation,
          .options = { { DMBUS_OPTION_RETRY, 0, NULL, "try again while the device is briefly open (5 s)", .sent = true },
                       { DMBUS_OPTION_DEFERRED, 0, NULL, "if open, remove it at its last close", .sent = true },
                       { DMBUS_OPTION_FORCE, 0, NULL, "first the error target, so that I/O holding it fails", .sent = true },
                       { "stack", 0, NULL, "every DM device above it too, top first" },
                       { "dry-run", 0, NULL, "with --stack: print the plan, change nothing" } } },
        { "rename", "DEVICE NEW_NAME", "rename the device", "Rename the device.\n" DEVICE_IS,
          .min_args = 2, .max_args = 2, .device_args = 1, .changes = true, .method = "Rename", .run = verb_operation },
        { "set-uuid", "DEVICE UUID", "set the UUID of a device that has none", "Set the UUID of a device that has none.\n" DEVICE_IS,
          .min_args = 2, .max_args = 2, .device_args = 1, .changes = true, .method = "SetUUID", .run = verb_operation },
        { "message", "DEVICE SECTOR MESSAGE", "send a message to a target",
          "Send a message to the target at SECTOR; print its reply.\n" DEVICE_IS,
          .min_args = 3, .max_args = 3, .device_args = 1, .changes = true, .method = "SendMessage", .run = verb_operation },
};

static size_t verb_n_options(const Verb *verb) {
        size_t n = 0;

        while (n < ELEMENTSOF(verb->options) && verb->options[n].name)
                n++;
        return n;
}

static void print_option(const char *name, char letter, const char *value, const char *help) {
        char left[64];

        snprintf(left, sizeof(left), "%s%c%s--%s%s%s", letter ? "-" : "", letter ?: ' ', letter ? ", " : "", name,
                 value ? " " : "", value ?: "");
        printf("  %-26s %s\n", letter ? left : left + 1, help);
}

static int help_verb(const Verb *verb) {
        printf("dmbusctl %s%s%s\n\n%s\n\n", verb->name, verb->arguments[0] ? " " : "", verb->arguments, verb->description);
        for (size_t i = 0; i < verb_n_options(verb); i++)
                print_option(verb->options[i].name, verb->options[i].letter, verb->options[i].value, verb->options[i].help);
        if (verb->json == VERB_JSON_DOCUMENT) {
                print_option("json[=short]", 0, NULL, "JSON on one line");
                print_option("json=pretty", 0, NULL, "JSON, indented");
        } else if (verb->json == VERB_JSON_LINES)
                print_option("json[=short]", 0, NULL, "one JSON object a line");
        if (verb->changes)
                print_option("no-ask-password", 0, NULL, "polkit may not ask for a password");
        return 0;
}

static int help(void) {
        printf("dmbusctl COMMAND [OPTIONS] [ARGUMENTS]\n\n"
               "Shows and changes device-mapper devices through dmbusd (org.dmbus.DeviceMapper1).\n");
        for (int changes = 0; changes <= 1; changes++) {
                printf(changes ? "\nChanging (root, or as polkit allows):\n" : "\nShowing:\n");
                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        if (verbs[i].changes == changes)
                                printf("  %-14s %s\n", verbs[i].name, verbs[i].summary);
        }
        printf("\nTables are in dmsetup's syntax, START LENGTH TYPE PARAMETERS, one target per line.\n"
               "--no-ask-password on any command: polkit may not ask for a password.\n"
               "`dmbusctl COMMAND --help` tells a command's arguments and options; dmbusctl(1) lists the exit\n"
               "codes.\n");
        return 0;
}

/* Prints "--NAME" (and "|-L") of every option of every command whose value matches want (NULL:
 * takes none), each name once, separated by sep. */
static void print_option_names(bool (*want)(const VerbOption *o), const char *sep) {
        bool first = true;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                for (size_t o = 0; o < verb_n_options(&verbs[i]); o++) {
                        const VerbOption *option = &verbs[i].options[o];
                        bool seen = false;

                        if (!want(option))
                                continue;
                        for (size_t e = 0; e <= i && !seen; e++)
                                for (size_t f = 0; f < (e < i ? verb_n_options(&verbs[e]) : o) && !seen; f++)
                                        seen = strcmp(verbs[e].options[f].name, option->name) == 0;
                        if (seen)
                                continue;
                        printf("%s--%s", first ? "" : sep, option->name);
                        if (option->letter)
                                printf("%s-%c", sep, option->letter);
                        first = false;
                }
}

static bool takes_file(const VerbOption *o) {
        return o->value && strstr(o->value, "FILE");
}

static bool takes_value(const VerbOption *o) {
        return o->value;
}

/* The completion for bash, from the table: built into data/bash-completion/dmbusctl. */
static int print_bash_completion(void) {
        printf("# bash completion for dmbusctl(1): commands, their options, and DM device names from the service.\n"
               "# SPDX-License-Identifier: LGPL-2.1-or-later\n"
               "# Made by `dmbusctl --bash-completion` from dmbusctl's command table.\n\n"
               "_dmbusctl() {\n"
               "        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
               "        local command=${COMP_WORDS[1]} options device_args=0 i arguments=0\n"
               "        local commands=\"");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("%s%s", i ? " " : "", verbs[i].name);
        printf("\"\n\n"
               "        if (( COMP_CWORD == 1 )); then\n"
               "                COMPREPLY=($(compgen -W \"$commands --help --version\" -- \"$cur\"))\n"
               "                return 0\n"
               "        fi\n"
               "        case $command in\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const Verb *verb = &verbs[i];

                printf("                %s) options=\"--help", verb->name);
                for (size_t o = 0; o < verb_n_options(verb); o++)
                        printf(" --%s", verb->options[o].name);
                if (verb->json != VERB_JSON_NONE)
                        printf(verb->json == VERB_JSON_DOCUMENT ? " --json --json=pretty --json=short" : " --json --json=short");
                if (verb->changes)
                        printf(" --no-ask-password");
                printf("\" device_args=%u ;;\n", verb->device_args);
        }
        printf("        esac\n"
               "        case $prev in\n"
               "                ");
        print_option_names(takes_file, "|");
        printf(")\n"
               "                        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
               "                        return 0 ;;\n"
               "        esac\n"
               "        if [[ $cur == -* ]]; then\n"
               "                COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
               "                return 0\n"
               "        fi\n"
               "        # Only the leading arguments that are a DEVICE get names; an option's value is none.\n"
               "        for (( i = 2; i < COMP_CWORD; i++ )); do\n"
               "                case ${COMP_WORDS[i]} in\n"
               "                        ");
        print_option_names(takes_value, "|");
        printf(") (( i++ )) ;;\n"
               "                        -*) ;;\n"
               "                        *) (( arguments++ )) ;;\n"
               "                esac\n"
               "        done\n"
               "        if (( arguments < device_args )); then\n"
               "                COMPREPLY=($(compgen -W \"$(dmbusctl list 2>/dev/null)\" -- \"$cur\"))\n"
               "        fi\n"
               "        return 0\n"
               "}\n\n"
               "complete -F _dmbusctl dmbusctl\n");
        return 0;
}

const char *verb_call_value(const VerbCall *call, const char *option) {
        const char *value = NULL;

        for (size_t i = 0; i < call->n_options; i++)
                if (strcmp(call->options[i].option->name, option) == 0)
                        value = call->options[i].value ?: "";
        return value;
}

bool verb_call_has(const VerbCall *call, const char *option) {
        return verb_call_value(call, option) != NULL;
}

enum {
        OPT_JSON = 0x100,
        OPT_NO_ASK_PASSWORD,
        OPT_VERB_FIRST,
};

static int json_option(const Verb *verb, const char *arg) {
        if (verb->json == VERB_JSON_NONE)
                return usage_error("%s prints no JSON", verb->name);
        if (arg && strcmp(arg, "short") != 0 && (strcmp(arg, "pretty") != 0 || verb->json == VERB_JSON_LINES))
                return usage_error("--json takes %s, not \"%s\"", verb->json == VERB_JSON_LINES ? "short" : "pretty or short", arg);
        arg_json = true;
        arg_json_pretty = arg && strcmp(arg, "pretty") == 0;
        return 0;
}

/* The command line after the command's name, parsed once for every command: the common options
 * handled here, the command's own kept in call in their order. 0, -1 after --help, or an exit
 * code. */
static int parse_command_line(const Verb *verb, int argc, char *argv[], VerbCall *call) {
        struct option options[3 + ELEMENTSOF(verb->options) + 1] = {
                { "help", no_argument, NULL, 'h' },
                { "json", optional_argument, NULL, OPT_JSON },
                { "no-ask-password", no_argument, NULL, OPT_NO_ASK_PASSWORD },
        };
        size_t n_options = verb_n_options(verb), n = 3;
        char letters[1 + 2 * ELEMENTSOF(verb->options) + 1] = "h", *l = letters + 1;
        int c, r;

        for (size_t i = 0; i < n_options; i++) {
                const VerbOption *o = &verb->options[i];

                options[n++] = (struct option) { o->name, o->value ? required_argument : no_argument, NULL, OPT_VERB_FIRST + (int) i };
                if (o->letter) {
                        *l++ = o->letter;
                        if (o->value)
                                *l++ = ':';
                }
        }
        while ((c = getopt_long(argc, argv, letters, options, NULL)) >= 0) {
                size_t index = SIZE_MAX;

                switch (c) {
                case 'h':
                        return help_verb(verb), -1;
                case OPT_JSON:
                        r = json_option(verb, optarg);
                        if (r != 0)
                                return r;
                        continue;
                case OPT_NO_ASK_PASSWORD:
                        arg_ask_password = false;
                        continue;
                case '?':
                        return EXIT_USAGE;      /* getopt said why */
                }
                for (size_t i = 0; i < n_options; i++)
                        if (c == OPT_VERB_FIRST + (int) i || (verb->options[i].letter && c == verb->options[i].letter))
                                index = i;
                if (index == SIZE_MAX)
                        return EXIT_USAGE;
                call->options[call->n_options++] = (VerbOptionValue) { &verb->options[index], optarg };
        }
        call->args = argv + optind;
        call->n_args = (size_t) (argc - optind);
        if (call->n_args < verb->min_args || call->n_args > verb->max_args)
                return usage_error("usage: dmbusctl %s %s", verb->name, verb->arguments);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc < 2)
                return usage_error("a command is needed");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
                return help();
        if (strcmp(argv[1], "--version") == 0) {
                printf("dmbusctl %s\n", PACKAGE_VERSION);
                return 0;
        }
        if (strcmp(argv[1], "--bash-completion") == 0)
                return print_bash_completion();
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, argv[1]) == 0) {
                        _cleanup_(freep) VerbOptionValue *values = calloc(argc, sizeof(VerbOptionValue));
                        VerbCall call = { .verb = &verbs[i], .options = values };
                        int r;

                        if (!values)
                                return failure_exit(-ENOMEM, "cannot read the command line");
                        /* The command sees itself as argv[0], as getopt expects. */
                        r = parse_command_line(&verbs[i], argc - 1, argv + 1, &call);
                        if (r != 0)
                                return r < 0 ? 0 : r;
                        return verbs[i].run(&call);
                }
        return usage_error("unknown command \"%s\"", argv[1]);
}
