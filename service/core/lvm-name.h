/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* lvm2 names its DM devices VG-LV[-LAYER], each part with its own '-' doubled ("my--vg-root",
 * "vg-pool_tdata"). The split is libdevmapper's (dm_split_lvm_name(), as `dmsetup splitname`
 * prints it), pure. Only a device whose UUID says lvm2 owns it ("LVM-") is named so. */

#define DM_UUID_PREFIX_LVM "LVM-"

/* Splits name into new strings (layer "" when there is none). -ENOMEM. */
int lvm_name_split(const char *name, char **ret_vg, char **ret_lv, char **ret_layer);
