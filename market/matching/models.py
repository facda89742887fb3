"""The HiGHS models: the docking LP (or MIP) over a chosen set of edges, and the funding
transportation problem for a fixed set of assignments."""

from __future__ import annotations

import time

import highspy
import numpy as np

from market.matching.problem import Problem

INF = highspy.kHighsInf
# Above this many columns the interior point method (with crossover to a basic solution) beats
# the simplex method on these models by far; below it the simplex method starts faster.
IPM_COLUMNS = 5_000


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
    float) left per funder; edges marked `fixed` must be chosen, like pinned ones.

    Scaled so the solver sees numbers near 1: each need's funding is measured in units of its
    largest shortfall, each budget row in units of the budget, the objective in units of a typical
    edge value. Row duals are scaled back to prices per fen and per place. The model stays loaded,
    so bounds can be changed and the LP re-solved from its last basis."""

    def __init__(self, problem: Problem, edges: np.ndarray, funds: np.ndarray, places: np.ndarray,
                 money: np.ndarray, deadline: float, integer: bool = False,
                 fixed: np.ndarray | None = None) -> None:
        p = self.problem = problem
        self.edges, self.funds = edges, funds
        en, ep = p.edge_need[edges], p.edge_provider[edges]
        fn, ff = p.fund_need[funds], p.fund_funder[funds]
        short = p.shortfall[edges].astype(float)
        needs, local = np.unique(np.concatenate([en, fn]), return_inverse=True)
        y_need, x_need = local[:len(en)], local[len(en):]
        provs, y_prov = np.unique(ep, return_inverse=True)
        funders, x_fund = np.unique(ff, return_inverse=True)
        nn, np_, nf = len(needs), len(provs), len(funders)
        unit = np.ones(nn)
        np.maximum.at(unit, y_need, short)  # a need's funding unit: its largest shortfall
        money_unit = np.maximum(money[funders], 1.0)
        values = np.concatenate([p.value[edges], p.affinity[funds] * unit[x_need]])
        self.kappa = 1.0 / max(float(np.median(np.abs(values))) if len(values) else 1.0, 1e-9)
        self.x_unit = unit[x_need]
        self.provs, self.funders, self.money_unit = provs, funders, money_unit
        self.rows = (nn, np_)

        # Rows: need (at most one provider), provider places, funding (equality), budget.
        r_funding, r_budget = nn + np_, 2 * nn + np_
        ny, nx = len(edges), len(funds)
        index = np.concatenate([np.stack([y_need, nn + y_prov, r_funding + y_need], 1).ravel(),
                                np.stack([r_funding + x_need, r_budget + x_fund], 1).ravel()])
        value = np.concatenate([np.stack([np.ones(ny), np.ones(ny), -short / unit[y_need]], 1).ravel(),
                                np.stack([np.ones(nx), unit[x_need] / money_unit[x_fund]], 1).ravel()])
        start = np.concatenate([np.arange(0, 3 * ny, 3), 3 * ny + np.arange(0, 2 * nx + 1, 2)])

        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ny + nx, 2 * nn + np_ + nf
        lp.col_cost_ = self.kappa * values
        must = p.pinned_need[en] | (fixed if fixed is not None else False)
        self.lower = must.astype(float)
        lp.col_lower_ = np.concatenate([self.lower, np.zeros(nx)])
        lp.col_upper_ = np.concatenate([np.ones(ny), np.full(nx, INF)])
        lp.row_lower_ = np.concatenate([np.full(nn + np_, -INF), np.zeros(nn), np.full(nf, -INF)])
        lp.row_upper_ = np.concatenate([np.ones(nn), places[provs].astype(float), np.zeros(nn),
                                        money[funders] / money_unit])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = start.astype(np.int32)
        lp.a_matrix_.index_ = index.astype(np.int32)
        lp.a_matrix_.value_ = value
        lp.sense_ = highspy.ObjSense.kMaximize
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * ny + [highspy.HighsVarType.kContinuous] * nx
        self.integer = integer
        self.deadline = deadline
        self.h = _highs(deadline, ny + nx, mip=integer)
        if integer:
            self.h.setOptionValue("mip_rel_gap", 1e-4)
        self.h.passModel(lp)

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

    def set_edges(self, columns: np.ndarray, lower: float, upper: float) -> None:
        """Change the bounds of some of the model's edges (positions in `edges`)."""
        n = len(columns)
        if n:
            self.h.changeColsBounds(n, columns.astype(np.int32), np.full(n, lower), np.full(n, upper))

    def prefer_simplex(self) -> None:
        """For re-solves after small changes: the simplex method restarts from the last basis."""
        self.h.setOptionValue("solver", "simplex")

    @property
    def objective(self) -> float:
        return self.h.getInfo().objective_function_value / self.kappa

    def solution(self) -> tuple[np.ndarray, np.ndarray]:
        """y per edge, x in fen per funder edge."""
        col = np.array(self.h.getSolution().col_value)
        ny = len(self.edges)
        return col[:ny], col[ny:] * self.x_unit

    def prices(self) -> tuple[np.ndarray, np.ndarray]:
        """The LP's dual prices as (mu per fen for every funder, w per place for every provider)."""
        p = self.problem
        nn, np_ = self.rows
        dual = np.array(self.h.getSolution().row_dual) / self.kappa
        mu, w = np.zeros(p.funders), np.zeros(p.providers)
        w[self.provs] = np.maximum(0.0, dual[nn:nn + np_])
        mu[self.funders] = np.maximum(0.0, dual[2 * nn + np_:] / self.money_unit)
        return mu, w


def solve_funding(problem: Problem, demand: np.ndarray, funds: np.ndarray, pinned: np.ndarray,
                  deadline: float) -> tuple[np.ndarray, np.ndarray]:
    """Fen per funder edge in `funds` paying each need exactly its `demand` within budgets, most
    affinity first; and each need's unpaid fen.

    A transportation problem with integer data: its basic optimal solutions are whole fen, so the
    solver is asked for a basic one (simplex, or interior point with crossover). Unpaid fen is
    allowed at a penalty, so the model is always feasible and says which needs cannot be paid. The
    penalty outweighs any rerouting: paying one more fen moves money along a path that meets each
    funder at most once, changing the affinity earned by at most 2 * (funders + 1) * max|a|. A
    pinned need's penalty is three times that, so money leaves any other need first."""
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
    col = np.array(h.getSolution().col_value) if h.getInfo().primal_solution_status == 2 else None
    x = np.zeros(len(p.fund_need))
    unpaid = demand.astype(float).copy()
    if col is not None:
        x[funds] = col[:nk]
        unpaid[needs] = col[nk:]
    return x, unpaid
