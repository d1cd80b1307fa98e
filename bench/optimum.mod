/*
 * optimum.mod - the best any placer could do on one host for one arrival
 * sequence, knowing the whole sequence in advance (GNU MathProg, solved
 * with glpsol; bench/quality writes one data file per sequence):
 *
 *     glpsol -m bench/optimum.mod -d SEQ.dat [--tmlim SECONDS]
 *
 * Guests 1..K arrive in order; guest g has ncell[g] NUMA cells, cell c
 * needing cpu[g,c] dedicated CPUs and mem[g,c] MiB (uneven guests have
 * cells of different sizes).  A prefix 1..k is admissible when all its
 * guests can sit on the host at once: every cell on one host node, the
 * cells of one guest on distinct nodes, per node the sum of CPUs and of
 * memory within what is free.  Maximise k.  Placements may differ from
 * one k to the next: this is the offline optimum, an upper bound for any
 * online placer (which never moves a guest it admitted).
 *
 * Symmetry: when all nodes are identical and empty (sym = 1), nodes are
 * interchangeable, so any solution can be relabelled to use nodes in the
 * order of first use by the cells taken in arrival order; the constraint
 * first_use keeps only such labellings, which shrinks the search without
 * cutting off any value of k; twin_order does the same for the two equal
 * cells of one guest.  lb (optional) is a k known to be
 * admissible (a validated online result), fixed as a cut; it cannot change
 * the optimum either.
 */

param K integer >= 0;            /* guests in the sequence (a prefix of it) */
param nn integer >= 1;           /* host nodes */
param sym binary, default 0;     /* 1: nodes identical and empty */
param lb integer >= 0, default 0;
set G := 1..K;
set N := 0..nn-1;
param capcpu{N} >= 0;
param capmem{N} >= 0;
param ncell{G} integer >= 1;
set CELLS := {g in G, c in 0..ncell[g]-1};
param cpu{CELLS} >= 0;
param mem{CELLS} >= 0;
/* position of a cell in arrival order (for first_use) */
param pos{(g, c) in CELLS} := sum{h in G: h < g} ncell[h] + c;

var z{G} binary;                 /* guest admitted */
var x{CELLS, N} binary;          /* cell placed on node */

maximize admitted: sum{g in G} z[g];

s.t. prefix{g in G: g > 1}: z[g] <= z[g-1];
s.t. known{g in G: g <= lb}: z[g] = 1;
s.t. placed{(g, c) in CELLS}: sum{n in N} x[g, c, n] = z[g];
s.t. distinct{g in G, n in N}: sum{c in 0..ncell[g]-1} x[g, c, n] <= 1;
s.t. cpu_cap{n in N}: sum{(g, c) in CELLS} cpu[g, c] * x[g, c, n] <= capcpu[n];
s.t. mem_cap{n in N}: sum{(g, c) in CELLS} mem[g, c] * x[g, c, n] <= capmem[n];
/* valid cuts GLPK's LP relaxation lacks: at most m cells larger than
 * 1/(m+1) of a node's capacity fit on it */
set M := 1..4;
s.t. cpu_few{n in N, m in M}:
	sum{(g, c) in CELLS: cpu[g, c] * (m + 1) > capcpu[n]} x[g, c, n] <= m;
s.t. mem_few{n in N, m in M}:
	sum{(g, c) in CELLS: mem[g, c] * (m + 1) > capmem[n]} x[g, c, n] <= m;
s.t. first_use{(g, c) in CELLS, n in N: n >= 1 and sym = 1}:
	x[g, c, n] <= sum{(h, d) in CELLS: pos[h, d] < pos[g, c]} x[h, d, n-1];
/* the two cells of an even two-cell guest are interchangeable: keep
 * only the placements with cell 0 on the lower node (adjacent in arrival
 * order, so this composes with first_use) */
s.t. twin_order{g in G: ncell[g] = 2 and cpu[g, 0] = cpu[g, 1] and mem[g, 0] = mem[g, 1]}:
	sum{n in N} n * x[g, 0, n] + z[g] <= sum{n in N} n * x[g, 1, n];

solve;

printf "optimum-admitted %d\n", sum{g in G} z[g];
end;
