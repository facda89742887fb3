"""The HiGHS models: the docking LP (or MIP) over a chosen set of edges, and the funding
transportation problem for a fixed set of assignments."""

from __future__ import annotations

import os
import sys
import time
from typing import Literal

import highspy
import numpy as np
from ortools.graph.python import min_cost_flow

from market.matching.solver.problem import Problem, worth_at_most

INF = highspy.kHighsInf
# Above this many columns the interior point method (with crossover to a basic solution) beats
# the simplex method on these models by far; below it the simplex method starts faster.
IPM_COLUMNS = 5_000


def _without_banner() -> None:
    """HiGHS prints its banner to stdout when a process makes its first Highs, before any option can
    be set; made once here with stdout pointed at /dev/null, so the CLI prints only its own lines."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_without_banner()


def _highs(deadline: float, columns: int, mip: bool = False) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # One thread: the same answer every time, and the cores stay free for other work.
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("time_limit", max(0.1, deadline - time.monotonic()))
    if not mip:
        h.setOptionValue("solver", "ipm" if columns > IPM_COLUMNS else "simplex")
        h.setOptionValue("run_crossover", "on")
    return h


class DockingModel:
    """The docking LP (MIP if `integer`) restricted to provider edges `edges` and funder edges
    `funds` (indices into the problem's arrays), with `places` left per provider and `money` (fen,
    float) left per funder; edges marked `fixed` must be chosen, like pinned ones. With `every_row`
    it has the rows of every need, provider and funder, so edges of any need can be added later
    (`add`, for column generation).

    A funder edge may have a linking row: x[f,n] <= sum over n's provider edges of
    min(money[f], s[n,p]) * y[n,p]. Every docking keeps it (a funder pays a need only if
    the need has a provider, and never more than its money or the shortfall), but the plain LP
    does not: it pays a fifth of a need with a 200,000-fen shortfall from one funder of 50,000,
    as if the funder could pay the whole need. Where shortfalls are large against budgets this
    took the LP's optimum 1.5-5.4 % closer to the best docking on the district grid (within
    0.2-0.5 % of the limit HiGHS's branch and bound proves in minutes), and its solutions lean
    to dockings that exist. With `linking="all"` every funder edge has its row from the start;
    with "needed" only those `separate` adds, the ones the LP's solution breaks (column generation:
    the LP with every row took three to five times as long, 2,500 rows more on a district fair, and most
    never bind); with "none" none, the plain LP, the benchmark's yardstick.

    Scaled so the solver sees numbers near 1: each need's funding is measured in units of its
    largest shortfall, each budget row in units of the budget, the objective in units of what a
    typical need could be worth (`_typical_worth`). Row duals are scaled back to prices per fen and per place. The model stays loaded,
    so bounds can be changed, edges added and the LP re-solved from its last basis."""

    def __init__(self, problem: Problem, edges: np.ndarray, funds: np.ndarray, places: np.ndarray,
                 money: np.ndarray, deadline: float, integer: bool = False,
                 fixed: np.ndarray | None = None, every_row: bool = False,
                 linking: Literal["all", "needed", "none"] = "all") -> None:
        p = self.problem = problem
        en, ep, fn, ff = p.edge_need[edges], p.edge_provider[edges], p.fund_need[funds], p.fund_funder[funds]
        if every_row:
            needs, provs, funders = np.arange(p.needs), np.arange(p.providers), np.arange(p.funders)
        else:
            needs, provs, funders = np.unique(np.concatenate([en, fn])), np.unique(ep), np.unique(ff)
        nn, np_, nf = len(needs), len(provs), len(funders)
        self.need_row = np.full(p.needs, -1)
        self.need_row[needs] = np.arange(nn)
        self.prov_row = np.full(p.providers, -1)
        self.prov_row[provs] = nn + np.arange(np_)
        self.budget_row = np.full(p.funders, -1)
        self.budget_row[funders] = 2 * nn + np_ + np.arange(nf)
        self.funding_row0 = nn + np_
        self.unit = np.ones(p.needs)  # a need's funding unit: its largest shortfall
        np.maximum.at(self.unit, p.edge_need, p.shortfall.astype(float))
        self.money_unit = np.ones(p.funders)
        self.money_unit[funders] = np.maximum(money[funders], 1.0)
        self.kappa = 1.0 / _typical_worth(p)
        self.provs, self.funders = provs, funders
        self.rows = (nn, np_)
        self.edges, self.funds = np.zeros(0, np.int64), np.zeros(0, np.int64)
        self.edge_col, self.fund_col = np.zeros(0, np.int64), np.zeros(0, np.int64)
        self.lower = np.zeros(0)
        self.linking, self.money = linking, money
        self.link_row = np.zeros(0, np.int64)  # per funder edge in the model, its linking row (-1: none)

        # Rows: need (at most one provider), provider places, funding (equality), budget.
        lp = highspy.HighsLp()
        lp.num_row_ = 2 * nn + np_ + nf
        lp.row_lower_ = np.concatenate([np.full(nn + np_, -INF), np.zeros(nn), np.full(nf, -INF)])
        lp.row_upper_ = np.concatenate([np.ones(nn), places[provs].astype(float), np.zeros(nn),
                                        money[funders] / self.money_unit[funders]])
        lp.sense_ = highspy.ObjSense.kMaximize
        self.integer = integer
        self.deadline = deadline
        self.h = _highs(deadline, len(edges) + len(funds), mip=integer)
        if integer:
            self.h.setOptionValue("mip_rel_gap", 1e-4)
        self.h.passModel(lp)
        self.add(edges, funds, fixed)
        if integer:
            ny = len(edges)
            self.h.changeColsIntegrality(ny, self.edge_col.astype(np.int32),
                                         np.full(ny, highspy.HighsVarType.kInteger))

    def add(self, edges: np.ndarray, funds: np.ndarray, fixed: np.ndarray | None = None) -> None:
        """Add provider edges `edges` and funder edges `funds` (not yet in the model) as columns,
        with the linking rows of the new funder edges."""
        p = self.problem
        en, ep, fn, ff = p.edge_need[edges], p.edge_provider[edges], p.fund_need[funds], p.fund_funder[funds]
        ny, nx = len(edges), len(funds)
        y_need, x_need = self.need_row[en], self.need_row[fn]
        # (column, row, value) of every entry, the columns numbered from 0 here.
        col = [np.repeat(np.arange(ny), 3), ny + np.repeat(np.arange(nx), 2)]
        row = [np.stack([y_need, self.prov_row[ep], self.funding_row0 + y_need], 1).ravel(),
               np.stack([self.funding_row0 + x_need, self.budget_row[ff]], 1).ravel()]
        value = [np.stack([np.ones(ny), np.ones(ny), -p.shortfall[edges] / self.unit[en]], 1).ravel(),
                 np.stack([np.ones(nx), self.unit[fn] / self.money_unit[ff]], 1).ravel()]
        # The new edges in the linking rows of their needs' funder edges already in (none in the plain
        # LP, whose city rounds add 100,000 edges at a time).
        e, j = _pairs(en, p.fund_need[self.funds]) if self.linking != "none" else (np.zeros(0, int), np.zeros(0, int))
        e, j = e[self.link_row[j] >= 0], j[self.link_row[j] >= 0]
        if len(e):
            col.append(e)
            row.append(self.link_row[j])
            value.append(self._link(edges[e], self.funds[j]))
        col_, row_, value_ = np.concatenate(col), np.concatenate(row), np.concatenate(value)
        order = np.argsort(col_, kind="stable")
        start = np.concatenate([[0], np.cumsum(np.bincount(col_, minlength=ny + nx))[:-1]])
        cost = self.kappa * np.concatenate([p.value[edges], p.affinity[funds] * self.unit[fn]])
        must = (p.pinned_need[en] | (fixed if fixed is not None else False)).astype(float)
        first = len(self.edges) + len(self.funds)
        self.h.addCols(ny + nx, cost, np.concatenate([must, np.zeros(nx)]),
                       np.concatenate([np.ones(ny), np.full(nx, INF)]), len(order),
                       start.astype(np.int32), row_[order].astype(np.int32), value_[order])
        self.edges = np.concatenate([self.edges, edges])
        self.edge_col = np.concatenate([self.edge_col, first + np.arange(ny)])
        self.funds = np.concatenate([self.funds, funds])
        self.fund_col = np.concatenate([self.fund_col, first + ny + np.arange(nx)])
        self.lower = np.concatenate([self.lower, must])
        self.link_row = np.concatenate([self.link_row, np.full(nx, -1)])
        if self.linking == "all":
            self.link(len(self.funds) - nx + np.arange(nx))

    def separate(self) -> int:
        """Add the linking rows the last solution breaks (by more than a millionth of the need's
        largest shortfall); how many. None in the plain LP."""
        if self.linking == "none":
            return 0
        p = self.problem
        y, x = self.solution()
        unlinked = np.nonzero(self.link_row < 0)[0]
        q, i = _pairs(p.fund_need[self.funds[unlinked]], p.edge_need[self.edges])
        most = np.bincount(q, -self._link(self.edges[i], self.funds[unlinked[q]]) * y[i], minlength=len(unlinked))
        need = p.fund_need[self.funds[unlinked]]
        broken = unlinked[x[unlinked] / self.unit[need] > most + 1e-6]
        # The other funder edges of those needs too: each round of rows that an LP breaks anew took
        # a re-solve of its own.
        hit = np.zeros(p.needs, dtype=bool)
        hit[p.fund_need[self.funds[broken]]] = True
        broken = unlinked[hit[need]]
        self.link(broken)
        return len(broken)

    def link(self, positions: np.ndarray) -> None:
        """A linking row for each of these funder edges (positions in `funds`): its x, less each of
        its need's edges in the model."""
        p = self.problem
        k = len(positions)
        if not k:
            return
        q, i = _pairs(p.fund_need[self.funds[positions]], p.edge_need[self.edges])
        rows = np.concatenate([np.arange(k), q])
        cols = np.concatenate([self.fund_col[positions], self.edge_col[i]])
        vals = np.concatenate([np.ones(k), self._link(self.edges[i], self.funds[positions[q]])])
        order = np.argsort(rows, kind="stable")
        start = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=k))[:-1]])
        self.link_row[positions] = self.h.getNumRow() + np.arange(k)
        self.h.addRows(k, np.full(k, -INF), np.zeros(k), len(order), start.astype(np.int32),
                       cols[order].astype(np.int32), vals[order])

    def _link(self, edges: np.ndarray, funds: np.ndarray) -> np.ndarray:
        """The coefficient of each edge's y in the linking row of the funder edge beside it."""
        p = self.problem
        most = np.minimum(self.money[p.fund_funder[funds]].astype(float), p.shortfall[edges].astype(float))
        return -most / self.unit[p.edge_need[edges]]

    def run(self, grace: float = 0.0) -> bool:
        """Solve by the deadline (plus `grace` seconds); True if there is a solution to read
        (optimal, or for a MIP the best found)."""
        # HiGHS counts time over all runs of a model, so the limit is that plus what is left.
        left = max(0.1, self.deadline + grace - time.monotonic())
        self.h.setOptionValue("time_limit", self.h.getRunTime() + left)
        self.h.run()
        status = self.h.getModelStatus()
        if self.integer:
            return self.h.getInfo().primal_solution_status == 2
        return status == highspy.HighsModelStatus.kOptimal

    def start_from(self, chosen: np.ndarray, x: np.ndarray) -> None:
        """A docking for branch and bound to start from: the provider edges `chosen` and fen `x` per
        funder edge, both over the problem's edges (every one of them in the model)."""
        p = self.problem
        col = np.zeros(len(self.edges) + len(self.funds))
        taken = np.zeros(len(p.edge_need))
        taken[chosen] = 1.0
        col[self.edge_col] = taken[self.edges]
        col[self.fund_col] = x[self.funds] / self.unit[p.fund_need[self.funds]]
        solution = highspy.HighsSolution()
        solution.col_value = col.tolist()
        solution.value_valid = True
        self.h.setSolution(solution)

    @property
    def mip_bound(self) -> float:
        """What branch and bound has proven no docking can beat (inf if nothing)."""
        bound = self.h.getInfo().mip_dual_bound
        return bound / self.kappa if np.isfinite(bound) else INF

    def set_edges(self, columns: np.ndarray, lower: float, upper: float) -> None:
        """Change the bounds of some of the model's edges (positions in `edges`)."""
        n = len(columns)
        if n:
            self.h.changeColsBounds(n, self.edge_col[columns].astype(np.int32), np.full(n, lower), np.full(n, upper))

    def prefer_simplex(self) -> None:
        """For re-solves after small changes: the simplex method restarts from the last basis."""
        self.h.setOptionValue("solver", "simplex")

    @property
    def solved(self) -> bool:
        """Whether the last run ended at the LP's optimum (not cut short by its time limit)."""
        return self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    @property
    def objective(self) -> float:
        return self.h.getInfo().objective_function_value / self.kappa

    def solution(self) -> tuple[np.ndarray, np.ndarray]:
        """y per edge, x in fen per funder edge."""
        col = np.array(self.h.getSolution().col_value)
        return col[self.edge_col], col[self.fund_col] * self.unit[self.problem.fund_need[self.funds]]

    def prices(self) -> tuple[np.ndarray, np.ndarray]:
        """The LP's dual prices as (mu per fen for every funder, w per place for every provider)."""
        p = self.problem
        nn, np_ = self.rows
        dual = np.array(self.h.getSolution().row_dual) / self.kappa
        mu, w = np.zeros(p.funders), np.zeros(p.providers)
        w[self.provs] = np.maximum(0.0, dual[nn:nn + np_])
        budget = 2 * nn + np_
        mu[self.funders] = np.maximum(0.0, dual[budget:budget + len(self.funders)] / self.money_unit[self.funders])
        return mu, w


def _typical_worth(p: Problem) -> float:
    """The median over needs of what one could be worth at most: its largest value plus its largest
    shortfall paid at its funders' largest affinity (in magnitude). The LP's unit of objective. Taken
    from the edge values alone, it was 0 where most values are 0 (only money counting) and a billionth
    of the money's worth where values are tiny beside it; the duals then came back too far off to prove
    much (a fair of 34 needs: bound 254,421 against an optimum of 73,138; a district fair: 5.9 %)."""
    worth = worth_at_most(p)
    worth = worth[worth > 0]
    return max(float(np.median(worth)) if len(worth) else 1.0, 1e-9)


def _pairs(owners: np.ndarray, members_owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with owners[i] == members_owner[j]."""
    order = np.argsort(members_owner, kind="stable")
    ranked = members_owner[order]
    lo, hi = np.searchsorted(ranked, owners, "left"), np.searchsorted(ranked, owners, "right")
    count = hi - lo
    i = np.repeat(np.arange(len(owners)), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return i, order[np.repeat(lo, count) + offset]


# Affinities become whole costs for the flow, the largest this many units: fine enough that the
# flow's funding earns the best affinity to a millionth, coarse enough that no sum overflows.
COST_UNITS = 2**20


def solve_funding(problem: Problem, demand: np.ndarray, funds: np.ndarray, pinned: np.ndarray,
                  deadline: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Fen per funder edge in `funds` paying each need exactly its `demand` within budgets, most
    affinity first; and each need's unpaid fen. None if not solved by the deadline.

    When every need can be paid in full (the usual case: the docking came from an LP that paid
    them), this is a min-cost flow, whole fen by construction and solved in a fraction of the
    time an LP takes on a city round (`funding_flow`); otherwise, or should the flow refuse its
    numbers, the LP below, which says who cannot be paid.

    A transportation problem with integer data: its basic optimal solutions are whole fen, so the
    solver is asked for a basic one (simplex, or interior point with crossover). Unpaid fen is
    allowed at a penalty, so the model is always feasible and says which needs cannot be paid. The
    penalty outweighs any rerouting: paying one more fen moves money along a path that meets each
    funder at most once, changing the affinity earned by at most 2 * (funders + 1) * max|a|. A
    pinned need's penalty is three times that, so money leaves any other need first."""
    flowed = funding_flow(problem, demand, funds)
    if flowed is not None:
        return flowed, np.zeros(problem.needs)
    p = problem
    fn, ff = p.fund_need[funds], p.fund_funder[funds]
    needs = np.nonzero(demand > 0)[0]
    row = np.full(p.needs, -1)
    row[needs] = np.arange(len(needs))
    keep = row[fn] >= 0
    funds, fn, ff = funds[keep], fn[keep], ff[keep]
    nk, nn = len(funds), len(needs)
    penalty = 1.0 + 2.0 * (p.funders + 1) * (float(np.abs(p.affinity).max()) if len(p.affinity) else 0.0)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = nk + nn, nn + p.funders
    lp.col_cost_ = np.concatenate([p.affinity[funds], -penalty * np.where(pinned[needs], 3.0, 1.0)])
    lp.col_lower_ = np.zeros(nk + nn)
    lp.col_upper_ = np.full(nk + nn, INF)
    d = demand[needs].astype(float)
    lp.row_lower_ = np.concatenate([d, np.full(p.funders, -INF)])
    lp.row_upper_ = np.concatenate([d, p.budget.astype(float)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([np.arange(0, 2 * nk, 2), 2 * nk + np.arange(nn + 1)]).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([np.stack([row[fn], nn + ff], 1).ravel(), np.arange(nn)]).astype(np.int32)
    lp.a_matrix_.value_ = np.ones(2 * nk + nn)
    lp.sense_ = highspy.ObjSense.kMaximize
    h = _highs(deadline, nk + nn)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    col = np.array(h.getSolution().col_value)
    x = np.zeros(len(p.fund_need))
    unpaid = demand.astype(float).copy()
    x[funds] = col[:nk]
    unpaid[needs] = col[nk:]
    return x, unpaid


def funding_flow(p: Problem, demand: np.ndarray, funds: np.ndarray,
                 budget: np.ndarray | None = None) -> np.ndarray | None:
    """Fen per funder edge paying every need its demand in full within budgets (the funders' own, or
    `budget`), the most affinity (rounded to COST_UNITS of the largest) first, as a min-cost flow from
    needs through funders to one sink; None if the needs cannot all be paid or the flow refuses its
    numbers."""
    fn, ff = p.fund_need[funds], p.fund_funder[funds]
    needs = np.nonzero(demand > 0)[0]
    node = np.full(p.needs, -1)
    node[needs] = np.arange(len(needs))
    keep = node[fn] >= 0
    funds, fn, ff = funds[keep], fn[keep], ff[keep]
    nn, sink = len(needs), len(needs) + p.funders
    top = float(np.abs(p.affinity[funds]).max()) if len(funds) else 0.0
    cost = -np.rint(p.affinity[funds] / top * COST_UNITS).astype(np.int64) if top > 0 else np.zeros(len(funds), np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([node[fn], nn + np.arange(p.funders)]).astype(np.int32),
        np.concatenate([nn + ff, np.full(p.funders, sink)]).astype(np.int32),
        np.concatenate([demand[fn], p.budget if budget is None else budget]).astype(np.int64),
        np.concatenate([cost, np.zeros(p.funders, np.int64)]))
    supply = np.zeros(sink + 1, dtype=np.int64)
    supply[:nn] = demand[needs]
    supply[sink] = -int(demand[needs].sum())
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supply)
    if flow.solve() != flow.OPTIMAL:
        return None
    x = np.zeros(len(p.fund_need))
    x[funds] = flow.flows(np.arange(len(funds), dtype=np.int32))
    return x
