/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "op-record.h"
#include "strv.h"
#include "validate.h"

#define OP_RECORD_SIZE_MAX 4096

void op_record_done(OpRecord *r) {
        assert(r);

        free(r->name);
        free(r->uuid);
        free(r->operation);
        free(r->owner);
        *r = (OpRecord) {};
}

int op_record_format(const OpRecord *r, char **ret) {
        _cleanup_(freep) char *base = NULL;

        assert(r);
        assert(ret);

        if (string_has_control_characters(r->name) || string_has_control_characters(r->uuid) ||
            string_has_control_characters(r->operation) || (r->lease_until != 0 && !bus_unique_name_is_valid(r->owner)))
                return -EINVAL;
        if (asprintf(&base, "devnum=%u:%u\ndiskseq=%" PRIu64 "\nname=%s\nuuid=%s\noperation=%s\nundo=%u\n", major(r->devnum),
                     minor(r->devnum), r->diskseq, r->name, r->uuid, r->operation, r->undo) < 0)
                return -ENOMEM;
        if (r->lease_until == 0) {
                *ret = TAKE_PTR(base);
                return 0;
        }
        if (asprintf(ret, "%slease-until=%" PRIu64 "\nowner=%s\n", base, r->lease_until, r->owner) < 0)
                return -ENOMEM;
        return 0;
}

static int parse_line(OpRecord *r, const char *key, const char *value, bool *have_devnum) {
        unsigned maj, min, undo;
        int n = 0;

        if (strcmp(key, "devnum") == 0) {
                if (sscanf(value, "%u:%u%n", &maj, &min, &n) != 2 || value[n] || devnum_invalid_reason(maj, min))
                        return -EINVAL;
                r->devnum = makedev(maj, min);
                *have_devnum = true;
                return 0;
        }
        if (strcmp(key, "diskseq") == 0) {
                if (sscanf(value, "%" SCNu64 "%n", &r->diskseq, &n) != 1 || value[n] || value[0] == '-')
                        return -EINVAL;
                return 0;
        }
        if (strcmp(key, "undo") == 0) {
                if (sscanf(value, "%u%n", &undo, &n) != 1 || value[n] ||
                    undo & ~(unsigned) (OP_RECORD_REMOVE | OP_RECORD_CLEAR | OP_RECORD_RESUME))
                        return -EINVAL;
                r->undo = undo;
                return 0;
        }
        if (strcmp(key, "lease-until") == 0) {
                if (sscanf(value, "%" SCNu64 "%n", &r->lease_until, &n) != 1 || value[n] || value[0] == '-' || r->lease_until == 0)
                        return -EINVAL;
                return 0;
        }
        if (strcmp(key, "owner") == 0)
                return bus_unique_name_is_valid(value) ? free_and_strdup(&r->owner, value) : -EINVAL;
        if (strcmp(key, "name") == 0)
                return free_and_strdup(&r->name, value);
        if (strcmp(key, "uuid") == 0)
                return free_and_strdup(&r->uuid, value);
        if (strcmp(key, "operation") == 0)
                return free_and_strdup(&r->operation, value);
        return 0;       /* a key of a later version: not ours to judge */
}

int op_record_parse(const char *text, OpRecord *ret) {
        _cleanup_(op_record_done) OpRecord r = {};
        bool have_devnum = false;

        assert(text);
        assert(ret);

        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                char line[len + 1], *eq;
                int k;

                memcpy(line, p, len);
                line[len] = 0;
                p += len + (p[len] == '\n');
                eq = strchr(line, '=');
                if (!eq) {
                        if (line[0])
                                return -EINVAL;
                        continue;
                }
                *eq = 0;
                k = parse_line(&r, line, eq + 1, &have_devnum);
                if (k < 0)
                        return k;
        }
        if (!have_devnum || !r.name || !r.uuid || !r.operation || r.undo == 0 || (r.lease_until != 0) != !!r.owner)
                return -EINVAL;
        *ret = r;
        r = (OpRecord) {};
        return 0;
}

void op_record_lease_id(dev_t devnum, char *buf, size_t size) {
        snprintf(buf, size, "op-lease-%u-%u", major(devnum), minor(devnum));
}

int op_record_write(const char *dir, const char *id, const OpRecord *r) {
        _cleanup_(freep) char *text = NULL;
        char path[PATH_MAX], tmp[PATH_MAX];
        ssize_t n;
        int fd, k;

        assert(dir);
        assert(id);

        k = op_record_format(r, &text);
        if (k < 0)
                return k;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        snprintf(path, sizeof(path), "%s/%s", dir, id);
        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, id);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        n = write(fd, text, strlen(text));
        k = n < 0 ? -errno : (size_t) n != strlen(text) ? -EIO : 0;
        close(fd);
        if (k >= 0 && rename(tmp, path) < 0)
                k = -errno;
        if (k < 0)
                (void) unlink(tmp);
        return k;
}

int op_record_remove(const char *dir, const char *id) {
        char path[PATH_MAX];

        assert(dir);
        assert(id);

        snprintf(path, sizeof(path), "%s/%s", dir, id);
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int op_record_list(const char *dir, char ***ret) {
        _cleanup_(strv_freep) char **ids = NULL;
        DIR *d;
        struct dirent *de;
        int r = 0;

        assert(dir);
        assert(ret);

        d = opendir(dir);
        if (!d) {
                *ret = NULL;
                return errno == ENOENT ? 0 : -errno;
        }
        while (r >= 0 && (de = readdir(d)))
                if (strncmp(de->d_name, "op-", 3) == 0)
                        r = strv_extend(&ids, de->d_name);
        closedir(d);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ids);
        return 0;
}

int op_record_read(const char *dir, const char *id, OpRecord *ret) {
        char path[PATH_MAX], text[OP_RECORD_SIZE_MAX];
        ssize_t n;

        assert(dir);
        assert(id);
        assert(ret);

        snprintf(path, sizeof(path), "%s/%s", dir, id);
        n = read_small_file(path, text, sizeof(text));
        if (n < 0)
                return (int) n;
        return op_record_parse(text, ret);
}
