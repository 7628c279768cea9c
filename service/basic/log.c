/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static int log_max_level = LOG_INFO;

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_internal(int level, int error, const char *format, ...) {
        char line[2048];
        va_list ap;
        int prefix, n;

        prefix = snprintf(line, sizeof(line), "<%i>", level & LOG_PRIMASK);

        /* Lets "%m" in the format name the error passed in. */
        errno = abs(error);

        va_start(ap, format);
        n = vsnprintf(line + prefix, sizeof(line) - prefix - 1, format, ap);
        va_end(ap);

        n = prefix + (n < 0 ? 0 : (size_t) n >= sizeof(line) - prefix - 1 ? (int) sizeof(line) - prefix - 2 : n);
        line[n++] = '\n';

        /* One write per line, so that lines never interleave. */
        (void) !write(STDERR_FILENO, line, n);

        return -abs(error);
}
