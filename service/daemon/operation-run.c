/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "block-users.h"
#include "dev-path.h"
#include "dm-ops.h"
#include "doctor-scan.h"
#include "journal-fields.h"
#include "log.h"
#include "op-record.h"
#include "operation-run.h"
#include "strv.h"
#include "time-util.h"
#include "utf8-escape.h"
#include "udev-sysfs.h"

/* EINVAL from a table load: the kernel said which row and why, in its log only. */
static const char *table_error_hint(int r) {
        return r == -EINVAL ? " (the kernel log says which row and why)" : "";
}

/* The outcome: the -errno that decides the error's kind, and a sentence saying what failed and in
 * what state the device is; returns error, as log_error_errno() does. */
_printf_(3, 4)
static int record_failure(Operation *op, int error, const char *format, ...) {
        va_list ap;

        assert(error < 0);

        op->result = error;
        free(op->outcome);
        va_start(ap, format);
        if (vasprintf(&op->outcome, format, ap) < 0)
                op->outcome = NULL;
        va_end(ap);
        return error;
}

/* What was done, for the log and for a timeout's message. */
_printf_(2, 3)
static int record_success(Operation *op, const char *format, ...) {
        va_list ap;

        op->result = 0;
        free(op->outcome);
        va_start(ap, format);
        if (vasprintf(&op->outcome, format, ap) < 0)
                op->outcome = NULL;
        va_end(ap);
        return 0;
}

/* Before a step that leaves the device in a transient state: what the next start of the service
 * undoes if this one is killed before the operation ends (op-record.h). A device of a stack is
 * noted as such: its table live, it is still half of what was asked. */
static void note_transient_of(Operation *op, dev_t devnum, const char *name, const char *uuid, unsigned undo) {
        OpRecord record = {
                .devnum = devnum,
                .name = (char *) name,
                .uuid = (char *) uuid,
                .operation = (char *) (op->keep_record ? "CreateStack" : operation_kind_to_string(op->kind)),
                .undo = undo,
                .lease_until = op->lease_until,
                .owner = (char *) op->lease_owner,
        };
        int r;

        if (block_device_read_diskseq(devnum, &record.diskseq) < 0)
                record.diskseq = 0;
        r = op_record_write(op->record_dir, op->record_id, &record);

        if (r < 0)
                log_warning_errno(r, "Cannot keep a record of %s in %s; were the service killed now, nothing would settle it: %m",
                                  op->label, op->record_dir);
}

static void note_transient(Operation *op, const char *name, const char *uuid, unsigned undo) {
        note_transient_of(op, op->devnum, name, uuid, undo);
}

/* The device is in a state the caller asked for (or the one it was in): nothing to undo. */
static void note_settled(Operation *op) {
        (void) op_record_remove(op->record_dir, op->record_id);
}

/* A device Create made: settled, unless a stack keeps the record until it is whole (stack.c). */
static void note_made(Operation *op) {
        if (!op->keep_record)
                note_settled(op);
}

/* udev's event for what the next ioctl does will carry a higher seqnum than this. */
static void note_uevent_floor(Operation *op) {
        if (uevent_seqnum_read(&op->uevent_seqnum_floor) < 0)
                op->uevent_seqnum_floor = 0;
}

/* The ioctl raised a uevent (DM_UEVENT_GENERATED_FLAG): udev must be done with it before the answer. */
static void await_dm_uevent(Operation *op, const DmOpsResult *result) {
        op->awaited_uevent = result->uevent ? UEVENT_DM : UEVENT_NONE;
}

/* The device the caller named, and not whatever device owns the number now. */
static int check_identity(Operation *op, int fd) {
        _cleanup_(freep) char *name = NULL, *uuid = NULL;
        DmOpsStatus status;
        int r;

        r = dm_ops_status(fd, op->devnum, &status);
        if (r == -ENXIO)
                return record_failure(op, r, "%s is gone; nothing was done.", op->label);
        if (r < 0)
                return record_failure(op, r, "Cannot read the state of %s: %s.", op->label, strerror(-r));
        r = dm_ops_status_is(&status, op->expected_name, op->expected_uuid);
        if (r > 0) {
                dm_ops_device_from_status(&op->target, op->devnum, &status);
                return 0;
        }
        name = utf8_escape_invalid(status.name);
        uuid = utf8_escape_invalid(status.uuid);
        if (r < 0 || !name || !uuid)
                return record_failure(op, -ENOMEM, "Out of memory; nothing was done.");
        return record_failure(op, -ENXIO, "The device changed: %u:%u is now \"%s\"%s%s%s, not %s; nothing was done.",
                              major(op->devnum), minor(op->devnum), name, uuid[0] ? " (UUID \"" : "", uuid,
                              uuid[0] ? "\")" : "", op->label);
}

/* The devices the table names, each once (at most TABLE_REFERENCES_MAX): well-formed, and there
 * (a path, beneath /dev), a path then replaced by the number it led to. Here and not before
 * authorization: a token each, then a syscall each. */
static int check_references(Operation *op) {
        _cleanup_(strv_freep) char **references = NULL;
        _cleanup_(freep) dev_t *devnums = NULL;
        char reason[256];
        size_t i = 0;
        int r;

        r = table_collect_references(op->rows, op->n_rows, &references, reason, sizeof(reason));
        if (r == -EINVAL || r == -E2BIG)
                return record_failure(op, -EINVAL, "%s", reason);
        if (r < 0)
                return record_failure(op, r, "Cannot read the table's devices: %s.", strerror(-r));
        devnums = calloc(strv_length(references) + 1, sizeof(dev_t));
        if (!devnums)
                return record_failure(op, -ENOMEM, "Out of memory; nothing was done.");
        for (char **ref = references; ref && *ref; ref++, i++) {
                unsigned maj, min;

                if ((*ref)[0] != '/') {
                        if (sscanf(*ref, "%u:%u", &maj, &min) == 2 && block_device_exists(makedev(maj, min)))
                                continue;
                        return record_failure(op, -ENODEV, "The table refers to the device %s, which does not exist.", *ref);
                }
                r = dev_path_resolve(*ref, &devnums[i]);
                if (r == -EINVAL)
                        return record_failure(op, r, "The table refers to %s, which leads out of /dev.", *ref);
                if (r == -ENOTBLK || r == -ENOENT)
                        return record_failure(op, -ENODEV, "The table refers to %s, which is not a block device.", *ref);
                if (r < 0)
                        return record_failure(op, r, "The table refers to %s, which cannot be looked up: %s.", *ref, strerror(-r));
        }
        r = table_substitute_paths(op->rows, op->n_rows, references, devnums, &op->owned_params);
        if (r < 0)
                return record_failure(op, r, "Out of memory; nothing was done.");
        return 0;
}

/* Each distinct type once: asking loads the target's module, as the table load would. */
static int check_target_types(Operation *op, int fd) {
        for (size_t i = 0; i < op->n_rows; i++) {
                bool asked = false;
                int r;

                for (size_t j = 0; j < i && !asked; j++)
                        asked = strcmp(op->rows[j].type, op->rows[i].type) == 0;
                if (asked)
                        continue;
                r = dm_ops_target_type_check(fd, op->rows[i].type);
                if (r == -ENOENT)
                        return record_failure(op, -EOPNOTSUPP, "The kernel has no target type \"%s\" (row %zu), and no module dm-%s to load.",
                                              op->rows[i].type, i + 1, op->rows[i].type);
                if (r < 0)
                        return record_failure(op, r, "Cannot ask the kernel for target type \"%s\": %s.", op->rows[i].type, strerror(-r));
        }
        return 0;
}

/* After a failed step of Create: nothing half-made stays. */
static int create_roll_back(Operation *op, int fd, const char *step, int error) {
        DmOpsResult result = {};
        int r;

        note_uevent_floor(op);
        r = dm_ops_remove_retrying(fd, &op->target, false, 10, NULL, &result);
        if (r < 0)
                /* Its record stays: the next start of the service removes it. */
                return record_failure(op, error, "%s of %s failed: %s; removing the device again failed too (%s), so it is left behind.",
                                      step, op->label ?: op->name, strerror(-error), strerror(-r));
        note_settled(op);
        await_dm_uevent(op, &result);
        return record_failure(op, error, "%s of %s failed: %s%s; the device was removed again.",
                              step, op->label ?: op->name, strerror(-error), table_error_hint(error));
}

static int run_create(Operation *op, int fd) {
        DmOpsResult result = {};
        int r;

        /* A kernel before 5.14 announces the device at the create, a later one at the first load. */
        note_uevent_floor(op);
        r = dm_ops_create(fd, op->name, op->uuid, &op->target);
        if (r == -EBUSY)
                return record_failure(op, -EEXIST, "A device named \"%s\"%s%s%s exists already.", op->name,
                                      op->uuid ? " or with the UUID \"" : "", op->uuid ?: "", op->uuid ? "\"" : "");
        if (r < 0)
                return record_failure(op, r, "Creating \"%s\" failed: %s.", op->name, strerror(-r));
        op->devnum = op->target.devnum;
        r = operation_set_label(op, op->name);
        if (r < 0)
                return create_roll_back(op, fd, "Naming", r);
        note_transient(op, op->name, op->uuid ?: "", OP_RECORD_REMOVE);

        r = dm_ops_load(fd, &op->target, op->rows, op->n_rows, op->read_only);
        if (r < 0)
                return create_roll_back(op, fd, "Loading the table", r);
        /* Now the disk exists (Linux 5.14 and later make it at the first load): its diskseq. */
        note_transient(op, op->name, op->uuid ?: "", OP_RECORD_REMOVE);
        if (!op->activate) {
                note_made(op);
                op->awaited_uevent = UEVENT_ADD;
                return record_success(op, "Created %s with its table inactive", op->label);
        }

        note_uevent_floor(op);
        r = dm_ops_resume(fd, &op->target, false, &result);
        if (r < 0)
                return create_roll_back(op, fd, "Activating the table", r);
        note_made(op);
        await_dm_uevent(op, &result);
        return record_success(op, "Created and activated %s", op->label);
}

static int run_load(Operation *op, int fd) {
        int r;

        r = dm_ops_load(fd, &op->target, op->rows, op->n_rows, op->read_only);
        if (r < 0)
                return record_failure(op, r, "Loading a table into %s failed: %s%s; nothing changed.", op->label,
                                      strerror(-r), table_error_hint(r));
        return record_success(op, "Loaded a table into the inactive slot of %s", op->label);
}

static int run_resume(Operation *op, int fd) {
        DmOpsResult result = {};
        int r;

        note_uevent_floor(op);
        r = dm_ops_resume(fd, &op->target, false, &result);
        if (r < 0)
                return record_failure(op, r, "Resuming %s failed: %s.", op->label, strerror(-r));
        await_dm_uevent(op, &result);
        return record_success(op, "Resumed %s", op->label);
}

/* Load, suspend, resume: it ends resumed with the new table, even if it was suspended before (the
 * swap is a resume). Whatever fails, the device keeps its old table or has its new one, and is
 * resumed if this call suspended it; *ret_left_suspended when even that failed. */
static int reload_swap(Operation *op, int fd, bool was_suspended, bool *ret_left_suspended) {
        DmOpsResult result = {};
        int r;

        r = dm_ops_load(fd, &op->target, op->rows, op->n_rows, op->read_only);
        if (r < 0)
                return record_failure(op, r, "Loading the new table of %s failed: %s%s; nothing changed.", op->label,
                                      strerror(-r), table_error_hint(r));
        if (!was_suspended) {
                r = dm_ops_suspend(fd, &op->target, op->noflush, op->nolockfs);
                if (r < 0) {
                        (void) dm_ops_clear(fd, &op->target);
                        if (r == -EINTR && operation_cancel_requested(op))
                                return record_failure(op, -ECANCELED, "Cancelled while %s was being suspended to swap its table: "
                                                      "the new table was dropped, nothing changed.", op->label);
                        return record_failure(op, r, "Suspending %s to swap its table failed: %s; the new table was dropped, nothing changed.",
                                              op->label, strerror(-r));
                }
        }
        note_uevent_floor(op);
        r = dm_ops_resume(fd, &op->target, op->noflush, &result);
        if (r < 0) {
                (void) dm_ops_clear(fd, &op->target);
                if (!was_suspended && dm_ops_resume(fd, &op->target, op->noflush, &result) < 0) {
                        *ret_left_suspended = true;
                        return record_failure(op, r, "Swapping in the new table of %s failed: %s; the new table was dropped, "
                                              "and resuming it with its old table failed too: it is left suspended.", op->label, strerror(-r));
                }
                return record_failure(op, r, "Swapping in the new table of %s failed: %s; the new table was dropped and the old one %s.",
                                      op->label, strerror(-r), was_suspended ? "stays" : "is live again");
        }
        await_dm_uevent(op, &result);
        return record_success(op, "Reloaded %s", op->label);
}

static int run_reload(Operation *op, int fd) {
        bool left_suspended = false;
        DmOpsStatus status;
        int r;

        r = dm_ops_status(fd, op->devnum, &status);
        if (r < 0)
                return record_failure(op, r, "Cannot read the state of %s: %s.", op->label, strerror(-r));
        /* A device suspended before this call stays suspended, whoever settles it. */
        note_transient(op, op->expected_name, op->expected_uuid, OP_RECORD_CLEAR | (status.suspended ? 0 : OP_RECORD_RESUME));
        r = reload_swap(op, fd, status.suspended, &left_suspended);
        if (!left_suspended)
                note_settled(op);
        return r;
}

/* Replaces the live table with one that fails all I/O, so that what waits on the device ends. */
static int force_error_table(Operation *op, int fd) {
        DmOpsResult result;
        uint64_t sectors;
        int r;

        r = block_device_read_size(op->devnum, &sectors);
        if (r < 0 || sectors == 0)
                return 0;       /* no live table: nothing to fail */
        r = dm_ops_load(fd, &op->target, &(DmTableRow) { .length = sectors, .type = "error", .params = "" }, 1, false);
        if (r >= 0)
                r = dm_ops_resume(fd, &op->target, true, &result);
        if (r < 0)
                return record_failure(op, r, "Replacing the table of %s with an error target failed: %s; it was not removed.",
                                      op->label, strerror(-r));
        return 0;
}

/* The first of what holds the device, in words (block-users.h), with how many more: for a Busy
 * error. NULL when nothing was found (the kernel itself, or a process we may not look into). */
static char *first_user(dev_t devnum, uid_t viewer) {
        BlockUser *users = NULL;
        size_t n = 0;
        char *described = NULL, *s = NULL;

        if (block_users_scan(&devnum, 1, &users, &n) < 0 || n == 0) {
                block_users_free(users, n);
                return NULL;
        }
        described = block_user_describe(&users[0], viewer);
        if (described && n > 1 && asprintf(&s, "%s, and %zu more (GetUsers lists them)", described, n - 1) >= 0) {
                free(described);
                described = s;
        }
        block_users_free(users, n);
        return described;
}

static int run_remove(Operation *op, int fd) {
        DmOpsResult result = {};
        int r;

        if (op->force) {
                /* Once the error table is in, the device is only to be removed, now or at the next start. */
                note_transient(op, op->expected_name, op->expected_uuid, OP_RECORD_REMOVE);
                r = force_error_table(op, fd);
                if (r < 0) {
                        note_settled(op);
                        return r;
                }
        }
        note_uevent_floor(op);
        r = dm_ops_remove_retrying(fd, &op->target, op->deferred, op->retry ? DM_OPS_REMOVE_RETRY_ATTEMPTS : 1, &op->cancel_requested,
                                   &result);
        /* Whatever came of it, the caller is told: a record kept now could remove, at a later
         * start, a device restored in between. */
        note_settled(op);
        if (r == -ECANCELED)
                return record_failure(op, r, "Cancelled while %s was still in use: it is still there%s.", op->label,
                                      op->force ? ", its table the error target (force)" : "");
        if (r == -EBUSY) {
                _cleanup_(freep) char *user = first_user(op->devnum, op->caller_uid);
                char retried[96] = "; the option retry waits for brief users, deferred removes it once closed";

                if (op->retry)
                        snprintf(retried, sizeof(retried), ", and stayed so for %u s",
                                 DM_OPS_REMOVE_RETRY_ATTEMPTS * DM_OPS_REMOVE_RETRY_INTERVAL_MSEC / 1000);
                return record_failure(op, r, "%s is in use: %s%s%s.", op->label, user ?: "opened by something", retried,
                                      op->force ? "; its table is the error target now (force)" : "");
        }
        if (r < 0)
                return record_failure(op, r, "Removing %s failed: %s%s.", op->label, strerror(-r),
                                      op->force ? "; its table is the error target now (force)" : "");
        if (result.deferred)
                return record_success(op, "%s is open: it will be removed once it is closed", op->label);
        await_dm_uevent(op, &result);
        return record_success(op, "Removed %s", op->label);
}

static int run_rename(Operation *op, int fd) {
        DmOpsResult result = {};
        int r;

        note_uevent_floor(op);
        r = op->kind == OPERATION_RENAME ? dm_ops_rename(fd, &op->target, op->name, &result)
                                         : dm_ops_set_uuid(fd, &op->target, op->uuid, &result);
        if (r == -EBUSY)
                return record_failure(op, -EEXIST, op->kind == OPERATION_RENAME ? "A device named \"%s\" exists already."
                                      : "Another device has the UUID \"%s\".",
                                      op->kind == OPERATION_RENAME ? op->name : op->uuid);
        if (r < 0)
                return record_failure(op, r, "%s %s failed: %s.",
                                      op->kind == OPERATION_RENAME ? "Renaming" : "Setting the UUID of", op->label, strerror(-r));
        await_dm_uevent(op, &result);
        if (op->kind == OPERATION_RENAME)
                return record_success(op, "Renamed %s to \"%s\"", op->label, op->name);
        else
                return record_success(op, "Set the UUID of %s to \"%s\"", op->label, op->uuid);
}

static int run_message(Operation *op, int fd) {
        int r;

        /* The message itself is never written anywhere: it may carry a key. */
        r = dm_ops_message(fd, &op->target, op->sector, op->message, &op->reply_text);
        if (r == -ENOBUFS)
                return record_failure(op, r, "The target of %s acted on the message, but its reply was longer than the service takes.",
                                      op->label);
        if (r < 0)
                return record_failure(op, r, "The target of %s at sector %" PRIu64 " refused the message: %s.",
                                      op->label, op->sector, strerror(-r));
        /* The target's words (dm-stats gives back a region's aux_data as it was set): escaped as
         * names are, or the reply could not go on the bus. */
        if (op->reply_text) {
                char *escaped = utf8_escape_invalid(op->reply_text);

                explicit_bzero(op->reply_text, strlen(op->reply_text));
                free(op->reply_text);
                op->reply_text = escaped;
                if (!escaped)
                        return record_failure(op, -ENOMEM, "The target of %s acted on the message; its reply was lost for want of memory.",
                                              op->label);
        }
        return record_success(op, "Sent a message to %s", op->label);
}

static int run_clear_inactive(Operation *op, int fd) {
        int r = dm_ops_clear(fd, &op->target);

        if (r < 0)
                return record_failure(op, r, "Clearing the inactive table of %s failed: %s.", op->label, strerror(-r));
        return record_success(op, "Cleared the inactive table of %s", op->label);
}

static int run_suspend(Operation *op, int fd) {
        int r;

        /* A lease's record first: a service killed once the suspend is done still resumes the
         * device when the lease ends (lease.h). Kept on success, for the lease to follow. */
        if (op->lease_sec > 0) {
                op->lease_until = realtime_usec() + op->lease_sec * USEC_PER_SEC;
                note_transient(op, op->expected_name, op->expected_uuid, OP_RECORD_RESUME);
        }
        r = dm_ops_suspend(fd, &op->target, op->noflush, op->nolockfs);
        if (r < 0) {
                if (op->lease_sec > 0)
                        note_settled(op);
                /* The kernel gave up waiting for the I/O in flight and left the device as it was. */
                if (r == -EINTR && operation_cancel_requested(op))
                        return record_failure(op, -ECANCELED, "Cancelled while %s was being suspended: it is left active, as it was.",
                                              op->label);
                return record_failure(op, r, "Suspending %s failed: %s.", op->label, strerror(-r));
        }
        if (op->lease_sec > 0)
                return record_success(op, "Suspended %s under a lease of %" PRIu32 " s", op->label, op->lease_sec);
        return record_success(op, "Suspended %s", op->label);
}

/* A gone device's links that udev still records under dm-MINOR: a device made there for a moment,
 * its table loaded but never resumed (the kernel adds its disk at the first load), has udev drop
 * them as it processes its "add" (the rules make no link for a device never resumed, and udev
 * drops the links of the database's entry that the new event does not make); it is removed once
 * udev is done with it. */
static int clear_minor(Operation *op, int fd, unsigned minor) {
        static const DmTableRow zero = { .start = 0, .length = 8, .type = "zero", .params = "" };
        char name[32];
        DmOpsDevice dev;
        DmOpsResult result;
        uint64_t since;
        int r;

        snprintf(name, sizeof(name), "dmbus-doctor-%u", minor);
        since = realtime_usec();
        r = dm_ops_create_at(fd, name, NULL, makedev(op->repair.dm_major, minor), &dev);
        if (r < 0)
                return r;       /* taken meanwhile: that device's own event drops them */
        note_transient_of(op, dev.devnum, name, "", OP_RECORD_REMOVE);
        r = dm_ops_load(fd, &dev, &zero, 1, true);
        if (r >= 0)
                r = doctor_wait_udev_entry(dev.devnum, since, op->udev_timeout_usec);
        r = dm_ops_remove_retrying(fd, &dev, false, DM_OPS_REMOVE_RETRY_ATTEMPTS, NULL, &result) ?: r;
        if (r < 0 && r != -ETIMEDOUT)
                return r;       /* the record stays: the next start removes it */
        note_settled(op);
        return doctor_wait_udev_entry_gone(dev.devnum, op->udev_timeout_usec) ?: r;
}

/* Each repair in the journal, with the device's number (the worker knows no more of it). */
static void log_repaired(dev_t devnum, const char *what) {
        _cleanup_(strv_freep) char **fields = journal_fields_device(JOURNAL_MESSAGE_REPAIR_DONE, NULL, NULL, devnum);

        journal_fields_add(&fields, "DMBUS_OPERATION=%s", operation_kind_to_string(OPERATION_REPAIR));
        log_struct(LOG_INFO, fields, "Repair: %s %u:%u.", what, major(devnum), minor(devnum));
}

static int run_repair(Operation *op, int fd) {
        const DoctorPlan *plan = &op->repair;
        unsigned announced = 0, cleared = 0;
        uint64_t since = realtime_usec();
        int r;

        for (size_t i = 0; i < plan->n_reannounce; i++) {
                r = doctor_reannounce(plan->reannounce[i]);
                if (r >= 0) {
                        log_repaired(plan->reannounce[i], "announced to udev again");
                        announced++;
                } else if (r != -ENOENT)
                        log_warning_errno(r, "Cannot announce %u:%u to udev again: %m", major(plan->reannounce[i]),
                                          minor(plan->reannounce[i]));
        }
        for (size_t i = 0; i < plan->n_clear_minors; i++) {
                r = clear_minor(op, fd, plan->clear_minors[i]);
                if (r >= 0) {
                        log_repaired(makedev(plan->dm_major, plan->clear_minors[i]), "udev dropped the links of the gone");
                        cleared++;
                } else if (r != -EBUSY)
                        log_warning_errno(r, "Cannot have udev drop the links of dm-%u: %m", plan->clear_minors[i]);
        }
        /* Answered once udev is done with what it was asked, and with what that brought about (a
         * probe's own events), so that a Check after sees it all. */
        for (size_t i = 0; i < plan->n_reannounce; i++)
                (void) doctor_wait_udev_entry(plan->reannounce[i], since, op->udev_timeout_usec);
        (void) doctor_wait_udev_idle(op->udev_timeout_usec);
        return record_success(op, "Announced %u device(s) to udev again, and had udev drop the links of %u gone device(s)", announced,
                              cleared);
}

void operation_run(Operation *op, int fd) {
        static int (*const run[_OPERATION_KIND_MAX])(Operation *op, int fd) = {
                [OPERATION_CREATE] = run_create,
                [OPERATION_LOAD] = run_load,
                [OPERATION_CLEAR_INACTIVE] = run_clear_inactive,
                [OPERATION_SUSPEND] = run_suspend,
                [OPERATION_RESUME] = run_resume,
                [OPERATION_RELOAD] = run_reload,
                [OPERATION_REMOVE] = run_remove,
                [OPERATION_RENAME] = run_rename,
                [OPERATION_SET_UUID] = run_rename,
                [OPERATION_MESSAGE] = run_message,
                [OPERATION_REPAIR] = run_repair,
        };

        assert(op);
        assert(op->kind >= 0 && op->kind < _OPERATION_KIND_MAX);
        assert(!operation_kind_is_stack(op->kind));

        /* Cancelled while it waited behind another operation on its device. */
        if (operation_cancel_requested(op)) {
                (void) record_failure(op, -ECANCELED, "Cancelled before it began; nothing was done.");
                return;
        }
        /* The table's devices and target types, then whose device: the last look right before
         * the change. */
        if (op->n_rows > 0 && (check_references(op) < 0 || check_target_types(op, fd) < 0))
                return;
        if (op->kind != OPERATION_CREATE && op->kind != OPERATION_REPAIR && check_identity(op, fd) < 0)
                return;
        (void) run[op->kind](op, fd);
}
