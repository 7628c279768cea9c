/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names of the D-Bus contract (org.dmbus.DeviceMapper1.xml beside this file): the one copy
 * that the daemon, dmbusctl and the tests include. */

#define DMBUS_SERVICE_NAME "org.dmbus.DeviceMapper1"
#define DMBUS_ROOT_PATH "/org/dmbus/DeviceMapper1"
#define DMBUS_MANAGER_PATH DMBUS_ROOT_PATH "/Manager"
/* One object per block device: DMBUS_BLOCK_PREFIX "/MAJOR_MINOR". */
#define DMBUS_BLOCK_PREFIX DMBUS_ROOT_PATH "/block"

#define DMBUS_MANAGER_INTERFACE DMBUS_SERVICE_NAME ".Manager"
#define DMBUS_BLOCK_INTERFACE DMBUS_SERVICE_NAME ".Block"
#define DMBUS_DEVICE_INTERFACE DMBUS_SERVICE_NAME ".Device"

#define DMBUS_ERROR_PREFIX DMBUS_SERVICE_NAME ".Error."
#define DMBUS_ERROR_NOT_FOUND DMBUS_ERROR_PREFIX "NotFound"
#define DMBUS_ERROR_INVALID_ARGUMENT DMBUS_ERROR_PREFIX "InvalidArgument"
#define DMBUS_ERROR_ALREADY_EXISTS DMBUS_ERROR_PREFIX "AlreadyExists"
#define DMBUS_ERROR_BUSY DMBUS_ERROR_PREFIX "Busy"
#define DMBUS_ERROR_NOT_AUTHORIZED DMBUS_ERROR_PREFIX "NotAuthorized"
#define DMBUS_ERROR_TIMEOUT DMBUS_ERROR_PREFIX "Timeout"
#define DMBUS_ERROR_NOT_SUPPORTED DMBUS_ERROR_PREFIX "NotSupported"
#define DMBUS_ERROR_FAILED DMBUS_ERROR_PREFIX "Failed"

/* The polkit action every mutating method is checked against (data/org.dmbus.devicemapper1.policy). */
#define DMBUS_POLKIT_ACTION_MANAGE "org.dmbus.devicemapper1.manage"
