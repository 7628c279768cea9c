/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dmbus-errors.h"
#include "dmbus-names.h"

#define ERRNOS_MAX 4

static const struct {
        const char *name;
        int exit_status;
        int errnos[ERRNOS_MAX];         /* ends at the first 0 */
} errors[] = {
#define ERROR_ROW(name, exit_status, ...) { name, exit_status, { __VA_ARGS__ } },
        DMBUS_ERRORS(ERROR_ROW)
#undef ERROR_ROW
};

const char *dmbus_error_from_errno(int error) {
        for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
                for (size_t j = 0; j < ERRNOS_MAX && errors[i].errnos[j] != 0; j++)
                        if (errors[i].errnos[j] == -error)
                                return errors[i].name;
        return DMBUS_ERROR_FAILED;
}

int dmbus_error_exit_status(const char *name) {
        for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
                if (strcmp(errors[i].name, name) == 0)
                        return errors[i].exit_status;
        return 0;
}
