/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libdevmapper.h>

#include "dm-kernel.h"
#include "log.h"

_printf_(5, 6)
static void dm_kernel_log(int level, const char *file, int line, int dm_errno, const char *format, ...) {
        char message[1024];
        va_list ap;

        /* libdevmapper's debug output can quote whole tables; tables may hold keys, so only its
         * warnings and errors reach our log. Its levels are syslog's, with flags above. */
        level &= LOG_PRIMASK;
        if (level > LOG_NOTICE)
                return;

        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        log_full_errno(level, dm_errno > 0 ? dm_errno : 0, "libdevmapper: %s", message);
}

void dm_kernel_setup(void) {
        dm_log_with_errno_init(dm_kernel_log);
        dm_udev_set_sync_support(0);
        dm_udev_set_checking(0);
}

int dm_kernel_get_versions(char **ret_driver, char **ret_library) {
        char driver[64], library[64];
        char *d, *l;

        if (!dm_driver_version(driver, sizeof(driver)))
                return log_error_errno(ENODEV, "Cannot reach the device-mapper driver (is dm-mod loaded and /dev/mapper/control there?).");
        if (!dm_get_library_version(library, sizeof(library)))
                return log_error_errno(EIO, "Cannot read libdevmapper's version.");

        d = strdup(driver);
        l = strdup(library);
        if (!d || !l) {
                free(d);
                free(l);
                return log_oom();
        }

        *ret_driver = d;
        *ret_library = l;
        return 0;
}
