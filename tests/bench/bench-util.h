/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Shared by the benchmarks, which run in the guest. */

double bench_now(void);                 /* CLOCK_MONOTONIC, seconds */
/* Create, load and resume in one libdevmapper task, with no udev cookie (udev catches up on its
 * own), UUID "BENCH-NAME"; returns the new device's dev_t. */
dev_t bench_create_device(const char *name, unsigned sectors, const char *type, const char *params);
void bench_remove_device(const char *name);
/* Load a table and resume, so the live table is swapped. */
void bench_reload_device(const char *name, unsigned sectors, const char *type, const char *params);
/* The daemon's CPU time (user + system), seconds, its RSS and the anonymous part of it (heap and
 * stacks: what devices cost, without the libraries' pages that happen to be resident), KiB. */
double bench_cpu_seconds(pid_t pid);
long bench_rss_kib(pid_t pid);
long bench_anon_kib(pid_t pid);
/* Sorts v. */
double bench_median(double *v, size_t n);
