/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names of the D-Bus contract (org.dmbus.DeviceMapper1.xml beside this file): the one copy
 * that the daemon, dmbusctl and the tests include. */

#define DMBUS_SERVICE_NAME "org.dmbus.DeviceMapper1"
#define DMBUS_ROOT_PATH "/org/dmbus/DeviceMapper1"
#define DMBUS_MANAGER_PATH DMBUS_ROOT_PATH "/Manager"
/* One object per block device: DMBUS_BLOCK_PREFIX "/MAJOR_MINOR". */
#define DMBUS_BLOCK_PREFIX DMBUS_ROOT_PATH "/block"
/* One object per job (job-bus.h): DMBUS_JOB_PREFIX "/N". */
#define DMBUS_JOB_PREFIX DMBUS_ROOT_PATH "/job"

#define DMBUS_MANAGER_INTERFACE DMBUS_SERVICE_NAME ".Manager"
#define DMBUS_BLOCK_INTERFACE DMBUS_SERVICE_NAME ".Block"
#define DMBUS_DEVICE_INTERFACE DMBUS_SERVICE_NAME ".Device"
#define DMBUS_JOB_INTERFACE DMBUS_SERVICE_NAME ".Job"

#define DMBUS_ERROR_PREFIX DMBUS_SERVICE_NAME ".Error."
#define DMBUS_ERROR_NOT_FOUND DMBUS_ERROR_PREFIX "NotFound"
#define DMBUS_ERROR_INVALID_ARGUMENT DMBUS_ERROR_PREFIX "InvalidArgument"
#define DMBUS_ERROR_ALREADY_EXISTS DMBUS_ERROR_PREFIX "AlreadyExists"
#define DMBUS_ERROR_BUSY DMBUS_ERROR_PREFIX "Busy"
#define DMBUS_ERROR_NOT_AUTHORIZED DMBUS_ERROR_PREFIX "NotAuthorized"
#define DMBUS_ERROR_TIMEOUT DMBUS_ERROR_PREFIX "Timeout"
#define DMBUS_ERROR_NOT_SUPPORTED DMBUS_ERROR_PREFIX "NotSupported"
#define DMBUS_ERROR_PERMISSION_DENIED DMBUS_ERROR_PREFIX "PermissionDenied"
#define DMBUS_ERROR_FAILED DMBUS_ERROR_PREFIX "Failed"
#define DMBUS_ERROR_CANCELLED DMBUS_ERROR_PREFIX "Cancelled"

/* Each error, once: X(NAME, EXIT_STATUS, ERRNO...) gives its name, dmbusctl's exit status for it,
 * and the errnos of a failed operation that the service answers with it (Failed: any other).
 * dmbus-errors.h looks them up; dmbusd(8), dmbusctl(1) and the XML say the same, which
 * tests/unit/test-errors.c checks. */
#define DMBUS_ERRORS(X)                                                 \
        X(DMBUS_ERROR_FAILED, 1)                                        \
        X(DMBUS_ERROR_NOT_FOUND, 3, ENXIO, ENODEV, ENOENT)              \
        X(DMBUS_ERROR_INVALID_ARGUMENT, 4, EINVAL, E2BIG, ERANGE)       \
        X(DMBUS_ERROR_ALREADY_EXISTS, 5, EEXIST)                        \
        X(DMBUS_ERROR_BUSY, 6, EBUSY)                                   \
        X(DMBUS_ERROR_NOT_AUTHORIZED, 7)                                \
        X(DMBUS_ERROR_TIMEOUT, 8, ETIMEDOUT)                            \
        X(DMBUS_ERROR_NOT_SUPPORTED, 9, ENOTTY, EOPNOTSUPP, ENOSYS)     \
        X(DMBUS_ERROR_PERMISSION_DENIED, 11, EPERM, EACCES, EROFS)      \
        X(DMBUS_ERROR_CANCELLED, 12, ECANCELED)

/* The keys of the mapping operations' options dicts (the XML says which method takes which). */
#define DMBUS_OPTION_NO_USER_INTERACTION "auth-no-user-interaction"    /* every one */
#define DMBUS_OPTION_NO_USER_INTERACTION_UDISKS "auth.no_user_interaction" /* the same, as udisks2 names it: accepted too */
#define DMBUS_OPTION_UDEV_TIMEOUT_MS "udev-timeout-ms"                  /* every one */
#define DMBUS_OPTION_READ_ONLY "read-only"
#define DMBUS_OPTION_ACTIVATE "activate"
#define DMBUS_OPTION_NOFLUSH "noflush"
#define DMBUS_OPTION_NOLOCKFS "nolockfs"
#define DMBUS_OPTION_RETRY "retry"
#define DMBUS_OPTION_DEFERRED "deferred"
#define DMBUS_OPTION_FORCE "force"
#define DMBUS_OPTION_LEASE_SEC "lease-sec"                              /* Suspend */
#define DMBUS_OPTION_TIMEOUT_USEC "timeout-usec"                        /* WaitForDevice */
#define DMBUS_OPTION_NEVER_LOADED_SEC "never-loaded-sec"                /* Check */

/* The polkit actions the mutating methods are checked against (data/org.dmbus.devicemapper1.policy),
 * as udisks2 splits its own: a rule can grant one without the others. Every check carries the
 * details "operation" (the method), "name", "uuid" and "subsystem" (the UUID's prefix) of the
 * device; CreateStack's name is its devices' names, bottom first, separated by spaces. */
#define DMBUS_POLKIT_ACTION_CREATE "org.dmbus.devicemapper1.create"             /* Create, CreateStack */
#define DMBUS_POLKIT_ACTION_MODIFY "org.dmbus.devicemapper1.modify"             /* Load, Reload, Suspend, Resume, Rename, SetUUID, ClearInactive */
#define DMBUS_POLKIT_ACTION_REMOVE "org.dmbus.devicemapper1.remove"             /* Remove, RemoveStack */
#define DMBUS_POLKIT_ACTION_SEND_MESSAGE "org.dmbus.devicemapper1.send-message" /* SendMessage */
#define DMBUS_POLKIT_ACTION_VIEW_PROCESSES "org.dmbus.devicemapper1.view-processes" /* GetUsers: other users' processes */
