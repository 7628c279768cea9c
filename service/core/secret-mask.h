/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What stands in a table's parameters where a key was. */
#define SECRET_MASK "<masked>"

/* Returns a copy of a target's table parameters with every key replaced by SECRET_MASK: the
 * dm-crypt key (hex, or a ":len:type:desc" keyring reference), dm-integrity's internal_hash,
 * journal_crypt and journal_mac keys, dm-verity's root_hash_sig_key_desc. NULL on ENOMEM. */
char *secret_mask_params(const char *target_type, const char *params);
