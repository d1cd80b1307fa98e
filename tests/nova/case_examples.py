#!/usr/bin/env python3
"""The Nova cases numaplace ships and documents: every example case of
shared/nova/CASE_FORMAT.md has a byte-for-byte copy (as JSON) in
tests/data/nova/ (README.md there names the source of each file), and every
case there is answered by `numaplace place --case` with a JSON answer,
never a load error, agreeing with Nova's real code (nova_fit.py) on
validity (docs/policies/nova-errors.md), guest_numa, guest cells and fits.

    case_examples.py --numaplace PATH

Nova is run with /usr/bin/python3 (python3-nova); without it only the
numaplace side is checked.  Prints "ok - ..." / "not ok - ..." lines and
"N passed, N failed"; exits 1 when something failed.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

import novacmp

DATA = os.path.join(novacmp.SRC, 'tests', 'data', 'nova')
NOVA_PY = '/usr/bin/python3'
FIT = os.path.join(novacmp.SHARED, 'nova', 'nova_fit.py')
results = [0, 0]


def check(good, what):
    results[0 if good else 1] += 1
    print('%s - %s' % ('ok' if good else 'not ok', what))


def doc_examples():
    """The ```json blocks of CASE_FORMAT.md that are cases."""
    path = os.path.join(novacmp.SHARED, 'nova', 'CASE_FORMAT.md')
    if not os.path.exists(path):
        return None
    with open(path) as f:
        blocks = re.findall(r'```json\n(.*?)```', f.read(), re.S)
    cases = []
    for b in blocks:
        try:
            doc = json.loads(b)
        except ValueError:
            continue
        if isinstance(doc, dict) and ({'host', 'request', 'requests'} & set(doc)):
            cases.append(doc)
    return cases


def nova_answer(case):
    if not (os.path.exists(NOVA_PY) and os.path.exists(FIT)):
        return None
    p = subprocess.run([NOVA_PY, FIT], input=json.dumps(case), capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)


def expect_from(nova):
    """Nova's answer as a vector's `expect` for novacmp.check_one."""
    exp = {'error_class': nova.get('error_class'), 'guest_numa': nova.get('guest_numa')}
    if nova.get('error_class') is None:
        exp['fits'] = bool(nova.get('fits') and nova.get('filter_passes'))
        exp['guest_cells'] = [{'cpus': c['cpus'], 'pcpus': c['pcpus'],
                               'memory_mb': c['memory_mb']}
                              for c in nova.get('guest_cells') or []]
    return exp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--numaplace', default=os.environ.get('NUMAPLACE', 'numaplace'))
    args = ap.parse_args()
    table = novacmp.error_table()

    shipped = {}
    for path in sorted(glob.glob(os.path.join(DATA, '*.json'))):
        with open(path) as f:
            shipped[os.path.basename(path)] = json.load(f)
    examples = doc_examples()
    if examples is not None:
        check(len(examples) > 0, 'CASE_FORMAT.md has example cases')
        for i, ex in enumerate(examples):
            names = [n for n, c in shipped.items() if c == ex]
            check(bool(names), 'CASE_FORMAT.md example %d is in tests/data/nova (%s)'
                  % (i, ', '.join(names) or 'missing'))
    for name, case in shipped.items():
        rc, ours, err = novacmp.run_case(args.numaplace, case)
        check(ours is not None and rc in (0, 1, 2),
              '%s: answered (exit %d)%s' % (name, rc, '' if ours else ': ' + err))
        if ours is None:
            continue
        nova = nova_answer(case)
        if nova is None:
            print('# %s: Nova not run (no python3-nova)' % name)
            continue
        bad = novacmp.check_one(ours, expect_from(nova), table)
        check(not bad, '%s: agrees with Nova (%s)' % (
            name, nova.get('error_class') or ('fits' if nova.get('fits') else 'no fit'))
              + ('' if not bad else ': ' + '; '.join(bad)))
    print('%d passed, %d failed' % tuple(results))
    return 1 if results[1] else 0


if __name__ == '__main__':
    sys.exit(main())
