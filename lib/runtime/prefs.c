/*
 * prefs.c - numaplace's soft affinity, recorded: one small JSON file per
 * target in the run directory (default /run/numaplace), written by
 * `numaplace apply --affinity soft` and read by the balancer.
 *
 *   pid-1234.json    {"schema": "numaplace.pref/1", "kind": "pid", "pid": 1234,
 *                     "start": 98765, "nodes": [1], "migrate": true,
 *                     "last_action_ms": 0}
 *   domain-web.json  {"kind": "domain", "uri": "qemu:///system", "domain": "web", ...}
 *
 * "start" is the process start time (stat field 22): a file whose pid now
 * belongs to another process is stale and ignored.  Nodes are kernel ids.
 *
 * Trust: the balancer runs as root and acts on these files, so the run
 * directory is where an unprivileged user would attack it.  Every access
 * goes through one descriptor of the directory, opened without following
 * a symbolic link: writers and the balancer hold it to be owned by this
 * user (the effective uid) and writable by nobody else (group and others),
 * and refuse it otherwise; a new directory is made 0755.  A file is
 * written whole to a temporary name created exclusively (O_EXCL,
 * O_NOFOLLOW: a link planted there is never written through), given mode
 * 0644 whatever the umask, and renamed into place, so a reader never sees
 * half a file.  A file is read without following a link, only when it is
 * a regular file, and its owner is kept: the balancer honours it only when
 * that owner may control the target (balance-loop.c).  A file that does
 * not parse is skipped rather than stopping the balancer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/rt-int.h"

#define PREF_MAX (1 << 20)

const char *np__run_dir(const char *run_dir)
{
	return run_dir && *run_dir ? run_dir : "/run/numaplace";
}

/* ---- the directory ---------------------------------------------------- */

static int dir_fail(struct np_error *err, const char *dir, const char *why)
{
	return np__err(err, NP_EINPUT, "run directory '%s': %s", dir, why);
}

/* Why ST (of the run directory) may not be trusted, or NULL. */
static const char *untrusted(const struct stat *st, char *buf, size_t size)
{
	if (st->st_uid != geteuid()) {
		snprintf(buf, size, "owned by uid %u, not by this user (uid %u): refusing what "
			 "others may have put there", (unsigned)st->st_uid, (unsigned)geteuid());
		return buf;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(buf, size, "writable by others (mode %04o): refusing what they may have "
			 "put there", (unsigned)(st->st_mode & 07777));
		return buf;
	}
	return NULL;
}

int np__run_dir_open(const char *run_dir, unsigned flags, int *dfd, struct np_error *err)
{
	const char *dir = np__run_dir(run_dir);
	char why[160];
	struct stat st;
	int fd, e;

	*dfd = -1;
	if ((flags & NP__RUN_CREATE) && mkdir(dir, 0755) < 0 && errno != EEXIST)
		return np__err(err, NP_EIO, "cannot create '%s': %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			return 0; /* no directory: no preferences */
		if (e == ENOTDIR || e == ELOOP) {
			if (lstat(dir, &st) < 0)
				return dir_fail(err, dir, strerror(e));
			snprintf(why, sizeof(why), "not a directory (%s)", np__file_kind(st.st_mode));
			return dir_fail(err, dir, why);
		}
		return np__err(err, NP_EIO, "cannot open '%s': %s", dir, strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		return np__err(err, NP_EIO, "cannot open '%s': %s", dir, strerror(e));
	}
	if ((flags & NP__RUN_TRUSTED) && untrusted(&st, why, sizeof(why))) {
		close(fd);
		return dir_fail(err, dir, why);
	}
	/* Made by us just now: its mode is ours to say, not the umask's. */
	if ((flags & NP__RUN_CREATE) && st.st_uid == geteuid() && (st.st_mode & 07777) != 0755 &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)) && fchmod(fd, 0755) < 0) {
		e = errno;
		close(fd);
		return np__err(err, NP_EIO, "cannot set the mode of '%s': %s", dir, strerror(e));
	}
	*dfd = fd;
	return 0;
}

int np__run_dir_ready(const char *run_dir, bool soft, struct np_error *err)
{
	int dfd = -1;
	int rc = np__run_dir_open(run_dir, soft ? NP__RUN_CREATE | NP__RUN_TRUSTED : 0, &dfd, err);

	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* ---- names ------------------------------------------------------------ */

/* The file name of T's preference ("pid-12.json", "domain-web.json"). */
static int pref_name(const struct np_target *t, char *buf, size_t size)
{
	char name[128];
	size_t i;

	if (t->pid > 0)
		return snprintf(buf, size, "pid-%d.json", t->pid) < (int)size ? 0 : -1;
	if (!t->domain)
		return -1;
	for (i = 0; t->domain[i] && i + 1 < sizeof(name); i++) {
		char c = t->domain[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '.' || c == '_';

		name[i] = ok && !(i == 0 && c == '.') ? c : '_';
	}
	name[i] = '\0';
	return snprintf(buf, size, "domain-%s.json", name) < (int)size ? 0 : -1;
}

int np__pref_path(const char *run_dir, const struct np_target *t, char *buf, size_t size)
{
	char name[160];

	if (pref_name(t, name, sizeof(name)))
		return -1;
	return snprintf(buf, size, "%s/%s", np__run_dir(run_dir), name) < (int)size ? 0 : -1;
}

/* ---- writing ---------------------------------------------------------- */

static json_t *pref_json(const struct np__pref *p)
{
	json_t *nodes = json_array(), *o;

	for (int i = 0; nodes && i < p->nnodes; i++)
		json_array_append_new(nodes, json_integer(p->nodes[i]));
	if (p->domain)
		o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:I}", "schema", "numaplace.pref/1", "kind",
			      "domain", "uri", p->uri ? p->uri : "", "domain", p->name ? p->name : "",
			      "nodes", nodes, "migrate", p->migrate, "last_action_ms",
			      (json_int_t)p->last_action_ms);
	else
		o = json_pack("{s:s,s:s,s:i,s:I,s:o,s:b,s:I}", "schema", "numaplace.pref/1", "kind",
			      "pid", "pid", p->pid, "start", (json_int_t)p->start_ticks, "nodes",
			      nodes, "migrate", p->migrate, "last_action_ms",
			      (json_int_t)p->last_action_ms);
	return o;
}

/* TEXT into a new file TMP of DFD: exclusively, never through a link, mode 0644. */
static int write_new(int dfd, const char *tmp, const char *text)
{
	size_t len = strlen(text), done = 0;
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int e = 0;

	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0644) < 0)
		e = errno;
	while (!e && done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno != EINTR)
			e = errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (close(fd) < 0 && !e)
		e = errno;
	return -e;
}

int np__pref_write(const char *run_dir, const struct np__pref *p, struct np_error *err)
{
	struct np_target t = { .pid = p->domain ? 0 : p->pid, .domain = p->name };
	char name[160], tmp[200];
	json_t *o = pref_json(p);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int dfd = -1, rc;

	json_decref(o);
	if (!text)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (pref_name(&t, name, sizeof(name))) {
		free(text);
		return np__err(err, NP_EINPUT, "no name for this preference");
	}
	rc = np__run_dir_open(run_dir, NP__RUN_CREATE | NP__RUN_TRUSTED, &dfd, err);
	if (!rc && dfd < 0)
		rc = np__err(err, NP_EIO, "cannot create '%s'", np__run_dir(run_dir));
	for (int i = 0; !rc && i < 100; i++) {
		/* A fresh name each try: one someone else holds is never touched. */
		snprintf(tmp, sizeof(tmp), ".%s.tmp-%d-%d", name, (int)getpid(), i);
		rc = write_new(dfd, tmp, text);
		if (rc == -EEXIST) {
			rc = 0;
			continue;
		}
		if (!rc && renameat(dfd, tmp, dfd, name) < 0)
			rc = -errno;
		if (rc) {
			unlinkat(dfd, tmp, 0);
			rc = np__err(err, NP_EIO, "cannot write '%s/%s': %s", np__run_dir(run_dir),
				     name, strerror(-rc));
		}
		break;
	}
	if (dfd >= 0)
		close(dfd);
	free(text);
	return rc;
}

int np_pref_remove(const char *run_dir, const struct np_target *t, struct np_error *err)
{
	char name[160];
	struct np_error e;
	int dfd = -1, rc = 0;

	if (pref_name(t, name, sizeof(name)))
		return np__err(err, NP_EINPUT, "no name for this preference");
	/* Not a directory at all: say so, as every user of the run directory does. */
	if ((rc = np__run_dir_open(run_dir, 0, &dfd, err)) || dfd < 0)
		return rc;
	close(dfd);
	/*
	 * A directory we do not trust holds nothing the balancer honours:
	 * there is nothing to remove.
	 */
	if (np__run_dir_open(run_dir, NP__RUN_TRUSTED, &dfd, &e) || dfd < 0)
		return 0;
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		rc = np__err(err, NP_EIO, "cannot remove '%s/%s': %s", np__run_dir(run_dir), name,
			     strerror(errno));
	close(dfd);
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

void np__pref_free(struct np__pref *p)
{
	free(p->uri);
	free(p->name);
	free(p->nodes);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

void np__pref_list_free(struct np__pref *p, int n)
{
	for (int i = 0; i < n; i++)
		np__pref_free(&p[i]);
	free(p);
}

static int pref_nodes(json_t *arr, struct np__pref *p)
{
	size_t n = json_array_size(arr);

	if (!json_is_array(arr) || n == 0 || n > NP_NODES_MAX)
		return -1;
	p->nodes = calloc(n, sizeof(int));
	if (!p->nodes)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (1 << 22))
			return -1;
		p->nodes[i] = (int)json_integer_value(v);
	}
	p->nnodes = (int)n;
	return 0;
}

/* The JSON of file NAME in DFD and its owner: a regular file, never through a link. */
static json_t *pref_load(int dfd, const char *name, unsigned *owner)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	json_t *o = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return NULL;
	/* A FIFO or device dropped in the run directory must not hang us. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    np__read_fd(fd, name, PREF_MAX, &buf, &len, NULL) == 0) {
		o = json_loadb(buf, len, 0, NULL);
		*owner = (unsigned)st.st_uid;
	}
	free(buf);
	close(fd);
	return o;
}

/* Preference NAME of DFD (shown as DIR/NAME); -1 when it is not one. */
static int pref_read(int dfd, const char *dir, const char *name, struct np__pref *p)
{
	json_t *o, *v;
	const char *kind;
	char path[800];
	int rc = -1;

	memset(p, 0, sizeof(*p));
	o = pref_load(dfd, name, &p->owner);
	if (!o || !json_is_object(o) || !(kind = json_string_value(json_object_get(o, "kind"))))
		goto out;
	p->domain = strcmp(kind, "domain") == 0;
	if (p->domain) {
		const char *uri = json_string_value(json_object_get(o, "uri"));
		const char *dom = json_string_value(json_object_get(o, "domain"));

		if (!uri || !dom || !(p->uri = strdup(uri)) || !(p->name = strdup(dom)))
			goto out;
	} else {
		v = json_object_get(o, "pid");
		if (strcmp(kind, "pid") || !json_is_integer(v) || json_integer_value(v) <= 0 ||
		    json_integer_value(v) > INT32_MAX)
			goto out;
		p->pid = (int)json_integer_value(v);
		p->start_ticks = (uint64_t)json_integer_value(json_object_get(o, "start"));
	}
	p->migrate = json_is_true(json_object_get(o, "migrate"));
	v = json_object_get(o, "last_action_ms");
	p->last_action_ms = json_is_integer(v) && json_integer_value(v) > 0
				    ? (uint64_t)json_integer_value(v) : 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (pref_nodes(json_object_get(o, "nodes"), p) == 0 && (p->path = strdup(path)))
		rc = 0;
out:
	json_decref(o);
	if (rc)
		np__pref_free(p);
	return rc;
}

static bool pref_file(const char *name)
{
	size_t len = strlen(name);

	return len >= 6 && strcmp(name + len - 5, ".json") == 0 &&
	       (strncmp(name, "pid-", 4) == 0 || strncmp(name, "domain-", 7) == 0);
}

int np__pref_list(const char *run_dir, struct np__pref **out, int *n, struct np_error *err)
{
	const char *dir = np__run_dir(run_dir);
	struct np__pref *list = NULL;
	size_t cap = 0;
	int k = 0, dfd = -1, rc;
	struct dirent *de;
	DIR *d = NULL;

	rc = np__run_dir_open(run_dir, NP__RUN_TRUSTED, &dfd, err);
	if (rc)
		return rc;
	if (dfd >= 0) {
		int lfd = dup(dfd);

		if (lfd < 0 || !(d = fdopendir(lfd))) {
			if (lfd >= 0)
				close(lfd);
			close(dfd);
			return np__err(err, NP_EIO, "cannot read '%s': %s", dir, strerror(errno));
		}
	}
	while (d && (de = readdir(d))) {
		if (!pref_file(de->d_name))
			continue;
		if (np__grow((void **)&list, &cap, (size_t)k + 1, sizeof(*list)) < 0) {
			rc = np__err(err, NP_ENOMEM, "out of memory");
			break;
		}
		if (pref_read(dfd, dir, de->d_name, &list[k]) == 0)
			k++;
	}
	if (d)
		closedir(d);
	if (dfd >= 0)
		close(dfd);
	if (rc) {
		np__pref_list_free(list, k);
		return rc;
	}
	*out = list;
	*n = k;
	return 0;
}

int np_pref_nodes(const np_topo *topo, const char *run_dir, const struct np_target *t,
		  int *idx, int max, int *n, struct np_error *err)
{
	char name[160];
	struct np__pref p;
	int k = 0, dfd = -1, rc;

	if (pref_name(t, name, sizeof(name)))
		return np__err(err, NP_EINPUT, "no name for this preference");
	*n = 0;
	/* Only read to be shown: any directory will do, but it must be one. */
	if ((rc = np__run_dir_open(run_dir, 0, &dfd, err)) || dfd < 0)
		return rc;
	if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		close(dfd);
		return 0;
	}
	rc = pref_read(dfd, np__run_dir(run_dir), name, &p);
	close(dfd);
	if (rc)
		return np__err(err, NP_EINPUT, "cannot read the preference '%s/%s'",
			       np__run_dir(run_dir), name);
	for (int i = 0; i < p.nnodes && k < max; i++) {
		int x = np_topo_node_index(topo, p.nodes[i]);

		if (x >= 0)
			idx[k++] = x;
	}
	np__pref_free(&p);
	*n = k;
	return 0;
}
