#!/usr/bin/env python3
"""bench/service/pg-profile.py PERF.DATA [CPU_MS_PER_PLACEMENT] - where
PostgreSQL's own CPU goes under the service benchmark (bench/service/run.sh
with PG_PERF=1 and PG_PERF_ARGS="-F 299 --call-graph dwarf,8192";
docs/bench/service.md, "Where PostgreSQL's CPU goes").  Each sample of
`perf script` goes to one part below; given PostgreSQL's CPU ms per
placement (run.sh's store_cpu_ms_per_placement) the table has each part's
ms per placement too.

Debian's postgres is stripped of its static functions (ExecInsert,
ExecUpdate, the PL/pgSQL interpreter's exec_stmt_*: "postgres" here) but
keeps the exported ones, so a sample goes to the innermost exported
function of a part, with three exceptions decided by the whole stack: the
other processes (WAL writer, checkpointer, autovacuum), the claim's pin
check (the EXISTS subquery, ExecSetParamPlan) and planning.

  other-processes  WAL writer, checkpointer, background writer, autovacuum
  pin-check        the claim's EXISTS on np_placements (PIN_CHECK)
  planning         the planner (top-level: custom plans of prepared statements)
  commit-flush     XLogFlush: the commit's WAL write and fdatasync
  commit-other     the transaction's start and commit otherwise
  wal-insert       WAL records built and copied in
  index-insert     index entries of the inserted and non-HOT updated rows
  heap-write       heap_insert/update/delete/lock_tuple
  prune            heap_page_prune_opt: HOT pruning on the way
  index-scan       index lookups and heap fetches (the rows found)
  subtransaction   the PL/pgSQL exception block's subtransaction
  set-config       set_config() calls: the deadline's statement (SET_DEADLINE)
  function-guc     the functions' SET clauses (GUCs set and restored a call)
  locks            the heavyweight lock manager
  plan-cache       cached plans checked and locked (GetCachedPlan)
  executor-setup   executor start and end (plan trees initialised, freed)
  executor-other   the rest of the executor (expressions, projections)
  plpgsql-other    the function's interpreter, outside its statements
  catalog          relcache, catcache, invalidations
  protocol         parse/bind/describe messages, the socket's reads and writes
  idle             waiting for the next message
  other            none of these
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import profile  # noqa: E402  (bench/service/profile.py: perf script's stacks, the table)

PROCESSES = {"WalWriterMain", "CheckpointerMain", "BackgroundWriterMain", "AutoVacWorkerMain",
             "AutoVacLauncherMain", "do_autovacuum", "PgArchiverMain"}
# The innermost exported function of each part (first found from the leaf wins).
INNER = {
    "commit-flush": ["XLogFlush"],
    "commit-other": ["CommitTransactionCommand", "StartTransactionCommand",
                     "AbortCurrentTransaction"],
    "wal-insert": ["XLogInsert", "XLogInsertRecord", "XLogBeginInsert"],
    "index-insert": ["ExecInsertIndexTuples"],
    "heap-write": ["heap_insert", "heap_update", "heap_delete", "heap_lock_tuple",
                   "simple_heap_update"],
    "prune": ["heap_page_prune_opt"],
    "index-scan": ["index_getnext_slot", "index_fetch_heap", "index_beginscan",
                   "index_rescan", "index_endscan"],
    "subtransaction": ["BeginInternalSubTransaction", "ReleaseCurrentSubTransaction",
                       "RollbackAndReleaseCurrentSubTransaction"],
    "set-config": ["set_config_by_name"],
    "function-guc": ["set_config_option", "AtEOXact_GUC", "NewGUCNestLevel", "ProcessGUCArray"],
    "locks": ["LockAcquireExtended", "LockRelease", "LockReleaseAll", "LockRelationOid",
              "UnlockRelationId"],
    "plan-cache": ["GetCachedPlan", "RevalidateCachedQuery", "ReleaseCachedPlan"],
    "executor-setup": ["standard_ExecutorStart", "standard_ExecutorEnd", "ExecInitNode",
                       "ExecEndNode", "FreeExecutorState", "PortalStart", "CreateExecutorState"],
    "executor-other": ["standard_ExecutorRun"],
    "plpgsql-other": ["plpgsql_exec_function", "plpgsql_call_handler", "fmgr_security_definer"],
    "catalog": ["AcceptInvalidationMessages", "RelationIdGetRelation", "SearchCatCache",
                "SearchCatCache1", "SearchSysCache1", "RelationBuildDesc"],
    "protocol": ["exec_parse_message", "exec_bind_message", "exec_describe_portal_message",
                 "exec_describe_statement_message", "pq_getbyte", "pq_getmessage", "secure_read",
                 "secure_write", "pq_flush", "socket_flush", "ReadCommand"],
    "idle": ["WaitEventSetWait", "WaitLatch"],
}
PART_OF = {f: part for part, fs in INNER.items() for f in fs}


def part(frames):
    """frames: symbol names from the root to the leaf."""
    names = set(frames)
    if names & PROCESSES:
        return "other-processes"
    if "ExecSetParamPlan" in names and "plpgsql_exec_function" in names:
        return "pin-check"
    if "standard_planner" in names:
        return "planning"
    for f in reversed(frames):
        if f in PART_OF:
            return PART_OF[f]
    return "other"


if __name__ == "__main__":
    # profile.py's table, with this file's parts: its main() asks its module's part().
    profile.part = part
    profile.main()
