/*
 * runtime-worker.c - the guest-side helper of tests/vm/runtime.sh, built
 * static so it needs nothing in the initramfs.
 *
 *   runtime-worker run MB THREADS   touch MB MiB, start THREADS threads that
 *                                   work 1 ms and sleep 5 ms, print "ready",
 *                                   then wake every 20 ms until killed (so
 *                                   every thread's last CPU stays current)
 *   runtime-worker time CMD ARGS... run CMD, print "elapsed_ns N rc R"
 *   runtime-worker as UID CMD ARGS...  run CMD as user and group UID (busybox's
 *                                   setpriv cannot change the user)
 *
 * Memory is touched page by page before "ready", so numa_maps shows it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *work(void *arg)
{
	volatile unsigned long x = 0;

	for (;;) {
		long long end = now_ns() + 1000000;

		while (now_ns() < end)
			x++;
		nap(5);
	}
	return arg;
}

static int run(long mb, long threads)
{
	size_t size = (size_t)mb << 20;
	char *mem = size ? malloc(size) : NULL;
	pthread_t th;

	if (size && !mem)
		return 1;
	for (size_t i = 0; i < size; i += 4096)
		mem[i] = 1;
	for (long i = 0; i < threads; i++)
		pthread_create(&th, NULL, work, NULL);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		nap(20);
	return 0;
}

static int timed(char **argv)
{
	long long t0 = now_ns();
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("elapsed_ns %lld rc %d\n", now_ns() - t0, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	return 0;
}

static int as_user(char **argv)
{
	uid_t uid = (uid_t)strtol(argv[0], NULL, 10);

	if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
		perror("runtime-worker: cannot change user");
		return 126;
	}
	execvp(argv[1], argv + 1);
	perror("runtime-worker: cannot run");
	return 127;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "run") == 0)
		return run(strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
	if (argc >= 3 && strcmp(argv[1], "time") == 0)
		return timed(argv + 2);
	if (argc >= 4 && strcmp(argv[1], "as") == 0)
		return as_user(argv + 2);
	fprintf(stderr, "usage: runtime-worker run MB THREADS | time CMD... | as UID CMD...\n");
	return 2;
}
