/*
 * logline.c - what the long-running runtime verbs (balance, watch) share
 * to log one line per event and to stop cleanly: a local timestamp and
 * the stop flag SIGINT and SIGTERM set (runtime-cli.h).  Their
 * one-object-a-line logs write strings with np_json_str_write(), which
 * escapes control characters, so an event stays one line.
 */
#include <time.h>

#include "runtime-cli.h"

volatile sig_atomic_t rt_stop;

static void on_signal(int sig)
{
	(void)sig;
	rt_stop = 1;
}

void rt_catch_stop(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

void rt_log_time(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!strftime(buf, size, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm)))
		buf[0] = '\0';
}
