# bench/service/hosts.sh - the service benchmarks' fleet, sourced by
# bench/service/run.sh and bench/service/ir.sh: one host shape and its
# registration over HTTP, so that both measure the same hosts.

# host_json > FILE: one host shape, 8 nodes of 16 CPUs and 64 GiB (16 GiB
# of it 2 MiB pages, for the flavor that asks them), distances 10/21.
host_json() {
  python3 - <<'PY'
import json
nodes, cpus = [], []
for n in range(8):
    ids = list(range(n * 16, n * 16 + 16))
    nodes.append({"id": n, "cpus": ids, "memory_mb": {"total": 65536},
                  "hugepages": [{"size_kb": 2048, "total": 8192}],
                  "distances": [10 if m == n else 21 for m in range(8)]})
    cpus += [{"id": c, "node": n, "core": c, "socket": n // 2} for c in ids]
print(json.dumps({"schema": "numaplace.topology/1", "nodes": nodes, "cpus": cpus}))
PY
}

# load_hosts ADDR TOKEN_FILE HOST_JSON N: hosts host-0000.. go in over HTTP
# (PUT /v1/hosts/NAME), 16 at a time.  Run from the source tree's root.
load_hosts() {
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import sys, threading
sys.path.insert(0, "tests/service")
from client import Client, token
import json
addr, tok, host, n = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), int(sys.argv[4])
def put(k):
    c = Client([addr], token(tok), 0)
    for i in range(k, n, 16):
        st, d, _, _ = c.request("PUT", "/v1/hosts/host-%04d" % i, host)
        assert st in (200, 201), (st, d)
ts = [threading.Thread(target=put, args=(k,)) for k in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
}
