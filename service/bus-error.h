/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The service's named D-Bus errors; the contract XML lists them too. */
#define DMBUS_ERROR_PREFIX "org.dmbus.DeviceMapper1.Error."
#define DMBUS_ERROR_NOT_FOUND DMBUS_ERROR_PREFIX "NotFound"
#define DMBUS_ERROR_INVALID_ARGUMENT DMBUS_ERROR_PREFIX "InvalidArgument"
#define DMBUS_ERROR_ALREADY_EXISTS DMBUS_ERROR_PREFIX "AlreadyExists"
#define DMBUS_ERROR_BUSY DMBUS_ERROR_PREFIX "Busy"
#define DMBUS_ERROR_NOT_AUTHORIZED DMBUS_ERROR_PREFIX "NotAuthorized"
#define DMBUS_ERROR_TIMEOUT DMBUS_ERROR_PREFIX "Timeout"
#define DMBUS_ERROR_NOT_SUPPORTED DMBUS_ERROR_PREFIX "NotSupported"
#define DMBUS_ERROR_FAILED DMBUS_ERROR_PREFIX "Failed"
