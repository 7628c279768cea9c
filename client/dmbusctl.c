/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

bool arg_json = false;
bool arg_json_pretty = false;
bool arg_ask_password = true;

static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
} commands[] = {
        { "tree", verb_tree },
        { "info", verb_info },
        { "resolve", verb_resolve },
        { "monitor", verb_monitor },
        { "create", verb_operation },
        { "load", verb_operation },
        { "reload", verb_operation },
        { "clear", verb_operation },
        { "suspend", verb_operation },
        { "resume", verb_operation },
        { "remove", verb_operation },
        { "rename", verb_operation },
        { "set-uuid", verb_operation },
        { "message", verb_operation },
        { "create-stack", verb_create_stack },
        { "who", verb_who },
        { "health", verb_health },
        { "list", verb_list },
        { "top", verb_top },
};

static int help(void) {
        printf("dmbusctl COMMAND [OPTIONS] [ARGUMENTS]\n\n"
               "Shows and changes device-mapper devices through dmbusd (org.dmbus.DeviceMapper1).\n\n"
               "Showing:\n"
               "  tree [--json[=pretty|short]|--dot]  the block devices as a forest of stacks\n"
               "  list                       the DM devices' names\n"
               "  who DEVICE                 what keeps DEVICE in use\n"
               "  health                     the devices that are not ok (exits 1 if any)\n"
               "  top [-d SECONDS] [-n COUNT]  I/O rates and health, refreshed\n"
               "  info [--json] DEVICE       every property of a device\n"
               "  resolve DEVICE             the device's object path\n"
               "  monitor [--json]           the service's signals as they come\n\n"
               "Changing (root, or as polkit allows):\n"
               "  create NAME [--uuid U] (--table LINE...|--table-file F) [--read-only] [--inactive]\n"
               "  load DEVICE (--table LINE...|--table-file F) [--read-only]\n"
               "  reload DEVICE (--table LINE...|--table-file F) [--read-only] [--noflush] [--nolockfs]\n"
               "  clear DEVICE               drop the inactive table\n"
               "  suspend DEVICE [--noflush] [--nolockfs]\n"
               "  resume DEVICE\n"
               "  remove DEVICE [--retry] [--deferred] [--force] [--stack]\n"
               "  create-stack --file FILE|-  several devices as one, undone if a step fails\n"
               "  rename DEVICE NEW_NAME\n"
               "  set-uuid DEVICE UUID\n"
               "  message DEVICE SECTOR MESSAGE\n\n"
               "DEVICE is a DM name, a UUID, MAJ:MIN, a path in /dev, or an object path. Tables are in\n"
               "dmsetup's syntax, START LENGTH TYPE PARAMETERS, one target per line.\n"
               "--no-ask-password on any command: polkit may not ask for a password.\n"
               "`dmbusctl COMMAND --help` tells more; dmbusctl(1) lists the exit codes.\n");
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc < 2)
                return usage_error("a command is needed");
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
                return help();
        if (strcmp(argv[1], "--version") == 0) {
                printf("dmbusctl %s\n", PACKAGE_VERSION);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, argv[1]) == 0)
                        /* The command sees itself as argv[0], as getopt expects. */
                        return commands[i].run(argc - 1, argv + 1);
        return usage_error("unknown command \"%s\"", argv[1]);
}
