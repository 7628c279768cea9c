/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "failure.h"
#include "health.h"
#include "manager.h"

/* The low-rate look at what the kernel does not announce, every PollIntervalSec (config.h): each
 * DM device's INFO, so that a suspend made by another tool shows; the pools' usage (thin-pool,
 * snapshot, cache: read again, STATUS without a flush), which keeps their Status and ParsedStatus
 * current and raises ThresholdCrossed; integrity targets, whose mismatches raise no event (Health,
 * Device.Failure); devices with the kernel's own long work left (their jobs' progress); and the
 * devices suspended for longer than SuspendedAlertSec, whose Health becomes "suspended". Only these
 * are read again; every other device costs one INFO ioctl a tick. */

/* Loads the configuration file (defaults if there is none), logging what it passes over. */
void monitor_load_config(Manager *m);
/* Starts the tick, or restarts it at a new interval. */
int monitor_start(Manager *m);
/* The refresh's usage_changed callback: the thresholds crossed go out as signals. */
void monitor_usage_changed(dev_t devnum, const Usage *before, const Usage *now, void *userdata);
/* A new failure of a device (refresh.h): logged, and Device.Failure. */
void monitor_device_failed(dev_t devnum, const Failure *failure, void *userdata);
