#!/usr/bin/env python3
"""bench/service/waits.py PERF.DATA POSTS - where the servers' threads wait,
from a run.sh profile recorded with
PERF=1 PERF_ARGS="-e syscalls:sys_enter_fdatasync -e syscalls:sys_exit_fdatasync
-e syscalls:sys_enter_pwrite64 -e syscalls:sys_enter_futex -e syscalls:sys_exit_futex"
(every call, no sampling): the WAL syncs (how many, how long, how many at
once, the share of the load's wall time with one in flight), the bytes
written per placement, the checkpoints (whole pages written at page
offsets, then a sync, by one thread), and the time spent asleep in futex waits per
futex address (the commit queue, the hand-off lock, SQLite's mutexes),
per POST.  Numbers for docs/bench/service.md, not a test."""
import collections, re, subprocess, statistics as st, sys

data, posts = sys.argv[1], int(sys.argv[2])
out = subprocess.run(["perf", "script", "-i", data, "-F", "pid,tid,time,event,trace"],
                     capture_output=True, text=True).stdout
ev = re.compile(r"^\s*(\d+)/(\d+)\s+([\d.]+):\s+syscalls:sys_(enter|exit)_(\w+):\s*(.*)$")


def kind_of(op, addr):
    # Without FUTEX_PRIVATE_FLAG: a process-shared mutex, the hand-off lock
    # file's (store-lock.c: the write lock at offset 0x38 of its page).
    if not op & 0x80:
        return "shared 0x%03x (PATH-nplock)" % (addr & 0xfff)
    # sem_wait: FUTEX_WAIT_BITSET; the commit queue's per-item semaphores
    # (group.c) are the only semaphores the servers wait on.
    # Grouped by the address's offset in its page: a thread's item
    # semaphore sits at the same depth of every thread's stack, so the
    # commit queue's sleeps gather under one offset.
    if op & 0x7f == 9:
        return "private wait_bitset at 0x%03x (semaphores, conditions)" % (addr & 0xfff)
    return "private wait at 0x%03x (mutexes: group.c, SQLite, malloc)" % (addr & 0xfff)


open_sync, open_futex = {}, {}
ckpt_pages, ckpt_first, ckpts = collections.Counter(), {}, []
syncs, futex_wait = [], collections.defaultdict(float)
futex_n = collections.Counter()
bytes_written = 0
inflight, t_first, t_last = 0, None, None
busy_since, busy_total, starts_with = None, 0.0, collections.Counter()
for line in out.splitlines():
    m = ev.match(line)
    if not m:
        continue
    pid, tid, t, kind, call, rest = m.groups()
    t = float(t)
    t_first = t if t_first is None else t_first
    t_last = t
    if call == "fdatasync":
        if kind == "enter":
            starts_with[inflight] += 1
            if inflight == 0:
                busy_since = t
            inflight += 1
            open_sync[tid] = (t, pid)
        elif tid in open_sync:
            if ckpt_pages[tid] >= 3:  # the checkpoint's copy and its sync of the database
                ckpts.append(((t - ckpt_first[tid]) * 1e3, ckpt_pages[tid]))
            ckpt_pages[tid] = 0
            t0, p = open_sync.pop(tid)
            syncs.append((t - t0) * 1e3)
            inflight -= 1
            if inflight == 0 and busy_since is not None:
                busy_total += t - busy_since
    elif call == "pwrite64" and kind == "enter":
        c = re.search(r"count: (0x[0-9a-f]+)", rest)
        pos = re.search(r"pos: (0x[0-9a-f]+)", rest)
        n = int(c.group(1), 16) if c else 0
        bytes_written += n
        # A whole page at a page's offset: the database file, so a
        # checkpoint (the WAL's frames sit 24 bytes past their headers).
        if n == 4096 and pos and int(pos.group(1), 16) % 4096 == 0:
            if not ckpt_pages[tid]:
                ckpt_first[tid] = t
            ckpt_pages[tid] += 1
    elif call == "futex":
        if kind == "enter":
            op = int(re.search(r"op: (0x[0-9a-f]+)", rest).group(1), 16)
            addr = int(re.search(r"uaddr: (0x[0-9a-f]+)", rest).group(1), 16)
            if op & 0x7f in (0, 9, 6, 11):  # WAIT, WAIT_BITSET, LOCK_PI, WAIT_REQUEUE_PI
                open_futex[tid] = (t, kind_of(op, addr))
        elif tid in open_futex:
            t0, key = open_futex.pop(tid)
            futex_wait[key] += (t - t0) * 1e3
            futex_n[key] += 1
wall = (t_last - t_first) if t_first is not None else 0
print("wall %.2f s, %d POSTs" % (wall, posts))
if syncs:
    q = st.quantiles(syncs, n=10)
    print("fdatasync: %d (%.3f per POST), mean %.3f ms, median %.3f, p90 %.3f, max %.3f; "
          "total %.2f s; a sync in flight %.0f %% of the wall time" %
          (len(syncs), len(syncs) / posts, st.mean(syncs), st.median(syncs), q[8], max(syncs),
           sum(syncs) / 1e3, 100 * busy_total / max(wall, 1e-9)))
    print("  syncs in flight when one starts:", dict(sorted(starts_with.items())))
print("pwrite bytes per POST: %.0f" % (bytes_written / posts))
if ckpts:
    ms = [c[0] for c in ckpts]
    print("checkpoints: %d, %.0f pages each, copy and sync %.2f ms mean, %.2f median, %.2f max; "
          "%.2f s in all" % (len(ckpts), st.mean(c[1] for c in ckpts), st.mean(ms),
                              st.median(ms), max(ms), sum(ms) / 1e3))
tot = sum(futex_wait.values())
print("futex waits: %.1f ms per POST in all (summed over threads)" % (tot / posts))
for k, v in sorted(futex_wait.items(), key=lambda kv: -kv[1])[:8]:
    print("  %-28s %8.3f ms/POST  %6d waits, mean %.3f ms" % (k, v / posts, futex_n[k], v / futex_n[k]))
