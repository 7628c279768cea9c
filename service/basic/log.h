/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

/* Log lines go to the journal, natively and with their fields, when stderr is the journal's
 * stream (a service under systemd); otherwise to stderr with the "<N>" syslog-level prefix.
 * Every helper returns -abs(error), so that "return log_error_errno(r, ...)" works. */

void log_set_max_level(int level);
int log_get_max_level(void) _pure_;
/* fields: "KEY=value" strings for the journal (MESSAGE_ID, DM_NAME, ...), NULL-terminated, at most
 * 16; dropped on stderr. */
int log_struct_internal(int level, int error, char *const *fields, const char *format, ...) _printf_(4, 5);

#define log_struct_errno(level, error, fields, ...)                             \
        ({                                                                      \
                int _level = (level), _error = (error);                         \
                log_get_max_level() >= _level                                   \
                        ? log_struct_internal(_level, _error, (fields), __VA_ARGS__) \
                        : -abs(_error);                                         \
        })

#define log_struct(level, fields, ...) log_struct_errno(level, 0, fields, __VA_ARGS__)
#define log_full_errno(level, error, ...) log_struct_errno(level, error, NULL, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

#define log_debug(...) log_debug_errno(0, __VA_ARGS__)
#define log_info(...) log_info_errno(0, __VA_ARGS__)
#define log_warning(...) log_warning_errno(0, __VA_ARGS__)
#define log_error(...) log_error_errno(0, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
