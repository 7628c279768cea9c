/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

void unescape_octal(char *s) {
        char *w = s;

        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
                        *w++ = (char) ((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
                        p += 3;
                } else
                        *w++ = *p;
        }
        *w = 0;
}

int mountinfo_for_each(const char *path, int (*each)(unsigned major, unsigned minor, const char *mount_point, void *userdata),
                       void *userdata) {
        char *line = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re");
        int r = 0;

        if (!f)
                return -errno;
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." */
        while (r == 0 && getline(&line, &size, f) > 0) {
                unsigned maj, min;
                int at = 0;

                if (sscanf(line, "%*u %*u %u:%u %*s %n", &maj, &min, &at) != 2 || at == 0)
                        continue;
                line[at + strcspn(line + at, " \n")] = 0;
                unescape_octal(line + at);
                r = each(maj, min, line + at, userdata);
        }
        free(line);
        fclose(f);
        return r;
}
