/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "alloc-util.h"
#include "ctl.h"

void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = *s;

                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

void size_human(uint64_t bytes, char buf[static 16]) {
        static const char units[] = "BKMGTPE";
        double v = bytes;
        size_t u = 0;

        while (v >= 1024 && u < sizeof(units) - 2) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, 16, "%" PRIu64 "B", bytes);
        else
                snprintf(buf, 16, "%.1f%c", v, units[u]);
}

void timestamp_now(char buf[static 32]) {
        struct timespec ts;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + strlen(buf), 32 - strlen(buf), ".%06ldZ", ts.tv_nsec / 1000);
}

static int print_basic(sd_bus_message *m, char type, FILE *f, bool json) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
        } v;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (type) {
        case 'y': fprintf(f, "%u", v.y); break;
        case 'b': fputs(v.b ? (json ? "true" : "yes") : (json ? "false" : "no"), f); break;
        case 'n': fprintf(f, "%d", v.n); break;
        case 'q': fprintf(f, "%u", v.q); break;
        case 'i': fprintf(f, "%" PRIi32, v.i); break;
        case 'u': fprintf(f, "%" PRIu32, v.u); break;
        case 'x': fprintf(f, "%" PRIi64, v.x); break;
        case 't': fprintf(f, "%" PRIu64, v.t); break;
        case 'd': fprintf(f, "%g", v.d); break;
        case 's':
        case 'o':
        case 'g':
                if (json)
                        json_string(f, v.s);
                else
                        fputs(v.s, f);
                break;
        default:
                return -EOPNOTSUPP;
        }
        return 0;
}

/* a{..}: a JSON object, or "key=value, ..." */
static int print_dict(sd_bus_message *m, const char *contents, FILE *f, bool json, const char *indent) {
        bool first = true;

        /* "{sv}" holds entries of "sv": named, as an empty array has none to tell. */
        size_t len = strlen(contents);
        char entry[len];
        int r;

        memcpy(entry, contents + 1, len - 2);
        entry[len - 2] = 0;
        r = sd_bus_message_enter_container(m, 'a', contents);
        if (r < 0)
                return r;
        fputs(json ? "{" : "", f);
        while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                fputs(first ? "" : ", ", f);
                first = false;
                r = print_basic(m, contents[1], f, json);
                if (r < 0)
                        return r;
                fputs(json ? ": " : "=", f);
                r = value_print(m, f, json, indent);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        fputs(json ? "}" : "", f);
        return sd_bus_message_exit_container(m);
}

/* A table row (ttss) is an object in JSON; other structs are arrays; in text, fields with spaces. */
static int print_struct(sd_bus_message *m, const char *contents, FILE *f, bool json, const char *indent) {
        static const char *const row_keys[] = { "start", "length", "type", "params" };
        bool row = strcmp(contents, "ttss") == 0;
        unsigned n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'r', contents);
        if (r < 0)
                return r;
        if (json)
                fputs(row ? "{" : "[", f);
        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                if (n > 0)
                        fputs(json ? ", " : " ", f);
                if (json && row)
                        fprintf(f, "\"%s\": ", row_keys[n]);
                r = value_print(m, f, json, indent);
                if (r < 0)
                        return r;
                n++;
        }
        if (r < 0)
                return r;
        if (json)
                fputs(row ? "}" : "]", f);
        return sd_bus_message_exit_container(m);
}

static int print_array(sd_bus_message *m, const char *contents, FILE *f, bool json, const char *indent) {
        /* Strings and rows one per line; numbers in a row. */
        bool one_per_line = strchr("sog(", contents[0]) != NULL;
        bool first = true;
        int r;

        r = sd_bus_message_enter_container(m, 'a', contents);
        if (r < 0)
                return r;
        fputs(json ? "[" : "", f);
        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                if (!first)
                        fprintf(f, "%s%s", json || !one_per_line ? ", " : "\n", json || !one_per_line ? "" : indent);
                first = false;
                r = value_print(m, f, json, indent);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        fputs(json ? "]" : "", f);
        return sd_bus_message_exit_container(m);
}

int value_print(sd_bus_message *m, FILE *f, bool json, const char *indent) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r < 0 ? r : -ENODATA;
        switch (type) {
        case 'v':
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = value_print(m, f, json, indent);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        case 'a':
                if (contents[0] == '{')
                        return print_dict(m, contents, f, json, indent);
                return print_array(m, contents, f, json, indent);
        case 'r':
                return print_struct(m, contents, f, json, indent);
        default:
                return print_basic(m, type, f, json);
        }
}

static void json_pretty_print(FILE *f, const char *json) {
        unsigned depth = 0;
        bool in_string = false;

        for (const char *p = json; *p; p++) {
                if (in_string) {
                        fputc(*p, f);
                        if (*p == '\\' && p[1])
                                fputc(*++p, f);
                        else if (*p == '"')
                                in_string = false;
                        continue;
                }
                switch (*p) {
                case '"':
                        in_string = true;
                        fputc(*p, f);
                        break;
                case '{':
                case '[':
                        /* Empty ones stay on their line. */
                        if (p[1] == (*p == '{' ? '}' : ']')) {
                                fputc(*p, f);
                                fputc(*++p, f);
                                break;
                        }
                        fprintf(f, "%c\n%*s", *p, (int) ++depth * 2, "");
                        break;
                case '}':
                case ']':
                        fprintf(f, "\n%*s%c", (int) --depth * 2, "", *p);
                        break;
                case ',':
                        fprintf(f, ",\n%*s", (int) depth * 2, "");
                        p += p[1] == ' ';
                        break;
                default:
                        fputc(*p, f);
                }
        }
}

int print_json_indented(int (*print)(const void *userdata), const void *userdata) {
        _cleanup_(freep) char *json = NULL;
        size_t size = 0;
        FILE *out = stdout, *buffer = open_memstream(&json, &size);
        int r;

        if (!buffer)
                return failure_exit(-errno, "cannot print");
        /* glibc's stdout is a variable: the printers write to it. */
        stdout = buffer;
        r = print(userdata);
        stdout = out;
        if (fclose(buffer) != 0)
                return failure_exit(-errno, "cannot print");
        if (r == 0)
                json_pretty_print(stdout, json);
        return r;
}
