"""Benchmark: SCIP on a district cell's whole docking MIP. The same MIP HiGHS's root was given in
bench/root_cuts.py (every edge, every linking row, in the model's own columns and the solver's own
scaling, so objectives compare), one thread, started from the solver's own docking (`solve`). Reported
at each limit: SCIP's docking and dual bound, its own gap, its docking and bound against ours, the gap
of the better docking against the better of the two bounds; and when it first got within 0.5 % of our
bound, and of the better bound. docs/matching.md ("SCIP and CP-SAT on the whole district MIP",
2026-12-06) has the figures.

    python bench/scip_district.py CELL SEED [LIMITS...] [--set NAME] [--lazy] [--param NAME=VALUE] [--nodes N] [--log]

One run to the longest of LIMITS (processor seconds of SCIP's own clock, timing/clocktype 1; default
1 2 5 15 60): its log line of every separation round and node (display/freq 1) and the time each docking
was found give what a run stopped at each limit would have had. --set picks a setting: default, fast
(presolving fast, heuristics aggressive), aggressive (separating aggressive), aggrheur (heuristics
aggressive), nopresolve, easycip, root (separating aggressive, heuristics aggressive, presolving off),
primal (the first LP by the primal simplex method). --lazy leaves the linking rows out of the first LP
(SCIP adds those its LP breaks). --param sets any SCIP parameter; --nodes N stops at N nodes as well (a
deterministic limit); --log prints SCIP's own log. --fixable first counts the edges that could be in a
docking better than ours: D (lagrange.py) at the whole linked LP's prices with that edge forced above our
objective; the others could be fixed to 0, proven.

pyscipopt is not a dependency of the project: `pip install pyscipopt==6.3.0` (SCIP 10, Apache-2.0) first.
Figures, not a test: a run takes a minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import highspy
import numpy as np
import pyscipopt
from pyscipopt import SCIP_PARAMSETTING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from root_cuts import load, our_answer, whole

from market.matching.solver.highs import INF, DockingModel
from market.matching.solver.lagrange import Lagrangian
from market.matching.solver.models import Result
from market.matching.solver.problem import Problem, index

GOAL = 0.005


def scip_model(d: DockingModel, lazy: bool = False) -> tuple[pyscipopt.Model, list]:
    """The same MIP in SCIP: HiGHS's columns, rows and objective as they are (maximised). With `lazy`
    the linking rows are not in the first LP: SCIP separates them when its LP breaks them."""
    lp = d.h.getLp()
    m = pyscipopt.Model()
    m.hideOutput()
    m.setParam("parallel/maxnthreads", 1)
    m.setParam("lp/threads", 1)
    integer = np.zeros(lp.num_col_, dtype=bool)
    integer[d.edge_col] = True
    cost, lo, up = np.array(lp.col_cost_), np.array(lp.col_lower_), np.array(lp.col_upper_)
    xs = [m.addVar(f"c{j}", vtype="B" if integer[j] and lo[j] == 0 else ("I" if integer[j] else "C"),
                   lb=lo[j], ub=None if up[j] >= INF else up[j], obj=cost[j]) for j in range(lp.num_col_)]
    m.setMaximize()
    a = lp.a_matrix_
    start, idx, val = np.array(a.start_), np.array(a.index_), np.array(a.value_)
    if a.format_ == highspy.MatrixFormat.kColwise:  # rows for SCIP
        col = np.repeat(np.arange(lp.num_col_), np.diff(start))
        order = np.argsort(idx, kind="stable")
        rows, cols, vals = idx[order], col[order], val[order]
    else:
        rows, cols, vals = np.repeat(np.arange(lp.num_row_), np.diff(start)), idx, val
    bounds = np.searchsorted(rows, np.arange(lp.num_row_ + 1))
    rlo, rup = np.array(lp.row_lower_), np.array(lp.row_upper_)
    linking = np.zeros(lp.num_row_, dtype=bool)
    linking[d.link_row[d.link_row >= 0]] = True
    for r in range(lp.num_row_):
        s, e = bounds[r], bounds[r + 1]
        expr = pyscipopt.Expr({pyscipopt.scip.Term(xs[c]): v for c, v in zip(cols[s:e].tolist(), vals[s:e].tolist())})
        m.addCons(pyscipopt.scip.ExprCons(expr, lhs=None if rlo[r] <= -INF else rlo[r],
                                          rhs=None if rup[r] >= INF else rup[r]), name=f"r{r}",
                  initial=not (lazy and linking[r]))
    return m, xs


def fixable(p: Problem, ours: Result) -> None:
    """How many edges reduced-cost fixing by D would leave: those that could be in a better docking."""
    lp = DockingModel(p, np.arange(len(p.edge_need)), np.arange(len(p.fund_need)), p.capacity,
                      p.budget.astype(float), time.monotonic() + 600, linking="all")
    lp.prefer_simplex()
    began = time.process_time()
    lp.run()
    mu, w = lp.prices()
    lag = Lagrangian(p)
    r = p.value + lag.paid(mu) - w[p.edge_provider]
    best = lag.by_need.max(r, -np.inf)
    u = np.where(p.pinned_need, best, np.maximum(best, 0.0))
    keep = lag.bound(mu, w) - u[p.edge_need] + r >= ours.objective
    print(f"the whole linked LP {lp.objective:.7g} ({time.process_time() - began:.2f} processor s by HiGHS's simplex); "
          f"edges that could be in a better docking: {keep.sum()} of {len(keep)}")


def start_columns(p: Problem, d: DockingModel, ours: Result) -> np.ndarray:
    """Our docking as values of the model's columns."""
    edge_at = {(p.need_ids[n], p.provider_ids[q]): k
               for k, (n, q) in enumerate(zip(p.edge_need.tolist(), p.edge_provider.tolist()))}
    fund_at = {(p.need_ids[n], p.funder_ids[f]): k
               for k, (n, f) in enumerate(zip(p.fund_need.tolist(), p.fund_funder.tolist()))}
    y = np.zeros(len(p.edge_need))
    y[[edge_at[(a.need, a.provider)] for a in ours.assignments]] = 1.0
    x = np.zeros(len(p.fund_need))
    for f in ours.funding:
        x[fund_at[(f.need, f.funder)]] = f.amount
    col = np.zeros(len(d.edges) + len(d.funds))
    col[d.edge_col] = y[d.edges]
    col[d.fund_col] = x[d.funds] / d.unit[p.fund_need[d.funds]]
    return col


SETTINGS = {
    "default": lambda m: None,
    "fast": lambda m: (m.setPresolve(SCIP_PARAMSETTING.FAST), m.setHeuristics(SCIP_PARAMSETTING.AGGRESSIVE)),
    "aggressive": lambda m: m.setSeparating(SCIP_PARAMSETTING.AGGRESSIVE),
    "aggrheur": lambda m: m.setHeuristics(SCIP_PARAMSETTING.AGGRESSIVE),
    "nopresolve": lambda m: m.setPresolve(SCIP_PARAMSETTING.OFF),
    "easycip": lambda m: m.setEmphasis(pyscipopt.SCIP_PARAMEMPHASIS.EASYCIP),
    "primal": lambda m: m.setParam("lp/initalgorithm", "p"),
    "root": lambda m: (m.setSeparating(SCIP_PARAMSETTING.AGGRESSIVE), m.setHeuristics(SCIP_PARAMSETTING.AGGRESSIVE),
                       m.setPresolve(SCIP_PARAMSETTING.OFF)),
}


def trace_of(log: str, kappa: float) -> list[tuple[float, float, float, int]]:
    """(processor s, docking, bound, nodes) from each line of SCIP's display in its log (a line per
    separation round at the root and per node after it, display/freq 1), in the objective's units."""
    rows, names = [], None
    for line in log.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if "dualbound" in fields:
            names = fields
            continue
        if names is None or len(fields) != len(names):
            continue
        at = dict(zip(names, fields))
        try:
            clock = at["time"].split()[-1]
            t = float(clock[:-1]) * {"s": 1, "m": 60, "h": 3600}[clock[-1]]
            dual = float(at["dualbound"])
            primal = float(at["primalbound"]) if at["primalbound"] not in ("--", "") else -INF * kappa
            nodes = int(at["node"].rstrip("k")) * (1000 if at["node"].endswith("k") else 1)
        except (KeyError, ValueError):
            continue
        rows.append((t, primal / kappa, dual / kappa, nodes))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cell")
    parser.add_argument("seed", type=int)
    parser.add_argument("limits", type=float, nargs="*", default=[1, 2, 5, 15, 60])
    parser.add_argument("--set", default="default", choices=sorted(SETTINGS))
    parser.add_argument("--lazy", action="store_true", help="linking rows separated, not in the first LP")
    parser.add_argument("--nodes", type=int)
    parser.add_argument("--log", action="store_true", help="SCIP's own log")
    parser.add_argument("--fixable", action="store_true", help="count the edges reduced-cost fixing leaves")
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE, any SCIP parameter")
    args = parser.parse_args()
    instance, ours = our_answer(args.cell, args.seed,
                                f" [{args.set}{' lazy' if args.lazy else ''} {' '.join(args.param)}]")
    p = index(instance)
    if args.fixable:
        fixable(p, ours)
    began = time.process_time()
    d = whole(p, integer=True)  # HiGHS's model: only its matrix is used
    m, xs = scip_model(d, args.lazy)
    SETTINGS[args.set](m)
    for setting in args.param:
        name, value = setting.split("=")
        kind = type(m.getParam(name))
        m.setParam(name, value if kind is str else (value.lower() in ("1", "true") if kind is bool else kind(value)))
    if args.log:
        m.hideOutput(False)
    m.setParam("timing/clocktype", 1)  # processor time
    col = start_columns(p, d, ours)
    sol = m.createSol()
    for v, c in zip(xs, col.tolist()):
        if c:
            m.setSolVal(sol, v, c)
    accepted = m.addSol(sol)
    print(f"built in {time.process_time() - began:.2f} processor s; our docking accepted as a start: {accepted}")
    log = tempfile.NamedTemporaryFile("r", suffix=".log")  # noqa: SIM115 (read after the solve)
    m.setLogfile(log.name)
    m.setParam("display/freq", 1)
    m.setParam("limits/time", max(args.limits))
    if args.nodes:
        m.setParam("limits/totalnodes", args.nodes)
    wall, began = time.monotonic(), time.process_time()
    m.optimize()
    wall = time.monotonic() - wall
    end = m.getSolvingTime()
    shown = [*trace_of(log.read(), d.kappa), (end, m.getPrimalbound() / d.kappa, m.getDualbound() / d.kappa, m.getNNodes())]
    # Dockings a heuristic found after the last line shown (sub-MIPs near a limit) have their own times.
    found = sorted((m.getSolTime(sol), m.getSolObjVal(sol) / d.kappa) for sol in m.getSols())
    trace = []
    for t in sorted({r[0] for r in shown} | {f[0] for f in found}):
        before = [r for r in shown if r[0] <= t]
        bound, nodes = (before[-1][2], before[-1][3]) if before else (INF, 0)
        trace.append((t, max([v for at, v in found if at <= t] + [r[1] for r in before] + [-INF]), bound, nodes))
    print(f"{m.getStatus()} after {end:.2f} processor s of SCIP's clock, {time.process_time() - began:.2f} of ours ({wall:.2f} s of the clock), {m.getNNodes()} nodes, "
          f"{m.getNLPIterations()} LP iterations; load {load()}")
    print("limit s | nodes | SCIP docking vs ours | SCIP bound vs ours | its gap | gap against the better bound")
    first_ours = first_better = None
    for t, docking, bound, _ in trace:
        best, better = max(docking, ours.objective), min(bound, ours.upper_bound)
        if first_ours is None and (ours.upper_bound - best) / ours.upper_bound <= GOAL:
            first_ours = t
        if first_better is None and (better - best) / better <= GOAL:
            first_better = t
    for limit in [*args.limits, end]:
        seen = [r for r in trace if r[0] <= limit]
        if limit > end + 1e-9:
            continue
        if not seen:
            print(f"{limit:.4g} | 0 | (nothing yet: presolving or the first LP) | | | {ours.gap:.3%}")
            continue
        t, docking, bound, nodes = seen[-1]
        best, better = max(docking, ours.objective), min(bound, ours.upper_bound)
        own = (bound - docking) / abs(bound) if np.isfinite(bound) else float("inf")
        print(f"{limit:.4g} | {nodes} | {(docking - ours.objective) / ours.objective:+.3%} | "
              f"{(bound - ours.upper_bound) / ours.upper_bound:+.3%} | {own:.3%} | {(better - best) / better:.3%}")
    lp = next((r[0] for r in shown if r[2] < 1.01 * ours.upper_bound), None)
    print(f"first within 0.5 %: of our bound {first_ours}, of the better bound {first_better} (processor s of SCIP); "
          f"the first LP's bound shown at {lp} s")


if __name__ == "__main__":
    main()
