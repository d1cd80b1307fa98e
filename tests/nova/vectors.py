#!/usr/bin/env python3
"""Run every vector of shared/nova/vectors.json through
`numaplace place --case` and compare with its `expect` (for vectors marked
`nova_defect`, with `correct`: what a sound engine answers).

Compared, and required to agree: validity (Nova's exception class mapped to
our error code by docs/policies/nova-errors.md, or no error), guest_numa,
guest_cells (cpus, pcpus, memory_mb per guest cell), guest page sizes and
fits (per request for sequences); every plan must pass the validator.
Reported but not required (numaplace chooses by distance and stranded
capacity, Nova takes the first permutation in its sort order): the same
host cells, pinning, reserved CPUs, page sizes and host usage after a
sequence.

    vectors.py [--numaplace PATH] [--vectors FILE] [-v]

Prints one line per vector, then "vectors: N/M agree" and "N passed, N
failed"; exits 1 when any vector disagrees.  Runs under any python3.
"""

import argparse
import os
import sys

import novacmp


def informational(ours, exp):
    """(key, same?) for what Nova fixes by its first-fit order."""
    cells = ours.get('cells') or []
    hc = [c['host_cell'] for c in cells]
    out = []
    if 'host_cells' in exp:
        out.append(('host_cells', hc == exp['host_cells']))
    if 'host_cells_in' in exp:
        out.append(('host_cells_in', bool(hc) and all(h in exp['host_cells_in'] for h in hc)))
    for key, field in (('pinning', 'pinning'), ('cpuset_reserved', 'cpuset_reserved'),
                       ('pagesize_kb', 'pagesize_kb')):
        if key in exp:
            out.append((key, [c.get(field) for c in cells] == exp[key]))
    return out


def host_after_same(ours, exp):
    got = {c['id']: c for c in ours.get('host_after') or []}
    for ec in exp:
        gc = got.get(ec['id'])
        if gc is None or any(gc.get(k) != v for k, v in ec.items()):
            return False
    return True


def check_vector(v, numaplace, table):
    exp = dict(v['expect'])
    if v.get('nova_defect'):
        exp.update(v.get('correct') or {})
    rc, ours, err = novacmp.run_case(numaplace, v['case'])
    if ours is None or rc not in (0, 1, 2):
        return ['numaplace exited %d without an answer: %s' % (rc, err)], []
    if 'results' not in exp:
        return novacmp.check_one(ours, exp, table), informational(ours, exp)
    bad, info = [], []
    got = ours.get('results') or []
    if len(got) != len(exp['results']):
        bad.append('%d results for %d requests' % (len(got), len(exp['results'])))
    for i, (g, e) in enumerate(zip(got, exp['results'])):
        bad += ['request %d: %s' % (i, b) for b in novacmp.check_one(g, e, table)]
        info += informational(g, e)
    if 'host_after' in exp:
        info.append(('host_after', host_after_same(ours, exp['host_after'])))
    return bad, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--numaplace', default=os.environ.get('NUMAPLACE', 'numaplace'))
    ap.add_argument('--vectors', default=os.path.join(novacmp.SHARED, 'nova', 'vectors.json'))
    ap.add_argument('--table', default=None, help='nova-errors.md')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    import json
    with open(args.vectors) as f:
        doc = json.load(f)
    vectors = doc['vectors'] if isinstance(doc, dict) else doc
    table = novacmp.error_table(args.table)
    failed, info = 0, {}
    for v in vectors:
        bad, inf = check_vector(v, args.numaplace, table)
        for key, same in inf:
            s = info.setdefault(key, [0, 0])
            s[0] += same
            s[1] += 1
            if args.verbose and not same:
                print('     (%s differs from Nova: %s)' % (key, v['id']))
        failed += bool(bad)
        print('%-4s %s' % ('FAIL' if bad else 'ok', v['id']))
        for b in bad:
            print('       ' + b)
    n = len(vectors)
    print('vectors: %d/%d agree with Nova (validity, guest cells, fits)' % (n - failed, n))
    for key, (same, total) in sorted(info.items()):
        print('  also the same %s as Nova: %d/%d (not required)' % (key, same, total))
    print('%d passed, %d failed' % (n - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
