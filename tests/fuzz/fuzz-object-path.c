/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Object paths as callers send them: whatever parses is the one canonical spelling of its dev_t. */
#include <sys/types.h>

#include "fuzz-util.h"
#include "object-path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *path = fuzz_string(data, size), buf[BLOCK_OBJECT_PATH_MAX];
        dev_t devnum;

        if (block_object_path_parse(path, &devnum) == 0 && strcmp(block_object_path(devnum, buf), path) != 0)
                abort();
        free(path);
        return 0;
}
