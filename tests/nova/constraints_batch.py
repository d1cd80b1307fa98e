#!/usr/bin/python3
"""Nova's verdict on many guest requests in one process (JSON lines).

(A line {"cpu_spec": TEXT, "image": bool} instead asks for the order in
which Python iterates the set parse_cpu_spec(TEXT) builds, after the
image-property copy when "image" is true: {"order": [...]}.)

Reads one request per line on stdin:
    {"vcpus": 8, "memory_mb": 4096, "extra_specs": {...},
     "image_properties": {...}, "pci_aliases": [...]}
and writes one line per request on stdout:
    {"error_class": null | "ImageNUMATopologyAsymmetric" | ...,
     "error": "...", "guest_numa": bool,
     "guest_cells": [{"cpus", "pcpus", "memory_mb", "pagesize",
                      "cpu_policy", "cpu_thread_policy"}],
     "emulator_threads_policy": ..., "pci": [{"alias", "count",
     "numa_policy", "vendor_id", "product_id"}]}

It runs the same API-side code as shared/nova/nova_fit.py (whose Prepared
class it reuses): ImageMeta.from_dict, numa_get_constraints,
get_pci_numa_policy_constraint, get_pci_requests_from_flavor.  Importing
Nova takes a second or two, so the differential test in
tests/unit/test-request.c sends thousands of requests through one run.
Run it with Debian's /usr/bin/python3 (python3-nova); NP_SHARED names the
shared/ folder holding nova/nova_fit.py.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('NP_SHARED') or os.path.join(HERE, '..', '..', '..',
                                                     'shared')
sys.path.insert(0, os.path.join(SHARED, 'nova'))

import nova_fit  # noqa: E402  (imports and configures Nova)


def _cell(c):
    return {
        'cpus': sorted(c['cpus']),
        'pcpus': sorted(c['pcpus']),
        'memory_mb': c['memory_mb'],
        'pagesize': c['pagesize'],
        'cpu_policy': c['cpu_policy'],
        'cpu_thread_policy': c['cpu_thread_policy'],
    }


def _pci(prepared):
    out = []
    for r in prepared.pci_requests.requests or []:
        spec = r.spec[0] if r.spec else {}
        out.append({'alias': r.alias_name, 'count': r.count,
                    'numa_policy': r.numa_policy,
                    'vendor_id': spec.get('vendor_id'),
                    'product_id': spec.get('product_id')})
    return out


def cpu_spec_order(line):
    """{"cpu_spec": TEXT, "image": bool} -> the set's iteration order."""
    from nova.virt import hardware
    try:
        ids = hardware.parse_cpu_spec(line['cpu_spec'])
    except Exception as e:
        return {'error_class': type(e).__name__}
    if line.get('image'):
        props = nova_fit.objects.ImageMetaProps.from_dict(
            {'hw_numa_cpus.0': line['cpu_spec']})
        ids = props.hw_numa_cpus[0]
    return {'error_class': None, 'order': list(ids)}


def verdict(req, last_aliases):
    if 'cpu_spec' in req:
        return cpu_spec_order(req)
    aliases = req.get('pci_aliases') or []
    if aliases != last_aliases[0]:
        nova_fit._apply_config({'pci_aliases': aliases})
        last_aliases[0] = aliases
    try:
        prepared = nova_fit.Prepared(req)
    except Exception as e:  # building the flavor itself failed
        return {'error_class': type(e).__name__, 'error': str(e)}
    if prepared.error is not None:
        return {'error_class': type(prepared.error).__name__,
                'error': str(prepared.error)}
    topo = prepared.topology
    return {
        'error_class': None,
        'error': None,
        'guest_numa': topo is not None,
        'guest_cells': [_cell(c) for c in nova_fit.guest_cells_json(topo)],
        'emulator_threads_policy': (topo.emulator_threads_policy
                                    if topo is not None and
                                    'emulator_threads_policy' in topo
                                    else None),
        'pci': _pci(prepared),
    }


def main():
    last = [None]
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            res = verdict(json.loads(line), last)
        except Exception as e:  # never lose the line pairing
            res = {'error_class': 'HarnessError:' + type(e).__name__,
                   'error': str(e)}
        out.write(json.dumps(res, sort_keys=True) + '\n')
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
