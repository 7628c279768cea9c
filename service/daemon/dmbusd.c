/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include "dmbus-names.h"
#include "log.h"
#include "manager.h"

static void help(void) {
        printf("Usage: dmbusd [OPTIONS...]\n\n"
               "Device-mapper inventory service on the system bus (%s).\n\n"
               "  -h --help       Show this help\n"
               "     --version    Show the package version\n"
               "  -v --verbose    Log debug messages too\n",
               DMBUS_SERVICE_NAME);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "help",    no_argument, NULL, 'h'         },
                { "version", no_argument, NULL, ARG_VERSION },
                { "verbose", no_argument, NULL, 'v'         },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("dmbusd %s\n", PACKAGE_VERSION);
                        return 0;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "dmbusd takes no arguments.\n");
                return -EINVAL;
        }

        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        /* Tables and messages may carry keys: no core dump, and no ptrace by our own uid. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return log_error_errno(errno, "Cannot make the process non-dumpable: %m"), EXIT_FAILURE;

        /* A fixed threshold: glibc's own rises with every big block freed, after which a
         * GetManagedObjects reply of megabytes stays in the heap once sent. Mapped, it goes back. */
        (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);

        r = manager_new(&m);
        if (r < 0)
                return EXIT_FAILURE;

        r = manager_startup(m);
        if (r < 0)
                return EXIT_FAILURE;

        r = manager_run(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
