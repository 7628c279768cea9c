/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "op-record.h"
#include "strv.h"

static void test_round_trip(void) {
        OpRecord r = { .devnum = makedev(254, 3), .diskseq = 123456789012, .name = "vg-\\xff", .uuid = "LVM-abc", .operation = "Reload",
                       .undo = OP_RECORD_CLEAR | OP_RECORD_RESUME };
        _cleanup_(op_record_done) OpRecord back = {};
        g_autofree char *text = NULL;

        g_assert_cmpint(op_record_format(&r, &text), ==, 0);
        g_assert_cmpstr(text, ==, "devnum=254:3\ndiskseq=123456789012\nname=vg-\\xff\nuuid=LVM-abc\noperation=Reload\nundo=6\n");
        g_assert_cmpint(op_record_parse(text, &back), ==, 0);
        g_assert_true(back.devnum == r.devnum);
        g_assert_cmpuint(back.diskseq, ==, r.diskseq);
        g_assert_cmpstr(back.name, ==, r.name);
        g_assert_cmpstr(back.uuid, ==, r.uuid);
        g_assert_cmpstr(back.operation, ==, "Reload");
        g_assert_cmpuint(back.undo, ==, r.undo);

        /* A lease: its end and its owner. */
        r.lease_until = 1700000000000000;
        r.owner = ":1.42";
        g_clear_pointer(&text, free);
        op_record_done(&back);
        g_assert_cmpint(op_record_format(&r, &text), ==, 0);
        g_assert_true(g_str_has_suffix(text, "undo=6\nlease-until=1700000000000000\nowner=:1.42\n"));
        g_assert_cmpint(op_record_parse(text, &back), ==, 0);
        g_assert_cmpuint(back.lease_until, ==, r.lease_until);
        g_assert_cmpstr(back.owner, ==, ":1.42");
        r.owner = "org.example";
        g_clear_pointer(&text, free);
        g_assert_cmpint(op_record_format(&r, &text), ==, -EINVAL);
        r.lease_until = 0;

        /* A name that would break the line format is refused, not written. */
        r.name = "two\nlines";
        g_clear_pointer(&text, free);
        g_assert_cmpint(op_record_format(&r, &text), ==, -EINVAL);
}

static void test_bad_records(void) {
        static const char *const bad[] = {
                "",
                "devnum=254:3\nname=x\nuuid=\noperation=Create\n",                      /* no undo */
                "devnum=0:0\nname=x\nuuid=\noperation=Create\nundo=1\n",
                "devnum=254:3x\nname=x\nuuid=\noperation=Create\nundo=1\n",
                "devnum=254:3\nname=x\nuuid=\noperation=Create\nundo=8\n",
                "devnum=254:3\nuuid=\noperation=Create\nundo=1\n",                      /* no name */
                "devnum=254:3\ndiskseq=-1\nname=x\nuuid=\noperation=Create\nundo=1\n",
                "devnum=254:3\ndiskseq=12x\nname=x\nuuid=\noperation=Create\nundo=1\n",
                "garbage\n",
                "devnum=254:3\nname=x\nuuid=\noperation=Suspend\nundo=4\nlease-until=5\n",             /* no owner */
                "devnum=254:3\nname=x\nuuid=\noperation=Suspend\nundo=4\nlease-until=0\nowner=:1.2\n",
                "devnum=254:3\nname=x\nuuid=\noperation=Suspend\nundo=4\nlease-until=5\nowner=:1\n",
                "devnum=254:3\nname=x\nuuid=\noperation=Suspend\nundo=4\nlease-until=5\nowner=:1.2.\n",
        };
        OpRecord r = {};

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_test_message("%s", bad[i]);
                g_assert_cmpint(op_record_parse(bad[i], &r), ==, -EINVAL);
        }
        /* Unknown keys are a later version's: kept out, not refused. */
        g_assert_cmpint(op_record_parse("devnum=7:1\nname=x\nuuid=\noperation=Remove\nundo=1\nnew=1\n", &r), ==, 0);
        op_record_done(&r);
}

static void test_files(void) {
        g_autofree char *dir = g_dir_make_tmp("op-record-XXXXXX", NULL);
        g_autofree char *sub = g_build_filename(dir, "run", NULL);
        OpRecord r = { .devnum = makedev(254, 7), .name = "new", .uuid = "", .operation = "Create", .undo = OP_RECORD_REMOVE };
        _cleanup_(op_record_done) OpRecord back = {};
        _cleanup_(strv_freep) char **ids = NULL;

        g_assert_cmpint(op_record_list(sub, &ids), ==, 0);
        g_assert_null(ids);
        g_assert_cmpint(op_record_write(sub, "op-1-1", &r), ==, 0);
        r.undo = OP_RECORD_REMOVE | OP_RECORD_CLEAR;
        g_assert_cmpint(op_record_write(sub, "op-1-1", &r), ==, 0);   /* replaced */
        g_assert_cmpint(op_record_list(sub, &ids), ==, 0);
        g_assert_cmpuint(strv_length(ids), ==, 1);
        g_assert_cmpstr(ids[0], ==, "op-1-1");
        g_assert_cmpint(op_record_read(sub, "op-1-1", &back), ==, 0);
        g_assert_cmpuint(back.undo, ==, OP_RECORD_REMOVE | OP_RECORD_CLEAR);
        g_assert_cmpint(op_record_remove(sub, "op-1-1"), ==, 0);
        g_assert_cmpint(op_record_remove(sub, "op-1-1"), ==, 0);
        g_assert_cmpint(op_record_read(sub, "op-1-1", &back), ==, -ENOENT);
        g_assert_cmpint(g_rmdir(sub), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/op-record/round-trip", test_round_trip);
        g_test_add_func("/op-record/bad-records", test_bad_records);
        g_test_add_func("/op-record/files", test_files);
        return g_test_run();
}
