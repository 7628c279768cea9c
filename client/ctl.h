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
 * the contract's names (dbus/dmbus-names.h) and the generic helpers of service/ (strv, macros).
 *
 * The commands, and every helper that says what went wrong before it returns, return 0 or one of
 * the exit codes below, as they are: a failure is reported once, where it is seen. */

/* Exit codes, one per kind of error the service names (dmbusctl(1) lists them). */
enum {
        EXIT_FAILED = 1,                /* Failed, or anything else that went wrong */
        EXIT_USAGE = 2,                 /* a command line dmbusctl itself cannot use */
        EXIT_NOT_FOUND = 3,
        EXIT_INVALID_ARGUMENT = 4,
        EXIT_ALREADY_EXISTS = 5,
        EXIT_BUSY = 6,
        EXIT_NOT_AUTHORIZED = 7,
        EXIT_TIMEOUT = 8,
        EXIT_NOT_SUPPORTED = 9,
        EXIT_NO_SERVICE = 10,           /* dmbusd is not reachable */
};

/* Options every command may take. */
extern bool arg_json;
extern bool arg_ask_password;

/* ctl-bus.c */
int bus_connect(sd_bus **ret);
/* Prints "dmbusctl: MESSAGE" for a failed call and returns the exit code for its kind. */
int bus_error_exit(const sd_bus_error *error, int r);
/* Prints "dmbusctl: WHAT: ERROR" for a local failure (-errno) and returns EXIT_FAILED. */
int failure_exit(int r, const char *what);
/* DEVICE as a name, a UUID, MAJ:MIN, a /dev path, or an object path, resolved by the service. */
int resolve_device(sd_bus *bus, const char *device, char **ret_path);
int usage_error(const char *format, ...) _printf_(1, 2);

/* ctl-print.c */
/* Reads the next complete value from m and prints it: text (arrays one element per line, each
 * continuation line starting with indent), or JSON. */
int value_print(sd_bus_message *m, FILE *f, bool json, const char *indent);
void json_string(FILE *f, const char *s);
/* "32.0M": binary units, as lsblk prints them. */
void size_human(uint64_t bytes, char buf[static 16]);
/* The time now, ISO 8601 in UTC with microseconds. */
void timestamp_now(char buf[static 32]);

/* The commands. argv[0] is the command's name. */
int verb_tree(int argc, char *argv[]);                 /* ctl-tree.c */
int verb_info(int argc, char *argv[]);                 /* ctl-info.c */
int verb_resolve(int argc, char *argv[]);
int verb_monitor(int argc, char *argv[]);
int verb_operation(int argc, char *argv[]);     /* create, load, reload, ... message */
