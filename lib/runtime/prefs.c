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
 * Files are written whole to a temporary name and renamed, so a reader
 * never sees half a file; a file that does not parse is skipped by the
 * balancer rather than stopping it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/rt-int.h"

const char *np__run_dir(const char *run_dir)
{
	return run_dir && *run_dir ? run_dir : "/run/numaplace";
}

int np__pref_path(const char *run_dir, const struct np_target *t, char *buf, size_t size)
{
	char name[128];
	size_t i;

	if (t->pid > 0)
		return snprintf(buf, size, "%s/pid-%d.json", np__run_dir(run_dir), t->pid) <
		       (int)size ? 0 : -1;
	if (!t->domain)
		return -1;
	for (i = 0; t->domain[i] && i + 1 < sizeof(name); i++) {
		char c = t->domain[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '.' || c == '_';

		name[i] = ok && !(i == 0 && c == '.') ? c : '_';
	}
	name[i] = '\0';
	return snprintf(buf, size, "%s/domain-%s.json", np__run_dir(run_dir), name) < (int)size
		       ? 0 : -1;
}

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

int np__pref_write(const char *run_dir, const struct np__pref *p, struct np_error *err)
{
	struct np_target t = { .pid = p->domain ? 0 : p->pid, .domain = p->name };
	char path[512], tmp[540];
	json_t *o = pref_json(p);
	int rc = 0;

	if (!o)
		return np__err(err, NP_ENOMEM, "out of memory");
	if (np__pref_path(run_dir, &t, path, sizeof(path)) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		json_decref(o);
		return np__err(err, NP_EINPUT, "run directory path too long");
	}
	if (mkdir(np__run_dir(run_dir), 0755) && errno != EEXIST)
		rc = np__err(err, NP_EIO, "cannot create '%s': %s", np__run_dir(run_dir),
			     strerror(errno));
	else if (json_dump_file(o, tmp, JSON_COMPACT) || rename(tmp, path))
		rc = np__err(err, NP_EIO, "cannot write '%s': %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	json_decref(o);
	return rc;
}

int np_pref_remove(const char *run_dir, const struct np_target *t, struct np_error *err)
{
	char path[512];

	if (np__pref_path(run_dir, t, path, sizeof(path)))
		return np__err(err, NP_EINPUT, "run directory path too long");
	if (unlink(path) && errno != ENOENT)
		return np__err(err, NP_EIO, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

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

/* One file; -1 when it is not a preference. */
static int pref_read(const char *path, struct np__pref *p)
{
	json_t *o = NULL, *v;
	const char *kind;
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	/* Through the one reader: a FIFO dropped in the run directory must not hang us. */
	if (np__read_file(path, 1 << 20, &buf, &len, NULL) == 0)
		o = json_loadb(buf, len, 0, NULL);
	free(buf);

	memset(p, 0, sizeof(*p));
	if (!o || !json_is_object(o) || !(kind = json_string_value(json_object_get(o, "kind"))))
		goto out;
	p->domain = strcmp(kind, "domain") == 0;
	if (p->domain) {
		const char *uri = json_string_value(json_object_get(o, "uri"));
		const char *name = json_string_value(json_object_get(o, "domain"));

		if (!uri || !name || !(p->uri = strdup(uri)) || !(p->name = strdup(name)))
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
	if (pref_nodes(json_object_get(o, "nodes"), p) == 0 && (p->path = strdup(path)))
		rc = 0;
out:
	json_decref(o);
	if (rc)
		np__pref_free(p);
	return rc;
}

int np__pref_list(const char *run_dir, struct np__pref **out, int *n, struct np_error *err)
{
	const char *dir = np__run_dir(run_dir);
	struct np__pref *list = NULL;
	size_t cap = 0;
	int k = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d && errno != ENOENT)
		return np__err(err, NP_EIO, "cannot read '%s': %s", dir, strerror(errno));
	while (d && (de = readdir(d))) {
		char path[800];
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") ||
		    (strncmp(de->d_name, "pid-", 4) && strncmp(de->d_name, "domain-", 7)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (np__grow((void **)&list, &cap, (size_t)k + 1, sizeof(*list)) < 0) {
			closedir(d);
			np__pref_list_free(list, k);
			return np__err(err, NP_ENOMEM, "out of memory");
		}
		if (pref_read(path, &list[k]) == 0)
			k++;
	}
	if (d)
		closedir(d);
	*out = list;
	*n = k;
	return 0;
}

int np_pref_nodes(const np_topo *topo, const char *run_dir, const struct np_target *t,
		  int *idx, int max, int *n, struct np_error *err)
{
	char path[512];
	struct np__pref p;
	int k = 0;

	if (np__pref_path(run_dir, t, path, sizeof(path)))
		return np__err(err, NP_EINPUT, "run directory path too long");
	*n = 0;
	if (access(path, F_OK) != 0)
		return 0;
	if (pref_read(path, &p))
		return np__err(err, NP_EINPUT, "cannot read the preference '%s'", path);
	for (int i = 0; i < p.nnodes && k < max; i++) {
		int x = np_topo_node_index(topo, p.nodes[i]);

		if (x >= 0)
			idx[k++] = x;
	}
	np__pref_free(&p);
	*n = k;
	return 0;
}
