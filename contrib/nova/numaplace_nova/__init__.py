"""numaplace for OpenStack Nova: a scheduler filter that asks a
`numaplace serve` service, once per scheduling request, whether and where
each candidate host fits the guest (POST /v1/fit).

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = numaplace_nova.filter.NumaplaceFilter
    enabled_filters = ...,NumaplaceFilter

See contrib/nova/README.md.  The client (numaplace_nova.client) needs only
the Python standard library; the filter needs Nova.
"""
