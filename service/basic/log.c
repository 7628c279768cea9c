/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"

#define LOG_FIELDS_MAX 16

static int log_max_level = LOG_INFO;
static bool log_to_journal;
static pthread_once_t log_target_once = PTHREAD_ONCE_INIT;

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

/* As systemd's own services do: when stderr is the journal's stream (JOURNAL_STREAM names its
 * device and inode), lines go to the journal natively, with their fields; otherwise to stderr. */
static void log_target_detect(void) {
        const char *stream = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        log_to_journal = stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
                         (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

static void write_stderr(int level, const char *message) {
        char line[2048];
        int n;

        n = snprintf(line, sizeof(line) - 1, "<%i>%s", level & LOG_PRIMASK, message);
        n = n < 0 ? 0 : (size_t) n >= sizeof(line) - 1 ? (int) sizeof(line) - 2 : n;
        line[n++] = '\n';
        /* One write per line, so that lines never interleave. */
        (void) !write(STDERR_FILENO, line, n);
}

static void write_journal(int level, int error, char *const *fields, const char *message) {
        struct iovec iov[LOG_FIELDS_MAX + 4];
        char priority[sizeof("PRIORITY=") + 1], errno_field[32], identifier[64], *message_field;
        size_t n = 0;

        snprintf(priority, sizeof(priority), "PRIORITY=%i", level & LOG_PRIMASK);
        snprintf(identifier, sizeof(identifier), "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
        if (asprintf(&message_field, "MESSAGE=%s", message) < 0)
                return write_stderr(level, message);
        iov[n++] = (struct iovec) { priority, strlen(priority) };
        iov[n++] = (struct iovec) { identifier, strlen(identifier) };
        iov[n++] = (struct iovec) { message_field, strlen(message_field) };
        if (error != 0) {
                snprintf(errno_field, sizeof(errno_field), "ERRNO=%i", abs(error));
                iov[n++] = (struct iovec) { errno_field, strlen(errno_field) };
        }
        for (char *const *f = fields; f && *f && n < sizeof(iov) / sizeof(iov[0]); f++)
                iov[n++] = (struct iovec) { *f, strlen(*f) };
        if (sd_journal_sendv(iov, (int) n) < 0)
                write_stderr(level, message);
        free(message_field);
}

int log_struct_internal(int level, int error, char *const *fields, const char *format, ...) {
        char message[2048];
        va_list ap;

        (void) pthread_once(&log_target_once, log_target_detect);

        /* Lets "%m" in the format name the error passed in. */
        errno = abs(error);
        va_start(ap, format);
        (void) vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        if (log_to_journal)
                write_journal(level, error, fields, message);
        else
                write_stderr(level, message);
        return -abs(error);
}
