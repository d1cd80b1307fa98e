#!/usr/bin/env python3
"""Differential test: seeded random Nova cases through Nova's real code
(nova_batch.py, one process) and through `numaplace place --case
--validate` (one process per case, JOBS at a time), compared.

Rules, per request (for sequences, request by request while both placed
the previous ones identically; after the first difference the host states
differ and the rest is not compared):
* every numaplace plan passes the validator (no `invalid_plan`);
* validity agrees: Nova raised <=> numaplace refused, with the code that
  docs/policies/nova-errors.md gives Nova's class;
* fit / no fit agrees.  Where it does not, or where Nova's answer fails its
  own cache-free re-check (`consistency_problems`), the cache-free oracle
  (nova_batch.py `_oracle`: Nova's per-cell check over every injective
  map) decides: numaplace must match the oracle; such cases are counted
  as Nova defects when Nova's answer was unsound.  (A PCI request on a
  host without PCI pools is counted apart: nova_fit.py then gives Nova no
  pci_stats and Nova skips the PCI check; the oracle refuses it, as a
  real scheduler host with empty pools does.)
* guests without NUMA topology: Nova's filter lets them through without
  placing or charging them, and `place --case` must answer the same (fits
  true, no cells).  numaplace's own placement of them (the `numaplace`
  key) must then never refuse a guest the host can hold: this file's own
  per-node reading of the room (can_hold(), on hosts nothing was charged to
  yet) decides; a refusal where it says the room is there is a failure, so
  is a placement where it says there is none.

Hosts are the generator's synthetic ones and, for a fifth of the cases,
real ones: the nodes and SMT siblings of hwloc sysfs fixtures as
`numaplace topology --sysfs` reads them.

    diff.py --seed 1 --count 2000 [--jobs 2] [--keep DIR]

Prints the counts and every failure; exits 1 on any failure, 77 when
Nova's code cannot be imported by /usr/bin/python3.
"""

import argparse
import concurrent.futures
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import gen_cases
import novacmp

NOVA_PY = os.environ.get('NOVA_PYTHON', '/usr/bin/python3')
BATCH = os.path.join(novacmp.HERE, 'nova_batch.py')


def nova_answers(cases):
    """Nova's answers for CASES (a list), in one process."""
    env = dict(os.environ, NP_SHARED=novacmp.SHARED)
    p = subprocess.run([NOVA_PY, BATCH], env=env, capture_output=True, text=True,
                       input=''.join(json.dumps(c) + '\n' for c in cases))
    if p.returncode != 0:
        raise RuntimeError('nova_batch.py failed: %s' % p.stderr[-2000:])
    return [json.loads(line) for line in p.stdout.splitlines()]


def nova_available():
    p = subprocess.run([NOVA_PY, '-c', 'import nova.virt.hardware'],
                       capture_output=True, env=dict(
                           os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1'))
    return p.returncode == 0


# Fixtures with SMT siblings and without, as real hosts for the generator.
REAL = ['32intel64-2p8co2t+8ve', '256ppc-8n8s4t', '64amd64-4s2n4ca2co']


def real_topologies(numaplace):
    """numaplace.topology/1 documents of the REAL fixtures ([] without them)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in REAL:
            tar = os.path.join(novacmp.SHARED, 'fixtures', 'hwloc-linux', name + '.tar.bz2')
            d = os.path.join(tmp, name)
            os.makedirs(d)
            if not os.path.exists(tar) or subprocess.run(
                    ['tar', '-C', d, '-xjf', tar], capture_output=True).returncode:
                continue
            root = os.path.join(d, os.listdir(d)[0])
            p = subprocess.run([numaplace, 'topology', '--sysfs', root, '--format', 'json'],
                               capture_output=True, text=True)
            if p.returncode == 0:
                out.append(json.loads(p.stdout))
    return out


def ratios(case):
    """(limits?, cpu ratio, ram ratio) as the case gives them (CASE_FORMAT.md)."""
    if 'cpu_allocation_ratio' not in case and 'ram_allocation_ratio' not in case:
        return False, 16.0, 1.5
    return True, case.get('cpu_allocation_ratio', 16.0), case.get('ram_allocation_ratio', 1.5)


def can_hold(case, req):
    """Does the case's host (before any charge) have room for REQ, a guest
    without NUMA topology that may float over several cells?  This file's
    own reading of placement.md 8: every cell adds its shared CPUs to float
    over; a cell takes at most the memory of its smallest page pool and,
    with limits, its ratios' room (whole vCPUs, whole MiB)."""
    limits, cr, rr = ratios(case)
    vcpus, mem = req['vcpus'], req['memory_mb']
    cpus = room_cpu = room_mem = 0
    for c in case['host']['cells']:
        shared = c.get('shared_cpus') if 'shared_cpus' in c else c.get('cpus', [])
        pages = c.get('mempages')
        if pages is None:
            small = c['memory_mb']
        elif pages:
            p = min(pages, key=lambda q: q['size_kb'])
            small = p['total'] * p['size_kb'] // 1024
        else:
            small = c['memory_mb']
        cpu_room = vcpus if shared else 0
        mem_room = small
        if limits:
            cpu_room = min(cpu_room, max(0, math.floor(len(shared) * cr - c.get('cpu_usage', 0))))
            mem_room = min(mem_room, max(0, math.floor(
                c['memory_mb'] * rr - c.get('memory_usage_mb', 0))))
        cpus += len(shared)
        room_cpu += cpu_room
        room_mem += mem_room
    return cpus >= vcpus and room_cpu >= vcpus and room_mem >= mem


def steps(answer):
    return answer['results'] if 'results' in answer else [answer]


class Tally(object):
    def __init__(self):
        self.n = dict(cases=0, compared=0, agree=0, invalid_both=0, no_numa=0,
                      no_host=0, plans=0, nova_defect=0, nova_unsound=0, no_pci_pools=0, oracle_runs=0,
                      diverged=0, own_placed=0, own_refused=0, own_checked=0, own_room=0,
                      real_hosts=0)
        self.failures = []
        self.disputed = []   # (case index, step, ours fits, nova fits, nova unsound)

    def fail(self, case, i, k, what):
        self.failures.append((case, i, k, what))


def check_own(t, case, i, k, ours, pristine):
    """numaplace's own placement of a guest without NUMA topology (ours['numaplace'])."""
    own = ours.get('numaplace')
    if own is None:
        return
    req = (case.get('requests') or [case.get('request')])[k]
    t.n['own_placed' if own['fits'] else 'own_refused'] += 1
    if own['fits']:
        mem = sum(c['memory_mb'] for c in own['cells'])
        vcpus = sorted(v for c in own['cells'] for v in c['cpus'])
        if mem != req['memory_mb'] or vcpus != list(range(req['vcpus'])):
            t.fail(case, i, k, 'numaplace placed %d MiB and vCPUs %r of %d MiB and %d vCPUs'
                   % (mem, vcpus, req['memory_mb'], req['vcpus']))
    if not pristine or 'pci_passthrough:alias' in (req.get('extra_specs') or {}):
        return
    t.n['own_checked'] += 1
    hold = can_hold(case, req)
    t.n['own_room'] += hold
    if hold and not own['fits']:
        t.fail(case, i, k, 'numaplace refuses a guest without NUMA the host holds: %s'
               % own.get('why'))
    elif own['fits'] and not hold:
        t.fail(case, i, k, 'numaplace placed a guest without NUMA the host cannot hold')


def compare_step(t, table, case, i, k, nova, ours, pristine=True):
    """Compare request K of case I; returns True when the host states stay equal."""
    if ours.get('invalid_plan'):
        return False   # counted by compare()
    ncls = nova.get('error_class')
    if ncls is not None or novacmp.error_code(ours) is not None:
        bad = novacmp.check_error(ours, ncls, table)
        if bad:
            t.fail(case, i, k, '; '.join(bad))
            return False
        t.n['invalid_both'] += 1
        return True
    if nova.get('fits') is None:
        t.n['no_host'] += 1
        if ours.get('fits') is not None:
            t.fail(case, i, k, 'no host: fits should be null, got %r' % ours.get('fits'))
        return True
    if not nova.get('guest_numa'):
        t.n['no_numa'] += 1
        if ours.get('guest_numa'):
            t.fail(case, i, k, 'guest_numa: Nova false, numaplace true')
        elif ours.get('fits') != nova.get('fits') or ours.get('cells'):
            t.fail(case, i, k, 'no NUMA: Nova fits %r with no cells, numaplace fits %r, '
                   'cells %r' % (nova.get('fits'), ours.get('fits'), ours.get('cells')))
        check_own(t, case, i, k, ours, pristine)
        return not ours.get('cells')   # neither charged it
    t.n['compared'] += 1
    unsound = bool(nova.get('consistency_problems'))
    if nova['fits'] == ours.get('fits') and not unsound:
        t.n['agree'] += 1
        return not nova['fits'] or novacmp.same_choice(nova, ours)
    t.disputed.append((i, k, ours.get('fits'), nova['fits'], unsound))
    return False


def pci_without_pools(case, k):
    """Request K asks for PCI devices on a host with none: nova_fit.py then
    runs Nova without pci_stats and Nova skips the PCI check (fits); a
    real HostState has empty pools and the guest does not fit."""
    req = (case.get('requests') or [case.get('request')])[k]
    host = case.get('host') or {}
    pools = any(c.get('pci') for c in host.get('cells') or []) or host.get('pci_no_numa')
    return 'pci_passthrough:alias' in (req.get('extra_specs') or {}) and not pools


def settle(t, cases, jobs):
    """Ask the cache-free oracle about every disputed request."""
    if not t.disputed:
        return
    asks = []
    for i, k, _, _, _ in t.disputed:
        c = dict(cases[i])
        c['_oracle'] = k
        asks.append(c)
    answers = nova_answers(asks)
    t.n['oracle_runs'] = len(asks)
    for (i, k, ours, nova, unsound), ans in zip(t.disputed, answers):
        truth = ans.get('oracle_fits')
        if 'crash' in ans or truth is None:
            t.fail(cases[i], i, k, 'oracle failed: %s' % ans.get('crash'))
        elif ours != truth:
            t.fail(cases[i], i, k, 'fits: numaplace %r, Nova %r, sound answer %r%s' % (
                ours, nova, truth, ' (Nova unsound)' if unsound else ''))
        elif nova != ours and pci_without_pools(cases[i], k):
            t.n['no_pci_pools'] += 1
        elif nova != ours:
            t.n['nova_defect'] += 1
        else:   # same fit/no-fit, but Nova's mapping was unsound
            t.n['nova_unsound'] += 1
            t.n['agree'] += 1


def compare(cases, nova, ours, table):
    t = Tally()
    for i, (case, n, (rc, o, err)) in enumerate(zip(cases, nova, ours)):
        t.n['cases'] += 1
        if 'crash' in n:
            continue   # Nova's own code crashed on it: nothing to compare
        if o is None or rc not in (0, 1, 2):
            t.fail(case, i, 0, 'numaplace exited %d without an answer: %s' % (rc, err))
            continue
        ns, os_ = steps(n), steps(o)
        if len(ns) != len(os_):
            t.fail(case, i, 0, '%d answers for %d requests' % (len(os_), len(ns)))
            continue
        for k, b in enumerate(os_):   # every plan, compared or not
            t.n['plans'] += bool(b.get('fits') and b.get('cells'))
            if b.get('invalid_plan'):
                t.fail(case, i, k, 'plan fails the validator: %s' % b['invalid_plan'])
        t.n['real_hosts'] += bool(case.get('_real'))
        pristine = True   # nothing charged to the host yet
        for k, (a, b) in enumerate(zip(ns, os_)):
            if not compare_step(t, table, case, i, k, a, b, pristine):
                t.n['diverged'] += k + 1 < len(ns)
                break
            pristine = pristine and not b.get('cells')
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--numaplace', default=os.environ.get('NUMAPLACE', 'numaplace'))
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--count', type=int, default=2000)
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 2)
    ap.add_argument('--keep', help='write every failing case there')
    ap.add_argument('--show', type=int, default=30, help='failures to print')
    args = ap.parse_args()
    if not nova_available():
        print('skip: %s cannot import Nova (apt-get install -y python3-nova)' % NOVA_PY)
        return 77
    rng = random.Random(args.seed)
    real = real_topologies(args.numaplace)
    cases = [gen_cases.gen_case(rng, real) for _ in range(args.count)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        mine = pool.map(lambda c: novacmp.run_case(args.numaplace, c), cases)
        nova = nova_answers(cases)
        ours = list(mine)
    table = novacmp.error_table()
    t = compare(cases, nova, ours, table)
    settle(t, cases, args.jobs)
    for n, (case, i, k, what) in enumerate(t.failures):
        if n < args.show:
            print('FAIL case %d request %d: %s' % (i, k, what))
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            with open(os.path.join(args.keep, 'case-%d-%d.json' % (args.seed, i)), 'w') as f:
                json.dump(case, f, indent=1, sort_keys=True)
    n = t.n
    wrong = len([f for f in t.failures if f[3].startswith('fits:')])
    print('differential, seed %d: %d cases, %d requests compared on fit/no-fit: %d agree, '
          '%d differ = %d Nova defects (the cache-free oracle agrees with numaplace) + '
          '%d PCI requests on hosts without PCI pools (nova_fit.py skips that check) + '
          '%d numaplace wrong; %d more Nova answers unsound with the right fit/no-fit'
          % (args.seed, n['cases'], n['compared'], n['agree'],
             n['compared'] - n['agree'], n['nova_defect'], n['no_pci_pools'], wrong,
             n['nova_unsound']))
    print('  also: %d invalid on both sides (same code), %d without host, %d sequences '
          'stopped at a different choice, %d oracle runs, %d of %d numaplace plans passed '
          'the validator'
          % (n['invalid_both'], n['no_host'], n['diverged'], n['oracle_runs'],
             n['plans'] - len([f for f in t.failures if 'validator' in f[3]]), n['plans']))
    refusals = len([f for f in t.failures if 'refuses a guest' in f[3]])
    print('  without NUMA topology: %d requests, fits true as in Nova; numaplace placed %d, '
          'refused %d; of %d checked against the room, %d had room: %d refused (must be 0)'
          % (n['no_numa'], n['own_placed'], n['own_refused'], n['own_checked'],
             n['own_room'], refusals))
    print('  hosts: %d cases on real fixtures (%s)' % (n['real_hosts'], ', '.join(REAL)))
    print('%d passed, %d failed' % (n['cases'] - len({f[1] for f in t.failures}),
                                    len({f[1] for f in t.failures})))
    return 1 if t.failures else 0


if __name__ == '__main__':
    sys.exit(main())
