/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include "journal-fields.h"
#include "strv.h"

void journal_fields_add(char ***fields, const char *format, ...) {
        char *field;
        va_list ap;
        int r;

        if (!*fields)
                return;
        va_start(ap, format);
        r = vasprintf(&field, format, ap);
        va_end(ap);
        if (r < 0)
                return;
        (void) strv_extend(fields, field);
        free(field);
}

char **journal_fields_device(const char *message_id, const char *name, const char *uuid, dev_t devnum) {
        char **fields = NULL;

        if (strv_extend(&fields, message_id) < 0)
                return NULL;
        if (name && name[0])
                journal_fields_add(&fields, "DM_NAME=%s", name);
        if (uuid && uuid[0])
                journal_fields_add(&fields, "DM_UUID=%s", uuid);
        if (devnum != 0)
                journal_fields_add(&fields, "DM_DEVNUM=%u:%u", major(devnum), minor(devnum));
        return fields;
}
