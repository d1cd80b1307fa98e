"""Shared by vectors.py and diff.py: run `numaplace place --case`, read
docs/policies/nova-errors.md's table from Nova's exception classes to
numaplace's error codes, and compare one answer with another.

No Nova import here: this module runs under any python3.
"""

import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get('NP_SRC') or os.path.join(HERE, '..', '..')
SHARED = os.environ.get('NP_SHARED') or os.path.join(SRC, '..', 'shared')



def error_table(path=None):
    """{NovaClass: [codes]} from the markdown table rows of nova-errors.md:
    a row naming an exception class (`ImageNUMATopologyAsymmetric`) and
    snake_case codes (`numa_topology_asymmetric`) allows each of them."""
    path = path or os.path.join(SRC, 'docs', 'policies', 'nova-errors.md')
    table = {}
    if not os.path.exists(path):
        return table
    with open(path) as f:
        for line in f:
            if not line.lstrip().startswith('|'):
                continue
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if len(cells) < 2:
                continue
            classes = re.findall(r'`([A-Z][A-Za-z0-9]+)`', cells[0])
            codes = re.findall(r'`([a-z][a-z0-9_]+)`', cells[1])
            for cls in classes:
                table.setdefault(cls, [])
                table[cls] += [c for c in codes if c not in table[cls]]
    return table


def run_case(numaplace, case, timeout=60):
    """Answer CASE with numaplace; returns (exit code, answer or None, stderr)."""
    p = subprocess.run([numaplace, 'place', '--case', '-', '--validate'],
                       input=json.dumps(case), capture_output=True, text=True,
                       timeout=timeout)
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        out = None
    return p.returncode, out, p.stderr.strip()


def guest_cells(ans):
    return [{'cpus': c['cpus'], 'pcpus': c['pcpus'], 'memory_mb': c['memory_mb']}
            for c in ans.get('guest_cells') or []]


def error_code(ans):
    e = ans.get('error')
    return e.get('code') if isinstance(e, dict) else None


def check_error(ours, nova_class, table):
    """Problems with our error given Nova's class (None: no error)."""
    code = error_code(ours)
    if nova_class is None:
        return [] if code is None else ['error: expected none, got %s (%s)' % (
            code, (ours.get('error') or {}).get('message'))]
    if code is None:
        return ['error: expected %s, got none' % nova_class]
    want = table.get(nova_class)
    if not want:
        return ['error: Nova class %s has no code in nova-errors.md (we said %s)'
                % (nova_class, code)]
    if code not in want:
        return ['error: %s maps to %s, got %s (%s)' % (
            nova_class, ' or '.join(want), code, ours['error'].get('message'))]
    return []


def check_one(ours, exp, table):
    """Compare our answer with an `expect` (or `correct`) dict of a vector:
    validity, guest NUMA topology and fits.  Returns a list of problems."""
    bad = []
    if ours.get('invalid_plan'):
        bad.append('plan fails the validator: %s' % ours['invalid_plan'])
    if 'error_class' in exp:
        bad += check_error(ours, exp['error_class'], table)
    for key in ('fits', 'guest_numa'):
        if key in exp and ours.get(key) != exp[key]:
            bad.append('%s: expected %r, got %r' % (key, exp[key], ours.get(key)))
    if 'guest_cells' in exp and guest_cells(ours) != exp['guest_cells']:
        bad.append('guest_cells: expected %r, got %r' % (exp['guest_cells'],
                                                        guest_cells(ours)))
    if 'guest_pagesize' in exp:
        got = [c['pagesize'] for c in ours.get('guest_cells') or []]
        if got != exp['guest_pagesize']:
            bad.append('guest_pagesize: expected %r, got %r' % (
                exp['guest_pagesize'], got))
    return bad


def same_choice(a, b):
    """True when two answers took the same resources (cells, pinned CPUs,
    reserved CPUs, page sizes), so the host after them is the same."""
    def key(ans):
        return [(c['host_cell'], sorted((c.get('pinning') or {}).values()),
                 sorted(c.get('cpuset_reserved') or []), c['memory_mb'],
                 c.get('pagesize_kb'), sorted(c['cpus']))
                for c in ans.get('cells') or []]
    return key(a) == key(b)
