/*
 * optimum.mod - the best any placer could do on one host for one workload
 * (numaplace gen), knowing the whole sequence in advance and never moving
 * a guest (GNU MathProg; bench/quality writes one data file per workload
 * and solves it with glpsol, or with CBC from the LP glpsol writes):
 *
 *     glpsol -m bench/optimum.mod -d WORKLOAD.dat [--tmlim SECONDS]
 *
 * Guests 1..K arrive in order; guest g has ncell[g] NUMA cells, cell c
 * asking dem[g,c,r] of every resource r (pinned CPUs, floating vCPUs,
 * memory, 2 MiB and 1 GiB pages) and guest g nic[g] PCI devices.  A
 * prefix 1..k is admissible when its guests can be given one placement
 * each, for their whole stay, that fits at every moment: every cell on one
 * node that could hold it alone (ALLOW: Nova's per-cell rules on the empty
 * node, computed by bench/quality), the cells of a guest on distinct
 * nodes, and at every arrival time t the guests present (PRESENT: arrived,
 * not left) within each node's capacity cap[n,r] (floating vCPUs: shared
 * CPUs x ratio; memory: never over-committed).  Devices come from the
 * guest's own nodes (pcinear[g] = 1: `required`, and `legacy` on a host
 * without devices outside nodes) or from any node.  Maximise k.  This is an
 * upper bound for every online placer, which never moves a guest either.
 *
 * Symmetry: nodes of one class (cls: identical capacities and devices) are
 * interchangeable, so any solution can be relabelled to use the nodes of a
 * class in the order of first use by the cells taken in arrival order
 * (first_use); equal cells of one guest are interchangeable too
 * (twin_order).  Neither cuts off any value of k.  lb (optional) is a
 * prefix known to be admissible (a validated online result), fixed as a
 * cut.  few: at most m cells larger than 1/(m+1) of a node's resource fit
 * it at once, a valid cut GLPK's LP relaxation lacks.
 */

param K integer >= 0;
param nn integer >= 1;
param lb integer >= 0, default 0;
set G := 1..K;
set N := 0..nn-1;
set R;
set T within G;                    /* arrival times with a capacity check */
param cap{N, R} >= 0;
param capnic{N} >= 0, default 0;
param prevn{N} integer, default -1; /* the previous node of n's class, or -1 */
param ncell{G} integer >= 1;
set CELLS := {g in G, c in 0..ncell[g]-1};
param dem{CELLS, R} >= 0, default 0;
param nic{G} integer >= 0, default 0;
param pcinear{G} binary, default 1;
set ALLOW within {CELLS, N};
set PRESENT within {G, T};          /* (g, t): g is there when t arrives */
param pos{(g, c) in CELLS} := sum{h in G: h < g} ncell[h] + c;
set PCIG := {g in G: nic[g] > 0};

var z{G} binary;
var x{ALLOW} binary;
var y{PCIG, N} integer >= 0;

maximize admitted: sum{g in G} z[g];

s.t. prefix{g in G: g > 1}: z[g] <= z[g-1];
s.t. known{g in G: g <= lb}: z[g] = 1;
s.t. placed{(g, c) in CELLS}: sum{(g, c, n) in ALLOW} x[g, c, n] = z[g];
s.t. distinct{g in G, n in N}: sum{(g, c, n) in ALLOW} x[g, c, n] <= 1;
s.t. capacity{t in T, n in N, r in R}:
	sum{(g, c, n) in ALLOW: (g, t) in PRESENT and dem[g, c, r] > 0} dem[g, c, r] * x[g, c, n]
	<= cap[n, r];
s.t. few{t in T, n in N, r in R, m in 1..3: cap[n, r] > 0}:
	sum{(g, c, n) in ALLOW: (g, t) in PRESENT and dem[g, c, r] * (m + 1) > cap[n, r]}
	x[g, c, n] <= m;
s.t. pci_count{g in PCIG}: sum{n in N} y[g, n] = nic[g] * z[g];
s.t. pci_near{g in PCIG, n in N: pcinear[g] = 1}:
	y[g, n] <= nic[g] * sum{(g, c, n) in ALLOW} x[g, c, n];
s.t. pci_cap{t in T, n in N}:
	sum{g in PCIG: (g, t) in PRESENT} y[g, n] <= capnic[n];
s.t. first_use{(g, c, n) in ALLOW: prevn[n] >= 0}:
	x[g, c, n] <= sum{(h, d, prevn[n]) in ALLOW: pos[h, d] < pos[g, c]} x[h, d, prevn[n]];
s.t. twin_order{(g, c) in CELLS: c + 1 < ncell[g] and
		forall{r in R} dem[g, c, r] = dem[g, c + 1, r]}:
	sum{(g, c, n) in ALLOW} n * x[g, c, n] + z[g] <= sum{(g, c + 1, n) in ALLOW} n * x[g, c + 1, n];

solve;

printf "optimum-admitted %d\n", sum{g in G} z[g];
/* the assignment (bench/optimum-replay plays it): cell c of guest g on node n */
printf{(g, c, n) in ALLOW: x[g, c, n] > 0.5} "optimum-cell %d %d %d\n", g, c, n;
end;
