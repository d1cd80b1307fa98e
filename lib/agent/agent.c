/*
 * agent.c - the host agent (agent.h): register the host, then each round
 * ask the service for this host's placements, find each here, observe it
 * and send what was seen.  A client on top of the library: it reads the
 * host through the runtime's np_observe() and talks HTTP through module
 * curl (http-curl.c); finding guests is find.c.
 *
 * Every answer of the service is untrusted (the agent runs as root):
 * bounded by NP_AGENT_ANSWER_MAX (the placements' ids: IDS_ANSWER_MAX),
 * parsed as JSON with duplicate keys
 * refused, only the members used are read and each is checked (ids by
 * the fleet's own rule); a message the service sends back is cut and
 * stripped of control characters before it reaches a log line.
 */
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <numaplace/agent.h>
#include <numaplace/runtime.h>
#include <numaplace/util.h>

#include "agent/agent-int.h"
#include "emit/emit-int.h"
#include "fleet/store.h"
#include "module/module.h"
#include "util/util.h"

/*
 * Bytes of the placements' ids (GET /v1/hosts/NAME?placements=ids) read
 * at most: NP_AGENT_PLACEMENTS_MAX entries of IDS_ENTRY bytes ({"id":ID},
 * 10 bytes around an id of up to 54) and the name and generation before
 * them.  NP_AGENT_ANSWER_MAX (4 MiB) held only some 90,000 ids of 36
 * bytes (UUIDs), fewer than the placements the agent looks after.
 */
#define IDS_ENTRY 64
#define IDS_ANSWER_MAX ((size_t)NP_AGENT_PLACEMENTS_MAX * IDS_ENTRY + 4096)

#define TOKEN_MAX 4096

/* ---- setting up -------------------------------------------------------------- */

/* The token: a regular file (no link) of this user or root, nobody else may read or write. */
static int read_token(const char *path, char **out, struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = np_read_trusted(path, "token file", TOKEN_MAX, NP_READ_SECRET, &buf, &len, err);

	if (rc)
		return rc;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] == 0x7f) {
			len = 0; /* spaces or control characters: not a token an HTTP header can carry */
			break;
		}
	if (!len) {
		explicit_bzero(buf, strlen(buf));
		free(buf);
		return np__err(err, NP_EINPUT, "token file '%s' holds no token (one line of "
			       "printable characters without spaces)", path);
	}
	*out = buf;
	return 0;
}

/*
 * AUTH, a URL's part after "http://" up to its path: a host (a name, an
 * address, an [IPv6] one), and then a port of 1-65535 if a ':' says so.
 * curl would refuse the others only when the first round asks (exit 1).
 */
static bool good_authority(const char *auth)
{
	size_t len = strcspn(auth, "/?#");
	const char *end = auth + len, *host_end = end, *p;
	long port = 0;

	if (auth[0] == '[') {
		const char *bracket = memchr(auth, ']', len);

		if (!bracket || (bracket + 1 < end && bracket[1] != ':'))
			return false;
		host_end = bracket + 1;
	} else {
		for (p = auth; p < end; p++)
			if (*p == ':')
				host_end = p;
	}
	if (host_end == auth)
		return false;
	if (host_end == end)
		return true;
	for (p = host_end + 1; p < end && port <= 65535; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535;
}

/* SERVER: "http://HOST[:PORT]", "https://...", or "unix:PATH" (then the URL is http://localhost). */
static int parse_server(np_agent *a, const char *server, struct np_error *err)
{
	size_t n = server ? strlen(server) : 0;

	if (!n || n > 1024)
		return np__err(err, NP_EINPUT, "no server given, or one longer than 1024 bytes "
			       "(http://HOST:PORT or unix:PATH)");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)server[i] <= ' ' || server[i] == 0x7f)
			return np__err(err, NP_EINPUT, "the server URL has a space or a control "
				       "character");
	if (!strncmp(server, "unix:", 5)) {
		if (server[5] != '/')
			return np__err(err, NP_EINPUT, "server '%s': unix:PATH needs an absolute "
				       "path", server);
		if (n - 5 >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return np__err(err, NP_EINPUT, "server '%.60s...': a socket path is at most "
				       "%zu bytes", server,
				       sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		a->unix_path = strdup(server + 5);
		a->base = strdup("http://localhost");
	} else if (!strncmp(server, "http://", 7) || !strncmp(server, "https://", 8)) {
		if (!good_authority(strstr(server, "//") + 2))
			return np__err(err, NP_EINPUT, "server '%s': no host, or a port that is not "
				       "1-65535 (http://HOST:PORT)", server);
		a->base = strdup(server);
		if (a->base)
			while (strlen(a->base) > 8 && a->base[strlen(a->base) - 1] == '/')
				a->base[strlen(a->base) - 1] = '\0';
	} else {
		return np__err(err, NP_EINPUT, "server '%s' is not http://HOST:PORT, https://... or "
			       "unix:PATH", server);
	}
	if (!a->base || (!strncmp(server, "unix:", 5) && !a->unix_path))
		return np__err(err, NP_ENOMEM, "out of memory");
	return 0;
}

static int set_name(np_agent *a, const char *name, struct np_error *err)
{
	char host[256] = "";

	if (!name) {
		if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
			return np__err(err, NP_EOS, "cannot read this host's name: %s",
				       strerror(errno));
		name = host;
	}
	if (np__fleet_check_id("host name", name, err))
		return NP_EINPUT;
	a->name = strdup(name);
	return a->name ? 0 : np__err(err, NP_ENOMEM, "out of memory");
}

static int copy_map(np_agent *a, const struct np_agent_opts *o, struct np_error *err)
{
	if (o->nmap < 0 || o->nmap > NP_AGENT_PLACEMENTS_MAX)
		return np__err(err, NP_EINPUT, "too many --map entries");
	if (o->nmap && !(a->map = np__calloc((size_t)o->nmap, sizeof(*a->map))))
		return np__err(err, NP_ENOMEM, "out of memory");
	for (int i = 0; i < o->nmap; i++) {
		if (np__fleet_check_id("placement id", o->map[i].id, err))
			return NP_EINPUT;
		if (o->map[i].pid <= 0)
			return np__err(err, NP_EINPUT, "--map %s: no process id", o->map[i].id);
		if (!(a->map[i].id = strdup(o->map[i].id)))
			return np__err(err, NP_ENOMEM, "out of memory");
		a->map[i].pid = o->map[i].pid;
		a->nmap++;
	}
	return 0;
}

/* User NAME's id (a name of the passwd database, or a number): 0, or 1 when there is none. */
static int user_id(const char *name, unsigned *uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	long id;

	if (np__parse_int(name, 0, 0x7fffffff, &id)) {
		*uid = (unsigned)id;
		return 0;
	}
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) || !res)
		return 1;
	*uid = (unsigned)res->pw_uid;
	return 0;
}

/*
 * The users whose QEMU processes are believed (np_agent_opts.qemu_users):
 * root, this process's user, and the ones named, or by default those of
 * libvirt-qemu and qemu that exist.
 */
static int qemu_users(np_agent *a, const struct np_agent_opts *o, struct np_error *err)
{
	static const char *const dflt[] = { "libvirt-qemu", "qemu" };
	const char *const *names = o->qemu_users ? o->qemu_users : dflt;
	int n = o->qemu_users ? o->nqemu_users : 2;

	if (!(a->qemu_uids = calloc((size_t)n + 2, sizeof(*a->qemu_uids))))
		return np__err(err, NP_ENOMEM, "out of memory");
	a->qemu_uids[a->nqemu_uids++] = 0;
	a->qemu_uids[a->nqemu_uids++] = (unsigned)geteuid();
	for (int i = 0; i < n; i++) {
		if (!user_id(names[i], &a->qemu_uids[a->nqemu_uids]))
			a->nqemu_uids++;
		else if (o->qemu_users)
			return np__err(err, NP_EINPUT, "--qemu-user: no user '%s' on this host",
				       names[i]);
	}
	return 0;
}

int np_agent_new(const struct np_agent_opts *o, np_agent **out, struct np_error *err)
{
	np_agent *a = calloc(1, sizeof(*a));
	const struct np__module *m;
	int rc;

	if (!a)
		return np__err(err, NP_ENOMEM, "out of memory");
	a->timeout_s = o->timeout_s > 0 ? o->timeout_s : 10;
	a->scan_qemu = !o->no_qemu_scan;
	if (!(rc = parse_server(a, o->server, err)) && !(rc = set_name(a, o->name, err)) &&
	    !(rc = copy_map(a, o, err)) && !(rc = qemu_users(a, o, err)) && o->token_file)
		rc = read_token(o->token_file, &a->token, err);
	if (!rc && o->libvirt && !(a->libvirt = strdup(o->libvirt)))
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (!rc && !(rc = np__module_get("curl", &m, err)))
		a->http = m->ops;
	if (rc) {
		np_agent_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void np_agent_free(np_agent *a)
{
	if (!a)
		return;
	if (a->token) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	for (int i = 0; i < a->nmap; i++)
		free(a->map[i].id);
	free(a->map);
	free(a->qemu_uids);
	free(a->base);
	free(a->unix_path);
	free(a->name);
	free(a->libvirt);
	free(a);
}

const char *np_agent_name(const np_agent *a)
{
	return a->name;
}

/* ---- talking to the service -------------------------------------------------- */

/* Append S to the URL in M, percent-encoded but for RFC 3986's unreserved characters. */
static void escaped(FILE *m, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			fputc(c, m);
		else
			fprintf(m, "%%%02X", c);
	}
}

/*
 * METHOD base/v1/WHAT[/ID-escaped[/TAIL or ?QUERY]] with BODY; *ANS the
 * answer, of at most MAX bytes.
 */
static int call_max(np_agent *a, const char *method, const char *what, const char *id,
		    const char *tail, const char *body, size_t max, struct np__http_ans *ans,
		    struct np_error *err)
{
	char *url = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&url, &len);
	struct np__http_req rq = { method, NULL, a->unix_path, a->token, body,
				   body ? strlen(body) : 0, a->timeout_s, max };
	int rc;

	if (!m)
		return np__err(err, NP_ENOMEM, "out of memory");
	fprintf(m, "%s/v1/%s", a->base, what);
	if (id) {
		fputc('/', m);
		escaped(m, id);
	}
	if (tail)
		fprintf(m, *tail == '?' ? "%s" : "/%s", tail);
	if (fclose(m)) {
		free(url);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	rq.url = url;
	rc = a->http->request(&rq, ans, err);
	free(url);
	return rc;
}

/* call_max() with the usual bound, NP_AGENT_ANSWER_MAX. */
static int call(np_agent *a, const char *method, const char *what, const char *id,
		const char *tail, const char *body, struct np__http_ans *ans, struct np_error *err)
{
	return call_max(a, method, what, id, tail, body, NP_AGENT_ANSWER_MAX, ans, err);
}

void np__agent_said(const char *body, size_t len, char *out, size_t size)
{
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *e = json_object_get(json_object_get(j, "error"), "message");
	const char *m = json_is_string(e) ? json_string_value(e) : "";
	size_t k = 0;

	for (; *m && k + 1 < size && k < 200; m++)
		out[k++] = (unsigned char)*m < 0x20 || *m == 0x7f ? '?' : *m;
	out[k] = '\0';
	if (!k)
		snprintf(out, size, "no error message");
	json_decref(j);
}

static void said(const struct np__http_ans *ans, char *out, size_t size)
{
	np__agent_said(ans->body, ans->len, out, size);
}

/* ANS is not what STATUS_OK wanted: NP_EINPUT with the status and the service's words. */
static int refused(const struct np__http_ans *ans, const char *what, struct np_error *err)
{
	char msg[256];

	said(ans, msg, sizeof(msg));
	return np__err(err, NP_EINPUT, "the server refused %s: HTTP %ld: %s", what, ans->status,
		       msg);
}

static void emit(np_agent_log_fn *log, void *ctx, const char *id, const char *kind,
		 const char *fmt, ...) NP__PRINTF(5, 6);
static void emit(np_agent_log_fn *log, void *ctx, const char *id, const char *kind,
		 const char *fmt, ...)
{
	struct np_agent_event ev = { id, kind, "" };
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(ev.line, sizeof(ev.line), fmt, ap);
	va_end(ap);
	log(ctx, &ev);
}

/*
 * TOPO as the service stores it: its JSON without free memory and free
 * pages.  Those change by the second; the fleet counts what is taken
 * from the totals itself, and a host registered again after a restart
 * must read as the same topology (a changed one is refused while
 * placements live on it).
 */
static int stable_topo_json(const np_topo *topo, char **out, struct np_error *err)
{
	char *buf = NULL;
	size_t i, k;
	json_t *j = NULL, *node, *pool;
	int rc = np__topo_write_string(topo, NP_TOPO_JSON, &buf, err);

	if (!rc && !(j = json_loads(buf, 0, NULL)))
		rc = np__err(err, NP_ENOMEM, "cannot read back the topology's JSON");
	json_array_foreach(json_object_get(j, "nodes"), i, node) {
		json_object_del(json_object_get(node, "memory_mb"), "free");
		json_array_foreach(json_object_get(node, "hugepages"), k, pool)
			json_object_del(pool, "free");
	}
	if (!rc && !(*out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		rc = np__err(err, NP_ENOMEM, "out of memory");
	json_decref(j);
	free(buf);
	return rc;
}

int np_agent_register(np_agent *a, const np_topo *topo, np_agent_log_fn *log, void *ctx,
		      struct np_error *err)
{
	struct np__http_ans ans = { 0 };
	char *body = NULL, msg[256];
	int rc = stable_topo_json(topo, &body, err);

	if (!rc)
		rc = call(a, "PUT", "hosts", a->name, NULL, body, &ans, err);
	if (!rc && ans.status == 409) {
		/* Known with another topology and placements on it: report against that one. */
		said(&ans, msg, sizeof(msg));
		emit(log, ctx, NULL, "refused", "host '%s' keeps the topology the service has: %s",
		     a->name, msg);
		a->registered = true;
	} else if (!rc && ans.status != 200 && ans.status != 201) {
		rc = refused(&ans, "the host's topology", err);
	} else if (!rc) {
		a->registered = true;
		emit(log, ctx, NULL, "registered", "host '%s' registered (%d nodes)", a->name,
		     np_topo_node_count(topo));
	}
	free(ans.body);
	free(body);
	return rc;
}

int np__agent_parse_placements(const char *body, size_t len, char ***ids, int *n,
				struct np_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je), *v;
	json_t *list = json_object_get(j, "placements");
	size_t i;
	int rc = 0;

	*ids = NULL;
	*n = 0;
	/* jansson quotes the input near the error: the service's bytes, not for a log line. */
	for (char *c = je.text; !j && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	if (!json_is_array(list) || json_array_size(list) > NP_AGENT_PLACEMENTS_MAX) {
		rc = np__err(err, NP_EINPUT, "the server's answer is not a host with at most %d "
			     "placements%s%.100s", NP_AGENT_PLACEMENTS_MAX, j ? "" : ": ",
			     j ? "" : je.text);
		goto out;
	}
	if (!(*ids = np__calloc(json_array_size(list) + 1, sizeof(**ids)))) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(list, i, v) {
		json_t *id = json_object_get(v, "id");

		if (!json_is_string(id) ||
		    np__fleet_check_id("placement id", json_string_value(id), err)) {
			rc = np__err(err, NP_EINPUT, "the server's answer lists a placement without "
				     "a valid id (entry %zu)", i);
			break;
		}
		if (!((*ids)[(*n)++] = strdup(json_string_value(id)))) {
			rc = np__err(err, NP_ENOMEM, "out of memory");
			break;
		}
	}
out:
	json_decref(j);
	return rc;
}

/*
 * The placement ids of GET /v1/hosts/NAME?placements=ids into *IDS (*N).
 * Only the ids: the whole host (a plan each placement) passed
 * NP_AGENT_ANSWER_MAX at some 9,000 placements, and every round then
 * failed.  Up to IDS_ANSWER_MAX: all NP_AGENT_PLACEMENTS_MAX of them.  A
 * service older than the parameter refuses it (400): the whole host then
 * (NP_AGENT_ANSWER_MAX).  *GONE: the service does not know the host (404).
 */
static int placements_here(np_agent *a, char ***ids, int *n, bool *gone, struct np_error *err)
{
	struct np__http_ans ans = { 0 };
	int rc = call_max(a, "GET", "hosts", a->name, "?placements=ids", NULL, IDS_ANSWER_MAX,
			  &ans, err);

	if (!rc && ans.status == 400) {
		free(ans.body);
		ans = (struct np__http_ans){ 0 };
		rc = call(a, "GET", "hosts", a->name, NULL, NULL, &ans, err);
	}
	*gone = !rc && ans.status == 404;
	if (!rc && !*gone && ans.status != 200)
		rc = refused(&ans, "to list the host's placements", err);
	else if (!rc && !*gone)
		rc = np__agent_parse_placements(ans.body, ans.len, ids, n, err);
	free(ans.body);
	return rc;
}

/* PUT the observation JSON BODY of placement ID: 0 accepted, else ERR says why. */
static int send_obs(np_agent *a, const char *id, const char *body, struct np_error *err)
{
	struct np__http_ans ans = { 0 };
	int rc = call(a, "PUT", "placements", id, "observed", body, &ans, err);

	if (!rc && ans.status != 204 && ans.status != 200)
		rc = refused(&ans, "the observation", err);
	free(ans.body);
	return rc;
}

/*
 * Observe placement ID here and send it; counts into ST.  NP_EIO when the
 * service could not be reached (the round stops: the next one tries
 * again), else 0 whatever happened to this one guest.
 */
static int one(np_agent *a, const np_topo *topo, const char *id, const struct np__found *fs,
	       np_agent_log_fn *log, void *ctx, struct np_agent_stats *st, struct np_error *err)
{
	struct np_error e = { 0 };
	char *body = NULL, what[300];
	np_obs *obs = NULL;
	bool domain = false, sent = false;
	int rc = np__agent_observe(a, topo, id, fs, &obs, &domain, &e);

	if (rc == 1) {
		st->absent++;
		emit(log, ctx, id, "absent", "%s: not found on this host%s%s", id,
		     *e.message ? "; " : "", e.message);
		return 0;
	}
	if (!rc)
		rc = np__agent_obs_json(a, topo, obs, domain, &body, what, sizeof(what), &e);
	if (!rc) {
		sent = true;
		rc = send_obs(a, id, body, &e);
	}
	if (rc) {
		st->failed++;
		emit(log, ctx, id, sent && rc == NP_EINPUT ? "refused" : "failed", "%s: %s", id,
		     e.message);
	} else {
		st->reported++;
		emit(log, ctx, id, "reported", "%s: %s", id, what);
	}
	free(body);
	np_obs_free(obs);
	if (sent && rc == NP_EIO) {
		if (err)
			*err = e;
		return NP_EIO;
	}
	return 0;
}

int np_agent_step(np_agent *a, const np_topo *topo, np_agent_log_fn *log, void *ctx,
		  struct np_agent_stats *stats, struct np_error *err)
{
	struct np_agent_stats st = { 0 };
	struct np__found fs = { 0 };
	char **ids = NULL;
	bool gone = false;
	int n = 0, rc = a->registered ? 0 : np_agent_register(a, topo, log, ctx, err);

	if (!rc)
		rc = placements_here(a, &ids, &n, &gone, err);
	if (!rc && gone) { /* the service forgot the host (removed, or a new store) */
		a->registered = false;
		if (!(rc = np_agent_register(a, topo, log, ctx, err)))
			rc = placements_here(a, &ids, &n, &gone, err);
		if (!rc && gone)
			rc = np__err(err, NP_EINPUT, "the server does not know host '%s' just after "
				     "registering it", a->name);
	}
	if (!rc && n && a->scan_qemu)
		np__agent_scan_qemu(a, &fs);
	st.placements = n;
	for (int i = 0; !rc && i < n; i++)
		rc = one(a, topo, ids[i], &fs, log, ctx, &st, err);
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	np__found_free(&fs);
	if (!rc && stats)
		*stats = st;
	return rc;
}
