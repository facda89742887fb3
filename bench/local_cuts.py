"""Benchmark: local cuts, exact separation over small clusters of needs (Applegate, Bixby, Chvátal and
Cook's idea), on a district cell's LP over every edge with every linking row (`whole` of
bench/root_cuts.py). Measures how far rounds of such cuts take that LP down, the separation's
processor time, and whether the solve's dive, started from the LP with the cuts (its own model
without them; the rest of the method as it is), ends nearer our bound, as with HiGHS's root cuts
(docs/matching.md, "Where the gap sits" and "Local cuts").

A cluster is a need the LP leaves fractional and the `--size` − 1 needs that draw most on the funders
it shares with them, other fractional needs first; with `--by-funder`, a need the LP leaves fractional
and the needs one of its paying funders pays most, per such funder (the shape of HiGHS's root cuts:
one or two fractional needs beside needs wholly assigned, sharing a funder). Its set: y of the cluster's provider edges binary, x of its funder edges,
its need, funding and linking rows, the budget rows of its funders with what the other needs take of
each as one continuous z (with `--places`, the place rows too, each with an integer w). Every docking
maps into that set, so an inequality valid for its convex hull is valid for the docking problem once z
and w are written out as the sums they stand for. The oracle (a point of the set maximising a·v) is
HiGHS's branch and bound on the cluster. Separation (`--how`):

* `lifted` (default): the provider edges the LP leaves at 0 fixed at 0, a target cut (Buchheim, Liers
  and Oswald: a facet, by row generation over the oracle's points) over what is left, then those edges
  lifted back one by one;
* `target`: the target cut over the whole cluster, at most 400 oracle points;
* `l1`: the cut farthest from the point in the 1-norm.

`--root-clusters` separates the first round over the clusters HiGHS's root pool has cuts on (the root
takes 15-50 processor seconds).

    python bench/local_cuts.py CELL [SEED] [--size 3] [--rounds 1] [--how lifted] [--by-funder] [--dive]

Figures, not a test: a round takes 50-400 processor seconds on a district cell.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from root_cuts import root_node, whole

from market.matching.solver import method
from market.matching.solver.bench import generate
from market.matching.solver.highs import INF, DockingModel
from market.matching.solver.models import Instance, Result
from market.matching.solver.problem import Problem, index
from market.matching.solver.solve import solve

INTEGRAL = 1e-6


def _quiet(mip: bool) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    if mip:
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1e-12)
        h.setOptionValue("presolve", "off")
    return h


class Cluster:
    """The docking restricted to a few needs C, in the LP's own (scaled) columns: y of C's provider
    edges, x of C's funder edges, and per funder of C a continuous z (what the needs outside C take of
    its budget row, in the row's units) and, with `places`, per provider of C an integer w (places the
    needs outside C take). Rows: each need's row, its funding row, its linking rows, the funders'
    budget rows (with z) and the providers' place rows (with w). Every docking maps into this set, so
    an inequality valid for its convex hull is valid for the whole problem once z and w are written out
    as the sums they stand for."""

    def __init__(self, lp: DockingModel, needs: np.ndarray, places: bool = False) -> None:
        p = lp.problem
        self.lp, self.needs = lp, np.sort(needs)
        inside = np.zeros(p.needs, dtype=bool)
        inside[needs] = True
        self.inside = inside
        en, fn = p.edge_need[lp.edges], p.fund_need[lp.funds]
        self.ys = np.nonzero(inside[en])[0]  # positions in lp.edges
        self.xs = np.nonzero(inside[fn])[0]  # positions in lp.funds
        self.funders = np.unique(p.fund_funder[lp.funds[self.xs]])
        self.provs = np.unique(p.edge_provider[lp.edges[self.ys]]) if places else np.zeros(0, np.int64)
        ny, nx, nz, nw = len(self.ys), len(self.xs), len(self.funders), len(self.provs)
        self.dim = ny + nx + nz + nw
        self.sizes = (ny, nx, nz, nw)
        k = len(self.needs)
        need_pos = np.searchsorted(self.needs, np.arange(p.needs))
        e, f = lp.edges[self.ys], lp.funds[self.xs]
        ye, xf = need_pos[p.edge_need[e]], need_pos[p.fund_need[f]]
        unit, money, munit = lp.unit, lp.money, lp.money_unit
        rows: list[tuple[list[int], list[float], float, float]] = []
        for i in range(k):
            yi = np.nonzero(ye == i)[0]
            xi = np.nonzero(xf == i)[0]
            n = self.needs[i]
            rows.append((list(yi), [1.0] * len(yi), -INF, 1.0))
            rows.append((list(yi) + list(ny + xi), list(-p.shortfall[e[yi]] / unit[n]) + [1.0] * len(xi), 0.0, 0.0))
            for j in xi:
                most = np.minimum(money[p.fund_funder[f[j]]], p.shortfall[e[yi]].astype(float)) / unit[n]
                rows.append(([ny + j, *yi], [1.0, *(-most)], -INF, 0.0))
        for q, g in enumerate(self.funders):
            xj = np.nonzero(p.fund_funder[f] == g)[0]
            rows.append(([*(ny + xj), ny + nx + q], [*(unit[p.fund_need[f[xj]]] / munit[g]), 1.0],
                         -INF, money[g] / munit[g]))
        for q, r in enumerate(self.provs):
            yj = np.nonzero(p.edge_provider[e] == r)[0]
            rows.append(([*yj, ny + nx + nz + q], [1.0] * (len(yj) + 1), -INF, float(p.capacity[r])))
        self.rows = rows
        upper = np.concatenate([np.ones(ny), np.full(nx, INF), np.full(nz, INF), p.capacity[self.provs].astype(float)])
        lower = np.concatenate([lp.lower[self.ys], np.zeros(nx + nz + nw)])
        self.oracle = _quiet(mip=True)
        h = self.oracle
        h.addVars(self.dim, lower, upper)
        for cols, vals, lo, hi in rows:
            h.addRow(lo, hi, len(cols), np.array(cols, dtype=np.int32), np.array(vals, dtype=float))
        integer = np.concatenate([np.arange(ny), ny + nx + nz + np.arange(nw)]).astype(np.int32)
        h.changeColsIntegrality(len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.oracle_calls = 0
        # The global columns and coefficients each local column stands for.
        outside_x = np.nonzero(~inside[fn])[0]
        outside_y = np.nonzero(~inside[en])[0]
        self.expand: list[tuple[np.ndarray, np.ndarray]] = []
        for j in self.ys:
            self.expand.append((np.array([lp.edge_col[j]]), np.ones(1)))
        for j in self.xs:
            self.expand.append((np.array([lp.fund_col[j]]), np.ones(1)))
        for g in self.funders:
            o = outside_x[p.fund_funder[lp.funds[outside_x]] == g]
            self.expand.append((lp.fund_col[o], unit[p.fund_need[lp.funds[o]]] / munit[g]))
        for r in self.provs:
            o = outside_y[p.edge_provider[lp.edges[outside_y]] == r]
            self.expand.append((lp.edge_col[o], np.ones(len(o))))

    def point(self, col: np.ndarray) -> np.ndarray:
        """The LP's solution (its column values) in this cluster's space."""
        return np.array([col[c] @ v for c, v in self.expand])

    def best(self, a: np.ndarray) -> tuple[np.ndarray, float, float]:
        """A point of the cluster's set maximising a·v, its value and the proven maximum (the MIP's
        dual bound, no smaller than the true maximum)."""
        h = self.oracle
        h.changeColsCost(self.dim, np.arange(self.dim, dtype=np.int32), a)
        h.clearSolver()
        h.run()
        self.oracle_calls += 1
        info = h.getInfo()
        v = np.array(h.getSolution().col_value)
        return v, float(a @ v), max(float(info.mip_dual_bound), float(a @ v))

    def separate(self, col: np.ndarray, tolerance: float = 1e-6, most: int = 400) -> tuple[np.ndarray, float, float] | None:
        """The cut a·v <= b most violated at the LP's solution in the 1-norm (|a_j| <= 1; the dual of
        the L1 distance from the point to the hull), by row generation: the separation LP over the
        cluster's points found so far, then the oracle for a point it misses. None if the point is in
        the hull (to the tolerance); else (a, b, violation)."""
        u = self.point(col)
        sep = _quiet(mip=False)
        sep.setOptionValue("solver", "simplex")
        d = self.dim
        sep.addVars(d + 1, np.concatenate([-np.ones(d), [-INF]]), np.concatenate([np.ones(d), [INF]]))
        sep.changeColsCost(d + 1, np.arange(d + 1, dtype=np.int32), np.concatenate([u, [-1.0]]))
        sep.changeObjectiveSense(highspy.ObjSense.kMaximize)
        # A first point: the oracle's best at the direction of the LP's point.
        v, _, _ = self.best(u)
        points = [np.zeros(d), v]
        for v in points:
            self._add_point(sep, v)
        for _ in range(most):
            sep.run()
            s = np.array(sep.getSolution().col_value)
            a, b = s[:d], s[d]
            if a @ u - b <= tolerance:
                return None
            v, value, proven = self.best(a)
            if value <= b + 1e-9:
                violation = a @ u - proven
                return (a, proven, violation) if violation > tolerance else None
            self._add_point(sep, v)
        return None

    def simple_points(self) -> list[np.ndarray]:
        """Points of the cluster's set built by hand: nothing; each provider edge alone, paid by its
        need's funders greedily, each funder first in turn; each funder's budget all taken outside;
        each provider's places all taken outside."""
        lp, p = self.lp, self.lp.problem
        ny, nx, nz, _ = self.sizes
        e, f = lp.edges[self.ys], lp.funds[self.xs]
        points = [np.zeros(self.dim)]
        for j in range(ny):
            n = p.edge_need[e[j]]
            mine = np.nonzero(p.fund_need[f] == n)[0]
            for first in mine:
                order = [first] + [k for k in mine if k != first]
                left = float(p.shortfall[e[j]])
                v = np.zeros(self.dim)
                v[j] = 1.0
                for k in order:
                    give = min(left, float(lp.money[p.fund_funder[f[k]]]))
                    v[ny + k] = give / lp.unit[n]
                    left -= give
                if left <= 0:
                    points.append(v)
                if not p.shortfall[e[j]]:
                    break
        for q, g in enumerate(self.funders):
            v = np.zeros(self.dim)
            v[ny + nx + q] = lp.money[g] / lp.money_unit[g]
            points.append(v)
        for q, r in enumerate(self.provs):
            v = np.zeros(self.dim)
            v[ny + nx + nz + q] = float(p.capacity[r])
            points.append(v)
        return points

    def separate_target(self, col: np.ndarray, tolerance: float = 1e-6, most: int = 400,
                        box: float = 1e3, keep: np.ndarray | None = None) -> tuple[np.ndarray, float, float] | None:
        """A target cut (Buchheim, Liers, Oswald): with x0 inside the hull (the mean of the simple
        points), max a·(u - x0) subject to a·(v - x0) <= 1 over the hull's points, by row generation;
        its optimum is a facet of the hull when the point lies outside. None if the point is in the
        hull (to the tolerance); else (a, b, violation) with b the oracle's proven max of a·v."""
        u = self.point(col)
        d = self.dim
        points = self.simple_points()
        bound = np.full(d, box)
        if keep is not None:
            # Only the points with every coordinate outside `keep` at 0 (the oracle is held to those).
            out = np.setdiff1d(np.arange(d), keep)
            points = [v for v in points if not np.any(v[out])]
            bound[out] = 0.0
        x0 = np.mean(points, axis=0)
        sep = _quiet(mip=False)
        sep.setOptionValue("solver", "simplex")
        sep.addVars(d, -bound, bound)
        sep.changeColsCost(d, np.arange(d, dtype=np.int32), u - x0)
        sep.changeObjectiveSense(highspy.ObjSense.kMaximize)

        def add(v: np.ndarray) -> None:
            w = v - x0
            nz = np.nonzero(np.abs(w) > 1e-12)[0]
            sep.addRow(-INF, 1.0, len(nz), nz.astype(np.int32), w[nz])
        for v in points:
            add(v)
        # Not converged after `most` points: the most violated of the valid cuts met on the way
        # (each a with the oracle's proven max of a·v), if any.
        fallback: tuple[np.ndarray, float, float] | None = None
        for _ in range(most):
            sep.run()
            a = np.array(sep.getSolution().col_value)
            if a @ (u - x0) <= 1 + tolerance:
                return None
            v, value, proven = self.best(a)
            scale = max(1.0, float(np.abs(a).max()))
            violation = (a @ u - proven) / scale
            if violation > tolerance and (fallback is None or violation > fallback[2]):
                fallback = (a / scale, proven / scale, violation)
            if value - a @ x0 <= 1 + 1e-9:
                self.converged = True
                return (a / scale, proven / scale, violation) if violation > tolerance else None
            add(v)
        self.converged = False
        return fallback

    def separate_lifted(self, col: np.ndarray, tolerance: float = 1e-6, most: int = 400) -> tuple[np.ndarray, float, float] | None:
        """As Applegate, Bixby, Chvátal and Cook do: the provider edges the LP's solution leaves at 0
        fixed at 0, a target cut separated over what is left (a far smaller space, so row generation
        converges), then those edges lifted back one at a time, each coefficient the most that keeps
        the cut valid: b less the oracle's proven max of a·v with that edge taken (0 if it cannot be).
        Sequential lifting keeps a facet a facet. None if the point is in the hull."""
        u = self.point(col)
        ny = self.sizes[0]
        zero = np.nonzero(u[:ny] <= 1e-9)[0]
        h = self.oracle
        upper = np.ones(len(zero))
        lower = self.lp.lower[self.ys][zero]
        if np.any(lower > 0):
            return None
        h.changeColsBounds(len(zero), zero.astype(np.int32), np.zeros(len(zero)), np.zeros(len(zero)))
        try:
            cut = self.separate_target(col, tolerance, most, keep=np.setdiff1d(np.arange(self.dim), zero))
            if cut is None:
                return None
            a, b, _ = cut
            a = a.copy()
            a[zero] = 0.0
            for j in zero:
                h.changeColBounds(int(j), 1.0, 1.0)
                h.changeColsCost(self.dim, np.arange(self.dim, dtype=np.int32), a)
                h.clearSolver()
                h.run()
                self.oracle_calls += 1
                if h.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
                    a[j] = 0.0
                else:
                    v = np.array(h.getSolution().col_value)
                    a[j] = b - max(float(h.getInfo().mip_dual_bound), float(a @ v))
                h.changeColBounds(int(j), 0.0, 1.0)
            violation = a @ u - b
            return (a, b, violation) if violation > tolerance else None
        finally:
            h.changeColsBounds(len(zero), zero.astype(np.int32), lower, upper)

    @staticmethod
    def _add_point(sep: highspy.Highs, v: np.ndarray) -> None:
        nz = np.nonzero(np.abs(v) > 1e-12)[0]
        sep.addRow(-INF, 0.0, len(nz) + 1, np.concatenate([nz, [len(v)]]).astype(np.int32),
                   np.concatenate([v[nz], [-1.0]]))

    def global_row(self, a: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray, float]:
        """The cut in the LP's columns: z and w written out as the sums they stand for."""
        cols = np.concatenate([c for c, _ in self.expand])
        vals = np.concatenate([a[j] * v for j, (_, v) in enumerate(self.expand)])
        keep = vals != 0
        cols, vals = cols[keep], vals[keep]
        order = np.argsort(cols, kind="stable")
        cols, vals = cols[order], vals[order]
        uniq, start = np.unique(cols, return_index=True)
        return uniq, np.add.reduceat(vals, start), b


def clusters(lp: DockingModel, y: np.ndarray, x: np.ndarray, size: int) -> list[np.ndarray]:
    """Per need the LP leaves fractional (a provider edge strictly between 0 and 1), that need and up
    to size-1 others sharing funders with it: first the fractional ones sharing the funders the LP
    pays it from, most shared money first, then any need the shared funders pay."""
    p = lp.problem
    en, fn, ff = p.edge_need[lp.edges], p.fund_need[lp.funds], p.fund_funder[lp.funds]
    frac = np.zeros(p.needs, dtype=bool)
    frac[en[(y > INTEGRAL) & (y < 1 - INTEGRAL)]] = True
    paid = np.zeros((p.needs, p.funders))
    np.add.at(paid, (fn, ff), x / lp.money[ff].clip(1.0))  # share of the funder's budget
    edge_to = np.zeros((p.needs, p.funders), dtype=bool)
    edge_to[fn, ff] = True
    out, seen = [], set()
    for n in np.nonzero(frac)[0]:
        # Other needs weighted by the budget share both draw from shared funders (or could draw).
        shared = (edge_to[n] * (paid[n] + 1e-3)) @ (edge_to * (paid + 1e-3)).T
        shared[n] = 0
        score = shared + 10.0 * frac * (shared > 0)
        order = np.argsort(-score, kind="stable")
        chosen = [n] + [int(m) for m in order[:size - 1] if score[m] > 0]
        key = frozenset(chosen)
        if len(chosen) > 1 and key not in seen:
            seen.add(key)
            out.append(np.array(chosen))
    return out


def funder_clusters(lp: DockingModel, y: np.ndarray, x: np.ndarray, size: int) -> list[np.ndarray]:
    """Per need the LP leaves fractional and per funder paying it there: that need and the other needs
    the funder pays, the most paid first, `size` in all (the shape of HiGHS's root cuts: one or two
    fractional needs beside needs wholly assigned that share a funder)."""
    p = lp.problem
    en, fn, ff = p.edge_need[lp.edges], p.fund_need[lp.funds], p.fund_funder[lp.funds]
    frac = np.zeros(p.needs, dtype=bool)
    frac[en[(y > INTEGRAL) & (y < 1 - INTEGRAL)]] = True
    out, seen = [], set()
    for k in np.nonzero(frac[fn] & (x > 0))[0]:
        n, f = fn[k], ff[k]
        others = np.nonzero((ff == f) & (fn != n) & (x > 0))[0]
        others = others[np.argsort(-x[others], kind="stable")][:size - 1]
        chosen = [int(n), *fn[others].tolist()]
        key = frozenset(chosen)
        if len(chosen) > 1 and key not in seen:
            seen.add(key)
            out.append(np.array(chosen))
    return out


def root_clusters(p: Problem, lp: DockingModel, size: int) -> list[np.ndarray]:
    """The needs each cut of HiGHS's root pool spans (bench/root_cuts.py), for the cuts the LP's
    solution breaks that span at most `size` needs, each set once: the clusters HiGHS found cuts on."""
    _, pools = root_node(p)
    start, col, value, _, upper = pools[-1]
    at = np.array(lp.h.getSolution().col_value)
    need_of = np.full(len(at), -1)
    need_of[lp.edge_col] = p.edge_need[lp.edges]
    need_of[lp.fund_col] = p.fund_need[lp.funds]
    out, seen = [], set()
    for c in range(len(start) - 1):
        cols = col[start[c]:start[c + 1]]
        needs = np.unique(need_of[cols])
        if at[cols] @ value[start[c]:start[c + 1]] > upper[c] + 1e-6 and len(needs) <= size \
                and frozenset(needs.tolist()) not in seen:
            seen.add(frozenset(needs.tolist()))
            out.append(needs)
    return out


def cut_round(lp: DockingModel, size: int, places: bool, log: bool = False, how: str = "lifted",
              given: list[np.ndarray] | None = None, by_funder: bool = False) -> tuple[int, int, float]:
    """One round: every cluster (`given`, or those of `clusters`) separated at the LP's solution, the
    violated cuts added. (cuts, clusters, processor seconds)."""
    col = np.array(lp.h.getSolution().col_value)
    y, x = lp.solution()
    began = time.process_time()
    found = 0
    cs = given if given is not None else (funder_clusters if by_funder else clusters)(lp, y, x, size)
    calls, unconverged = 0, 0
    for needs in cs:
        c = Cluster(lp, needs, places)
        cut = {"lifted": c.separate_lifted, "target": c.separate_target, "l1": c.separate}[how](col)
        calls += c.oracle_calls
        unconverged += not getattr(c, "converged", True)
        if cut is None:
            continue
        a, b, violation = cut
        cols, vals, upper = c.global_row(a, b)
        lp.h.addRow(-INF, upper, len(cols), cols.astype(np.int32), vals)
        found += 1
        if log:
            print(f"  cluster {needs.tolist()}: violation {violation:.4g}, {len(cols)} nonzeros")
    if log:
        print(f"  oracle calls {calls}, {unconverged} clusters not converged")
    return found, len(cs), time.process_time() - began


def dive_from(instance: Instance, lp: DockingModel | None) -> tuple[Result, float]:
    """The solve as it is, except that its dive starts from `lp`'s solution (every edge; its model
    without the cuts), as in the root's cuts' experiment (docs/matching.md); None: the solve as it is.
    The result and its processor seconds."""
    original = method._round
    if lp is not None:
        y, x = lp.solution()

        def _round(p: Problem, edges: np.ndarray, funds: np.ndarray, y_: np.ndarray, x_: np.ndarray,
                   deadline: float, linking: bool) -> np.ndarray:
            return original(p, lp.edges, lp.funds, y, x, deadline, linking)
        method._round = _round
    try:
        began = time.process_time()
        result = solve(instance)
        return result, time.process_time() - began
    finally:
        method._round = original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cell")
    parser.add_argument("seed", type=int, nargs="?", default=1)
    parser.add_argument("--size", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--places", action="store_true")
    parser.add_argument("--log", action="store_true")
    parser.add_argument("--how", choices=("lifted", "target", "l1"), default="lifted")
    parser.add_argument("--dive", action="store_true")
    parser.add_argument("--root-clusters", action="store_true")
    parser.add_argument("--by-funder", action="store_true")
    args = parser.parse_args()
    instance = generate("district", args.cell, args.seed)
    p = index(instance)
    lp = whole(p)
    lp.prefer_simplex()
    began = time.process_time()
    lp.run()
    linked = lp.objective
    print(f"{args.cell} seed {args.seed}: linked LP {linked:.6g} ({time.process_time() - began:.2f} processor s)")
    if args.dive:
        ours, seconds = dive_from(instance, None)
        print(f"the solve: {ours.objective:.6g}, bound {ours.upper_bound:.6g}, gap {ours.gap:.3%}, {seconds:.2f} s")
        plain, seconds = dive_from(instance, lp)
        print(f"dive from the whole LP: {plain.objective:.6g}, "
              f"{(ours.upper_bound - plain.objective) / ours.upper_bound:.3%} against our bound, {seconds:.2f} s")
    given = None
    if args.root_clusters:
        given = root_clusters(p, lp, args.size)
        print(f"HiGHS's root: {len(given)} clusters of at most {args.size} needs under the cuts it breaks")
    for r in range(args.rounds):
        cuts, tried, seconds = cut_round(lp, args.size, args.places, args.log, args.how, given if r == 0 else None,
                                         args.by_funder)
        lp.run()
        print(f"round {r + 1}: {cuts} cuts of {tried} clusters, {seconds:.1f} processor s; LP {lp.objective:.6g} "
              f"({(lp.objective - linked) / linked:+.3%})", flush=True)
        if args.dive:
            cut, seconds = dive_from(instance, lp)
            print(f"  dive from it: {cut.objective:.6g}, {(ours.upper_bound - cut.objective) / ours.upper_bound:.3%} "
                  f"against our bound, {seconds:.2f} s", flush=True)


if __name__ == "__main__":
    main()

