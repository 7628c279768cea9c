/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

#define PKTTYAGENT "/usr/bin/pkttyagent"

/* As systemctl does: polkit's text agent, so that a call that needs a password can ask for it on
 * this terminal. Started only when someone is there to answer, and stopped when we exit. */

static pid_t agent_pid;

static void agent_close(void) {
        if (agent_pid <= 0)
                return;
        kill(agent_pid, SIGTERM);
        (void) waitpid(agent_pid, NULL, 0);
        agent_pid = 0;
}

void polkit_agent_open_if_enabled(void) {
        struct pollfd pfd;
        char fd_text[16], pid_text[16];
        int notify[2];
        pid_t pid;

        if (!arg_ask_password || agent_pid > 0 || geteuid() == 0 || !isatty(STDIN_FILENO) || access(PKTTYAGENT, X_OK) < 0)
                return;
        if (pipe2(notify, O_CLOEXEC) < 0)
                return;
        pid = fork();
        if (pid < 0) {
                close(notify[0]);
                close(notify[1]);
                return;
        }
        if (pid == 0) {
                /* The agent closes --notify-fd once it is registered. */
                if (fcntl(notify[1], F_SETFD, 0) < 0)
                        _exit(127);
                snprintf(fd_text, sizeof(fd_text), "%d", notify[1]);
                snprintf(pid_text, sizeof(pid_text), "%d", (int) getppid());
                /* For this process, not a login session: it works where there is none (a console or
                 * ssh without logind). Not --fallback: polkit uses a fallback agent only through a
                 * session, and the question is asked on the terminal the user typed the command in. */
                execl(PKTTYAGENT, PKTTYAGENT, "--notify-fd", fd_text, "--process", pid_text, (char *) NULL);
                _exit(127);
        }
        close(notify[1]);
        agent_pid = pid;
        atexit(agent_close);
        /* Until it is registered (or gone), or 10 s at most: a call before that would not be asked. */
        pfd = (struct pollfd) { .fd = notify[0], .events = POLLIN };
        (void) poll(&pfd, 1, 10000);
        close(notify[0]);
}
