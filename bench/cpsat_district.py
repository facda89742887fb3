"""Benchmark: OR-Tools' CP-SAT on a district cell's whole docking MIP, as bench/scip_district.py does
SCIP: every edge, every linking row, started from the solver's own docking (a hint), one thread.
Money stays exact: x[f,n] is a whole number of fen, and every row is the docking's own, in whole fen
(each need's funders pay exactly its shortfall, budgets, linking rows x[f,n] <= sum over n's provider
edges of min(B[f], s[n,p]) * y[n,p]). The objective sum v*y + sum a*x has real coefficients; it is
put to CP-SAT as integers, each coefficient times one unit rounded (the largest affinity 2**20 units,
as in the funding's min-cost flow, unless the objective's sums would pass 2**60), and the
bound CP-SAT proves for that is turned back into one for the true objective by adding the most the
rounding can move any docking's worth (half a unit a column, times the column's largest value).
docs/matching.md ("SCIP and CP-SAT on the whole district MIP", 2026-12-06) has the figures.

    python bench/cpsat_district.py CELL SEED [LIMITS...] [--interleave]

One run per limit (processor seconds are those of this process; one worker, so CP-SAT's own time
is the clock's). --interleave runs CP-SAT's portfolio (LNS too) interleaved in its one thread, a
deterministic search. Figures, not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from ortools.sat.python import cp_model

sys.path.insert(0, str(Path(__file__).resolve().parent))

from root_cuts import load, our_answer

from market.matching.solver.problem import index

AFFINITY_UNITS = 2**20
GOAL = 0.005


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cell")
    parser.add_argument("seed", type=int)
    parser.add_argument("limits", type=float, nargs="*", default=[1, 2, 5, 15])
    parser.add_argument("--interleave", action="store_true")
    parser.add_argument("--linearization", type=int, default=2)
    parser.add_argument("--no-presolve", action="store_true")
    args = parser.parse_args()
    instance, ours = our_answer(args.cell, args.seed, " interleaved" if args.interleave else "")
    p = index(instance)
    most_short = np.zeros(p.needs, dtype=np.int64)
    np.maximum.at(most_short, p.edge_need, p.shortfall)
    top_x = np.minimum(p.budget[p.fund_funder], most_short[p.fund_need])  # x's upper bound
    # The largest affinity becomes AFFINITY_UNITS (as in the funding's min-cost flow), unless the
    # objective's largest activity would then pass 2**60 (CP-SAT's sums must stay within 2**62).
    unit = AFFINITY_UNITS / max(float(np.abs(p.affinity).max()), 1e-300)
    unit = min(unit, 2.0**60 / (np.abs(p.value).sum() + np.abs(p.affinity) @ top_x))
    cv = np.rint(p.value * unit).astype(np.int64)
    ca = np.rint(p.affinity * unit).astype(np.int64)
    # The most |rounded - true| * column can add up to, in the objective's own units.
    error = (np.abs(cv - p.value * unit).sum() + np.abs(ca - p.affinity * unit) @ top_x) / unit
    print(f"objective in integers, {unit:.4g} a unit of value; rounding moves a docking's worth by at most {error:.4g} "
          f"({error / ours.upper_bound:.2e} of our bound)")

    edge_at = {(p.need_ids[n], p.provider_ids[q]): k
               for k, (n, q) in enumerate(zip(p.edge_need.tolist(), p.edge_provider.tolist()))}
    fund_at = {(p.need_ids[n], p.funder_ids[f]): k
               for k, (n, f) in enumerate(zip(p.fund_need.tolist(), p.fund_funder.tolist()))}
    hint_y = np.zeros(len(p.edge_need), dtype=np.int64)
    hint_y[[edge_at[(a.need, a.provider)] for a in ours.assignments]] = 1
    hint_x = np.zeros(len(p.fund_need), dtype=np.int64)
    for f in ours.funding:
        hint_x[fund_at[(f.need, f.funder)]] = f.amount

    for limit in args.limits:
        began = time.process_time()
        m = cp_model.CpModel()
        y = [m.new_bool_var(f"y{e}") for e in range(len(p.edge_need))]
        x = [m.new_int_var(0, int(top), f"x{k}") for k, top in enumerate(top_x.tolist())]
        edges_of = [[] for _ in range(p.needs)]
        for e, n in enumerate(p.edge_need.tolist()):
            edges_of[n].append(e)
        funds_of = [[] for _ in range(p.needs)]
        for k, n in enumerate(p.fund_need.tolist()):
            funds_of[n].append(k)
        for n in range(p.needs):
            es = edges_of[n]
            if p.pinned_need[n]:
                m.add_exactly_one(y[e] for e in es)
            elif es:
                m.add_at_most_one(y[e] for e in es)
            if funds_of[n] or any(p.shortfall[e] for e in es):
                m.add(sum(x[k] for k in funds_of[n]) == sum(int(p.shortfall[e]) * y[e] for e in es))
            for k in funds_of[n]:
                b = int(p.budget[p.fund_funder[k]])
                m.add(x[k] <= sum(min(b, int(p.shortfall[e])) * y[e] for e in es))
        for q in range(p.providers):
            es = np.nonzero(p.edge_provider == q)[0].tolist()
            if es:
                m.add(sum(y[e] for e in es) <= int(p.capacity[q]))
        for f in range(p.funders):
            ks = np.nonzero(p.fund_funder == f)[0].tolist()
            if ks:
                m.add(sum(x[k] for k in ks) <= int(p.budget[f]))
        m.maximize(sum(int(c) * v for c, v in zip(cv.tolist(), y) if c)
                   + sum(int(c) * v for c, v in zip(ca.tolist(), x) if c))
        for v, h in zip(y, hint_y.tolist()):
            m.add_hint(v, h)
        for v, h in zip(x, hint_x.tolist()):
            m.add_hint(v, h)
        built = time.process_time() - began
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = limit
        solver.parameters.linearization_level = args.linearization
        solver.parameters.interleave_search = args.interleave
        solver.parameters.cp_model_presolve = not args.no_presolve
        if args.interleave:
            solver.parameters.num_workers = 8  # subsolvers interleaved in one thread
            solver.parameters.interleave_batch_size = 8
        status = solver.solve(m)
        cpu = time.process_time() - began
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            docking = solver.objective_value / unit
            chosen = [e for e in range(len(y)) if solver.value(y[e])]
            xs = np.array([solver.value(v) for v in x])
            exact = float(p.value[chosen].sum() + p.affinity @ xs)
        else:
            docking = exact = -np.inf
        bound = solver.best_objective_bound / unit + error
        best, better = max(exact, ours.objective), min(bound, ours.upper_bound)
        print(f"limit {limit:g}: {solver.status_name(status)}, built {built:.2f} s, {cpu:.2f} processor s in all; "
              f"docking {(exact - ours.objective) / ours.objective:+.3%} against ours (its own count {docking:.7g}), "
              f"bound {(bound - ours.upper_bound) / ours.upper_bound:+.3%} against ours, "
              f"gap against the better bound {(better - best) / better:.3%}; load {load()}",
              flush=True)


if __name__ == "__main__":
    main()
