/*
 * replace.c - np_file_replace(): a file replaced whole and atomically, for
 * a tool that writes a document back where it was (numaplace place
 * --in-place).
 *
 * The new content goes into a new file in the same directory, created
 * exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing file, never
 * through a symbolic link someone planted under the temporary name), with
 * the old file's mode (and owner and group when we may set them), synced,
 * then renamed over the old one and the directory synced.  A reader, or a
 * crash, sees the old file or the new one, never a part; a failure leaves
 * the old file as it was and no temporary file behind.  The old file
 * itself must be a regular file: a symbolic link is refused rather than
 * replaced by a file (which would silently cut the link) or written
 * through (which would change a file the caller did not name).
 */
#include <numaplace/util.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

/* fsync the directory holding PATH, so the rename is durable. */
static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* Create a new file beside PATH into *TMP (malloc'ed); the descriptor, or -1. */
static int create_beside(const char *path, char **tmp)
{
	size_t n = strlen(path) + 32;

	if (!(*tmp = malloc(n)))
		return -1;
	for (int tries = 0; tries < 16; tries++) {
		unsigned long long r;
		int fd;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
			r = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 20) ^
			    (unsigned long long)tries;
		snprintf(*tmp, n, "%s.np-%016llx", path, r);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Give the new file FD what the old one had: mode, and owner where allowed. */
static int same_attrs(int fd, const struct stat *old)
{
	if ((old->st_uid != geteuid() || old->st_gid != getegid()) &&
	    fchown(fd, old->st_uid, old->st_gid) < 0 && errno != EPERM)
		return -1;
	return fchmod(fd, old->st_mode & 07777);
}

int np_file_replace(const char *path, const void *buf, size_t len, struct np_error *err)
{
	struct stat st;
	char *tmp = NULL;
	int fd, e;

	if (lstat(path, &st) < 0)
		return np__err(err, NP_EIO, "cannot replace '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return np__err(err, NP_EIO, "cannot replace '%s': not a regular file (%s)", path,
			       S_ISLNK(st.st_mode) ? "a symbolic link" : np__file_kind(st.st_mode));
	fd = create_beside(path, &tmp);
	if (fd < 0 && !tmp)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (fd < 0) {
		e = errno;
		free(tmp);
		return np__err(err, NP_EIO, "cannot replace '%s': %s", path, strerror(e));
	}
	if (same_attrs(fd, &st) < 0 || write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		goto fail;
	}
	free(tmp);
	if (sync_parent(path) < 0)
		return np__err(err, NP_EIO, "cannot replace '%s': sync: %s", path, strerror(errno));
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return np__err(err, NP_EIO, "cannot replace '%s': %s", path, strerror(e));
}
