/*
 * libvirt.c - running libvirt domains, through libvirt's API only:
 * observe (virDomainGetVcpus, virDomainGetVcpuPinInfo,
 * virDomainGetNumaParameters, the PCI devices of virDomainGetXMLDesc as
 * module xml reads them) and apply (virDomainPinVcpu, virDomainPinEmulator,
 * virDomainSetNumaParameters).
 *
 * Memory per node is not in libvirt's API.  For a QEMU domain whose
 * process this user may read, libvirt's pid file (/run/libvirt/qemu/NAME.pid,
 * or the session's) gives the process, whose numa_maps and vCPU thread ids
 * are then read as for any process; otherwise memory is "unknown".
 *
 * Apply: the old pinning of every vCPU is saved first; a refusal while
 * pinning restores it, and so does a refusal of the NUMA parameters, so a
 * domain is changed wholly or not at all.  The memory of a QEMU domain
 * moves when its node set changes (libvirt sets the cgroup's cpuset.mems);
 * no rate limit can be put on that move.
 *
 * Quiet: each connection gets a silent error function of its own
 * (util/lv-util.h), and errors are read with virGetLastError.
 * Module: this file is part of module libvirt (module/module.h); the rest
 * of the runtime reaches its np__lv_ functions through runtime/modules.c.
 * Ownership: connections and domains are released before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "module/module.h"
#include "request/domain-int.h"
#include "runtime/rt-int.h"
#include "util/lv-util.h"


struct dom {
	virConnectPtr conn;
	virDomainPtr d;
	int nvcpus;
	int maxcpu;   /* CPUs in a cpumap */
	int maplen;
};

static void dom_close(struct dom *d)
{
	if (d->d)
		virDomainFree(d->d);
	if (d->conn)
		virConnectClose(d->conn);
}

static int dom_attach(const np_topo *topo, const char *uri, const char *name, struct dom *d,
		      struct np_error *err);

static int dom_open(const np_topo *topo, const char *uri, const char *name, bool rw,
		    struct dom *d, struct np_error *err)
{
	char msg[300];

	memset(d, 0, sizeof(*d));
	d->conn = np__lv_open(uri, !rw);
	if (!d->conn)
		return np__err(err, np__lv_open_failure(msg, sizeof(msg)), "cannot connect to '%s': %s",
			       uri, msg);
	return dom_attach(topo, uri, name, d, err);
}

/* Domain NAME on the connection D already holds (closed on failure). */
static int dom_attach(const np_topo *topo, const char *uri, const char *name, struct dom *d,
		      struct np_error *err)
{
	char msg[300];
	virDomainInfo info;
	int last = np_topo_cpu(topo, np_topo_cpu_count(topo) - 1)->os_id;

	d->d = virDomainLookupByName(d->conn, name);
	/* A UUID names a domain too (the host agent matches placement ids to either). */
	if (!d->d && strlen(name) == VIR_UUID_STRING_BUFLEN - 1)
		d->d = virDomainLookupByUUIDString(d->conn, name);
	if (!d->d) {
		dom_close(d);
		return np__err_reason(err, NP_EINPUT, "no_domain", "no domain '%s' at '%s'", name,
				      uri);
	}
	if (virDomainGetInfo(d->d, &info) < 0 || info.nrVirtCpu == 0) {
		np__err(err, NP_EOS, "cannot get the info of domain '%s': %s", name,
			np__lv_message(msg, sizeof(msg)));
		dom_close(d);
		return NP_EOS;
	}
	if (info.state != VIR_DOMAIN_RUNNING && info.state != VIR_DOMAIN_PAUSED &&
	    info.state != VIR_DOMAIN_BLOCKED) {
		dom_close(d);
		return np__err(err, NP_EINPUT, "domain '%s' is not running", name);
	}
	d->nvcpus = (int)info.nrVirtCpu;
	d->maxcpu = virNodeGetCPUMap(d->conn, NULL, NULL, 0);
	if (d->maxcpu < last + 1)
		d->maxcpu = last + 1;
	d->maplen = VIR_CPU_MAPLEN(d->maxcpu);
	return 0;
}

static int map_to_list(const unsigned char *map, int maxcpu, int *out)
{
	int n = 0;

	for (int c = 0; c < maxcpu; c++)
		if (VIR_CPU_USED(map, c))
			out[n++] = c;
	return n;
}

static void list_to_map(const int *cpus, int n, unsigned char *map, int maplen)
{
	memset(map, 0, (size_t)maplen);
	for (int i = 0; i < n; i++)
		if (cpus[i] >= 0 && cpus[i] / 8 < maplen)
			VIR_USE_CPU(map, cpus[i]);
}

/* ---- observe -------------------------------------------------------- */

static int obs_vcpus(const np_topo *topo, struct dom *d, np_obs *obs, struct np_error *err)
{
	virVcpuInfoPtr info = calloc((size_t)d->nvcpus, sizeof(*info));
	unsigned char *maps = calloc((size_t)d->nvcpus, (size_t)d->maplen);
	int *list = calloc((size_t)d->maxcpu + 1, sizeof(int));
	int n, rc = 0;
	char msg[300];

	if (!info || !maps || !list) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	n = virDomainGetVcpus(d->d, info, d->nvcpus, maps, d->maplen);
	if (n < 0) {
		rc = np__err(err, NP_EOS, "cannot get the vCPUs of domain '%s': %s", obs->name,
			     np__lv_message(msg, sizeof(msg)));
		goto out;
	}
	for (int i = 0; !rc && i < n; i++) {
		struct np_rt_thread t = { .vcpu = (int)info[i].number, .cpu = info[i].cpu,
					  .node_idx = -1, .state = info[i].state == VIR_VCPU_RUNNING
									   ? 'R' : 'S',
					  .cpu_ms = info[i].cpuTime / 1000000 };
		int ci = np_topo_cpu_index(topo, t.cpu);

		t.node_idx = ci >= 0 ? np_topo_cpu(topo, ci)->node_idx : -1;
		snprintf(t.name, sizeof(t.name), "vcpu %d", t.vcpu);
		t.nallowed = map_to_list(VIR_GET_CPUMAP(maps, d->maplen, i), d->maxcpu, list);
		if (np__obs_add_thread(obs, &t, list))
			rc = np__err(err, NP_ENOMEM, "out of memory");
	}
out:
	free(info);
	free(maps);
	free(list);
	return rc;
}

static void obs_policy(struct dom *d, np_obs *obs)
{
	virTypedParameterPtr params = NULL;
	int n = 0;
	const char *set = NULL;
	int mode = -1;
	static const char *const modes[] = { "strict", "preferred", "interleave", "restrictive" };

	if (virDomainGetNumaParameters(d->d, NULL, &n, 0) < 0 || n <= 0 ||
	    !(params = calloc((size_t)n, sizeof(*params))))
		return;
	if (virDomainGetNumaParameters(d->d, params, &n, 0) == 0) {
		virTypedParamsGetString(params, n, VIR_DOMAIN_NUMA_NODESET, &set);
		virTypedParamsGetInt(params, n, VIR_DOMAIN_NUMA_MODE, &mode);
		snprintf(obs->policy, sizeof(obs->policy), "%s%s%s",
			 mode >= 0 && mode < 4 ? modes[mode] : "unknown", set && *set ? ":" : "",
			 set ? set : "");
	}
	virTypedParamsClear(params, n);
	free(params);
}

/*
 * The host PCI devices of the domain XML (<hostdev type='pci'>, and
 * <interface type='hostdev'>: an SR-IOV function given as a NIC), read by
 * module xml's domain reader, the one np_request_from_domain_xml() uses.
 * A document it refuses, or no module xml, leaves the devices unknown.
 */
static void obs_devices(struct dom *d, np_obs *obs)
{
	const struct np__module *m;
	struct np__domain doc = { 0 };
	struct np_error err = { 0 };
	char *xml = NULL, addr[16];

	if (np__module_get("xml", &m, NULL) || !(xml = virDomainGetXMLDesc(d->d, 0)))
		return;
	if (((const struct np__mod_xml *)m->ops)->domain_read(xml, strlen(xml), "domain", &doc,
							      &err) == 0)
		for (int i = 0; i < doc.ndevs; i++)
			if (np__dom_dev_address(&doc.devs[i], addr, sizeof(addr)))
				np__obs_add_device(obs, addr);
	np__domain_clear(&doc);
	free(xml);
}

/* The local QEMU process of domain NAME, from libvirt's pid file; -1. */
static int qemu_pid(const char *uri, const char *name)
{
	char path[512], *buf = NULL;
	size_t len;
	long pid = -1;
	const char *rt = getenv("XDG_RUNTIME_DIR");

	if (strncmp(uri, "qemu:///system", 14) == 0)
		snprintf(path, sizeof(path), "/run/libvirt/qemu/%s.pid", name);
	else if (strncmp(uri, "qemu:///session", 15) == 0 && rt)
		snprintf(path, sizeof(path), "%s/libvirt/qemu/run/%s.pid", rt, name);
	else
		return -1;
	if (strchr(name, '/') || np__read_file(path, 64, &buf, &len, NULL))
		return -1;
	if (!np__parse_int(buf, 1, INT32_MAX, &pid))
		pid = -1;
	free(buf);
	return (int)pid;
}

/* Thread ids of the vCPUs and memory, from the local QEMU process. */
static void obs_local(const struct np__rt_os *os, const np_topo *topo, const char *uri,
		      np_obs *obs)
{
	int pid = qemu_pid(uri, obs->name);
	np_obs *p = NULL;

	if (pid <= 0 || np__observe_process(os, topo, pid, &p, NULL))
		return;
	obs->pid = pid;
	for (int i = 0; i < obs->nthreads; i++)
		for (int j = 0; j < p->nthreads; j++)
			if (p->threads[j].vcpu == obs->threads[i].vcpu)
				obs->threads[i].tid = p->threads[j].tid;
	obs->mem_known = p->mem_known;
	memcpy(obs->mem, p->mem, (size_t)obs->nnodes * sizeof(*obs->mem));
	obs->total_kb = p->total_kb;
	np_obs_free(p);
}

int np__lv_observe_domain(const struct np__rt_os *os, const np_topo *topo, const char *uri,
			  const char *name, np_obs **out, struct np_error *err)
{
	struct dom d;
	np_obs *obs;
	int rc = dom_open(topo, uri, name, false, &d, err);

	if (rc)
		return rc;
	obs = np__obs_new(topo);
	if (!obs) {
		dom_close(&d);
		return np__err(err, NP_ENOMEM, "out of memory");
	}
	obs->domain = true;
	obs->time_ms = os->now_ms();
	snprintf(obs->name, sizeof(obs->name), "%s", name);
	rc = obs_vcpus(topo, &d, obs, err);
	if (!rc) {
		obs_policy(&d, obs);
		obs_devices(&d, obs);
		obs_local(os, topo, uri, obs);
	}
	dom_close(&d);
	if (rc) {
		np_obs_free(obs);
		return rc;
	}
	*out = obs;
	return 0;
}

/* ---- apply ---------------------------------------------------------- */

static int pin(struct dom *d, int vcpu, const int *cpus, int n, const np_topo *topo)
{
	unsigned char *map = calloc(1, (size_t)d->maplen);
	int *all = NULL, nall = 0, rc;

	if (!map)
		return -1;
	if (!cpus && np__all_cpus(topo, &all, &nall) == 0) {
		cpus = all;
		n = nall;
	}
	list_to_map(cpus, n, map, d->maplen);
	rc = vcpu >= 0 ? virDomainPinVcpu(d->d, (unsigned)vcpu, map, d->maplen)
		       : virDomainPinEmulator(d->d, map, d->maplen, VIR_DOMAIN_AFFECT_LIVE);
	free(map);
	free(all);
	return rc;
}

static int set_numa(struct dom *d, const np_topo *topo, const int *nodes, int n, int mode)
{
	virTypedParameterPtr params = NULL;
	int np = 0, maxp = 0, ids[256], k = 0, rc = -1;
	char set[600];

	for (int i = 0; i < n && k < 256; i++)
		ids[k++] = np_topo_node(topo, nodes[i])->os_id;
	np__format_cpulist(ids, k, set, sizeof(set));
	if (virTypedParamsAddString(&params, &np, &maxp, VIR_DOMAIN_NUMA_NODESET, set) == 0 &&
	    (mode < 0 || virTypedParamsAddInt(&params, &np, &maxp, VIR_DOMAIN_NUMA_MODE, mode) == 0))
		rc = virDomainSetNumaParameters(d->d, params, np, VIR_DOMAIN_AFFECT_LIVE);
	virTypedParamsFree(params, np);
	return rc;
}

static int lv_mode(enum np_mem_policy p)
{
	switch (p) {
	case NP_MEM_POLICY_STRICT: return VIR_DOMAIN_NUMATUNE_MEM_STRICT;
	case NP_MEM_POLICY_INTERLEAVE: return VIR_DOMAIN_NUMATUNE_MEM_INTERLEAVE;
	default: return VIR_DOMAIN_NUMATUNE_MEM_PREFERRED;
	}
}

struct saved {
	unsigned char *maps; /* nvcpus x maplen */
	int n;
};

static int save_pins(struct dom *d, struct saved *s)
{
	s->maps = calloc((size_t)d->nvcpus, (size_t)d->maplen);
	if (!s->maps)
		return -1;
	s->n = virDomainGetVcpuPinInfo(d->d, d->nvcpus, s->maps, d->maplen, VIR_DOMAIN_AFFECT_LIVE);
	return s->n < 0 ? -1 : 0;
}

static void restore_pins(struct dom *d, const struct saved *s, int upto)
{
	for (int v = 0; v < upto && v < s->n; v++)
		virDomainPinVcpu(d->d, (unsigned)v, VIR_GET_CPUMAP(s->maps, d->maplen, v),
				 d->maplen);
}

/* The CPUs vCPU V goes to under SPEC. */
static void target_cpus(const struct np_apply_spec *s, int v, const int *node_cpus, int nnc,
			const int **cpus, int *n)
{
	*cpus = NULL; /* soft: every CPU */
	*n = 0;
	if (s->affinity != NP_AFFINITY_HARD)
		return;
	for (int i = 0; i < s->npins; i++) {
		if (s->pins[i].vcpu == v) {
			*cpus = &s->pins[i].cpu;
			*n = 1;
			return;
		}
	}
	*cpus = node_cpus;
	*n = nnc;
}

/*
 * Where --io-threads pins the emulator (its I/O threads are in it): the
 * CPUs of the nodes of the domain's PCI devices, as for a process's non-vCPU
 * threads (apply-process.c); without a device whose node is known, the
 * placement's nodes.  Node indexes in NODES.
 */
struct emu {
	int *cpus, ncpus;
	int nodes[64], nnodes;
	bool near_devices;
};

static int emu_get(const np_topo *topo, struct dom *d, const struct np_apply_spec *s,
		   struct emu *e)
{
	np_obs *obs = np__obs_new(topo);
	int n;

	if (!obs)
		return NP_ENOMEM;
	obs_devices(d, obs);
	n = np_io_nodes(topo, obs, e->nodes, 64);
	np_obs_free(obs);
	e->near_devices = n > 0;
	if (!e->near_devices) {
		for (n = 0; n < s->nnodes && n < 64; n++)
			e->nodes[n] = s->nodes[n];
	}
	e->nnodes = n < 64 ? n : 64;
	return np__cpus_of_nodes(topo, e->nodes, e->nnodes, &e->cpus, &e->ncpus) ? NP_ENOMEM : 0;
}

/* What SPEC does to domain D, one step a line, naming its nodes and CPUs. */
static int say(const np_topo *topo, const struct dom *d, const struct np_apply_spec *s,
	       const int *nc, int nnc, const struct emu *e, const char *name,
	       struct np_apply_result *res)
{
	char list[512], all[512], nodes[256];
	int rc = 0, ids[64], n = 0, *every = NULL, nevery = 0;

	for (int i = 0; i < s->nnodes && n < 64; i++)
		ids[n++] = np_topo_node(topo, s->nodes[i])->os_id;
	np__format_cpulist(ids, n, nodes, sizeof(nodes));
	if (np__all_cpus(topo, &every, &nevery))
		return -1;
	np__format_cpulist(every, nevery, all, sizeof(all));
	free(every);
	for (int v = 0; !rc && v < d->nvcpus; v++) {
		const int *cpus;
		int k;

		target_cpus(s, v, nc, nnc, &cpus, &k);
		np__format_cpulist(cpus, k, list, sizeof(list));
		if (cpus)
			rc = np__step(res, "domain %s vCPU %d: pin to CPUs %s", name, v, list);
		else
			rc = np__step(res, "domain %s vCPU %d: may run on every CPU, %s (soft "
				      "affinity: nodes %s preferred)", name, v, all, nodes);
	}
	if (!rc && s->io_threads) {
		char enodes[256];

		for (n = 0; n < e->nnodes; n++)
			ids[n] = np_topo_node(topo, e->nodes[n])->os_id;
		np__format_cpulist(ids, n, enodes, sizeof(enodes));
		np__format_cpulist(e->cpus, e->ncpus, list, sizeof(list));
		rc = np__step(res, "domain %s emulator threads: pin to CPUs %s (nodes %s%s)", name,
			      list, enodes, e->near_devices ? ", its PCI devices'" : "");
	}
	if (!rc && (s->migrate || s->set_policy))
		rc = np__step(res, "domain %s: memory on nodes %s%s%s", name, nodes,
			      s->set_policy ? ", mode " : "",
			      !s->set_policy ? "" : s->policy == NP_MEM_POLICY_STRICT ? "strict"
			      : s->policy == NP_MEM_POLICY_INTERLEAVE ? "interleave" : "preferred");
	if (!rc && s->affinity == NP_AFFINITY_SOFT)
		rc = np__step(res, "soft affinity: nodes %s recorded for the balancer", nodes);
	if (!rc && s->migrate && s->rate_mb_s > 0)
		rc = np__step(res, "note: libvirt moves the memory at once; no rate limit");
	return rc;
}

static int record_domain(const np_topo *topo, const char *uri, const char *name,
			 const struct np_apply_spec *s, struct np_error *err)
{
	struct np__pref p = { .domain = true, .uri = (char *)uri, .name = (char *)name,
			      .migrate = s->migrate, .nnodes = s->nnodes };
	int ids[256];

	for (int i = 0; i < s->nnodes && i < 256; i++)
		ids[i] = np_topo_node(topo, s->nodes[i])->os_id;
	p.nodes = ids;
	p.nnodes = s->nnodes < 256 ? s->nnodes : 256;
	return np__pref_write(s->run_dir, &p, err);
}

/* Pin every vCPU; on refusal restore the saved pins. */
static int pin_all(const np_topo *topo, struct dom *d, const struct np_apply_spec *s,
		   const int *nc, int nnc, const struct saved *sv, const char *name,
		   struct np_error *err)
{
	char msg[300];

	for (int v = 0; v < d->nvcpus; v++) {
		const int *cpus;
		int n;

		target_cpus(s, v, nc, nnc, &cpus, &n);
		if (pin(d, v, cpus, n, topo) < 0) {
			np__err(err, NP_EOS, "cannot pin vCPU %d of domain '%s': %s (nothing "
				"changed)", v, name, np__lv_message(msg, sizeof(msg)));
			restore_pins(d, sv, v);
			return NP_EOS;
		}
	}
	return 0;
}

static int apply_rest(const np_topo *topo, struct dom *d, const char *uri, const char *name,
		      const struct np_apply_spec *s, const struct emu *e,
		      const struct saved *sv, struct np_error *err)
{
	char msg[300];
	int rc;

	if ((s->migrate || s->set_policy) &&
	    set_numa(d, topo, s->nodes, s->nnodes, s->set_policy ? lv_mode(s->policy) : -1) < 0) {
		np__err(err, NP_EOS, "cannot set the NUMA parameters of domain '%s': %s (nothing "
			"changed)", name, np__lv_message(msg, sizeof(msg)));
		restore_pins(d, sv, d->nvcpus);
		return NP_EOS;
	}
	if (s->io_threads)
		pin(d, -1, e->cpus, e->ncpus, topo); /* advice only: a driver without it is fine */
	rc = s->affinity == NP_AFFINITY_SOFT
		     ? record_domain(topo, uri, name, s, err)
		     : np_pref_remove(s->run_dir, &(struct np_target){ .uri = uri, .domain = name }, err);
	return rc;
}

static int domain_apply(const np_topo *topo, struct dom *d, const char *uri, const char *name,
			const struct np_apply_spec *s, struct np_apply_result *res,
			struct np_error *err);

int np__lv_domain_apply(const np_topo *topo, const char *uri, const char *name,
			const struct np_apply_spec *s, struct np_apply_result *res,
			struct np_error *err)
{
	struct dom d;
	int rc = dom_open(topo, uri, name, !s->dry_run, &d, err);

	return rc ? rc : domain_apply(topo, &d, uri, name, s, res, err);
}

/*
 * The same on CONN, a connection the caller holds (the watcher's: a
 * test:///FILE URI is another host on each new connection).
 */
int np__lv_domain_apply_on(void *conn, const np_topo *topo, const char *name,
			   const struct np_apply_spec *s, struct np_apply_result *res,
			   struct np_error *err)
{
	struct dom d = { .conn = conn };
	char *uri = virConnectGetURI(conn);
	const char *shown = uri ? uri : "libvirt";
	int rc;

	virConnectRef(conn); /* dom_close() drops it */
	rc = dom_attach(topo, shown, name, &d, err);
	rc = rc ? rc : domain_apply(topo, &d, shown, name, s, res, err);
	free(uri);
	return rc;
}

/* SPEC on the opened D; closes it. */
static int domain_apply(const np_topo *topo, struct dom *dp, const char *uri, const char *name,
			const struct np_apply_spec *s, struct np_apply_result *res,
			struct np_error *err)
{
	struct dom d = *dp;
	struct saved sv = { 0 };
	struct emu e = { 0 };
	int *nc = NULL, nnc = 0, rc = 0;

	for (int i = 0; i < s->npins; i++)
		if (s->pins[i].vcpu >= d.nvcpus) {
			rc = np__err(err, NP_EINPUT, "domain '%s' has no vCPU %d", name,
				     s->pins[i].vcpu);
			goto out;
		}
	if (np__cpus_of_nodes(topo, s->nodes, s->nnodes, &nc, &nnc) ||
	    (s->io_threads && emu_get(topo, &d, s, &e)) ||
	    say(topo, &d, s, nc, nnc, &e, name, res)) {
		rc = np__err(err, NP_ENOMEM, "out of memory");
		goto out;
	}
	if (s->dry_run)
		goto out;
	if (save_pins(&d, &sv) < 0) {
		char msg[300];

		rc = np__err(err, NP_EOS, "cannot read the pinning of domain '%s': %s", name,
			     np__lv_message(msg, sizeof(msg)));
		goto out;
	}
	rc = pin_all(topo, &d, s, nc, nnc, &sv, name, err);
	if (!rc)
		rc = apply_rest(topo, &d, uri, name, s, &e, &sv, err);
out:
	free(sv.maps);
	free(e.cpus);
	free(nc);
	dom_close(&d);
	return rc;
}

int np__lv_domain_pin(const np_topo *topo, const char *uri, const char *name, int vcpu,
		      const int *cpus, int n, struct np_error *err)
{
	struct dom d;
	char msg[300];
	int rc = dom_open(topo, uri, name, true, &d, err);

	if (rc)
		return rc;
	if (pin(&d, vcpu, cpus, n, topo) < 0)
		rc = np__err(err, NP_EOS, "cannot pin vCPU %d of domain '%s': %s", vcpu, name,
			     np__lv_message(msg, sizeof(msg)));
	dom_close(&d);
	return rc;
}

int np__lv_domain_nodeset(const np_topo *topo, const char *uri, const char *name,
			  const int *nodes, int n, struct np_error *err)
{
	struct dom d;
	char msg[300];
	int rc = dom_open(topo, uri, name, true, &d, err);

	if (rc)
		return rc;
	if (set_numa(&d, topo, nodes, n, -1) < 0)
		rc = np__err(err, NP_EOS, "cannot set the NUMA node set of domain '%s': %s", name,
			     np__lv_message(msg, sizeof(msg)));
	dom_close(&d);
	return rc;
}
