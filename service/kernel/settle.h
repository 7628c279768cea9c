/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* At start, before the first scan: every record a killed run of the service left (op-record.h) is
 * settled and logged. If the device at the record's dev_t is still the one recorded (its name and
 * UUID), a device being made or force-removed is removed, an inactive table this service loaded
 * is dropped, and a device it suspended is resumed; a device that is gone, or another one now,
 * is left alone. A lease still running (lease.h) is kept, for the service to follow again; one that
 * ran out meanwhile is settled as a Suspend. Raw ioctls on control_fd. Returns how many records
 * were read, or -errno when the records cannot be read. */
int settle_records(int control_fd, const char *dir);
