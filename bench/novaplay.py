#!/usr/bin/python3
"""Nova's real placement code on numaplace workloads (numaplace gen), guests
arriving and leaving, for bench/quality.

    bench/novaplay.py WORKLOADS.jsonl > NOVA.jsonl

For every workload (one per line) and both of Nova's strategies (spread,
Nova's default, and pack), the events are played on one host, as Nova's
scheduler and resource tracker do: an arrival is fitted with
hardware.numa_fit_instance_to_host() (the only call timed) and, when it
fits, charged with numa_usage_from_instance_numa() (and the PCI pools with
apply_requests()); a departure is given back with
numa_usage_from_instance_numa(..., free=True).  A run ends at the first
refusal.  Output, one line per workload:

    {"spread": [DECISION, ...], "pack": [...]}
    DECISION = {"fits": true, "us": 812.5, "problems": 0,
                "cells": [{"host_cell": 2, "pins": [4, 5], "pagesize_kb": null}]}

`pins` are the host CPUs of the cell's pinned vCPUs in increasing vCPU
order (-1 for a vCPU Nova left unpinned, which its fit cache can do:
numaplace's validator then refuses the answer); `problems` counts what nova_fit's cache-free re-check finds wrong
with the answer (research/nova.md 3.6).  np-bench play replays these
answers onto numaplace's host and validates each one there.

Departures of guests with PCI devices are not modelled (Nova's
PciDeviceStats gives devices back only as device objects); a workload that
has both ends Nova's run at such a departure, with "unsupported" set.

Also used as a module: cells_of() gives the guest cells as Nova's API
derives them (numa_get_constraints), the optimum's model's input.

Run with /usr/bin/python3 (Debian's python3-nova).
"""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('NP_SHARED', os.path.join(HERE, '..', '..', 'shared'))
sys.path.insert(0, os.path.join(SHARED, 'nova'))

import nova_fit  # noqa: E402
from nova.virt import hardware  # noqa: E402


def events_of(case):
    """[('arrive', i) | ('depart', i)] of a workload."""
    if 'events' not in case:
        return [('arrive', i) for i in range(len(case['requests']))]
    return [('arrive', e['arrive']) if 'arrive' in e else ('depart', e['depart'])
            for e in case['events']]


def cells_of(req):
    """Nova's guest cells of a request: [{'pinned', 'floating', 'memory_mb',
    'pagesize_kb'}], plus the PCI devices it asks and their policy."""
    p = nova_fit.Prepared(req)
    if p.error is not None or p.topology is None:
        raise ValueError('request without a valid NUMA topology: %r' % (req,))
    cells = []
    for c in p.topology.cells:
        size = c.pagesize if 'pagesize' in c and c.pagesize else None
        cells.append({'pinned': len(c.pcpuset or ()), 'floating': len(c.cpuset or ()),
                      'memory_mb': c.memory, 'pagesize_kb': size})
    nics = sum(r.count for r in (p.pci_requests.requests or []))
    policies = {r.numa_policy for r in (p.pci_requests.requests or [])}
    return cells, nics, (policies.pop() if len(policies) == 1 else None)


def _cells_json(fitted):
    out = []
    for c in fitted.cells:
        pin = (c.cpu_pinning if 'cpu_pinning_raw' in c and c.cpu_pinning_raw
               else {})
        out.append({'host_cell': c.id,
                    'pins': [pin.get(v, -1) for v in sorted(c.pcpuset or ())],
                    'pagesize_kb': c.pagesize if 'pagesize' in c else None})
    return out


def _fit(prep, host, pci_stats, limits):
    topo = prep.topology.obj_clone()
    reqs = prep.pci_requests.requests or None
    t0 = time.perf_counter()
    fitted = hardware.numa_fit_instance_to_host(
        host, topo, limits=limits, pci_requests=reqs, pci_stats=pci_stats)
    return fitted, (time.perf_counter() - t0) * 1e6


def play(case, packing):
    """Nova's decisions for one workload and strategy."""
    case = dict(case, packing=packing)
    nova_fit._apply_config(case)
    host = nova_fit.build_host_topology(case['host'])
    pci_stats = nova_fit.build_pci_stats(case['host'], host)
    limits = nova_fit._limits(case)
    preps = [nova_fit.Prepared(r) for r in case['requests']]
    fitted, out = {}, []
    for kind, i in events_of(case):
        if kind == 'depart':
            if i in fitted:
                if preps[i].pci_requests.requests:
                    out.append({'fits': False, 'us': 0.0, 'unsupported':
                                'departure of a guest with PCI devices'})
                    break
                host = hardware.numa_usage_from_instance_numa(host, fitted.pop(i),
                                                              free=True)
            continue
        p = preps[i]
        if p.error is not None or p.topology is None:
            out.append({'fits': False, 'us': 0.0, 'error': str(p.error)})
            break
        f, us = _fit(p, host, pci_stats, limits)
        if f is None:
            out.append({'fits': False, 'us': round(us, 2)})
            break
        problems = nova_fit.verify_fit(host, p.topology, f, limits)
        out.append({'fits': True, 'us': round(us, 2), 'problems': len(problems),
                    'cells': _cells_json(f)})
        try:
            host = hardware.numa_usage_from_instance_numa(host, f)
            if pci_stats and p.pci_requests.requests:
                pci_stats.apply_requests(p.pci_requests.requests, f.cells)
        except Exception as e:  # Nova's usage code refusing its own answer
            out[-1]['usage_error'] = '%s: %s' % (type(e).__name__, e)
            break
        fitted[i] = f
    return out


def main(argv):
    if len(argv) != 2:
        sys.exit('usage: novaplay.py WORKLOADS.jsonl')
    with open(argv[1]) as f:
        for line in f:
            if line.strip():
                case = json.loads(line)
                print(json.dumps({'spread': play(case, False),
                                  'pack': play(case, True)}), flush=True)


if __name__ == '__main__':
    main(sys.argv)
