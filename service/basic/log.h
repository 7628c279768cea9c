/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

/* Log lines go to stderr with the "<N>" syslog-level prefix that journald reads from a service's
 * output stream. Every helper returns -abs(error), so that "return log_error_errno(r, ...)" works. */

void log_set_max_level(int level);
int log_get_max_level(void) _pure_;
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...)                                       \
        ({                                                                      \
                int _level = (level), _error = (error);                         \
                log_get_max_level() >= _level                                   \
                        ? log_internal(_level, _error, __VA_ARGS__)             \
                        : -abs(_error);                                         \
        })

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

#define log_debug(...) log_debug_errno(0, __VA_ARGS__)
#define log_info(...) log_info_errno(0, __VA_ARGS__)
#define log_warning(...) log_warning_errno(0, __VA_ARGS__)
#define log_error(...) log_error_errno(0, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
