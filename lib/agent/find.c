/*
 * find.c - the host agent's side of the host: which guest here is
 * placement ID, what np_observe() sees of it, and that as the service's
 * OBS JSON (docs/api: PUT /v1/placements/{id}/observed).
 *
 * Matching, first that applies:
 *   1. --map ID=PID: that process (any program: a test, a container);
 *   2. a libvirt domain (--libvirt URI) whose name or UUID is ID;
 *   3. a QEMU process (argv[0] named qemu*) started with -name guest=ID
 *      (or -name ID) or -uuid ID - what libvirt and most tools pass -
 *      of a user QEMU runs as (np_agent_opts.qemu_users).  Any user can
 *      start a program with that argv[0] and those arguments: believed, it
 *      would report its own memory for the guest (or hide the guest's
 *      drift).  Two believed processes claiming one guest are an error.
 * A guest found nowhere is "absent": it may not have started yet.
 *
 * /proc is read as it is: processes come and go while it is scanned, so
 * what cannot be read is left out, and a process that vanished between
 * the scan and its observation is absent, not an error.
 */
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent-int.h"
#include "runtime/rt-int.h"
#include "util/util.h"

#define CMDLINE_MAX ((size_t)1 << 20)

void np__found_free(struct np__found *fs)
{
	for (int i = 0; i < fs->n; i++) {
		free(fs->procs[i].name);
		free(fs->procs[i].uuid);
	}
	free(fs->procs);
	*fs = (struct np__found){ 0 };
}

bool np__qemu_guest_name(const char *arg, char *out, size_t size)
{
	size_t k = 0;

	if (!strncmp(arg, "guest=", 6))
		arg += 6;
	else if (strchr(arg, '=') && strcspn(arg, "=") < strcspn(arg, ","))
		return false; /* only other keys (process=, debug-threads=) */
	for (; *arg && k + 1 < size; arg++) {
		if (*arg == ',' && arg[1] != ',')
			break;
		if (*arg == ',')
			arg++; /* ",," is one comma */
		out[k++] = *arg;
	}
	out[k] = '\0';
	return k > 0 && (!*arg || *arg == ',');
}

/*
 * Whether process PID runs as a user of A's QEMU users: each of its real,
 * effective and saved user ids (np__proc_uids(), the balancer's reading
 * of /proc/PID/status; the owner of /proc/PID is not it: a process that
 * made itself undumpable shows as root's there).  The file system uid
 * needs no check: an unprivileged process can set it only to one of
 * those three.  *UID: the first id not believed.
 */
static bool believed(const np_agent *a, int pid, unsigned *uid)
{
	const struct np__rt_os *os;
	long ids[3];

	*uid = ~0u;
	if (np__rt_os(&os, NULL) || np__proc_uids(os, pid, ids))
		return false;
	for (int k = 0; k < 3; k++) {
		bool known = false;

		for (int i = 0; i < a->nqemu_uids; i++)
			known |= a->qemu_uids[i] == (unsigned long)ids[k];
		if (!known) {
			*uid = (unsigned)ids[k];
			return false;
		}
	}
	return true;
}

/* One process's command line (NUL-separated, LEN bytes): a QEMU guest? */
static void one_cmdline(const np_agent *a, struct np__found *fs, int pid, const char *buf,
			size_t len)
{
	const char *end = buf + len, *base = strrchr(buf, '/');
	char name[256] = "";
	const char *uuid = NULL;

	if (strncmp(base ? base + 1 : buf, "qemu", 4) != 0)
		return;
	for (const char *p = buf + strlen(buf) + 1; p < end; p += strlen(p) + 1) {
		const char *next = p + strlen(p) + 1;

		if (next >= end)
			break;
		if (!strcmp(p, "-name"))
			np__qemu_guest_name(next, name, sizeof(name));
		else if (!strcmp(p, "-uuid"))
			uuid = next;
	}
	if ((!*name && !uuid) || np__grow((void **)&fs->procs, &fs->cap, (size_t)fs->n + 1,
					  sizeof(*fs->procs)))
		return;
	fs->procs[fs->n] = (struct np__qemu){ .pid = pid, .name = *name ? strdup(name) : NULL,
					      .uuid = uuid ? strdup(uuid) : NULL };
	fs->procs[fs->n].believed = believed(a, pid, &fs->procs[fs->n].uid);
	fs->n++;
}

void np__agent_scan_qemu(const np_agent *a, struct np__found *fs)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[64], *buf = NULL;
		size_t len = 0;
		long pid;

		if (!isdigit((unsigned char)e->d_name[0]) || !np__parse_int(e->d_name, 1, 1 << 30, &pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		if (np__read_file(path, CMDLINE_MAX, &buf, &len, NULL) == 0 && len > 0)
			one_cmdline(a, fs, (int)pid, buf, len);
		free(buf);
	}
	closedir(d);
}

/* Observe process PID: 0, 1 when it is gone, or an error. */
static int observe_pid(const np_topo *topo, int pid, bool gone_ok, np_obs **out,
		       struct np_error *err)
{
	struct np_target t = { .pid = pid };
	struct np_error e = { 0 };
	int rc = np_observe(topo, &t, out, &e);

	if (rc == NP_EINPUT && gone_ok)
		return 1;
	if (rc && err)
		*err = e;
	return rc;
}

/*
 * Placement ID among the QEMU processes of FS: the one believed process
 * that claims to be it, observed; 1 when there is none (ERR says which
 * were ignored), NP_EINPUT when two are.
 */
static int from_scan(const np_topo *topo, const char *id, const struct np__found *fs,
		     np_obs **out, struct np_error *err)
{
	const struct np__qemu *found = NULL, *ignored = NULL;

	for (int i = 0; i < fs->n; i++) {
		const struct np__qemu *q = &fs->procs[i];

		if (!(q->name && !strcmp(q->name, id)) && !(q->uuid && !strcasecmp(q->uuid, id)))
			continue;
		if (!q->believed)
			ignored = ignored ? ignored : q;
		else if (found)
			return np__err(err, NP_EINPUT, "processes %d and %d both say they are "
				       "guest '%s'", found->pid, q->pid, id);
		else
			found = q;
	}
	if (found)
		return observe_pid(topo, found->pid, true, out, err);
	if (ignored && err)
		np__err(err, NP_EINPUT, "ignored process %d of user %u, not one QEMU runs as "
			"(--qemu-user)", ignored->pid, ignored->uid);
	return 1;
}

int np__agent_observe(const np_agent *a, const np_topo *topo, const char *id,
		      const struct np__found *fs, np_obs **out, bool *domain, struct np_error *err)
{
	*domain = false;
	for (int i = 0; i < a->nmap; i++)
		if (!strcmp(a->map[i].id, id))
			return observe_pid(topo, a->map[i].pid, false, out, err);
	if (a->libvirt) {
		struct np_target t = { .uri = a->libvirt, .domain = id };
		struct np_error e = { 0 };
		int rc = np_observe(topo, &t, out, &e);

		if (!rc) {
			*domain = true;
			return 0;
		}
		if (rc != NP_EINPUT || (strcmp(e.reason, "no_domain") && !strstr(e.message,
										 "not running"))) {
			*err = e;
			return rc;
		}
	}
	return from_scan(topo, id, fs, out, err);
}

/* vCPUs per node index into V: the vCPU threads, or every thread when none is one. */
static void vcpus_per_node(const np_obs *obs, int *v, int n)
{
	bool any = false;

	for (int i = 0; i < np_obs_thread_count(obs); i++)
		any |= np_obs_thread(obs, i)->vcpu >= 0;
	for (int i = 0; i < np_obs_thread_count(obs); i++) {
		const struct np_rt_thread *t = np_obs_thread(obs, i);

		if ((!any || t->vcpu >= 0) && t->node_idx >= 0 && t->node_idx < n)
			v[t->node_idx]++;
	}
}

/* The "memory_mb" and "vcpus" objects, and the words for WHAT. */
static int per_node(const np_topo *topo, const np_obs *obs, json_t *mem, json_t *vc, FILE *words)
{
	int n = np_topo_node_count(topo), *v = np__calloc((size_t)n + 1, sizeof(*v));

	if (!v)
		return NP_ENOMEM;
	vcpus_per_node(obs, v, n);
	for (int i = 0; i < n; i++) {
		const struct np_rt_mem *m = np_obs_mem(obs, i);
		uint64_t mb = (m->anon_kb + m->file_kb + m->huge_kb + 512) / 1024;
		char key[16];

		if (!mb && !v[i])
			continue;
		snprintf(key, sizeof(key), "%d", np_topo_node(topo, i)->os_id);
		if (mb && json_object_set_new(mem, key, json_integer((json_int_t)mb)))
			return free(v), NP_ENOMEM;
		if (v[i] && json_object_set_new(vc, key, json_integer(v[i])))
			return free(v), NP_ENOMEM;
		fprintf(words, "; node %s: %llu MiB, %d vCPU%s", key, (unsigned long long)mb, v[i],
			v[i] == 1 ? "" : "s");
	}
	free(v);
	return 0;
}

int np__agent_obs_json(const np_agent *a, const np_topo *topo, const np_obs *obs, bool domain,
		       char **body, char *what, size_t size, struct np_error *err)
{
	json_t *j = json_object(), *mem = json_object(), *vc = json_object();
	char *words = NULL;
	size_t wlen = 0;
	FILE *w = open_memstream(&words, &wlen);
	int rc = j && mem && vc && w ? 0 : NP_ENOMEM;

	if (!rc && domain)
		fprintf(w, "domain %s", np_obs_name(obs));
	else if (!rc)
		fprintf(w, "process %d (%s)", np_obs_pid(obs), np_obs_name(obs));
	if (!rc)
		rc = per_node(topo, obs, mem, vc, w);
	if (!rc && (json_object_set_new(j, "host", json_string(a->name)) ||
		    json_object_set_new(j, "at", json_integer((json_int_t)time(NULL))) ||
		    json_object_set_new(j, "source", json_string(domain ? "libvirt" : "process")) ||
		    (np_obs_pid(obs) > 0 &&
		     json_object_set_new(j, "pid", json_integer(np_obs_pid(obs)))) ||
		    (domain && json_object_set_new(j, "domain", json_string(np_obs_name(obs)))) ||
		    json_object_set(j, "memory_mb", mem) || json_object_set(j, "vcpus", vc)))
		rc = NP_ENOMEM;
	if (w && fclose(w) && !rc)
		rc = NP_ENOMEM;
	if (!rc && !(*body = json_dumps(j, JSON_COMPACT)))
		rc = NP_ENOMEM;
	if (!rc)
		snprintf(what, size, "reported %s%s", words ? words : "",
			 np_obs_mem_known(obs) ? "" : " (memory not readable here)");
	free(words);
	json_decref(j);
	json_decref(mem);
	json_decref(vc);
	return rc ? np__err(err, rc, "out of memory") : 0;
}
