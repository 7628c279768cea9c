/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "dm-ops.h"
#include "journal-fields.h"
#include "log.h"
#include "op-record.h"
#include "settle.h"
#include "strv.h"
#include "time-util.h"
#include "udev-sysfs.h"
#include "validate.h"

/* The undo the record asks for, as far as the device's state still needs it; what was done, in
 * words, into buf. */
static int undo(int fd, const OpRecord *record, const DmOpsStatus *status, char *buf, size_t size) {
        DmOpsResult result;
        DmOpsDevice dev;
        int r;

        dm_ops_device_from_status(&dev, record->devnum, status);
        buf[0] = 0;
        /* A Create's record: the device goes while it has no live table (the Create was cut short
         * before its resume, or could not take it away again). With one, the Create had ended
         * whole, or the device is somebody else's now. A stack's device goes all the same: the
         * stack is half made. */
        if ((record->undo & OP_RECORD_REMOVE) && strcmp(record->operation, "Create") == 0 && status->live_table) {
                snprintf(buf, size, "left it alone: its table is live");
                return 0;
        }
        /* A forced Remove's record: only the error table it loaded may go. A device restored since
         * (a table loaded again, by lvm2 or by hand) is somebody else's now. */
        if ((record->undo & OP_RECORD_REMOVE) && strcmp(record->operation, "Remove") == 0) {
                r = dm_ops_live_table_is_error(fd, &dev);
                if (r < 0)
                        return r;
                if (r == 0) {
                        snprintf(buf, size, "left it alone: its table is no longer the error table it loaded");
                        return 0;
                }
        }
        if (record->undo & OP_RECORD_REMOVE) {
                /* udev may still be probing a device it just saw: as libdevmapper's retry; then the
                 * kernel removes it once it is closed. */
                r = dm_ops_remove_retrying(fd, &dev, false, DM_OPS_REMOVE_RETRY_ATTEMPTS, NULL, &result);
                if (r == -EBUSY)
                        r = dm_ops_remove(fd, &dev, true, &result);
                snprintf(buf, size, "removed it");
                return r;
        }
        if ((record->undo & OP_RECORD_CLEAR) && status->inactive_table) {
                r = dm_ops_clear(fd, &dev);
                if (r < 0)
                        return r;
                snprintf(buf, size, "dropped the inactive table it had loaded");
        }
        if ((record->undo & OP_RECORD_RESUME) && status->suspended) {
                r = dm_ops_resume(fd, &dev, false, &result);
                if (r < 0)
                        return r;
                snprintf(buf + strlen(buf), size - strlen(buf), "%sresumed it", buf[0] ? ", " : "");
        }
        if (!buf[0])
                snprintf(buf, size, "found it sane already");
        return 0;
}

static void settle_one(int fd, const char *dir, const char *id) {
        _cleanup_(op_record_done) OpRecord record = {};
        _cleanup_(strv_freep) char **fields = NULL;
        DmOpsStatus status;
        uint64_t diskseq;
        char what[128];
        int r;

        r = op_record_read(dir, id, &record);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the record %s/%s, dropping it: %m", dir, id);
                (void) op_record_remove(dir, id);
                return;
        }
        /* A lease still running: the service follows it again once on the bus (lease.h). */
        if (record.lease_until > realtime_usec())
                return;
        r = dm_ops_status(fd, record.devnum, &status);
        if (r >= 0)
                r = dm_ops_status_is(&status, record.name, record.uuid);
        /* Same number, name and UUID, but made again since: not the device of the record. */
        if (r > 0 && record.diskseq != 0 && block_device_read_diskseq(record.devnum, &diskseq) >= 0 && diskseq != record.diskseq)
                r = 0;
        fields = journal_fields_device(JOURNAL_MESSAGE_RECORD_SETTLED, record.name, record.uuid, record.devnum);
        journal_fields_add(&fields, "DMBUS_OPERATION=%s", record.operation);
        if (r == 0 || r == -ENXIO)
                log_struct(LOG_INFO, fields,
                           "A %s of " DEVICE_LABEL_FORMAT " was cut short by a stop of the service; the device is %s now, left alone.",
                           record.operation, DEVICE_LABEL_ARGS(record.name, record.devnum), r == 0 ? "another one" : "gone");
        else if (r < 0)
                log_struct_errno(LOG_WARNING, r, fields, "Cannot read the state of %u:%u to settle a %s cut short: %m",
                                 major(record.devnum), minor(record.devnum), record.operation);
        else {
                r = undo(fd, &record, &status, what, sizeof(what));
                if (r < 0)
                        log_struct_errno(LOG_WARNING, r, fields,
                                         "A %s of " DEVICE_LABEL_FORMAT " was cut short by a stop of the service; settling it failed: %m",
                                         record.operation, DEVICE_LABEL_ARGS(record.name, record.devnum));
                else if (record.lease_until != 0)
                        log_struct(LOG_INFO, fields, "The lease on the suspension of " DEVICE_LABEL_FORMAT " ran out while the service was down: %s.",
                                   DEVICE_LABEL_ARGS(record.name, record.devnum), what);
                else
                        log_struct(LOG_INFO, fields, "A %s of " DEVICE_LABEL_FORMAT " was cut short by a stop of the service: %s.",
                                   record.operation, DEVICE_LABEL_ARGS(record.name, record.devnum), what);
        }
        (void) op_record_remove(dir, id);
}

/* Newest first ("op-PID-N", N counting up): a stack half made goes top first. */
static int id_compare_newest_first(const void *a, const void *b) {
        return strverscmp(*(char *const *) b, *(char *const *) a);
}

int settle_records(int control_fd, const char *dir) {
        _cleanup_(strv_freep) char **ids = NULL;
        int r;

        assert(control_fd >= 0);
        assert(dir);

        r = op_record_list(dir, &ids);
        if (r < 0)
                return r;
        if (ids)
                qsort(ids, strv_length(ids), sizeof(char *), id_compare_newest_first);
        for (char **id = ids; id && *id; id++)
                settle_one(control_fd, dir, *id);
        return (int) strv_length(ids);
}
