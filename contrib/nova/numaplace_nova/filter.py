"""NumaplaceFilter: Nova's NUMA fit, decided by `numaplace serve`.

Loaded by nova-scheduler through its own filter loader:

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = numaplace_nova.filter.NumaplaceFilter
    enabled_filters = ComputeFilter,...,NumaplaceFilter   # instead of NUMATopologyFilter

    [numaplace]
    url = unix:/run/numaplace/serve.sock

Where NUMATopologyFilter runs Nova's permutation search once per host (and
deep-copies the request spec for each), this filter overrides filter_all:
one POST /v1/fit names every candidate host, and the service answers each
from its own store of hosts and placements with numaplace's engine (the
one `numaplace place` runs).  Hosts that fit pass; hosts that do not, or
that the service does not know, are removed.

What it keeps of NUMATopologyFilter: a guest without a NUMA topology
(Nova's numa_get_constraints gave None) passes every host without asking,
because Nova then floats it over the whole host; rebuilds are not
filtered (RUN_ON_REBUILD False); a host that passes gets
limits['numa_topology'] = NUMATopologyLimits(its ratios), which the
compute claim reads.

Several instances in one request (multi-create): Nova's scheduler picks
a host for each in turn, consumes the guest from that HostState
(consume_from_request: num_instances + 1, its NUMA usage) and filters
again for the next, while the service's store does not hold those
instances yet.  So the filter remembers, per request spec, each host's
num_instances when it first saw it; the instances Nova has consumed
since are sent as "pending" copies of the guest, which the service
charges to that host before answering for one more.

When the service cannot answer (down, time-out, an error), [numaplace]
on_error decides: "reject" (the default: fail closed, no host passes, the
request ends in NoValidHost and the log says why) or "pass" (every host
passes, as if the filter were off).
"""

import json
import time
import weakref

from oslo_config import cfg
from oslo_log import log as logging

import nova.conf
from nova import objects
from nova.scheduler import filters
from nova.scheduler import utils as scheduler_utils

from numaplace_nova import client as np_client

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF

numaplace_group = cfg.OptGroup(
    'numaplace', title='numaplace service',
    help='Where NumaplaceFilter asks whether a guest fits each host.')

numaplace_opts = [
    cfg.StrOpt('url', default='unix:/run/numaplace/serve.sock',
               help='The numaplace service: unix:PATH (the socket of '
                    '`numaplace serve --listen unix:PATH`) or '
                    'http://HOST:PORT (then token_file is needed).'),
    cfg.StrOpt('token_file',
               help='File holding the bearer token of the service '
                    '(`numaplace serve --token-file`); read at every '
                    'request.  Not needed on a unix socket.'),
    cfg.FloatOpt('timeout', default=5.0, min=0.1,
                 help='Seconds to wait for the service, per request.'),
    cfg.StrOpt('on_error', default='reject', choices=['reject', 'pass'],
               help='When the service cannot answer: reject every host '
                    '(fail closed) or pass every host.'),
    cfg.StrOpt('host_name', default='host', choices=['host', 'nodename'],
               help='Which name of a HostState the service knows the '
                    'host by: its compute service host or its hypervisor '
                    'node name.'),
]

CONF.register_group(numaplace_group)
CONF.register_opts(numaplace_opts, group=numaplace_group)


def list_opts():
    """For oslo-config-generator."""
    return [(numaplace_group, numaplace_opts)]


def flavor_json(flavor):
    """A Nova Flavor in the service's keys (Nova's own)."""
    return {'vcpus': int(flavor.vcpus), 'memory_mb': int(flavor.memory_mb),
            'extra_specs': {k: str(v) for k, v in
                            (flavor.extra_specs or {}).items()}}


def _cpus_text(cpus):
    return ','.join(str(c) for c in sorted(cpus))


def image_json(image):
    """An ImageMeta's hw_ properties as Glance stores them: strings, and
    hw_numa_cpus.N / hw_numa_mem.N (which ImageMetaProps turned into
    lists) spelt out again."""
    props = getattr(image, 'properties', None) if image is not None else None
    out = {}
    if props is None:
        return {'properties': out}
    for name in props.obj_fields:
        if not name.startswith('hw_') or not props.obj_attr_is_set(name):
            continue
        value = getattr(props, name)
        if name == 'hw_numa_cpus':
            for i, cpus in enumerate(value):
                out['hw_numa_cpus.%d' % i] = _cpus_text(cpus)
        elif name == 'hw_numa_mem':
            for i, mem in enumerate(value):
                out['hw_numa_mem.%d' % i] = str(mem)
        elif isinstance(value, bool):
            out[name] = 'true' if value else 'false'
        elif isinstance(value, (str, int, float)):
            out[name] = str(value)
        # other shapes (lists, dicts) are not NUMA properties
    return {'properties': out}


def pci_aliases(flavor):
    """Nova's `[pci] alias` table, for a flavor that names an alias (the
    service resolves pci_passthrough:alias with it as Nova's API does);
    entries that are not JSON objects are left out (Nova's API refuses
    such a flavor before scheduling)."""
    if 'pci_passthrough:alias' not in (flavor.extra_specs or {}):
        return None
    out = []
    for text in CONF.pci.alias:
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


class NumaplaceFilter(filters.BaseHostFilter):
    """Pass the hosts where numaplace says the guest's NUMA topology fits."""

    RUN_ON_REBUILD = False

    def __init__(self):
        super().__init__()
        self._client = None
        self._client_conf = None
        # request spec -> {host name: its num_instances when first seen}
        self._seen = weakref.WeakKeyDictionary()

    def client(self):
        """The service client, made again when its options changed."""
        conf = (CONF.numaplace.url, CONF.numaplace.token_file,
                CONF.numaplace.timeout)
        if self._client is None or conf != self._client_conf:
            self._client = np_client.Client(*conf)
            self._client_conf = conf
        return self._client

    @staticmethod
    def _name(host_state):
        if CONF.numaplace.host_name == 'nodename':
            return host_state.nodename
        return host_state.host

    def host_passes(self, host_state, spec_obj):
        """One host: the same question as filter_all, for one name."""
        return bool(list(self.filter_all([host_state], spec_obj)))

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        if not hosts:
            return hosts
        if not self.RUN_ON_REBUILD and scheduler_utils.request_is_rebuild(spec_obj):
            return hosts
        if spec_obj.numa_topology is None:
            # Nova floats a guest without NUMA topology over the whole host.
            return hosts
        answers = self._ask(hosts, spec_obj, self._pending(hosts, spec_obj))
        if answers is None:
            return [] if CONF.numaplace.on_error == 'reject' else hosts
        return self._passing(hosts, answers, spec_obj)

    def _pending(self, hosts, spec_obj):
        """{name: instances of this request Nova already chose for it}.

        Only a multi-create has them: Nova's consume_from_request raised
        the chosen host's num_instances after the last filtering, which
        the first sight of each host in this request is the baseline for.
        """
        if not spec_obj.obj_attr_is_set('num_instances') or spec_obj.num_instances <= 1:
            return None
        try:
            seen = self._seen.setdefault(spec_obj, {})
        except TypeError:  # a spec that cannot be remembered: as before
            return None
        pending = {}
        for h in hosts:
            name, now = self._name(h), int(h.num_instances or 0)
            base = seen.setdefault(name, now)
            if now > base:
                pending[name] = now - base
        return pending

    def _ask(self, hosts, spec_obj, pending=None):
        """The service's answers by host name, or None when it failed."""
        names = sorted({self._name(h) for h in hosts})
        start = time.monotonic()
        try:
            answers = self.client().fit(flavor_json(spec_obj.flavor),
                                        image_json(spec_obj.image), names,
                                        pci_aliases(spec_obj.flavor), pending)
        except (np_client.ServiceError, ValueError) as e:
            LOG.error('numaplace could not answer for %d hosts (%s); '
                      '[numaplace] on_error = %s', len(names), e,
                      CONF.numaplace.on_error,
                      instance_uuid=spec_obj.instance_uuid)
            return None
        LOG.debug('numaplace answered for %d hosts in %.1f ms', len(names),
                  (time.monotonic() - start) * 1e3,
                  instance_uuid=spec_obj.instance_uuid)
        return answers

    def _passing(self, hosts, answers, spec_obj):
        out, unknown, limits = [], [], {}
        for h in hosts:
            a = answers.get(self._name(h))
            if not isinstance(a, dict) or a.get('unknown'):
                unknown.append(self._name(h))
                continue
            if a.get('fits') is not True:
                LOG.debug('%(host)s, %(node)s fails NUMA topology requirements '
                          '(numaplace): %(why)s', {'host': h.host,
                                                   'node': h.nodename,
                                                   'why': a.get('reason')},
                          instance_uuid=spec_obj.instance_uuid)
                continue
            # What NUMATopologyFilter leaves for the compute claim; one
            # object per pair of ratios (nothing changes it afterwards, and
            # each chosen host's limits travel to its compute node as a copy).
            ratios = (h.cpu_allocation_ratio, h.ram_allocation_ratio)
            if ratios not in limits:
                limits[ratios] = objects.NUMATopologyLimits(
                    cpu_allocation_ratio=ratios[0], ram_allocation_ratio=ratios[1])
                if 'network_metadata' in spec_obj and spec_obj.network_metadata:
                    # physnet/tunnel affinity: the compute claim checks it
                    limits[ratios].network_metadata = spec_obj.network_metadata
            h.limits['numa_topology'] = limits[ratios]
            out.append(h)
        if unknown:
            LOG.warning('numaplace does not know %d of %d hosts (%s): they '
                        'do not pass', len(unknown), len(hosts),
                        ', '.join(sorted(unknown)[:5]),
                        instance_uuid=spec_obj.instance_uuid)
        return out
