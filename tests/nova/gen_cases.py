#!/usr/bin/env python3
"""Seeded random Nova cases (shared/nova/CASE_FORMAT.md) for the
differential test against Nova's real code.

    gen_cases.py --seed 1 --count 2000 > cases.jsonl

The same seed always gives the same cases (Python's random with a fixed
seed; no set iteration, no hashing).  What is drawn, and why:

* hosts of 1-8 cells, with or without SMT (siblings numbered either
  "k, k+1" or "k, k+N" as Linux does), legacy (`cpus`) or split
  (`shared_cpus` / `dedicated_cpus`) CPU sets, gaps in cell ids, sockets,
  existing usage (floating vCPUs, memory, pinned CPUs), page pools (the
  default 4 KiB pool, or 4 KiB + 2 MiB + 1 GiB pools with some used), PCI
  pools on cells and without NUMA node, distances;
* requests of every kind Nova parses: no NUMA, hw:numa_nodes, explicit
  asymmetric hw:numa_cpus/hw:numa_mem (the shape that trips Nova's fit
  cache), dedicated/mixed/shared policies, thread and emulator-thread
  policies, realtime masks, page sizes, PCI aliases with NUMA policies,
  image properties, and a share of invalid ones;
* ratios present or absent, packing or spreading, and sequences of 2-5
  requests placed one after another;
* guests larger than one cell (vCPUs and memory beyond a node: with a
  NUMA request they fit nowhere, without one they float over several),
  many without any NUMA request, huge pages and SMT thread policies;
* besides these synthetic hosts, real ones: the NUMA nodes, CPUs and SMT
  siblings of hwloc sysfs fixtures as numaplace reads them (`real`, a list
  of numaplace.topology/1 documents, see host_from_topology), with random
  usage on top.
"""

import argparse
import json
import random

PCI = {'vendor_id': '8086', 'product_id': '1520'}


def cpu_layout(rng, first, cores, threads):
    """CPU ids and sibling groups of one cell."""
    ids = list(range(first, first + cores * threads))
    if threads == 1:
        return ids, [[c] for c in ids]
    if rng.random() < 0.5:   # siblings adjacent: (0,1), (2,3)
        groups = [ids[k * threads:(k + 1) * threads] for k in range(cores)]
    else:                    # siblings apart: (0,4), (1,5)
        groups = [[ids[k + t * cores] for t in range(threads)]
                  for k in range(cores)]
    return ids, groups


def mempages(rng, mem, mem_used):
    """Page pools: 4 KiB for what is not in huge pages, some 2 MiB, 1 GiB."""
    huge2m = rng.choice([0, 0, 256, 512, 1024]) if mem >= 2048 else 0
    huge1g = rng.choice([0, 0, 1, 2]) if mem >= 4096 else 0
    small_mb = mem - huge2m * 2 - huge1g * 1024
    pools = [{'size_kb': 4, 'total': small_mb * 256,
              'used': min(small_mb, mem_used) * 256, 'reserved': 0}]
    if huge2m:
        pools.append({'size_kb': 2048, 'total': huge2m,
                      'used': rng.randint(0, huge2m), 'reserved':
                      rng.choice([0, 0, 16])})
    if huge1g:
        pools.append({'size_kb': 1048576, 'total': huge1g,
                      'used': rng.randint(0, huge1g), 'reserved': 0})
    return pools


def gen_cell(rng, idx, cid, first, cores, threads, split, sockets):
    ids, groups = cpu_layout(rng, first, cores, threads)
    mem = rng.choice([1024, 2048, 4096, 4096, 8192, 16384])
    cell = {'id': cid, 'memory_mb': mem, 'siblings': groups,
            'socket': idx % sockets if sockets > 1 else 0}
    if split:
        ndedicated = rng.randint(0, cores) * threads
        dedicated = [c for g in groups[:ndedicated // threads] for c in g]
        cell['dedicated_cpus'] = sorted(dedicated)
        cell['shared_cpus'] = sorted(set(ids) - set(dedicated))
        pinnable = cell['dedicated_cpus']
    else:
        cell['cpus'] = ids
        pinnable = ids
    if rng.random() < 0.5:
        cell['cpu_usage'] = rng.randint(0, 2 * len(ids))
    mem_used = 0
    if rng.random() < 0.4:
        mem_used = rng.randrange(0, mem + 1, 256) // rng.choice([1, 2, 4])
        cell['memory_usage_mb'] = mem_used
    if pinnable and rng.random() < 0.3:
        cell['pinned_cpus'] = sorted(rng.sample(
            pinnable, rng.randint(0, len(pinnable) // 2 + 1)))
    if rng.random() < 0.35:
        cell['mempages'] = mempages(rng, mem, mem_used)
    if rng.random() < 0.2:
        cell['pci'] = [dict(PCI, count=rng.randint(1, 2))]
    return cell


def distances(rng, n, sockets):
    far = rng.choice([20, 21, 32])
    near = rng.choice([11, 12, 16])
    return [[10 if i == j else (near if i % sockets == j % sockets else far)
             for j in range(n)] for i in range(n)]


def gen_host(rng):
    n = rng.choice([1, 2, 2, 2, 3, 4, 4, 4, 6, 8])
    threads = rng.choice([1, 1, 2])
    cores = rng.choice([1, 2, 3, 4, 4, 6, 8, 8])
    split = rng.random() < 0.3
    sockets = rng.choice([1, 1, 2])
    gaps = rng.random() < 0.15
    cells, first = [], 0
    for i in range(n):
        cid = i * 2 if gaps else i
        cells.append(gen_cell(rng, i, cid, first, cores, threads, split,
                              sockets))
        first += cores * threads
    host = {'cells': cells}
    if rng.random() < 0.1:
        host['pci_no_numa'] = [dict(PCI, count=1)]
    if rng.random() < 0.3:
        host['distances'] = distances(rng, n, sockets)
    return host


def host_from_topology(rng, topo):
    """A case host from a numaplace.topology/1 document: one cell per
    node with CPUs, its CPUs, memory and SMT siblings (the CPUs of the
    node sharing a core), socket of its first CPU; random usage on top."""
    cpus = {c['id']: c for c in topo.get('cpus', [])}
    cells = []
    for n in topo['nodes']:
        ids = [c for c in n['cpus'] if cpus.get(c, {}).get('online', True)]
        if not ids or n['memory_mb']['total'] < 256:
            continue
        groups, seen = [], set()
        for c in ids:
            if c in seen:
                continue
            g = [x for x in cpus[c].get('siblings', [c]) if x in ids] if c in cpus else [c]
            seen.update(g)
            groups.append(sorted(g))
        mem = n['memory_mb']['total']
        cell = {'id': n['id'], 'cpus': ids, 'memory_mb': mem, 'siblings': groups,
                'socket': cpus[ids[0]].get('socket') if ids[0] in cpus else None}
        if rng.random() < 0.5:
            cell['cpu_usage'] = rng.randint(0, 2 * len(ids))
        if rng.random() < 0.4:
            cell['memory_usage_mb'] = rng.randrange(0, mem + 1, 256) // rng.choice([1, 2, 4])
        if rng.random() < 0.3:
            cell['pinned_cpus'] = sorted(rng.sample(ids, rng.randint(0, len(ids) // 2)))
        cells.append(cell)
    host = {'cells': cells}
    if topo.get('distances_source') == 'firmware':
        keep = [i for i, n in enumerate(topo['nodes'])
                if n['id'] in {c['id'] for c in cells}]
        host['distances'] = [[topo['nodes'][i]['distances'][j] for j in keep] for i in keep]
    return host


def split_uneven(rng, total, parts, step):
    """TOTAL split in PARTS positive multiples of STEP, usually uneven."""
    units = total // step
    if units < parts:
        return None
    cuts = sorted(rng.sample(range(1, units), parts - 1))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [units])]
    return [s * step for s in sizes]


def numa_specs(rng, specs, vcpus, mem):
    nodes = rng.choice([1, 2, 2, 3, 4])
    cpus = mems = None
    if nodes > 1 and rng.random() < 0.5:   # explicit, mostly asymmetric
        cpus = split_uneven(rng, vcpus, nodes, 1)
        mems = split_uneven(rng, mem, nodes, 256)
    if not (cpus and mems):
        cpus = mems = None
        while (vcpus % nodes or mem % nodes) and rng.random() < 0.95:
            nodes -= 1   # keep a few ImageNUMATopologyAsymmetric
    specs['hw:numa_nodes'] = str(nodes)
    if cpus and mems:
        order = list(range(vcpus))
        rng.shuffle(order)
        at = 0
        for n in range(nodes):
            ids = sorted(order[at:at + cpus[n]])
            at += cpus[n]
            specs['hw:numa_cpus.%d' % n] = ','.join(map(str, ids))
            specs['hw:numa_mem.%d' % n] = str(mems[n])


def cpu_specs(rng, specs, vcpus):
    policy = rng.choice(['dedicated', 'dedicated', 'dedicated', 'mixed',
                         'shared', None, None])
    if policy:
        specs['hw:cpu_policy'] = policy
    if policy == 'mixed' and vcpus > 1:
        k = rng.randint(1, vcpus - 1)
        specs['hw:cpu_dedicated_mask'] = ','.join(
            map(str, sorted(rng.sample(range(vcpus), k))))
    if policy in ('dedicated', 'mixed') and rng.random() < 0.35:
        specs['hw:cpu_thread_policy'] = rng.choice(
            ['prefer', 'isolate', 'require'])
    if policy in ('dedicated', 'mixed') and rng.random() < 0.25:
        specs['hw:emulator_threads_policy'] = rng.choice(
            ['isolate', 'isolate', 'share'])
    if policy == 'dedicated' and vcpus > 1 and rng.random() < 0.1:
        specs['hw:cpu_realtime'] = 'yes'
        specs['hw:cpu_realtime_mask'] = '^0'


def broken(rng, specs, vcpus):
    """One of the mistakes Nova's API refuses."""
    kind = rng.randrange(6)
    if kind == 0:
        specs['hw:numa_nodes'] = rng.choice(['0', '-1', 'two'])
    elif kind == 1:
        specs['hw:cpu_policy'] = 'dedicatd'
    elif kind == 2:
        specs['hw:numa_nodes'] = '2'
        specs['hw:numa_cpus.0'] = '0-%d' % (vcpus + 2)
        specs['hw:numa_mem.0'] = '512'
    elif kind == 3:
        specs['hw:mem_page_size'] = 'huge'
    elif kind == 4:
        specs['hw:cpu_thread_policy'] = 'isolate'
        specs['hw:cpu_policy'] = 'shared'
    else:
        specs['hw:emulator_threads_policy'] = 'isolate'
        specs.pop('hw:cpu_policy', None)


def gen_request(rng, case):
    big = rng.random() < 0.2   # beyond one cell of most hosts
    vcpus = rng.choice([12, 16, 24, 32, 48] if big else
                       [1, 2, 2, 2, 3, 4, 4, 4, 6, 8, 16])
    mem = rng.choice([12288, 16384, 24576, 40000, 65536] if big else
                     [256, 512, 1024, 1024, 2048, 2048, 3072, 4096, 8192])
    specs, props = {}, {}
    plain = rng.random() < 0.25   # no NUMA request at all: Nova floats it
    if not plain and rng.random() < 0.7:
        numa_specs(rng, specs, vcpus, mem)
    if not plain and rng.random() < 0.8:
        cpu_specs(rng, specs, vcpus)
    if not plain and rng.random() < 0.2:
        specs['hw:mem_page_size'] = rng.choice(
            ['small', 'large', 'any', '2048', '1GB'])
        if specs['hw:mem_page_size'] in ('any', 'large') and \
                rng.random() < 0.5:
            props['hw_mem_page_size'] = rng.choice(['small', '2048'])
    if rng.random() < 0.15:
        case['pci_aliases'] = [dict(PCI, name='nic')]
        if rng.random() < 0.3:
            case['pci_aliases'][0]['numa_policy'] = 'preferred'
        specs['pci_passthrough:alias'] = 'nic:%d' % rng.randint(1, 2)
        if rng.random() < 0.6:
            specs['hw:pci_numa_affinity_policy'] = rng.choice(
                ['required', 'legacy', 'preferred', 'socket'])
    if rng.random() < 0.05:
        props['hw_cpu_policy'] = 'dedicated'
    if rng.random() < 0.06:
        broken(rng, specs, vcpus)
    req = {'vcpus': vcpus, 'memory_mb': mem, 'extra_specs': specs}
    if props:
        req['image_properties'] = props
    return req


def gen_cache_case(rng):
    """The shape of Nova's fit-cache defect (research/nova.md 3.6): a few
    similar cells, a guest whose explicit cells differ in size."""
    n = rng.randint(3, 6)
    cells = []
    for i in range(n):
        mem = rng.choice([2048, 4096, 4096, 8192])
        cells.append({'id': i, 'memory_mb': mem,
                      'cpus': list(range(i * 4, i * 4 + 4)),
                      'memory_usage_mb': rng.choice([0, 0, mem // 2])})
    nodes = rng.randint(2, min(4, n))
    vcpus = rng.randint(nodes, 8)
    mem = rng.randrange(256 * nodes, 12289, 256)
    specs = {'hw:numa_nodes': str(nodes)}
    cpus = split_uneven(rng, vcpus, nodes, 1)
    mems = split_uneven(rng, mem, nodes, 256)
    at = 0
    for k in range(nodes):
        specs['hw:numa_cpus.%d' % k] = ','.join(
            str(x) for x in range(at, at + cpus[k]))
        specs['hw:numa_mem.%d' % k] = str(mems[k])
        at += cpus[k]
    if rng.random() < 0.3:
        specs['hw:cpu_policy'] = 'dedicated'
    return {'host': {'cells': cells}, 'cpu_allocation_ratio': 16.0,
            'ram_allocation_ratio': rng.choice([1.0, 1.5]),
            'request': {'vcpus': vcpus, 'memory_mb': mem,
                        'extra_specs': specs}}


def gen_case(rng, real=None):
    if rng.random() < 0.1:
        return gen_cache_case(rng)
    case = {}
    if rng.random() < 0.02:
        case['host'] = None
    elif rng.random() < 0.02:
        case['host'] = {'cells': []}
    elif real and rng.random() < 0.2:
        case['host'] = host_from_topology(rng, rng.choice(real))
        case['_real'] = True
    else:
        case['host'] = gen_host(rng)
    r = rng.random()
    if r < 0.6:
        case['cpu_allocation_ratio'] = rng.choice([1.0, 2.0, 4.0, 16.0])
        case['ram_allocation_ratio'] = rng.choice([1.0, 1.0, 1.5])
    elif r < 0.7:
        case['cpu_allocation_ratio'] = rng.choice([1.0, 4.0])
    case['packing'] = rng.random() < 0.3
    if rng.random() < 0.15 and case['host'] and case['host']['cells']:
        # every generated cell has page pools, which Nova's usage code needs
        case['requests'] = [gen_request(rng, case)
                            for _ in range(rng.randint(2, 5))]
    else:
        case['request'] = gen_request(rng, case)
    return case


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--count', type=int, default=1000)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    for i in range(args.count):
        case = gen_case(rng)
        case['_id'] = '%d-%d' % (args.seed, i)
        print(json.dumps(case, sort_keys=True))


if __name__ == '__main__':
    main()
