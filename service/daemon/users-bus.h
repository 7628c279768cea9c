/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "manager.h"

/* Device.GetUsers: what holds the device, answered once the users scan (users-scan.h) has looked,
 * off the main loop. Root, and a caller polkit allows DMBUS_POLKIT_ACTION_VIEW_PROCESSES, see every
 * process; anyone else sees their own processes, with the count of the others' in an entry
 * ("hidden", {"processes": u}). A caller that is not root has at most USERS_QUERIES_PER_UID_MAX
 * of these waiting at once, and its scans are paced (users-scan.h). */

#define USERS_QUERIES_PER_UID_MAX 4

int users_bus_get_users(Manager *m, sd_bus_message *message, sd_bus_error *error);
/* Device.PlanRemoveStack: what RemoveStack would do, changing nothing. The users scan over the
 * device and every DM device above it, as GetUsers' (the same process rules, the same bounds):
 * first what outside the stack keeps it, ("unmount", {mount-point, device}), ("swapoff", {path,
 * device}), ("close", {pid, comm, uid, device}), ("release", {kernel-name, [name, object],
 * device}), ("hidden", {processes}); then ("remove", {object, name, subsystem, [owner]}) for each
 * device, top first, owner "lvm2" or "cryptsetup" by the UUID's prefix. Option:
 * auth-no-user-interaction b. */
int users_bus_plan_remove_stack(Manager *m, sd_bus_message *message, sd_bus_error *error);
/* The queries waiting: the Manager holds them, only users-bus.c looks inside. At a stop, or when
 * freed, those still waiting get no answer (the bus goes with the process). */
typedef struct UsersQueries UsersQueries;
int users_queries_new(UsersQueries **ret);
UsersQueries *users_queries_free(UsersQueries *queries);
void users_queries_drop_all(UsersQueries *queries);
