#!/usr/bin/python3
"""Answer many Nova cases in one process with Nova's real code.

Imports shared/nova/nova_fit.py as a module (so Nova is imported once, not
once per case) and reads JSON lines on standard input, one case per line;
writes one JSON line per case: nova_fit.evaluate()'s output, or
{"crash": "..."} when Nova raised.

With "_oracle": K in a case (an index into its requests; 0 for a single
request), the answer also has "oracle_fits": whether request K fits when
Nova's own per-cell check (_numa_fit_instance_cell, on a fresh copy of the
guest cell every time) is run over every injective map of guest cells onto
host cells, PCI included, without numa_fit_instance_to_host's fit cache
(research/nova.md 3.6), and with PCI requests on a host without PCI pools
refused (nova_fit.py then gives Nova no pci_stats, so Nova skips the PCI
check; a real scheduler host always has pools).  The requests before K are placed and charged by
Nova as usual first.  That is the sound answer a correct engine must give.

Run with the Debian python (/usr/bin/python3) after
`apt-get install -y python3-nova`.  NP_SHARED names the shared/ folder.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('NP_SHARED') or os.path.join(HERE, '..', '..', '..', 'shared')
sys.path.insert(0, os.path.join(SHARED, 'nova'))

import nova_fit  # noqa: E402  (imports and configures Nova)
from nova import exception  # noqa: E402
from nova.virt import hardware  # noqa: E402


def _cell_fits(host_cell, guest_cell, limits, reserved):
    try:
        return hardware._numa_fit_instance_cell(
            host_cell, guest_cell.obj_clone(), limits, reserved)
    except exception.MemoryPageSizeNotSupported:
        return None


def oracle_fits(host_topology, topo, limits, pci_reqs, pci_stats):
    """Cache-free search: feasibility matrix, then every injective map."""
    if host_topology is None or topo is None:
        return topo is None
    hosts = list(host_topology.cells)
    guests = list(topo.cells)
    if len(guests) > len(hosts):
        return False
    emu = topo.emulator_threads_isolated
    fit = {}
    for gi, g in enumerate(guests):
        for hi, h in enumerate(hosts):
            got = _cell_fits(h, g, limits, 1 if (emu and gi == 0) else 0)
            if got is not None:
                fit[(gi, hi)] = got

    used = [False] * len(hosts)
    chosen = []

    def search(gi):
        if gi == len(guests):
            if pci_reqs:
                # nova_fit.py passes no pci_stats for a host without PCI
                # pools, and Nova then skips the PCI check; the scheduler's
                # HostState always has (maybe empty) pools: no devices, no fit
                return bool(pci_stats) and pci_stats.support_requests(
                    pci_reqs, list(chosen))
            return True
        for hi in range(len(hosts)):
            if used[hi] or (gi, hi) not in fit:
                continue
            used[hi] = True
            chosen.append(fit[(gi, hi)])
            if search(gi + 1):
                return True
            chosen.pop()
            used[hi] = False
        return False

    return search(0)


def oracle(case, k):
    """Place requests[:k] as Nova does, then answer request k soundly."""
    nova_fit._apply_config(case)
    host = case.get('host')
    host_topology = nova_fit.build_host_topology(host)
    pci_stats = nova_fit.build_pci_stats(host, host_topology)
    limits = nova_fit._limits(case)
    reqs = case['requests'] if 'requests' in case else [case['request']]
    for req in reqs[:k]:
        prep = nova_fit.Prepared(req)
        if prep.error is not None or prep.topology is None:
            continue
        fitted = hardware.numa_fit_instance_to_host(
            host_topology, prep.topology.obj_clone(), limits=limits,
            pci_requests=prep.pci_requests.requests or None,
            pci_stats=pci_stats)
        if fitted is None:
            continue
        host_topology = hardware.numa_usage_from_instance_numa(
            host_topology, fitted)
        if pci_stats and prep.pci_requests.requests:
            pci_stats.apply_requests(prep.pci_requests.requests, fitted.cells)
    prep = nova_fit.Prepared(reqs[k])
    if prep.error is not None:
        return None
    return oracle_fits(host_topology, prep.topology, limits,
                       prep.pci_requests.requests or None, pci_stats)


def answer(line):
    case = json.loads(line)
    try:
        out = nova_fit.evaluate(case)
        if '_oracle' in case:
            out['oracle_fits'] = oracle(case, int(case['_oracle']))
    except Exception as e:  # a crash of Nova's code is an answer too
        out = {'crash': '%s: %s' % (type(e).__name__, e)}
    return out


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        sys.stdout.write(json.dumps(answer(line), sort_keys=True) + '\n')
        sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
