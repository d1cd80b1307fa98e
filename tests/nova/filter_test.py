#!/usr/bin/python3
"""NumaplaceFilter (contrib/nova) through Nova's real filter handler,
against a real `numaplace serve` on a unix socket, side by side with
Nova's own NUMATopologyFilter on the same hosts.

    filter_test.py --numaplace build/cli/numaplace [--requests N]

Hosts: every host of shared/nova/vectors.json, seeded random hosts of the
shapes tests/nova/gen_cases.py makes (SMT or not, huge pages, several
sockets) and hosts of the shape of Nova's fit-cache defect
(research/nova.md 3.6), as numaplace topologies registered with
PUT /v1/hosts/{name} (ratios 16.0 / 1.5, Nova's defaults).  Nova's side
gets real nova.scheduler.host_manager.HostState objects built the way
Nova's tests build them (HostState(host, node, cell), then attributes),
whose NUMA cells and usage are read from the store the service serves
(`numaplace fleet show --format json`): both filters see the same hosts.

Requests: every vector's request and seeded random ones (gen_cases.py),
those Nova's API accepts (numa_get_constraints, PCI aliases "nic" and "a1"
of the scheduler's [pci] alias, which the filter sends along).

Rules, per request and host, run twice (empty hosts, then after ~80
placements made through POST /v1/placements):
* NumaplaceFilter passes a host iff NUMATopologyFilter does, except where
  Nova's answer is unsound: there the cache-free oracle
  (tests/nova/nova_batch.py, Nova's own per-cell check over every
  injective map) decides, and NumaplaceFilter must match it;
* at least one unsound Nova answer is met (the fit-cache case: three
  4096 MB cells, guest cells of 512, 512 and 8192 MB), and numaplace is
  right there;
* one POST /v1/fit per filter_all, whatever the number of hosts;
* a passing host gets limits['numa_topology'] as NUMATopologyFilter gives;
* hosts the service does not know do not pass; a service that is down
  rejects every host (on_error = reject, the default) or passes every host
  (on_error = pass);
* the nova.conf lines of README.md's Nova section load the filter through
  Nova's own loader (HostFilterHandler.get_matching_classes of
  [filter_scheduler] available_filters) and enable it by its name.

Exits 0, 1 on a failure, 77 when /usr/bin/python3 cannot import Nova.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, '..', '..'))
SHARED = os.environ.get('NP_SHARED') or os.path.join(SRC, '..', 'shared')
os.environ['NP_SHARED'] = SHARED
sys.path[:0] = [os.path.join(SRC, 'contrib', 'nova'), HERE, os.path.join(SHARED, 'nova')]

try:
    import nova_fit  # noqa: E402  (imports and configures Nova)
    from nova import objects  # noqa: E402
    from nova.pci import stats as pci_stats_mod  # noqa: E402
    from nova.scheduler import filters as nova_filters  # noqa: E402
    from nova.scheduler import host_manager  # noqa: E402
    from nova.scheduler.filters import numa_topology_filter  # noqa: E402
except ImportError as e:
    print('skip: Nova cannot be imported (%s); apt-get install python3-nova' % e)
    sys.exit(77)

import gen_cases  # noqa: E402
import nova_batch  # noqa: E402
from numaplace_nova import client as np_client  # noqa: E402
from numaplace_nova import filter as np_filter  # noqa: E402

CPU_RATIO, RAM_RATIO = 16.0, 1.5
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print('ok - %s' % what)
    else:
        failed += 1
        print('not ok - %s' % what)
    return cond


# ---- hosts: Nova case cells -> numaplace topology -> Nova cells with the store's usage ----

def topology(cells):
    """numaplace.topology/1 of Nova case CELLS (a legacy host: every CPU
    serves shared and pinned guests; usage left out: it comes from
    placements)."""
    nodes, cpus, devices = [], [], []
    for c in cells:
        for pool in c.get('pci') or []:
            for _ in range(pool['count']):
                devices.append({'address': '0000:%02x:00.%d' % (len(devices) // 8 + 1,
                                                                len(devices) % 8),
                                'vendor': '0x' + pool['vendor_id'],
                                'device': '0x' + pool['product_id'],
                                'class': '0x020000', 'node': c['id']})
        ids = sorted(set(c.get('cpus', [])) | set(c.get('shared_cpus', [])) |
                     set(c.get('dedicated_cpus', [])))
        huge = [p for p in (c.get('mempages') or []) if p['size_kb'] > 4]
        huge_mb = sum(p['total'] * p['size_kb'] // 1024 for p in huge)
        nodes.append({'id': c['id'], 'cpus': ids,
                      'memory_mb': {'total': max(c['memory_mb'], huge_mb)},
                      'hugepages': [{'size_kb': p['size_kb'], 'total': p['total'],
                                     'free': p['total']} for p in huge]})
        groups = [sorted(set(g) & set(ids)) for g in (c.get('siblings') or [])]
        groups = [g for g in groups if g]
        alone = sorted(set(ids) - {x for g in groups for x in g})
        for core, g in enumerate(groups + [[x] for x in alone]):
            for cpu in g:
                cpus.append({'id': cpu, 'node': c['id'], 'core': core,
                             'socket': c.get('socket')})
    return {'schema': 'numaplace.topology/1', 'nodes': nodes, 'cpus': cpus,
            'devices': devices}


def nova_cells(topo, shown):
    """Nova case cells of host TOPO with the usage `fleet show` gave."""
    by_node = {n['node']: n for n in shown['nodes']}
    cells = []
    for node in topo['nodes']:
        s = by_node[node['id']]
        groups = {}
        for cpu in topo['cpus']:
            if cpu['node'] == node['id']:
                groups.setdefault(cpu['core'], []).append(cpu['id'])
        socket = next((c['socket'] for c in topo['cpus'] if c['node'] == node['id']), None)
        pci = {}
        for d in topo['devices']:
            if d['node'] == node['id']:
                key = (d['vendor'][2:], d['device'][2:])
                pci[key] = pci.get(key, 0) + 1
        cells.append({
            'id': node['id'], 'cpus': node['cpus'],
            'siblings': [sorted(g) for g in groups.values()],
            'memory_mb': s['memory_mb']['total'],
            'memory_usage_mb': s['memory_mb']['used'],
            'cpu_usage': s['cpus']['vcpus_used'],
            'pinned_cpus': s['cpus']['pinned'], 'socket': socket,
            'mempages': [{'size_kb': p['size_kb'], 'total': p['total'],
                          'used': p['used'], 'reserved': p['reserved']}
                         for p in s['pages']],
            'pci': [{'vendor_id': v, 'product_id': p, 'count': n}
                    for (v, p), n in sorted(pci.items())]})
    return cells


def host_state(name, cells):
    """A real HostState, built as nova/tests/unit/scheduler/fakes.py does."""
    hs = host_manager.HostState(name, name, None)
    hs.numa_topology = nova_fit.build_host_topology({'cells': cells})
    # a scheduler's HostState always has pools, maybe none (then no PCI fits)
    hs.pci_stats = nova_fit.build_pci_stats({'cells': cells}, hs.numa_topology) or \
        pci_stats_mod.PciDeviceStats(hs.numa_topology,
                                     stats=objects.PciDevicePoolList(objects=[]))
    hs.cpu_allocation_ratio = CPU_RATIO
    hs.ram_allocation_ratio = RAM_RATIO
    return hs


def fit_cache_cells():
    """research/nova.md 3.6: three empty 4096 MB cells."""
    return [{'id': i, 'cpus': list(range(4 * i, 4 * i + 4)), 'memory_mb': 4096}
            for i in range(3)]


FIT_CACHE_REQUEST = {'vcpus': 3, 'memory_mb': 9216, 'extra_specs': {
    'hw:numa_nodes': '3', 'hw:numa_cpus.0': '0', 'hw:numa_mem.0': '512',
    'hw:numa_cpus.1': '1', 'hw:numa_mem.1': '512',
    'hw:numa_cpus.2': '2', 'hw:numa_mem.2': '8192'}}


def host_cells(rng):
    """(name, Nova case cells) of every host to register."""
    out, seen = [], set()
    with open(os.path.join(SHARED, 'nova', 'vectors.json')) as f:
        vectors = json.load(f)['vectors']
    for v in vectors:
        h = v['case'].get('host')
        if h and h.get('cells'):
            key = json.dumps(topology(h['cells']), sort_keys=True)
            if key not in seen:
                seen.add(key)
                out.append(('vec-%02d' % len(out), h['cells']))
    for i in range(16):
        out.append(('gen-%02d' % i, gen_cases.gen_host(rng)['cells']))
    for i in range(6):
        out.append(('cache-%02d' % i, gen_cases.gen_cache_case(rng)['host']['cells']))
    out.append(('fit-cache', fit_cache_cells()))
    return out, vectors


# ---- requests ----------------------------------------------------------------

def requests(vectors, rng, count):
    out = []
    for v in vectors:
        c = v['case']
        out += [c['request']] if 'request' in c else c.get('requests', [])
    for _ in range(count):
        out.append(gen_cases.gen_request(rng, {}))
        out.append(gen_cases.gen_cache_case(rng)['request'])
    out.append(FIT_CACHE_REQUEST)
    # What real flavors and images carry besides NUMA keys must not upset the service.
    out.append({'vcpus': 4, 'memory_mb': 4096, 'extra_specs': {
        'hw:numa_nodes': '2', 'quota:cpu_shares': '2048', 'hw:watchdog_action': 'reset',
        'aggregate_instance_extra_specs:ssd': 'true', 'hw_rng:allowed': 'True'},
        'image_properties': {'hw_disk_bus': 'virtio', 'hw_qemu_guest_agent': True,
                             'hw_vif_model': 'virtio', 'hw_video_ram': 64,
                             'hw_numa_cpus.0': '0-1', 'hw_numa_mem.0': '1024',
                             'hw_numa_cpus.1': '2-3', 'hw_numa_mem.1': '3072'}})
    keep = []
    for r in out:
        p = nova_fit.Prepared(r)
        if p.error is None:
            keep.append((r, p))
    return keep


def spec_of(prepared):
    spec = prepared.request_spec()
    spec.scheduler_hints = {}
    return spec


# ---- the service ---------------------------------------------------------------

class Service(object):
    def __init__(self, numaplace, tmp, url=None, token_file=None):
        self.numaplace = numaplace
        self.store = 'sqlite:%s/fleet.db' % tmp
        self.url = url or 'unix:%s/serve.sock' % tmp
        self.token_file = token_file
        self.logname = os.path.join(tmp, 'serve-%d.log' % id(self))
        self.log = open(self.logname, 'w')
        self.client = np_client.Client(self.url, token_file=token_file, timeout=30)
        self.proc = None

    def start(self):
        """Start serve and wait until it answers (or died; 120 s guard a hang).

        A TCP url with port 0: the server picks a free port, and the url
        becomes the address it says it serves on.  (A port found free
        beforehand and closed again may be taken by anything meanwhile.)
        """
        listen = self.url[len('http://'):] if self.url.startswith('http://') else self.url
        extra = ['--token-file', self.token_file] if self.token_file else []
        subprocess.run([self.numaplace, 'fleet', 'list', '--store', self.store],
                       capture_output=True)
        self.proc = subprocess.Popen([self.numaplace, 'serve', '--store', self.store,
                                      '--listen', listen] + extra, stdout=self.log,
                                     stderr=self.log)
        end = time.monotonic() + 120
        while time.monotonic() < end and self.proc.poll() is None:
            with open(self.logname) as f:
                m = re.search(r'serving on (\S+)', f.read())
            if m:
                if self.url.startswith('http://'):
                    self.url = 'http://' + m.group(1)
                    self.client = np_client.Client(self.url, token_file=self.token_file,
                                                   timeout=30)
                try:
                    self.client.call('GET', '/v1/health')
                    return True
                except np_client.ServiceError:
                    pass
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def shown(self):
        p = subprocess.run([self.numaplace, 'fleet', 'show', '--store', self.store,
                            '--format', 'json'], capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError('fleet show: %s' % p.stderr)
        return {h['name']: h for h in json.loads(p.stdout)['hosts']}


# ---- comparing -----------------------------------------------------------------

class Counting(np_filter.NumaplaceFilter):
    """NumaplaceFilter that counts its calls to the service."""

    calls = 0

    def client(self):
        c = super().client()
        if not getattr(c, '_counted', False):
            real = c.call

            def call(*a, **k):
                Counting.calls += 1
                return real(*a, **k)
            c.call = call
            c._counted = True
        return c


def sound(hs, prepared):
    """The cache-free answer, with NUMATopologyFilter's SMT rule."""
    specs = prepared.flavor.extra_specs
    props = prepared.image.properties
    if ('dedicated' in (specs.get('hw:cpu_policy'), props.get('hw_cpu_policy')) and
            'require' in (specs.get('hw:cpu_thread_policy'),
                          props.get('hw_cpu_thread_policy')) and
            not hs.numa_topology.has_threads):
        return False
    limits = objects.NUMATopologyLimits(cpu_allocation_ratio=CPU_RATIO,
                                        ram_allocation_ratio=RAM_RATIO)
    return nova_batch.oracle_fits(hs.numa_topology, prepared.topology, limits,
                                  prepared.pci_requests.requests or None, hs.pci_stats)


def compare(states, reqs, phase, stats):
    handler = nova_filters.HostFilterHandler()
    nova = numa_topology_filter.NUMATopologyFilter()
    ours = Counting()
    bad = []
    for req, prep in reqs:
        before = Counting.calls
        got_nova = {h.host for h in handler.get_filtered_objects([nova], states, spec_of(prep))
                    or []}
        for h in states:
            h.limits.clear()
        got_ours = handler.get_filtered_objects([ours], states, spec_of(prep)) or []
        calls = Counting.calls - before
        if calls != (0 if prep.topology is None else 1):
            bad.append('%s: %d calls to the service for one request' % (req, calls))
        for h in got_ours:
            if prep.topology is not None and 'numa_topology' not in h.limits:
                bad.append('%s passed without limits' % h.host)
        got_ours = {h.host for h in got_ours}
        for hs in states:
            n, o = hs.host in got_nova, hs.host in got_ours
            stats['pairs'] += 1
            stats['fits'] += o
            if prep.pci_requests.requests:
                stats['pci_pairs'] += 1
                stats['pci_fits'] += o
            if n == o:
                continue
            right = sound(hs, prep)
            if o != right:
                bad.append('%s on %s: numaplace %s, Nova %s, sound %s' % (
                    json.dumps(req, sort_keys=True), hs.host, o, n, right))
            else:
                stats['nova_unsound'] += 1
                stats['nova_false_pass'] += n
                stats['unsound_hosts'].add(hs.host)
    check(not bad, '%s: NumaplaceFilter agrees with NUMATopologyFilter on %d requests x %d '
          'hosts, except where Nova is unsound (%d so far)%s' % (
              phase, len(reqs), len(states), stats['nova_unsound'],
              ''.join('\n  ' + b for b in bad[:10])))


def multi_create(service):
    """Nova's multi-create loop (nova/scheduler/manager.py _schedule): for
    each instance, filter, take the first passing host, consume the guest
    from its HostState (Nova's own consume_from_request).  Two hosts of two
    4-CPU cells, guests of one cell and 4 dedicated CPUs: 4 fit in all, 2 a
    host.  Five instances: four are placed, at most two a host, the fifth
    finds none; NUMATopologyFilter on the same consumed hosts agrees at each
    step.  The service's store holds none of them (nothing was claimed):
    the filter sends Nova's consumed instances as pending copies."""
    cells = [{'id': i, 'cpus': list(range(4 * i, 4 * i + 4)), 'memory_mb': 4096}
             for i in range(2)]
    hosts = []
    for name in ('mc-a', 'mc-b'):
        topo = topology(cells)
        service.client.call('PUT', '/v1/hosts/%s?cpu_ratio=%g&ram_ratio=%g' % (
            name, CPU_RATIO, RAM_RATIO), topo)
        hosts.append((name, topo))
    prep = nova_fit.Prepared({'vcpus': 4, 'memory_mb': 2048, 'extra_specs': {
        'hw:numa_nodes': '1', 'hw:cpu_policy': 'dedicated'}})
    spec = spec_of(prep)
    spec.num_instances = 5
    states = states_from(service, hosts)
    handler = nova_filters.HostFilterHandler()
    ours, nova = np_filter.NumaplaceFilter(), numa_topology_filter.NUMATopologyFilter()
    chosen, disagree = [], []
    for i in range(5):
        spec.instance_uuid = '00000000-0000-0000-0000-%012d' % i
        got = handler.get_filtered_objects([ours], states, spec, i) or []
        theirs = handler.get_filtered_objects([nova], states, spec, i) or []
        if sorted(h.host for h in got) != sorted(h.host for h in theirs):
            disagree.append('instance %d: numaplace %s, Nova %s' % (
                i, sorted(h.host for h in got), sorted(h.host for h in theirs)))
        if not got:
            chosen.append(None)
            continue
        host = sorted(got, key=lambda h: h.host)[0]
        host.consume_from_request(spec)
        chosen.append(host.host)
    check(chosen[:4] == ['mc-a', 'mc-a', 'mc-b', 'mc-b'] and chosen[4] is None,
          "multi-create of 5: each host takes the 2 it can hold, the 5th finds none "
          "(the filter counts Nova's consumed instances as pending): %s" % chosen)
    check(not disagree, 'multi-create: NUMATopologyFilter agrees at each step%s' % (
        ''.join('\n  ' + d for d in disagree)))
    for name, _ in hosts:
        service.client.call('DELETE', '/v1/hosts/%s' % name)


def states_from(service, hosts):
    shown = service.shown()
    return [host_state(name, nova_cells(topo, shown[name])) for name, topo in hosts]


def load(service, hosts, rng, count):
    placed = 0
    names = [n for n, _ in hosts]
    for i in range(count):
        req = gen_cases.gen_request(rng, {})
        p = nova_fit.Prepared(req)
        if p.error is not None or p.pci_requests.requests:
            continue
        body = {'id': 'load-%d' % i, 'host': rng.choice(names),
                'flavor': {k: req[k] for k in ('vcpus', 'memory_mb', 'extra_specs')},
                'image': {'properties': req.get('image_properties', {})}}
        try:
            service.client.call('POST', '/v1/placements', body)
            placed += 1
        except np_client.ServiceError as e:
            if e.code not in ('no_valid_host', 'bad_request'):
                raise
    return placed


# ---- the rest ------------------------------------------------------------------

def readme_conf(tmp):
    """The nova.conf lines of README.md's Nova section, as a file."""
    text = open(os.path.join(SRC, 'README.md')).read()
    m = re.search(r'## Nova.*?```ini\n(.*?)```', text, re.S)
    if not m:
        return None
    path = os.path.join(tmp, 'nova.conf')
    with open(path, 'w') as f:
        f.write(m.group(1))
    return path


def loader(tmp, service):
    path = readme_conf(tmp)
    if not check(path is not None, "README.md's Nova section has nova.conf lines"):
        return
    conf = nova_fit.CONF
    conf(['--config-file', path], project='nova', default_config_files=[])
    classes = nova_filters.HostFilterHandler().get_matching_classes(
        conf.filter_scheduler.available_filters)
    by_name = {c.__name__: c for c in classes}
    check(by_name.get('NumaplaceFilter') is np_filter.NumaplaceFilter and
          'NUMATopologyFilter' in by_name,
          'available_filters of README.md load NumaplaceFilter (and Nova\'s own) '
          'through Nova\'s loader')
    check('NumaplaceFilter' in conf.filter_scheduler.enabled_filters and
          'NUMATopologyFilter' not in conf.filter_scheduler.enabled_filters,
          'enabled_filters of README.md name NumaplaceFilter instead of NUMATopologyFilter')
    check(conf.numaplace.on_error == 'reject' and conf.numaplace.url.startswith('unix:'),
          '[numaplace] of README.md: a unix socket, fail closed')
    conf([], project='nova', default_config_files=[])


def readme_register(tmp, service):
    """README.md's curl line registers a host the filter then passes."""
    text = open(os.path.join(SRC, 'README.md')).read()
    m = re.search(r"^ *(curl --unix-socket /run/numaplace/serve.sock .*'http://localhost"
                  r"/v1/hosts/compute-1[^']*')$", text, re.M)
    if not check(m is not None, "README.md shows how a host is registered (curl)"):
        return
    cells = fit_cache_cells()
    with open(os.path.join(tmp, 'host.json'), 'w') as f:
        json.dump(topology(cells), f)
    cmd = m.group(1).replace('/run/numaplace/serve.sock', service.url[len('unix:'):])
    p = subprocess.run(['bash', '-c', cmd], cwd=tmp, capture_output=True, text=True)
    try:
        doc = service.client.call('GET', '/v1/hosts/compute-1')
    except np_client.ServiceError as e:
        doc = {'error': str(e)}
    good = p.returncode == 0 and doc.get('name') == 'compute-1'
    check(good, "README.md's curl line registers compute-1%s" % (
        '' if good else ': %s %s %s' % (p.stdout[-300:], p.stderr[-300:], doc)))
    prep = nova_fit.Prepared({'vcpus': 2, 'memory_mb': 2048,
                              'extra_specs': {'hw:numa_nodes': '2'}})
    got = nova_filters.HostFilterHandler().get_filtered_objects(
        [np_filter.NumaplaceFilter()], [host_state('compute-1', cells)], spec_of(prep)) or []
    check([h.host for h in got] == ['compute-1'], 'and NumaplaceFilter passes it')


def over_tcp(numaplace, tmp, states, reqs):
    """[numaplace] url = http://HOST:PORT with token_file: the same answers."""
    token = os.path.join(tmp, 'token')
    with open(token, 'w') as f:
        f.write('s3cret-token-for-the-filter-%d\n' % os.getpid())
    os.chmod(token, 0o600)
    tcp = Service(numaplace, tmp, 'http://127.0.0.1:0', token)
    if not check(tcp.start(), 'numaplace serve on TCP with a token, on the same store'):
        return
    req, prep = next((r, p) for r, p in reqs if p.topology is not None)
    handler = nova_filters.HostFilterHandler()
    ours = np_filter.NumaplaceFilter()
    unix = {h.host for h in handler.get_filtered_objects([ours], states, spec_of(prep)) or []}
    conf = nova_fit.CONF
    try:
        conf.set_override('url', tcp.url, group='numaplace')
        conf.set_override('token_file', token, group='numaplace')
        got = {h.host for h in handler.get_filtered_objects([ours], states, spec_of(prep)) or []}
        check(got == unix and got, 'over TCP with the token file: the same %d hosts pass' %
              len(unix))
        wrong = os.path.join(tmp, 'wrong-token')
        with open(wrong, 'w') as f:
            f.write('not-the-token-but-just-as-long\n')
        conf.set_override('token_file', wrong, group='numaplace')
        got = handler.get_filtered_objects([ours], states, spec_of(prep)) or []
        check(got == [], 'a wrong token: the service refuses, no host passes (fail closed)')
    finally:
        conf.clear_override('token_file', group='numaplace')
        conf.set_override('url', 'unix:%s/serve.sock' % tmp, group='numaplace')
        tcp.stop()


def service_gone(service, states, reqs):
    req, prep = next((r, p) for r, p in reqs if p.topology is not None)
    handler = nova_filters.HostFilterHandler()
    ours = np_filter.NumaplaceFilter()
    stranger = host_state('not-registered', fit_cache_cells())
    got = handler.get_filtered_objects([ours], [stranger], spec_of(prep)) or []
    check(got == [], 'a host the service does not know does not pass')
    service.stop()
    got = handler.get_filtered_objects([ours], states, spec_of(prep)) or []
    check(got == [], 'service down, on_error = reject: no host passes')
    nova_fit.CONF.set_override('on_error', 'pass', group='numaplace')
    got = handler.get_filtered_objects([ours], states, spec_of(prep)) or []
    check(len(got) == len(states), 'service down, on_error = pass: every host passes')
    nova_fit.CONF.clear_override('on_error', group='numaplace')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--numaplace', required=True)
    ap.add_argument('--requests', type=int, default=30)
    ap.add_argument('--seed', type=int, default=12)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(os.path.abspath(a.numaplace), tmp)
        if not service.start():
            service.log.flush()
            log = open(service.log.name).read()
            if 'no libsqlite3 support' in log:
                print('skip: this numaplace has no SQLite store')
                return 77
            print(log[-2000:])
            check(False, 'numaplace serve answers on a unix socket')
            return 1
        nova_fit.CONF.set_override('url', service.url, group='numaplace')
        # The scheduler's [pci] alias: gen_cases.py's flavors name "nic", the vectors "a1".
        nova_fit.CONF.set_override('alias', [json.dumps(dict(gen_cases.PCI, name=n))
                                             for n in ('nic', 'a1')], group='pci')
        try:
            cells, vectors = host_cells(rng)
            hosts = []
            for name, c in cells:
                topo = topology(c)
                try:
                    service.client.call('PUT', '/v1/hosts/%s?cpu_ratio=%g&ram_ratio=%g' % (
                        name, CPU_RATIO, RAM_RATIO), topo)
                    hosts.append((name, topo))
                except np_client.ServiceError as e:
                    print('# %s not registered: %s' % (name, e))
            check(len(hosts) >= len(cells) - 2, '%d of %d hosts registered' % (
                len(hosts), len(cells)))
            reqs = requests(vectors, rng, a.requests)
            print('# %d requests, %d of them with PCI devices' % (
                len(reqs), sum(bool(p.pci_requests.requests) for _, p in reqs)))
            stats = {'pairs': 0, 'fits': 0, 'nova_unsound': 0, 'nova_false_pass': 0,
                     'pci_pairs': 0, 'pci_fits': 0,
                     'unsound_hosts': set()}
            compare(states_from(service, hosts), reqs, 'empty hosts', stats)
            check('fit-cache' in stats['unsound_hosts'],
                  "the fit-cache case: Nova passes a host that cannot hold the guest, "
                  "NumaplaceFilter does not")
            placed = load(service, hosts, rng, 200)
            check(placed >= 40, '%d placements made through POST /v1/placements' % placed)
            states = states_from(service, hosts)
            compare(states, reqs, 'after placements', stats)
            print('# %d host x request pairs, %d fit, %d where Nova was unsound (%d hosts '
                  'passed that cannot hold the guest, %d refused that can)' % (
                      stats['pairs'], stats['fits'], stats['nova_unsound'],
                      stats['nova_false_pass'], stats['nova_unsound'] - stats['nova_false_pass']))
            check(0 < stats['fits'] < stats['pairs'], 'some pairs fit, some do not')
            check(0 < stats['pci_fits'] < stats['pci_pairs'],
                  'with PCI devices (the [pci] alias table sent along): %d of %d pairs fit' % (
                      stats['pci_fits'], stats['pci_pairs']))
            multi_create(service)
            loader(tmp, service)
            readme_register(tmp, service)
            over_tcp(service.numaplace, tmp, states, reqs)
            service_gone(service, states, reqs)
        finally:
            service.stop()
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
