"""Benchmark: where a district cell's gap sits. HiGHS's root node (one thread, no presolve, so its cuts
are in the model's own columns) on the whole docking MIP with every linking row, against the solver's
bound and docking: how much of the gap a bound of root strength would close, and how much a docking as
good as the root's heuristics find. Then its cut pool, added to the LP: how many cuts it has, how many
the LP's own solution breaks, how far those alone take the LP, and how many needs each cut that binds
spans. docs/matching.md ("Where the gap sits", 2026-12-06) has the figures.

    python bench/root_cuts.py CELL [SEED]

Figures, not a test: a district root takes 15-50 processor seconds.
"""

from __future__ import annotations

import sys
import time

import highspy
import numpy as np

from market.matching.solver.bench import generate
from market.matching.solver.highs import DockingModel
from market.matching.solver.models import Instance, Result
from market.matching.solver.problem import Problem, index
from market.matching.solver.solve import solve


def load() -> str:
    """The load average (1, 5 and 15 minutes): the figures here are taken on a shared machine."""
    with open("/proc/loadavg") as f:
        return f.read()[:14]


def our_answer(cell: str, seed: int, tag: str = "") -> tuple[Instance, Result]:
    """A district cell's instance and the solver's own answer on it, said in one line."""
    instance = generate("district", cell, seed)
    began = time.process_time()
    result = solve(instance)
    print(f"{cell} seed {seed}{tag}: ours: docking {result.objective:.7g}, bound {result.upper_bound:.7g}, "
          f"gap {result.gap:.3%}, {time.process_time() - began:.2f} processor s; load {load()}")
    return instance, result


def whole(p: Problem, integer: bool = False) -> DockingModel:
    """The docking LP (or MIP) over every edge, with every linking row."""
    return DockingModel(p, np.arange(len(p.edge_need)), np.arange(len(p.fund_need)), p.capacity,
                        p.budget.astype(float), time.monotonic() + 600, integer=integer, linking="all")


def root_node(p: Problem) -> tuple[DockingModel, list[tuple[np.ndarray, ...]]]:
    """HiGHS's root node on the whole MIP (one thread, no presolve), and its cut pools as they were
    handed out: each (start, index, value, lower, upper) of the cuts in the model's own columns."""
    mip = whole(p, integer=True)
    mip.h.setOptionValue("presolve", "off")
    mip.h.setOptionValue("mip_max_nodes", 1)
    pools = []

    def keep_pool(kind: int, message: str, out: highspy.cb.HighsCallbackDataOut, into: object, data: object) -> None:
        pools.append((np.array(out.cutpool_start), np.array(out.cutpool_index), np.array(out.cutpool_value),
                      np.array(out.cutpool_lower), np.array(out.cutpool_upper)))
    mip.h.setCallback(keep_pool, None)
    mip.h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipGetCutPool)
    mip.run()
    return mip, pools


def main(cell: str, seed: int) -> None:
    instance = generate("district", cell, seed)
    began = time.process_time()
    ours = solve(instance)
    print(f"{cell} seed {seed}: docking {ours.objective:.6g}, bound {ours.upper_bound:.6g}, gap {ours.gap:.3%}, "
          f"{time.process_time() - began:.2f} processor s")
    p = index(instance)
    lp = whole(p)
    lp.prefer_simplex()
    lp.run()
    linked = lp.objective
    print(f"LP with every linking row: {linked:.6g} ({(ours.upper_bound - linked) / linked:+.3%} for our bound)")

    began = time.process_time()
    mip, pools = root_node(p)
    root, docking = mip.mip_bound, mip.h.getInfo().objective_function_value / mip.kappa
    best = max(docking, ours.objective)
    print(f"HiGHS's root: bound {root:.6g} ({(root - ours.upper_bound) / ours.upper_bound:+.3%} against ours), "
          f"docking {docking:.6g} ({(docking - ours.objective) / ours.objective:+.3%}), "
          f"{time.process_time() - began:.1f} processor s; the better docking against the root's bound: "
          f"{(root - best) / root:.3%}, against ours: {(ours.upper_bound - best) / ours.upper_bound:.3%}")
    if not pools:
        return
    start, col, value, lower, upper = pools[-1]
    cuts = len(start) - 1
    at = np.array(lp.h.getSolution().col_value)
    broken = [c for c in range(cuts) if at[col[start[c]:start[c + 1]]] @ value[start[c]:start[c + 1]] > upper[c] + 1e-6]
    rows = lp.h.getNumRow()
    for c in broken:
        lp.h.addRow(lower[c], upper[c], start[c + 1] - start[c], col[start[c]:start[c + 1]].astype(np.int32),
                    value[start[c]:start[c + 1]])
    lp.run()
    print(f"its pool: {cuts} cuts, {len(broken)} broken by the LP's solution; those alone take the LP to "
          f"{lp.objective:.6g} ({(lp.objective - linked) / linked:+.3%})")
    for c in sorted(set(range(cuts)) - set(broken)):
        lp.h.addRow(lower[c], upper[c], start[c + 1] - start[c], col[start[c]:start[c + 1]].astype(np.int32),
                    value[start[c]:start[c + 1]])
    lp.run()
    dual = np.array(lp.h.getSolution().row_dual)[rows:]
    order = np.array(broken + sorted(set(range(cuts)) - set(broken)))
    need_of = np.full(len(lp.edges) + len(lp.funds), -1)
    need_of[lp.edge_col] = p.edge_need[lp.edges]
    need_of[lp.fund_col] = p.fund_need[lp.funds]
    spans = [len(np.unique(need_of[col[start[c]:start[c + 1]]])) for c in order[np.abs(dual) > 1e-9]]
    print(f"the whole pool: LP {lp.objective:.6g} ({(lp.objective - linked) / linked:+.3%}); {len(spans)} cuts bind, "
          f"needs in each: {dict(sorted((int(k), int(v)) for k, v in zip(*np.unique(spans, return_counts=True))))}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
