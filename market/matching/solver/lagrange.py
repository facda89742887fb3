"""Prices for funders' money (mu, per fen) and providers' places (w), and the upper bound they prove.

Relaxing the budget and capacity rows with prices mu, w >= 0 leaves one small problem per need:
take the provider edge with the best reduced value r = v + F(s) - w[p], or none, where F(s) is the
most that paying the edge's shortfall s is worth at those prices: the need's funders best net
affinity a[f,n] - mu[f] first, each giving at most min(B[f], s) (no funder gives more than its
budget, whatever the price of its money), and -inf where they cannot pay s between them. So

    D(mu, w) = sum B*mu + sum cap*w + sum over needs of max(0, max_p r)   (a pinned need: its r)

is an upper bound on every docking for ANY mu, w >= 0 (weak duality: a Lagrangian relaxation of the
docking problem itself, with x[f,n] <= B[f] kept in each need's part). It is at most the LP
relaxation's optimum at that LP's optimal prices, and much below it where shortfalls are large
against budgets: the LP pays a fraction of a need from one funder with a budget far smaller than
the need, which no docking can (`paid`). At prices of the LP strengthened with the same limits
(`highs.DockingModel`, its linking rows) it equals that LP's optimum, to a hair below.

`smooth_prices` finds near-optimal prices fast by minimising the LP's D (each need funded at its best
net affinity lam[n] = max_f (a[f,n] - mu[f]), no limits) with each max replaced by a soft maximum
(log-sum-exp), for a falling temperature, with L-BFGS-B; it touches each edge a few hundred times in
vectorised passes, where an LP solver on the whole city round needs far longer.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from market.matching.solver.problem import Problem, Segments, worth_at_most

# (need temperature, funder temperature) relative to each need's value and the affinities' spread.
# and L-BFGS iterations at each: a fixed count, so the same input gives the same prices (the
# deadline only cuts a stage short on a machine far slower than planned for).
SCHEDULE = ((0.05, 0.01, 150), (0.01, 0.002, 150), (0.002, 0.0004, 150))
# Each stage is five times cooler than the last, so the smoothing's bias shrinks about fivefold: a
# stage after the second is taken only while the last one moved D by more than this (five times the
# city's goal for the gap). On city hard-money and affinity-10 the second moved it 8.2-8.4 %: their
# prices still overpriced money, the edges near them left 9,000-12,000 of 20,000 needs without one,
# and the LP over those lay 20-21 % below the bound; after the third, 0.1 %. On base and values-price
# it moved 1.5-1.9 %: the third moved it 0.08 % more, and its 4-5 s went short from the dive (city
# base 0.26 % → 0.92 %).
STILL_MOVING = 0.05


class Lagrangian:
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.by_need = Segments(problem.edge_need, problem.needs)
        self.fund_by_need = Segments(problem.fund_need, problem.needs)
        self.has_funder = np.zeros(problem.needs, dtype=bool)
        self.has_funder[problem.fund_need] = True
        self.shortfall = problem.shortfall.astype(float)
        self.capacity = problem.capacity.astype(float)
        self.budget = problem.budget.astype(float)
        # What a need could be worth at most: the yardstick for its temperature and tolerances.
        self.scale = np.maximum(worth_at_most(problem), 1e-9)
        self.unit = np.maximum(self.by_need.max(self.shortfall, 0.0), 1.0)  # a need's largest shortfall
        self.pinned_edge = problem.pinned_need[problem.edge_need]

    def funding_price(self, mu: np.ndarray) -> np.ndarray:
        """lam[n] = max over n's funders of (a - mu); 0 for needs nobody funds (their edges cost nothing)."""
        p = self.problem
        lam = self.fund_by_need.max(p.affinity - mu[p.fund_funder], 0.0)
        lam[~self.has_funder] = 0.0
        return lam

    def reduced(self, mu: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each edge's reduced value r, and each need's best option u (0 = no provider; a pinned need
        has no such option)."""
        p = self.problem
        r = p.value + self.shortfall * self.funding_price(mu)[p.edge_need] - w[p.edge_provider]
        best = self.by_need.max(r, 0.0)
        u = np.where(p.pinned_need, best, np.maximum(best, 0.0))
        return r, u

    def paid(self, mu: np.ndarray, funds: np.ndarray | None = None) -> np.ndarray:
        """F per edge: what paying its whole shortfall is worth at money prices mu, from its need's
        funders (those marked in `funds`, all by default) best net affinity first, each giving at
        most its budget and at most the shortfall; -inf where they cannot pay it all."""
        p = self.problem
        net = p.affinity - mu[p.fund_funder]
        ks = np.arange(len(p.fund_need)) if funds is None else np.nonzero(funds)[0]
        ks = ks[np.lexsort((-net[ks], p.fund_need[ks]))]  # by need, best net affinity first
        count = np.bincount(p.fund_need[ks], minlength=p.needs)
        # One pair per edge and funder of its need, in that order.
        rep = count[p.edge_need]
        start = np.cumsum(rep) - rep
        pair_edge = np.repeat(np.arange(len(p.edge_need)), rep)
        k = ks[np.repeat((np.cumsum(count) - count)[p.edge_need] - start, rep) + np.arange(int(rep.sum()))]
        s = self.shortfall[pair_edge]
        cap = np.minimum(self.budget[p.fund_funder[k]], s)
        given_before = np.cumsum(cap) - cap - np.repeat(np.concatenate([[0.0], np.cumsum(cap)])[start], rep)
        give = np.clip(s - given_before, 0.0, cap)
        worth = np.bincount(pair_edge, net[k] * give, minlength=len(p.edge_need))
        can = np.bincount(pair_edge, cap, minlength=len(p.edge_need))
        return np.where((can >= self.shortfall) | (self.shortfall == 0), worth, -np.inf)

    def bound(self, mu: np.ndarray, w: np.ndarray, limits: bool = True) -> float:
        """D(mu, w): no docking is worth more (see above); without `limits`, the LP's D, no
        stronger than the LP relaxation's optimum."""
        p = self.problem
        mu, w = np.maximum(mu, 0.0), np.maximum(w, 0.0)
        if not limits:
            return float(self.budget @ mu + self.capacity @ w + self.reduced(mu, w)[1].sum())
        best = self.by_need.max(p.value + self.paid(mu) - w[p.edge_provider], -np.inf)
        u = np.where(p.pinned_need, best, np.maximum(best, 0.0))
        # A pinned need its funders cannot pay makes the instance infeasible (and is refused before
        # solving); its LP value keeps the bound finite should one come here.
        u = np.where(np.isfinite(u), u, self.reduced(mu, w)[1])
        return float(self.budget @ mu + self.capacity @ w + u.sum())

    def smooth_prices(self, deadline: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Near-optimal (mu, w) and the LP's D at them (`bound` without limits), the best found before
        the deadline."""
        p = self.problem
        width = float(np.ptp(p.affinity)) if len(p.affinity) else 0.0
        a_unit = max(width, float(np.abs(p.affinity).max()) if len(p.affinity) else 0.0, 1e-9)
        w_unit = float(np.median(self.scale))  # w in units of a typical need's worth: a conditioned problem
        # mu in units of a typical need's worth per fen of its shortfall, for the same reason; the
        # affinities may be far smaller (money nearly free) or far larger than that.
        paid = self.shortfall[self.shortfall > 0]
        mu_unit = w_unit / float(np.median(paid)) if len(paid) else 1.0
        a_unit = max(a_unit, mu_unit)
        total = float(self.scale.sum())
        F = p.funders
        z = np.zeros(F + p.providers)
        best = (np.zeros(F), np.zeros(p.providers), self.bound(np.zeros(F), np.zeros(p.providers), limits=False))
        moves = [best[2]]  # D before the first stage and after each
        for stage, (tau, tau_f, iterations) in enumerate(SCHEDULE):
            if time.monotonic() > deadline or (stage >= 2 and moves[-2] - moves[-1] <= STILL_MOVING * abs(moves[-2])):
                break

            def f(z: np.ndarray, tau: float = tau, tau_f: float = tau_f) -> tuple[float, np.ndarray]:
                return self._smoothed(z[:F] * mu_unit, z[F:] * w_unit, tau, tau_f * a_unit, total, mu_unit, w_unit)
            res = minimize(f, z, jac=True, method="L-BFGS-B", bounds=[(0, None)] * len(z),
                           callback=_stop_at(deadline), options={"maxiter": iterations, "maxcor": 20})
            z = res.x
            mu, w = z[:F] * mu_unit, z[F:] * w_unit
            d = self.bound(mu, w, limits=False)
            moves.append(d)
            if d < best[2]:
                best = (mu.copy(), w.copy(), d)
        return best

    def _smoothed(self, mu: np.ndarray, w: np.ndarray, tau: float, tau_f: float, total: float,
                  mu_unit: float, w_unit: float) -> tuple[float, np.ndarray]:
        """D with every max a soft maximum, and its gradient, both divided by `total`."""
        p = self.problem
        t = (p.affinity - mu[p.fund_funder]) / tau_f
        m = self.fund_by_need.max(t, 0.0)
        et = np.exp(t - m[p.fund_need])
        se = self.fund_by_need.sum(et)
        lam = np.where(self.has_funder, tau_f * (m + np.log(np.where(self.has_funder, se, 1.0))), 0.0)
        share = et / se[p.fund_need]  # of a need's funding, from each of its funders

        temp = tau * self.scale
        r = (p.value + self.shortfall * lam[p.edge_need] - w[p.edge_provider]) / temp[p.edge_need]
        top = self.by_need.max(r, 0.0)
        top = np.where(p.pinned_need, top, np.maximum(top, 0.0))
        er = np.exp(r - top[p.edge_need])
        none = np.where(p.pinned_need, 0.0, np.exp(-top))  # the option of no provider
        se2 = self.by_need.sum(er) + none
        has_edge = se2 > 0
        value = np.where(has_edge, temp * (top + np.log(np.where(has_edge, se2, 1.0))), 0.0)
        chance = er / se2[p.edge_need]  # soft choice of each edge

        fval = self.budget @ mu + self.capacity @ w + value.sum()
        g_w = self.capacity - np.bincount(p.edge_provider, chance, p.providers)
        drawn = self.by_need.sum(chance * self.shortfall)
        g_mu = self.budget - np.bincount(p.fund_funder, drawn[p.fund_need] * share, p.funders)
        return fval / total, np.concatenate([g_mu * mu_unit, g_w * w_unit]) / total


def _stop_at(deadline: float):
    def callback(intermediate_result: object) -> None:
        if time.monotonic() > deadline:
            raise StopIteration
    return callback
