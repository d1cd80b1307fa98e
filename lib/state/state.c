/*
 * state.c - claims kept in a state file (numaplace.state/1,
 * docs/formats/state.md): what numaplace has promised on one host.
 *
 * Design:
 * - Locking: flock() on "PATH.lock", a file that is created once and never
 *   removed (removing it would let two processes lock two different
 *   files).  Exclusive for writers, shared for readers; held from open to
 *   close, so a reader never sees a state between two writers' commits and
 *   a writer's read-modify-write is never interleaved with another's.
 *   flock locks belong to the open file, so two np_state on one path in
 *   one process also exclude each other (and one thread opening twice
 *   would wait for itself).  The lock file is opened without following a
 *   symbolic link and must be a regular file: a FIFO there would block.
 * - Atomic commit: the whole file is written to "PATH.tmp-XXXXXX" in the
 *   same directory, fsynced, renamed over PATH and the directory fsynced:
 *   after a crash PATH is the old or the new state, never a mix.  A crash
 *   before the rename leaves only a stray temporary file; the next writer
 *   (who holds the exclusive lock, so no commit can be under way) removes
 *   such files.
 * - Content: claims keyed by id, each the claim form of numaplace.plan/1
 *   (what it takes, without score and reasons), kept as jansson values
 *   sorted by id.  Plans are stored with kernel node ids, so they are
 *   checked for shape when read and mapped onto a topology only by
 *   np_state_apply(), which has the host.
 * - The ledger: a state file is a one-host store.  np_state_apply() builds
 *   the host's ledger (lib/fleet/ledger.h, the one the fleet stores keep
 *   too) and charges every claim's takes with the ledger's capacity
 *   predicate, then adds their usage to the host; the state keeps that
 *   ledger, so a later np_state_claim() is charged with the same
 *   predicate and refused when it would over-commit, and a release gives
 *   its takes back.
 *
 * Invariants: state-int.h; debug builds assert np__state_check()
 * (state-check.c) after every load, claim and release.
 *
 * Ownership: an np_state owns its path, lock descriptor and every claim's
 * id and json_t; np_state_close() releases them and the lock.
 */
#include "state/state-int.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet/ledger.h"
#include "plan/plan-json.h"
#include "util/json-util.h"
#include "util/util.h"

#define SCHEMA    "numaplace.state/1"
#define FILE_MAX  NP_FILE_MAX
#define ID_MAX    NP_CLAIM_ID_MAX
#define TMP_INFIX ".tmp-"

/*
 * Debug builds (no NDEBUG) re-check the ledger after every change.  The
 * check reads every plan back, so it may itself run out of memory: that
 * proves nothing either way and is not a broken ledger.
 */
#define CHECKED(st) assert(checked_ok(np__state_check((st), NULL, NULL)))

static inline bool checked_ok(int rc)
{
	return rc == 0 || rc == NP_ENOMEM;
}

/* Index of ID in ST's claims, or -(insertion point) - 1. */
static int find(const np_state *st, const char *id)
{
	int lo = 0, hi = st->nclaims - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(st->claims[mid].id, id);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -lo - 1;
}

static int insert(np_state *st, int at, const char *id, json_t *plan)
{
	char *copy = strdup(id);

	if (!copy || np__grow((void **)&st->claims, &st->cap, (size_t)st->nclaims + 1,
			      sizeof(*st->claims))) {
		free(copy);
		return NP_ENOMEM;
	}
	memmove(&st->claims[at + 1], &st->claims[at],
		(size_t)(st->nclaims - at) * sizeof(*st->claims));
	st->claims[at] = (struct claim){ copy, json_incref(plan) };
	st->nclaims++;
	return 0;
}

/* ---- locking and reading ---- */

static int lock_file(np_state *st, struct np_error *err)
{
	size_t n = strlen(st->path) + sizeof(".lock");
	char *lock = malloc(n);
	const char *kind;
	int rc = 0;

	if (!lock)
		return np__err(err, NP_ENOMEM, "out of memory");
	snprintf(lock, n, "%s.lock", st->path);
	/* Never through a link, never a FIFO (whose open would block). */
	st->lockfd = np__open_regular(lock, O_RDWR | O_CREAT | O_NOFOLLOW, 0644, &kind);
	if (st->lockfd < 0 && !kind && st->readonly)
		st->lockfd = np__open_regular(lock, O_RDONLY | O_NOFOLLOW, 0, &kind);
	if (st->lockfd < 0 && (kind || !(st->readonly && errno == ENOENT))) {
		rc = np__open_fail(err, kind || errno == ENOENT || errno == ELOOP ? NP_EIO : NP_EOS,
				   "lock", lock, kind);
		goto out;
	}
	while (st->lockfd >= 0 && flock(st->lockfd, st->readonly ? LOCK_SH : LOCK_EX) < 0) {
		if (errno != EINTR) {
			rc = np__err(err, NP_EOS, "cannot lock '%s': %s", lock, strerror(errno));
			goto out;
		}
	}
out:
	free(lock);
	return rc;
}

/* One claim as read: its id and its plan's shape, in the one message style. */
static int read_claim(np_state *st, const char *id, json_t *plan, struct np_error *err)
{
	char shown[NP__STATE_ID_SHOWN];
	const char *why = np__state_id_problem(id);
	struct np_error e;
	np_plan *p = NULL;
	int rc = 0;

	np__state_id_shown(id, shown, sizeof(shown));
	if (why)
		rc = np__err(&e, NP_EINPUT, "the id %s", why);
	else if (!json_is_object(plan))
		rc = np__err(&e, NP_EINPUT, "expected a plan object, not %s",
			     json_is_array(plan) ? "a list" : "a single value");
	else if ((rc = np__plan_from_json_value(NULL, plan, "", &p, &e)) == 0 && !np_plan_fits(p))
		rc = np__err(&e, NP_EINPUT, "fits: a claim must hold a plan that fits");
	np_plan_free(p);
	if (rc)
		return np__err(err, rc, "claim '%s' in '%s': %s", shown, st->path, e.message);
	/* jansson hands out keys in insertion order; keep ours sorted. */
	if (insert(st, -find(st, id) - 1, id, plan))
		return np__err(err, NP_ENOMEM, "out of memory");
	return 0;
}

/* The document; *NAMED when the error already names the file and claim. */
static int parse(np_state *st, const char *buf, size_t len, bool *named, struct np_error *err)
{
	json_t *root, *claims, *v;
	const char *id;
	json_error_t je;
	int rc = 0;

	root = np__json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root && np__json_out_of_memory(&je))
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!root) {
		for (char *c = je.text; *c; c++)
			*c = isprint((unsigned char)*c) ? *c : '?';
		return np__err(err, NP_EINPUT, "line %d: %s", je.line, je.text);
	}
	v = json_object_get(root, "schema");
	claims = json_object_get(root, "claims");
	if (!json_is_object(root))
		rc = np__err(err, NP_EINPUT, "the document: expected a %s object", SCHEMA);
	else if (!json_is_string(v) || strcmp(json_string_value(v), SCHEMA) != 0)
		rc = np__err(err, NP_EINPUT, "schema: expected \"%s\"", SCHEMA);
	else if (!json_is_object(claims))
		rc = np__err(err, NP_EINPUT, "claims: expected an object of plans keyed by id");
	if (!rc)
		json_object_foreach(claims, id, v)
			if ((rc = read_claim(st, id, v, err)) != 0) {
				*named = rc == NP_EINPUT;
				break;
			}
	if (!rc)
		rc = np__state_recent_read(st, json_object_get(root, "recent"), err);
	json_decref(root);
	return rc;
}

static int read_state(np_state *st, struct np_error *err)
{
	struct np_error e;
	bool named = false;
	size_t len = 0;
	char *buf = NULL;
	int rc;

	if (access(st->path, F_OK) != 0 && errno == ENOENT)
		return 0;
	rc = np__read_file(st->path, FILE_MAX, &buf, &len, err);
	if (rc)
		return rc;
	if (strspn(buf, " \t\r\n") == len)
		rc = np__err(&e, NP_EINPUT, "empty file (expected a %s object)", SCHEMA);
	else
		rc = parse(st, buf, len, &named, &e);
	free(buf);
	if (rc && named)
		return np__err(err, rc, "%s", e.message);
	if (rc)
		return np__err(err, rc, "cannot load '%s': %s", st->path, e.message);
	return 0;
}

/* Split PATH into its directory (malloc'ed) and the name's offset. */
static char *dir_of(const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');

	*name = slash ? slash + 1 : path;
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Remove temporary files of commits that crashed (we hold the exclusive lock). */
static void remove_stale(const np_state *st)
{
	const char *name;
	char *dir = dir_of(st->path, &name);
	size_t nlen = strlen(name);
	struct dirent *e;
	DIR *d = dir ? opendir(dir) : NULL;
	int dfd = d ? dirfd(d) : -1;

	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, name, nlen) == 0 &&
		    strncmp(e->d_name + nlen, TMP_INFIX, strlen(TMP_INFIX)) == 0 &&
		    strlen(e->d_name) == nlen + strlen(TMP_INFIX) + 6)
			unlinkat(dfd, e->d_name, 0);
	}
	if (d)
		closedir(d);
	free(dir);
}

int np_state_open(const char *path, bool readonly, np_state **out, struct np_error *err)
{
	np_state *st = calloc(1, sizeof(*st));
	struct stat sb;
	int rc;

	if (!st || !(st->path = strdup(path))) {
		free(st);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	st->readonly = readonly;
	st->lockfd = -1;
	/*
	 * A writer replaces PATH by a rename, which would cut a symbolic link
	 * (the claim landing in a new file, the one it pointed to never
	 * seeing it) and lock beside the link, not the file: refused.
	 */
	if (!readonly && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
		rc = np__err(err, NP_EIO, "cannot write claims to '%s': a symbolic link (name the "
			     "state file itself: it is replaced, not written through)", path);
	else
		rc = lock_file(st, err);
	if (!rc)
		rc = read_state(st, err);
	if (rc) {
		np_state_close(st);
		return rc;
	}
	if (!readonly)
		remove_stale(st);
	CHECKED(st);
	*out = st;
	return 0;
}

void np_state_close(np_state *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->nclaims; i++) {
		free(st->claims[i].id);
		json_decref(st->claims[i].plan);
	}
	free(st->claims);
	np__state_recent_free(st);
	np__ledger_free(st->ledger);
	np_host_free(st->shape);
	if (st->lockfd >= 0)
		close(st->lockfd); /* drops the flock */
	free(st->path);
	free(st);
}

/* ---- claims ---- */

static int check_id(const char *id, struct np_error *err)
{
	const char *why = np__state_id_problem(id);

	return why ? np__err(err, NP_EINPUT, "cannot claim: the id %s", why) : 0;
}

/* PLAN in its claim form, as a jansson value. */
static int claim_form(const np_plan *plan, json_t **out, struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return np__err(err, NP_ENOMEM, "out of memory");
	rc = np__plan_write_json(plan, NULL, true, f, err);
	if (fclose(f) && !rc)
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (!rc) {
		*out = json_loadb(buf, len, 0, NULL);
		/* What jansson read must be what was written (json-util.h). */
		if (!*out || np__json_is_text(*out, buf, len) != 1) {
			json_decref(*out);
			*out = NULL;
			rc = np__err(err, NP_ENOMEM, "out of memory");
		}
	}
	free(buf);
	return rc;
}

/* Charge (or give back) what PLAN takes on the ledger np_state_apply() left, if any. */
static int charge_plan(np_state *st, const np_plan *plan, bool release, struct np_error *err)
{
	struct np__takes t = { 0 };
	int rc;

	if (!st->ledger)
		return 0;
	if (!np__plan_matches_topo(plan, np_host_topo(st->shape)))
		return np__err(err, NP_EINPUT, "the plan was made for a host with other nodes");
	rc = np__takes_of(st->shape, plan, NULL, &t, err);
	if (!rc)
		rc = np__ledger_charge(st->ledger, &t, release, err);
	np__takes_free(&t);
	return rc;
}

/* A new claim must fit what the applied claims leave (the ledger's predicate). */
static int charge_new(np_state *st, const np_plan *plan, const char *shown, struct np_error *err)
{
	struct np_error e = { 0 };
	int rc = charge_plan(st, plan, false, &e);

	return rc ? np__err(err, rc, "cannot claim '%s': %s", shown, e.message) : 0;
}

int np_state_claim(np_state *st, const char *id, const np_plan *plan, struct np_error *err)
{
	struct np_error e;
	char shown[NP__STATE_ID_SHOWN];
	json_t *form = NULL;
	struct recent r = { 0 };
	int at, rc = check_id(id, err);

	if (rc)
		return rc;
	np__state_id_shown(id, shown, sizeof(shown));
	if (!np_plan_fits(plan))
		return np__err(err, NP_EINPUT, "cannot claim '%s': the plan does not fit", shown);
	if (!plan->node_os) /* see np__plan_set_topo() */
		return np__err(err, NP_EINPUT,
			       "cannot claim '%s': the plan does not name its host's nodes", shown);
	rc = claim_form(plan, &form, &e);
	if (rc)
		return np__err(err, rc, "cannot claim '%s': %s", shown, e.message);
	at = find(st, id);
	if (at >= 0 && !json_equal(st->claims[at].plan, form))
		rc = np__err_reason(err, NP_EINPUT, "claim_conflict",
				    "cannot claim '%s': it is already claimed with another plan "
				    "(release it first)", shown);
	else if (at < 0 && np__state_recent_prepare(id, form, &r))
		rc = np__err(err, NP_ENOMEM, "out of memory");
	else if (at < 0 && (rc = charge_new(st, plan, shown, err)) == 0) {
		if (insert(st, -at - 1, id, form)) {
			rc = np__err(err, NP_ENOMEM, "out of memory");
			charge_plan(st, plan, true, NULL);
		} else {
			st->dirty = true;
			np__state_recent_note(st, &r); /* the demand's record (state-demand.c) */
		}
	}
	free(r.id);
	free(r.cells);
	json_decref(form);
	CHECKED(st);
	return rc;
}

int np_state_release(np_state *st, const char *id, bool *found, struct np_error *err)
{
	const char *why = np__state_id_problem(id);
	int at;

	/* No state holds such an id: saying "not claimed" would echo it raw. */
	if (why)
		return np__err(err, NP_EINPUT, "cannot release: the id %s", why);
	at = find(st, id);
	if (found)
		*found = at >= 0;
	if (at < 0)
		return 0;
	if (st->ledger) {
		np_plan *p = NULL;

		if (!np__plan_from_json_value(np_host_topo(st->shape), st->claims[at].plan, "", &p,
					      NULL))
			charge_plan(st, p, true, NULL);
		np_plan_free(p);
	}
	free(st->claims[at].id);
	json_decref(st->claims[at].plan);
	memmove(&st->claims[at], &st->claims[at + 1],
		(size_t)(st->nclaims - at - 1) * sizeof(*st->claims));
	st->nclaims--;
	st->dirty = true;
	CHECKED(st);
	return 0;
}

int np_state_claim_count(const np_state *st)
{
	return st->nclaims;
}

const char *np_state_claim_id(const np_state *st, int i)
{
	return i >= 0 && i < st->nclaims ? st->claims[i].id : NULL;
}

int np_state_claim_plan(const np_state *st, const char *id, const np_topo *topo,
			np_plan **out, struct np_error *err)
{
	struct np_error e;
	char shown[NP__STATE_ID_SHOWN];
	int at = id ? find(st, id) : -1, rc;

	np__state_id_shown(id, shown, sizeof(shown));
	if (!topo)
		return np__err(err, NP_EINPUT, "claim '%s': no topology to map its plan onto",
			       shown);
	if (at < 0)
		return np__err(err, NP_EINPUT, "no claim '%s' in '%s'", shown, st->path);
	rc = np__plan_from_json_value(topo, st->claims[at].plan, "", out, &e);
	if (rc)
		return np__err(err, rc, "claim '%s' in '%s': %s", shown, st->path, e.message);
	return 0;
}

/* ---- writing ---- */

static int write_doc(const np_state *st, FILE *out)
{
	int rc = 0;
	char *recent = np__state_recent_text(st, &rc);

	if (rc)
		return rc;
	fprintf(out, "{\n  \"schema\": \"%s\",\n  \"claims\": {%s", SCHEMA,
		st->nclaims ? "\n" : "");
	for (int i = 0; i < st->nclaims; i++) {
		/* Checked: a text jansson cut short would make the file unreadable. */
		json_t *key = json_string(st->claims[i].id);
		char *k = key ? np__json_dumps_checked(key) : NULL;
		char *v = np__json_dumps_checked(st->claims[i].plan);

		json_decref(key);
		if (k && v)
			fprintf(out, "    %s: %s%s\n", k, v, i + 1 < st->nclaims ? "," : "");
		free(k);
		free(v);
		if (!k || !v) {
			free(recent);
			return NP_ENOMEM;
		}
	}
	fprintf(out, "%s}%s%s\n}\n", st->nclaims ? "  " : "", recent ? ",\n  \"recent\": " : "",
		recent ? recent : "");
	free(recent);
	return ferror(out) ? NP_EOS : 0;
}

int np_state_write_json(const np_state *st, FILE *out, struct np_error *err)
{
	int rc = write_doc(st, out);

	if (rc == NP_ENOMEM)
		return np__err(err, rc, "out of memory");
	if (rc || fflush(out) || ferror(out))
		return np__err(err, NP_EOS, "cannot write the state: output error");
	return 0;
}

/* fsync directory DIR, so that a rename in it is durable. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = -1;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Write the state to TMP (an open descriptor) and make it durable. */
static int write_tmp(const np_state *st, int fd)
{
	struct stat old;
	FILE *f;
	int rc;

	/* The old file's read and write bits (never its set-id or exec bits), else 0644. */
	if (fchmod(fd, stat(st->path, &old) == 0 ? old.st_mode & 0666 : 0644) < 0) {
		close(fd);
		return NP_EOS;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return NP_EOS;
	}
	rc = write_doc(st, f);
	if (!rc && (fflush(f) || fsync(fileno(f)) < 0))
		rc = NP_EOS;
	if (fclose(f) && !rc)
		rc = NP_EOS;
	return rc;
}

int np_state_commit(np_state *st, struct np_error *err)
{
	size_t n = strlen(st->path) + sizeof(TMP_INFIX "XXXXXX");
	const char *name;
	char *tmp, *dir;
	int fd, rc;

	if (st->readonly)
		return np__err(err, NP_EINPUT, "cannot write '%s': the state was opened read-only",
			       st->path);
	if (st->broken)
		return np__err(err, NP_ENOMEM, "cannot write '%s': a failed claim with moves could "
			       "not be undone in memory (nothing was written)", st->path);
	if (!st->dirty)
		return 0;
	/* Every allocation before the rename: after it, the commit has happened. */
	tmp = malloc(n);
	dir = dir_of(st->path, &name);
	if (!tmp || !dir) {
		free(tmp);
		free(dir);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	snprintf(tmp, n, "%s" TMP_INFIX "XXXXXX", st->path);
	fd = mkostemp(tmp, O_CLOEXEC);
	rc = fd < 0 ? NP_EOS : write_tmp(st, fd);
	if (!rc && rename(tmp, st->path) < 0)
		rc = NP_EOS;
	if (rc) {
		int e = errno;

		if (fd >= 0)
			unlink(tmp);
		rc = rc == NP_ENOMEM
			 ? np__err(err, rc, "out of memory")
			 : np__err(err, rc, "cannot write '%s': %s", st->path, strerror(e));
	} else if (sync_dir(dir) < 0) {
		rc = np__err(err, NP_EOS, "cannot write '%s': sync: %s", st->path, strerror(errno));
	} else {
		st->dirty = false;
	}
	free(tmp);
	free(dir);
	return rc;
}

/* ---- applying ---- */

/* Claim I's takes on HOST, the claim named in messages. */
static int claim_takes(const np_state *st, int i, const np_host *host, struct np__takes *t,
		       struct np_error *err)
{
	struct np_error e = { 0 };
	char shown[NP__STATE_ID_SHOWN];
	np_plan *p = NULL;
	int rc;

	np__state_id_shown(st->claims[i].id, shown, sizeof(shown));
	rc = np__plan_from_json_value(np_host_topo(host), st->claims[i].plan, "", &p, &e);
	if (!rc)
		rc = np__takes_of(host, p, NULL, t, &e);
	np_plan_free(p);
	if (rc)
		return np__err(err, rc, "claim '%s' in '%s': %s", shown, st->path, e.message);
	return 0;
}

/* A copy of L's rows with nothing used and no pins. */
static np__ledger *unused_copy(const np__ledger *l)
{
	np__ledger *c = np__ledger_new();

	for (int i = 0; c && i < l->nrows; i++) {
		struct np__row r = l->rows[i];

		r.used = 0;
		if (np__ledger_add_row(c, &r)) {
			np__ledger_free(c);
			return NULL;
		}
	}
	return c;
}

/*
 * Charge every claim onto ALL (HOST's usage and the claims, with the
 * predicate) and MINE (the claims only).
 */
static int charge_claims(const np_state *st, const np_host *host, np__ledger *all,
			 np__ledger *mine, struct np_error *err)
{
	int rc = 0;

	for (int i = 0; i < st->nclaims && !rc; i++) {
		struct np__takes t = { 0 };
		struct np_error e = { 0 };
		char shown[NP__STATE_ID_SHOWN];

		if ((rc = claim_takes(st, i, host, &t, err)))
			break;
		if ((rc = np__ledger_charge(all, &t, false, &e)) != 0) {
			np__state_id_shown(st->claims[i].id, shown, sizeof(shown));
			rc = np__err(err, rc == NP_ENOMEM ? rc : NP_EINPUT,
				     "claim '%s' in '%s': %s", shown, st->path, e.message);
		} else if ((rc = np__ledger_charge(mine, &t, false, err)) != 0) {
			rc = np__err(err, NP_EINPUT, "claim in '%s': %s", st->path, err->message);
		}
		np__takes_free(&t);
	}
	return rc;
}

/*
 * The claims' usage did not go onto HOST (ERR says why, naming no claim):
 * charge them one more at a time onto a copy until that fails, and name
 * the first one that makes it fail, in the message style of every other
 * refusal ("claim 'ID' in 'FILE': why").  Returns RC, ERR's code.
 */
static int name_culprit(const np_state *st, const np_host *host, int rc, struct np_error *err)
{
	np__ledger *all = NULL, *mine = NULL;
	struct np_error e;

	if (!err)
		return rc;
	e = *err;
	if (np__ledger_of_host(host, &all, NULL) || !(mine = unused_copy(all)))
		goto out;
	for (int i = 0; i < st->nclaims; i++) {
		struct np__takes t = { 0 };
		np_host *trial = NULL;
		char shown[NP__STATE_ID_SHOWN];
		int bad;

		if (claim_takes(st, i, host, &t, NULL) || np__ledger_charge(mine, &t, false, NULL)) {
			np__takes_free(&t);
			break;
		}
		np__takes_free(&t);
		if (np_host_clone(host, &trial, NULL))
			break;
		bad = np__ledger_to_host(mine, trial, NULL);
		np_host_free(trial);
		if (bad) {
			np__state_id_shown(st->claims[i].id, shown, sizeof(shown));
			rc = np__err(err, rc, "claim '%s' in '%s': %s", shown, st->path, e.message);
			break;
		}
	}
out:
	np__ledger_free(all);
	np__ledger_free(mine);
	return rc;
}

int np_state_apply(np_state *st, np_host *host, struct np_error *err)
{
	np__ledger *all = NULL, *mine = NULL;
	np_host *shape = NULL, *trial = NULL;
	int rc;

	if ((rc = np__ledger_of_host(host, &all, err)))
		return rc;
	if (!(mine = unused_copy(all)) || np_host_clone(host, &shape, NULL) ||
	    np_host_clone(host, &trial, NULL)) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	/* On a copy first: a failed apply leaves HOST as it was. */
	if ((rc = charge_claims(st, host, all, mine, err)))
		goto out;
	if ((rc = np__ledger_to_host(mine, trial, err))) {
		if (rc != NP_ENOMEM)
			rc = name_culprit(st, host, rc, err);
		goto out;
	}
	if ((rc = np__ledger_to_host(mine, host, err)))
		goto out;
	np__ledger_free(st->ledger);
	np_host_free(st->shape);
	st->ledger = all;
	st->shape = shape;
	all = NULL;
	shape = NULL;
out:
	np__ledger_free(all);
	np__ledger_free(mine);
	np_host_free(shape);
	np_host_free(trial);
	return rc;
}
