/*
 * xl-vnuma.c - a guest request from xl.cfg(5)'s vNUMA option:
 *   vnuma = [ [ "pnode=0", "size=1024", "vcpus=0-1", "vdistances=10,20" ],
 *             [ "pnode=1", "size=1024", "vcpus=2-3", "vdistances=20,10" ] ]
 * given as the whole line or just the list, with the guest's vcpus= and
 * memory= from the same file.
 *
 * Design: a small tokenizer for xl's value syntax (lists in brackets,
 * strings in single or double quotes, '#' comments, an optional trailing
 * comma or ';'), then each vnode's KEY=VALUE strings: pnode (the host
 * node, kept as the cell's pinned node), size (MiB; the sizes add up to the
 * memory), vcpus (a CPU list; every vCPU in exactly one vnode), and
 * vdistances (one per vnode, the vnode's own distance no larger than any
 * other).  xl.cfg(5) calls all four mandatory, but xl's parser
 * (parse_vnuma_config) takes a vnode without vdistances= and leaves its
 * distances zero, which libxl accepts; so vdistances= may be left out
 * here too.  When given it must be whole: xl would write past its array
 * for a longer list and leave zeros for a shorter one.  The vCPUs float
 * (no CPU policy) with soft affinity, which is what libxl gives a vNUMA
 * guest: vCPUs prefer their pnode's pCPUs, memory is allocated there.
 *
 * Errors name the vnode (0-based, as xl counts them) and the key.
 * Ownership: nothing outlives the call but the request.
 */
#include "request/request-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VNODES 128

struct vnode {
	long pnode;
	uint64_t size;
	int *vcpus, nvcpus;
	long dist[MAX_VNODES];
	int ndist;
	unsigned seen; /* bit per key: pnode, size, vcpus, vdistances */
};

struct xl {
	const char *p; /* the cursor in the text */
	const char *text;
	struct vnode *v;
	int n;
	unsigned vcpus;
	uint64_t mem;
	struct np_error *err;
};

static int fail(struct xl *x, const char *reason, const char *fmt, ...) NP__PRINTF(3, 4);

static int fail(struct xl *x, const char *reason, const char *fmt, ...)
{
	char msg[360];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return np__err_reason(x->err, NP_EINPUT, reason, "vnuma: %s (%s)", msg, reason);
}

/* Blanks, newlines and '#' comments. */
static void skip(struct xl *x)
{
	for (;;) {
		while (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r')
			x->p++;
		if (*x->p != '#')
			return;
		while (*x->p && *x->p != '\n')
			x->p++;
	}
}

static int expect(struct xl *x, char c, const char *what)
{
	skip(x);
	if (*x->p != c)
		return fail(x, "invalid_vnuma", "expected %s at offset %d, found '%.12s'", what,
			    (int)(x->p - x->text), *x->p ? x->p : "end of text");
	x->p++;
	return 0;
}

/* A quoted string into BUF (no escapes in xl's syntax). */
static int string(struct xl *x, char *buf, size_t size)
{
	char q;
	const char *end;

	skip(x);
	q = *x->p;
	if (q != '"' && q != '\'')
		return fail(x, "invalid_vnuma",
			    "vnode %d: expected a quoted \"KEY=VALUE\" at "
			    "offset %d",
			    x->n, (int)(x->p - x->text));
	if (!(end = strchr(x->p + 1, q)))
		return fail(x, "invalid_vnuma", "vnode %d: unterminated string at offset %d", x->n,
			    (int)(x->p - x->text));
	if ((size_t)(end - x->p - 1) >= size)
		return fail(x, "invalid_vnuma", "vnode %d: string at offset %d is too long", x->n,
			    (int)(x->p - x->text));
	memcpy(buf, x->p + 1, (size_t)(end - x->p - 1));
	buf[end - x->p - 1] = '\0';
	x->p = end + 1;
	return 0;
}

static int distances(struct xl *x, struct vnode *v, const char *val)
{
	const char *s = val;

	if (!*s)
		return fail(x, "invalid_vnuma", "vnode %d: vdistances= is empty", x->n);

	while (*s) {
		char *end;
		long d = strtol(s, &end, 10);

		if (end == s || d < 1 || d > 255 || v->ndist == MAX_VNODES || (*end && *end != ','))
			return fail(x, "invalid_vnuma",
				    "vnode %d: vdistances=%.40s is not a list of "
				    "distances 1-255",
				    x->n, val);
		v->dist[v->ndist++] = d;
		s = *end ? end + 1 : end;
	}
	return 0;
}

/* One "KEY=VALUE" of vnode x->n. */
static int key_value(struct xl *x, struct vnode *v, char *kv)
{
	static const char *const keys[] = {"pnode", "size", "vcpus", "vdistances"};
	char *eq = strchr(kv, '='), *val;
	int k = -1, rc;

	if (eq)
		*eq = '\0';
	for (int i = 0; eq && i < 4; i++)
		if (strcmp(kv, keys[i]) == 0)
			k = i;
	if (k < 0)
		return fail(x, "invalid_vnuma",
			    "vnode %d: '%.30s' is not pnode=, size=, vcpus= or "
			    "vdistances=",
			    x->n, kv);
	if (v->seen & (1u << k))
		return fail(x, "invalid_vnuma", "vnode %d: %s= given twice", x->n, keys[k]);
	v->seen |= 1u << k;
	val = eq + 1;
	if (k == 0 && !np__parse_int(val, 0, 65535, &v->pnode))
		return fail(x, "invalid_vnuma", "vnode %d: pnode=%.30s is not a node number", x->n,
			    val);
	if (k == 1 && (!np__parse_u64(val, &v->size) || v->size == 0))
		return fail(x, "invalid_vnuma", "vnode %d: size=%.30s is not a size in MiB", x->n,
			    val);
	if (k == 2 && (rc = np__parse_cpulist(val, 65535, &v->vcpus, &v->nvcpus)) == NP_ENOMEM)
		return np__err(x->err, NP_ENOMEM, "out of memory");
	if (k == 2 && rc)
		return fail(x, "invalid_vnuma", "vnode %d: vcpus=%.40s is not a CPU list", x->n,
			    val);
	return k == 3 ? distances(x, v, val) : 0;
}

/* [ "KEY=VALUE", ... ] */
static int vnode(struct xl *x, struct vnode *v)
{
	static const char *const keys[] = {"pnode", "size", "vcpus", "vdistances"};
	char buf[512];
	int rc;

	if ((rc = expect(x, '[', "'[' opening a vnode")))
		return rc;
	for (skip(x); *x->p != ']';) {
		if ((rc = string(x, buf, sizeof(buf))) || (rc = key_value(x, v, buf)))
			return rc;
		skip(x);
		if (*x->p == ',')
			x->p++;
		else if (*x->p != ']')
			return expect(x, ']', "',' or ']'");
		skip(x);
	}
	x->p++;
	for (int k = 0; k < 3; k++) /* vdistances= may be left out, as xl allows */
		if (!(v->seen & (1u << k)))
			return fail(x, "invalid_vnuma", "vnode %d has no %s=", x->n, keys[k]);
	return 0;
}

/* The optional "vnuma =" before the list, and what may follow it. */
static int head(struct xl *x)
{
	skip(x);
	if (strncmp(x->p, "vnuma", 5) == 0) {
		x->p += 5;
		return expect(x, '=', "'=' after vnuma");
	}
	return 0;
}

static int tail(struct xl *x)
{
	skip(x);
	if (*x->p == ';')
		x->p++;
	skip(x);
	if (*x->p)
		return fail(x, "invalid_vnuma", "unexpected '%.12s' after the list", x->p);
	return 0;
}

static int parse(struct xl *x)
{
	int rc;

	if ((rc = head(x)) || (rc = expect(x, '[', "'[' opening the vnode list")))
		return rc;
	for (skip(x); *x->p != ']';) {
		if (x->n == MAX_VNODES)
			return fail(x, "invalid_vnuma", "more than %d vnodes", MAX_VNODES);
		if ((rc = vnode(x, &x->v[x->n])))
			return rc;
		x->n++;
		skip(x);
		if (*x->p == ',')
			x->p++;
		else if (*x->p != ']')
			return expect(x, ']', "',' or ']'");
		skip(x);
	}
	x->p++;
	if (x->n == 0)
		return fail(x, "invalid_vnuma", "the list has no vnode");
	return tail(x);
}

/* Every vCPU in exactly one vnode, none beyond the guest's. */
static int check_vcpus(struct xl *x)
{
	int *owner = np__calloc(x->vcpus, sizeof(int)), rc = 0;

	if (!owner)
		return np__err(x->err, NP_ENOMEM, "out of memory");
	for (unsigned c = 0; c < x->vcpus; c++)
		owner[c] = -1;
	for (int i = 0; i < x->n && !rc; i++) {
		for (int k = 0; k < x->v[i].nvcpus && !rc; k++) {
			int c = x->v[i].vcpus[k];

			if ((unsigned)c >= x->vcpus)
				rc = fail(x, "numa_cpu_out_of_range",
					  "vnode %d: vcpus= names vCPU %d "
					  "but the guest has vCPUs 0-%u",
					  i, c, x->vcpus - 1);
			else if (owner[c] >= 0)
				rc = fail(x, "numa_cpu_duplicate",
					  "vCPU %d is in vnode %d and vnode "
					  "%d",
					  c, owner[c], i);
			else
				owner[c] = i;
		}
	}
	for (unsigned c = 0; c < x->vcpus && !rc; c++)
		if (owner[c] < 0)
			rc = fail(x, "numa_cpu_unassigned", "vCPU %u is in no vnode's vcpus=", c);
	free(owner);
	return rc;
}

static int check_rest(struct xl *x)
{
	uint64_t sum = 0;

	for (int i = 0; i < x->n; i++) {
		const struct vnode *v = &x->v[i];

		if (v->ndist && v->ndist != x->n)
			return fail(x, "invalid_vnuma",
				    "vnode %d: vdistances= has %d values for %d "
				    "vnodes",
				    i, v->ndist, x->n);
		for (int j = 0; j < v->ndist; j++)
			if (v->dist[j] < v->dist[i])
				return fail(x, "invalid_vnuma",
					    "vnode %d: vdistances= puts vnode %d "
					    "(%ld) closer than itself (%ld)",
					    i, j, v->dist[j], v->dist[i]);
		sum = sum + v->size < sum ? UINT64_MAX : sum + v->size;
	}
	if (sum != x->mem)
		return fail(x, "numa_memory_mismatch",
			    "vnode sizes add up to %llu MiB, not the "
			    "guest's memory of %llu",
			    (unsigned long long)sum, (unsigned long long)x->mem);
	return 0;
}

static int build(struct xl *x, np_request **out)
{
	np_request *r = np__request_new(x->vcpus, x->mem);
	int rc = r ? 0 : NP_ENOMEM;

	if (r) {
		r->numa = true;
		r->affinity = NP_AFFINITY_SOFT; /* libxl: soft affinity to the pnode */
	}
	for (int i = 0; i < x->n && !rc; i++)
		rc = np__request_add_cell(r, x->v[i].vcpus, x->v[i].nvcpus, NULL, 0, x->v[i].size,
					  NP_PAGESIZE_UNSET, (int)x->v[i].pnode);
	if (rc) {
		np_request_free(r);
		return np__err(x->err, NP_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

int np_request_from_xl_vnuma(const char *text, unsigned vcpus, uint64_t memory_mb, np_request **out,
			     struct np_error *err)
{
	struct xl x = {text, text, NULL, 0, vcpus, memory_mb, err};
	int rc;

	if (!text)
		return fail(&x, "invalid_vnuma", "no vnuma= text");
	if (vcpus < 1 || vcpus > NP_VCPUS_MAX || memory_mb < 1)
		return fail(&x, "invalid_vnuma",
			    "the guest needs 1-" NP__STR(NP_VCPUS_MAX) " vcpus and some memory, "
			    "not %u and %llu MiB",
			    vcpus, (unsigned long long)memory_mb);
	if (!(x.v = np__calloc(MAX_VNODES, sizeof(*x.v))))
		return np__err(err, NP_ENOMEM, "out of memory");
	if (!(rc = parse(&x)) && !(rc = check_vcpus(&x)) && !(rc = check_rest(&x)))
		rc = build(&x, out);
	for (int i = 0; i < MAX_VNODES; i++)
		free(x.v[i].vcpus);
	free(x.v);
	return rc;
}
