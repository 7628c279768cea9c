/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "alloc-util.h"
#include "ctl.h"

/* create-stack: Manager.CreateStack from a plain-text file (dmbusctl(1)):
 *
 *   # one device a block; blocks apart by blank lines, made in this order
 *   name=crypt-base
 *   uuid=CRYPT-...          (optional)
 *   read-only=yes           (optional)
 *   0 2097152 linear /dev/loop0 0
 *
 *   name=vol
 *   0 2097152 linear /dev/mapper/crypt-base 0 */

typedef struct StackDevice {
        char *name, *uuid;
        bool read_only;
        Table table;
} StackDevice;

typedef struct Stack {
        StackDevice *devices;
        size_t n, allocated;
        bool in_block;
} Stack;

static void stack_done(Stack *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->devices[i].name);
                free(s->devices[i].uuid);
                table_done(&s->devices[i].table);
        }
        free(s->devices);
}

static int key_line(StackDevice *d, const char *key, const char *value, const char *where, unsigned line) {
        char **field = strcmp(key, "name") == 0 ? &d->name : strcmp(key, "uuid") == 0 ? &d->uuid : NULL;

        if (field) {
                free(*field);
                *field = strdup(value);
                return *field ? 0 : failure_exit(-ENOMEM, "cannot read the stack");
        }
        if (strcmp(key, "read-only") == 0 && (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0)) {
                d->read_only = strcmp(value, "yes") == 0;
                return 0;
        }
        fprintf(stderr, "dmbusctl: %s:%u: \"%s\" is not name=, uuid= or read-only=yes|no\n", where, line, key);
        return EXIT_USAGE;
}

static int stack_add_line(Stack *s, char *text, const char *where, unsigned line) {
        StackDevice *d;
        char *eq;

        text[strcspn(text, "\n")] = 0;
        text += strspn(text, " \t");
        if (text[0] == '#')
                return 0;
        if (!text[0]) {
                s->in_block = false;
                return 0;
        }
        if (!s->in_block) {
                if (GREEDY_REALLOC(s->devices, s->allocated, s->n + 1) < 0)
                        return failure_exit(-ENOMEM, "cannot read the stack");
                s->devices[s->n++] = (StackDevice) {};
                s->in_block = true;
        }
        d = &s->devices[s->n - 1];
        if (isdigit((unsigned char) text[0])) {
                char here[64];

                snprintf(here, sizeof(here), "%s:%u", where, line);
                return table_add_line(&d->table, text, here);
        }
        eq = strchr(text, '=');
        if (!eq || d->table.n > 0) {
                fprintf(stderr, "dmbusctl: %s:%u: expected KEY=VALUE before the table, or a table line\n", where, line);
                return EXIT_USAGE;
        }
        *eq = 0;
        return key_line(d, text, eq + 1, where, line);
}

/* One field of dmsetup's concise format from *p, unescaped ('\' before ',', ';' or '\'), up to an
 * unescaped ',' or ';' or the end; *p is left on that separator. */
static char *concise_field(const char **p) {
        char *out = malloc(strlen(*p) + 1), *o = out;

        if (!out)
                return NULL;
        for (; **p && **p != ',' && **p != ';' && **p != '\n'; (*p)++) {
                if (**p == '\\' && (*p)[1])
                        (*p)++;
                *o++ = **p;
        }
        *o = 0;
        return out;
}

/* DEVICE[;DEVICE...], each NAME,UUID,MINOR,ro|rw,TABLE[,TABLE...] (dmsetup(8), CONCISE FORMAT). */
static int stack_read_concise(Stack *s, const char *text, const char *path) {
        bool minors = false;
        int r = 0;

        for (const char *p = text; r == 0 && *p && *p != '\n';) {
                _cleanup_(freep) char *minor = NULL, *flags = NULL;
                StackDevice *d;

                if (GREEDY_REALLOC(s->devices, s->allocated, s->n + 1) < 0)
                        return failure_exit(-ENOMEM, "cannot read the stack");
                d = &s->devices[s->n++];
                *d = (StackDevice) { .name = concise_field(&p) };
                char **fields[] = { &d->uuid, &minor, &flags };
                for (size_t f = 0; d->name && f < ELEMENTSOF(fields) && *p == ','; f++) {
                        p++;
                        *fields[f] = concise_field(&p);
                        if (!*fields[f])
                                return failure_exit(-ENOMEM, "cannot read the stack");
                }
                if (!d->name)
                        return failure_exit(-ENOMEM, "cannot read the stack");
                if (!flags || *p != ',')
                        return usage_error("%s: device %zu is not NAME,UUID,MINOR,FLAGS,TABLE...", path, s->n);
                if (strcmp(flags, "ro") != 0 && strcmp(flags, "rw") != 0 && flags[0])
                        return usage_error("%s: device %zu's flags are ro or rw, not \"%s\"", path, s->n, flags);
                d->read_only = strcmp(flags, "ro") == 0;
                minors = minors || minor[0];
                while (r == 0 && *p == ',') {
                        _cleanup_(freep) char *row = NULL;

                        p++;
                        row = concise_field(&p);
                        r = row ? table_add_line(&d->table, row, path) : failure_exit(-ENOMEM, "cannot read the stack");
                }
                if (*p == ';')
                        p++;
        }
        if (r == 0 && minors)
                fprintf(stderr, "dmbusctl: the minors in %s are left to the kernel to choose.\n", path);
        return r;
}

/* Whether the text is dmsetup's concise format rather than ours: its first line that says
 * something is not KEY=VALUE (a lower-case word, then '=' before any ','). */
static bool is_concise(const char *text) {
        for (const char *line = text; *line; line += strcspn(line, "\n"), line += *line == '\n') {
                size_t key;

                line += strspn(line, " \t");
                if (*line == '\n' || *line == '#')
                        continue;
                key = strspn(line, "abcdefghijklmnopqrstuvwxyz-");
                return *line && !isdigit((unsigned char) *line) && !(key > 0 && line[key] == '=');
        }
        return false;
}

static int stack_read(Stack *s, const char *path) {
        FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        unsigned line = 0;
        int r = 0;

        if (!f) {
                fprintf(stderr, "dmbusctl: cannot open %s: %s\n", path, strerror(errno));
                return EXIT_USAGE;
        }
        if (getdelim(&text, &size, 0, f) < 0) {
                if (ferror(f))
                        r = failure_exit(-EIO, "cannot read the stack");
                else if (!text && !(text = strdup("")))
                        r = failure_exit(-ENOMEM, "cannot read the stack");
        }
        if (f != stdin)
                fclose(f);
        if (r == 0 && is_concise(text))
                r = stack_read_concise(s, text, path);
        else
                for (char *t = text, *next; r == 0 && t && *t; t = next) {
                        next = t + strcspn(t, "\n");
                        if (*next)
                                *next++ = 0;
                        r = stack_add_line(s, t, path, ++line);
                }
        for (size_t i = 0; r == 0 && i < s->n; i++)
                if (!s->devices[i].name || s->devices[i].table.n == 0)
                        r = usage_error("device %zu of %s needs name= and a table", i + 1, path);
        if (r == 0 && s->n == 0)
                r = usage_error("%s holds no device", path);
        return r;
}

static int append_stack(sd_bus_message *m, const Stack *s) {
        int r = sd_bus_message_open_container(m, 'a', "(ssa(ttss)a{sv})");

        for (size_t i = 0; r >= 0 && i < s->n; i++) {
                const StackDevice *d = &s->devices[i];

                r = sd_bus_message_open_container(m, 'r', "ssa(ttss)a{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(m, "ss", d->name, d->uuid ?: "");
                if (r >= 0)
                        r = append_table(m, &d->table);
                if (r >= 0)
                        r = d->read_only ? sd_bus_message_append(m, "a{sv}", 1, DMBUS_OPTION_READ_ONLY, "b", 1)
                                         : sd_bus_message_append(m, "a{sv}", 0);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
}

int verb_create_stack(const VerbCall *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(stack_done) Stack stack = {};
        const char *file = verb_call_value(call, "file"), *path;
        int r;

        if (!file)
                return usage_error("usage: dmbusctl create-stack --file FILE|-");
        r = stack_read(&stack, file);
        if (r != 0)
                return r;
        r = bus_connect(&bus);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, DMBUS_SERVICE_NAME, DMBUS_MANAGER_PATH, DMBUS_MANAGER_INTERFACE, "CreateStack");
        if (r >= 0)
                r = append_stack(m, &stack);
        if (r >= 0)
                r = append_common_options(m);
        if (r < 0)
                return failure_exit(r, "cannot build the call");
        r = call_as_polkit_allows(bus, m, UINT64_MAX, &reply);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "o");
        while (r >= 0 && (r = sd_bus_message_read(reply, "o", &path)) > 0)
                printf("%s\n", path);
        return r < 0 ? failure_exit(r, "cannot read the reply") : 0;
}
