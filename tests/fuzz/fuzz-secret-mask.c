/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key masking over any parameters of the targets that carry keys. The first byte picks the
 * target type. A masked crypt table keeps none of the key's bytes in the key's place. */
#include "fuzz-util.h"
#include "secret-mask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const types[] = { "crypt", "integrity", "verity", "linear", "thin-pool" };
        char *params, *masked;

        if (size < 1)
                return 0;
        params = fuzz_string(data + 1, size - 1);
        masked = secret_mask_params(types[data[0] % (sizeof(types) / sizeof(types[0]))], params);
        if (!masked)
                abort();
        free(masked);
        free(params);
        return 0;
}
