/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "object-path.h"
#include "validate.h"

char *block_object_path(dev_t devnum, char buf[static BLOCK_OBJECT_PATH_MAX]) {
        assert(buf);

        snprintf(buf, BLOCK_OBJECT_PATH_MAX, DMBUS_BLOCK_PREFIX "/%u_%u", major(devnum), minor(devnum));
        return buf;
}

/* A decimal number as block_object_path() writes it, up to the character stop. */
static const char *parse_number(const char *s, char stop, uint32_t *ret) {
        uint64_t v = 0;
        const char *p;

        if (s[0] == '0' && s[1] != stop)
                return NULL;
        for (p = s; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > UINT32_MAX)
                        return NULL;
        }
        if (p == s || *p != stop)
                return NULL;
        *ret = (uint32_t) v;
        return p;
}

int block_object_path_parse(const char *path, dev_t *ret) {
        const size_t prefix_len = strlen(DMBUS_BLOCK_PREFIX "/");
        uint32_t maj, min;
        const char *p;

        assert(path);
        assert(ret);

        if (strncmp(path, DMBUS_BLOCK_PREFIX "/", prefix_len) != 0)
                return -EINVAL;
        p = parse_number(path + prefix_len, '_', &maj);
        if (!p)
                return -EINVAL;
        p = parse_number(p + 1, 0, &min);
        if (!p || devnum_invalid_reason(maj, min))
                return -EINVAL;
        *ret = makedev(maj, min);
        return 0;
}
