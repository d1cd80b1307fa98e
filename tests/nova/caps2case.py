"""Turn a libvirt capabilities document into a Nova case (CASE_FORMAT.md)
the way Nova's libvirt driver sees that host, with Nova's own parser.

    python3 caps2case.py CAPS.XML 'vcpus=4,ram=2048,hw:cpu_policy=dedicated'

prints the case as JSON.  The cells are what LibvirtDriver.
_get_host_numa_topology() makes of the document (Nova 26): CPUs from
<cpu id>, SMT sibling sets from the `siblings` attribute only (core_id is
never read), de-duplicated and cut to the cell's CPUs, memory in MiB, the
page pools of <pages>, the socket when the cell has one.  Every CPU is
usable by both shared and pinned guests (a host with vcpu_pin_set unset).
The flavor text is split at commas into KEY=VALUE pairs (no CPU lists with
commas, which the tests here do not need).

Exits 77 when python3-nova is not installed (the tests then skip).
"""

import json
import os
import sys

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
try:
    from nova.virt.libvirt import config as vconfig
except ImportError:
    print('python3-nova is not installed', file=sys.stderr)
    sys.exit(77)


def cells(caps_xml):
    caps = vconfig.LibvirtConfigCaps()
    caps.parse_str(caps_xml)
    out = []
    for cell in caps.host.topology.cells:
        cpus = set(cpu.id for cpu in cell.cpus)
        # As the driver does: one set per distinct list, cut to the cell.
        siblings = sorted(set(x) for x in set(tuple(cpu.siblings) or ()
                                              for cpu in cell.cpus))
        siblings = [sorted(s & cpus) for s in siblings]
        siblings = [s for s in siblings if s]
        sockets = set(cpu.socket_id for cpu in cell.cpus)
        out.append({
            'id': cell.id,
            'cpus': sorted(cpus),
            'memory_mb': cell.memory // 1024,
            'siblings': siblings,
            'socket': sockets.pop() if len(sockets) == 1 else None,
            'mempages': [{'size_kb': p.size, 'total': p.total, 'used': 0,
                          'reserved': 0} for p in cell.mempages],
        })
    return out


def request(flavor):
    spec = dict(kv.split('=', 1) for kv in flavor.split(','))
    vcpus = int(spec.pop('vcpus'))
    ram = int(spec.pop('ram'))
    return {'vcpus': vcpus, 'memory_mb': ram, 'extra_specs': spec,
            'image_properties': {}}


def main():
    with open(sys.argv[1]) as f:
        xml = f.read()
    case = {'host': {'cells': cells(xml)}, 'request': request(sys.argv[2])}
    json.dump(case, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == '__main__':
    main()
