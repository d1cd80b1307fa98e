/*
 * hold-lock.c - tests/service/deadline.sh's helper: holds the write lock
 * that numaplace processes hand to each other on a sqlite: store
 * (lib/fleet/store-lock.c) until its standard input ends, as a writer
 * that takes long would.
 *
 *   hold-lock PATH    (PATH: the store's SQLite file)
 *
 * Prints "held" once it holds the lock; exits 0 after letting it go, 1
 * when it could not take it.
 */
#include <stdio.h>
#include <unistd.h>

#include "fleet/store-lock.h"

int main(int argc, char **argv)
{
	struct np_error err = { 0 };
	struct np__wlock *l = NULL;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: hold-lock PATH\n");
		return 2;
	}
	if (np__wlock_open(argv[1], true, &l, &err) || !l || np__wlock_take(l, 30000, &err)) {
		fprintf(stderr, "hold-lock: %s\n", l ? err.message : "no lock file here");
		np__wlock_close(l);
		return 1;
	}
	printf("held\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	np__wlock_give(l);
	np__wlock_close(l);
	return 0;
}
