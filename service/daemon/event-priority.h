/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

/* The main loop's order (sd-event dispatches the pending source of the lowest number first): what
 * the kernel and the workers report, then the refresh that turns it into the graph, signals and
 * replies, then callers' requests, then callers' reads (read-queue.h), then the tables of callers
 * who are not root, a slice a turn (operation-bus.c). So no flood of reads can
 * hold back a signal, a reply or a change, while a burst of events is still taken in whole before
 * it is read (one refresh per burst). */
#define EVENT_PRIORITY_KERNEL (SD_EVENT_PRIORITY_NORMAL - 20)
#define EVENT_PRIORITY_REFRESH (SD_EVENT_PRIORITY_NORMAL - 10)
#define EVENT_PRIORITY_BUS SD_EVENT_PRIORITY_NORMAL
#define EVENT_PRIORITY_READS (SD_EVENT_PRIORITY_NORMAL + 10)
/* Tables from callers that are not root, read a slice a turn before polkit is asked: last. */
#define EVENT_PRIORITY_UNPRIVILEGED_TABLES (SD_EVENT_PRIORITY_NORMAL + 20)
