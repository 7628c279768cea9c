/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Lookups in DMBUS_ERRORS (dmbus-names.h): the daemon names a failed operation's errno with it,
 * dmbusctl turns a name into its exit status. */

/* The error name for -errno error: DMBUS_ERROR_FAILED for an errno the table does not list. */
const char *dmbus_error_from_errno(int error) __attribute__((pure));

/* dmbusctl's exit status for one of the service's errors, or 0 when name is none of them. */
int dmbus_error_exit_status(const char *name) __attribute__((pure));
