"""How `solve` docks: LP relaxation on the edges that matter, rounding, exact funding, local search.

1. The LP relaxation. Small instances: over every edge (HiGHS). Medium ones (a district fair):
   column generation from a few edges a need, pricing every edge left out at the LP's duals
   until none would raise it. Large ones (a city round): near-optimal prices from the smoothed
   Lagrangian dual (`lagrange`) first, the LP over the edges whose reduced value at those prices
   is within 1 % of their need's worth, then column generation while time allows. Every set of
   prices, evaluated over EVERY edge, proves a bound (weak duality: a dual-feasible solution of
   the whole LP); the smallest is `upper_bound`. The optimum of an LP over some edges is not one.
2. The LP comes back as a basic solution in which most needs have one provider outright. Those
   are kept; the rest are settled in a dive, in batches while many are open, then one by one
   (fix an option, re-solve the LP from its last basis, keep the best; see `_dive`). A small
   instance lets all the funding be rerouted during the dive; a large one keeps the LP's funding
   of the settled needs and shares out the money left.
3. The funding of the chosen assignments is a transportation problem with integer demands and
   budgets, so its basic optimal solutions are whole fen: solved again for the best affinity as a
   min-cost flow (OR-Tools; an LP where not every need can be paid), checked in integers and
   repaired if anything is off (or, should it not be solved in time, paid greedily).
4. Places and fen still free go greedily to needs without a provider, by reduced value; then a
   local search moves needs between their edges where value plus affinity gains (`_improve`),
   and needs swap places at full providers, money rerouted between funders (`swaps`); after
   swaps the moves of one need run again and the new set's funding is solved afresh. On a district
   fair a large-neighbourhood search follows (`lns`): the needs of one funder are docked anew
   exactly, every other need kept, funder by funder in a fixed order, and the funding of the result
   is solved afresh again.
5. Small instances (up to 5,000 edges) are also solved as a MIP outright, starting from the docking
   found (the dive cannot take back an assignment the LP made whole, and with so few needs that can
   matter); the better answer wins, and the bound branch and bound proves stands beside the LP's:
   where the LP's optimum lies well above every docking, only it can say the answer is the best.
6. A docking done with time left lets column generation go on where it stopped, for the bound alone
   (a city round's last rounds were cut to leave the dive its time).
Should the LP run out of time, a greedy docking by the prices stands in for it; a dive out of time
keeps what it has settled. So there is always a feasible answer: at worst the pinned needs alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from market.core.errors import Invalid, InvalidFields
from market.core.i18n import N_
from market.matching.solver import lns
from market.matching.solver.lagrange import Lagrangian
from market.matching.solver.highs import DockingModel, solve_funding
from market.matching.solver.problem import Problem, _show
from market.matching.solver.models import Assignment, Funding, Result
from market.matching.solver.swaps import Swaps

FULL_LP_COLUMNS = 5_000  # up to here the whole LP is quicker than generating columns
# Above this the LP starts from the edges that matter at prices from the Lagrangian dual: an LP
# of every edge of a city round with random edges takes HiGHS a minute (its factors fill in).
LAGRANGE_COLUMNS = 100_000
FIRST_EDGES = 3  # per need and kind, to start column generation with
PRICED_EDGES = 5  # edges added per need and round of column generation, at most
# Relative: column generation stops once the LP over the model's edges and the bound proven agree
# to this. A district takes five to eleven rounds, the last ones each moving the bound by less.
CG_TOLERANCE = 5e-4
CG_ROUNDS = 20  # at most
CG_SHARE = 0.45  # of the time limit: no round of column generation starts later
# Unless the first LP ended after it; then rounds go on this share of the time limit more. With a
# core shared, city affinity-10's first LP ended 0.3 s after 45 % of the limit and no round ran
# (gap 1.14 %); alone, three rounds of 0.5 s brought in its linking rows (0.63 %).
CG_AFTER_FIRST = 0.05
# Nor one that would likely not end by then: a round is expected to take this times the last one's
# time, times the columns it adds over those in the LP. On city rounds, 81,000 columns priced in
# beside 45,000 took 3.5 times the last (29 s after 8 s; base); 160,000 beside 35,000 had not ended
# after 4.5 times (values-price); 6,000 beside 136,000 took a fiftieth (0.3 s after 15 s; hard-money),
# the simplex method starting from the last basis. A round cut short is time lost to the dive.
# A round that would not fit adds fewer edges a need (down to the best one) rather than none: on
# the city-wide run of the product's own scoring (fit scores 35-60, places 1-3 a provider, about
# as many as needs) the LP over the Lagrangian's edges lay 3.3 % below the LP optimum, its first
# round (75,000 columns beside 55,000) was not started, and the gap stayed 1.24 %; four rounds
# starting with each need's best edge took 9 s and reached the optimum, gap 0.01 %.
CG_GROWTH = 4.0
# The Lagrangian's fixed iterations take 4-5 processor seconds on a city round; with a third of a
# core (the machine shared) that is 13 s of the clock, with a sixth 27 s. Cut sooner, its prices
# were 4 % off and the LP over the edges they pick 4 % below the bound (two solves at once: gap
# 7.5 %); the LP and dive after it lose less from a later start than from poor prices.
LAGRANGE_SHARE = 0.45
# An edge is a candidate if its reduced value is within this share of its need's worth (1 %: the
# LP's factors of a city round with random edges fill in fast as more are let in).
NEAR = 0.01
FREE_FUNDING_COLUMNS = 20_000  # up to here the dive may reroute all the funding
INTEGRAL = 1e-6
# Fractional needs the dive settles one at a time, trying each option (in a model of at most so
# many columns); more, or in a larger model, go in batches.
ONE_BY_ONE, ONE_BY_ONE_COLUMNS = 30, 20_000
BATCH = 4  # a batch settles this share (1/BATCH) of the fractional needs, given the time
BATCH_SPREAD = 3.0  # a city dive took 59 batches where shrinking by quarters alone takes 16
IMPROVE_PASSES = 3
TIGHTEN_MARGIN = 1.0  # seconds before the limit when the bound's column generation stops
# Up to here the whole MIP is solved as well, from the docking found, and the better answer kept; the
# bound its branch and bound proves stands beside the LP's. On 150 fairs of 2-150 needs drawn at random
# from odd families (values all 0, negative, or up to a billion; affinities from -10⁻³ to 10 per fen;
# budgets 0-150 % of full funding; places 0-6) the LP's bound left a gap of 0.5-6.7 % on 30, nearly all
# of whose dockings HiGHS proves optimal; with branch and bound's, on one (0.7-0.8 %, its MIP cut short).
# Given 5 s, 10 of those solves took 2-5 s; now every one ends within 1.6 s. Up to as many edges as
# the LP takes whole (a small district fair): on 60 fairs of 2-700 needs from the same families, gaps
# over 0.5 % on 3-4, not 8 (with 2,000 edges).
EXACT_COLUMNS = FULL_LP_COLUMNS
# It ends this long after the solve began (a district fair's goal is 2 s: HiGHS's branch and bound
# overran a limit of 1 s by 0.37 s, between its checks of the clock), and does not start with less
# than EXACT_LEAST left.
EXACT_BY, EXACT_LEAST = 1.5, 0.1
# Above EXACT_COLUMNS (solved outright) and up to here, a district fair's size, the large-neighbourhood
# search runs after the swaps (`lns`); not on a city round (500,000 columns), which is left as it was
# (its time goes to the prices, the LP and the swaps; the search was not tried there). It ends
# after its fixed work or LNS_BY seconds after the solve began, whichever is first: idle, every district
# solve of the grid ends by 1.45 s, so the clock does not cut it and the answer is the same every time;
# on a day twice as slow the clock ends it, the solve by 2 s (the goal), the answer then depending on
# how far it got.
LNS_COLUMNS = LAGRANGE_COLUMNS
LNS_BY = 1.7


class Bounds:
    """The least bound proven (`best`): D with limits (lagrange.py) at every set of prices tried."""

    def __init__(self, lag: Lagrangian) -> None:
        self.lag = lag
        self.own: list[float] = []

    def add(self, mu: np.ndarray, w: np.ndarray) -> None:
        self.own.append(self.lag.bound(mu, w))

    def proven(self, bound: float) -> None:
        """A bound proven otherwise: by branch and bound over the whole instance."""
        self.own.append(bound)

    @property
    def best(self) -> float:
        return min(self.own)


def dock(problem: Problem, deadline: float) -> Result:
    start = time.monotonic()
    lag = Lagrangian(problem)
    pin_money = _fund_pins(problem)
    bounds = Bounds(lag)
    bounds.add(np.zeros(problem.funders), np.zeros(problem.providers))
    chosen, mu, w, lp = _decide(problem, lag, bounds, start, deadline, pin_money)
    # Money and places the rounding left are offered to needs still without a provider.
    funding = time.monotonic()
    funded = _fund(problem, chosen, deadline, pin_money)
    # The search stops in time to fund its docking afresh at the end, as long again as this took, and
    # to write the answer out (on a city round stopping at twice this took the solve 0.02 s past 60).
    search = deadline - 3 * (time.monotonic() - funding)
    options = [_improve(problem, *_greedy(lag, mu, w, *funded), search)]
    swaps = Swaps(problem, *options[0])
    if swaps.run(search):
        # Swaps free places and money in new spots: moves of one need may now gain again, and the
        # funding of the new set is best solved afresh (the swaps' own is feasible, not optimal).
        chosen, _ = _improve(problem, *swaps.docking(), search)
        options.append(_fund(problem, chosen, deadline, pin_money))
    columns = len(problem.edge_need) + len(problem.fund_need)
    if EXACT_COLUMNS < columns <= LNS_COLUMNS and lp is not None and lp.solved:
        # Neighbourhoods of a funder docked exactly (`lns`), most promising first: where money
        # outweighs values no move of one need can spend it better. Its docking's funding is solved
        # afresh, as after the swaps: money moves between the neighbourhoods too.
        best = max(options, key=lambda option: _objective(problem, *option))
        y, x = lp.solution()
        chosen, x, better = lns.search(problem, *best, min(search, start + LNS_BY), (lp.edges, y, lp.funds, x))
        if better:
            options += [(chosen, x), _fund(problem, chosen, deadline, pin_money)]
    mip_deadline = min(deadline, start + EXACT_BY)
    if (columns <= EXACT_COLUMNS
            and mip_deadline - time.monotonic() >= EXACT_LEAST):
        best = max(options, key=lambda option: _objective(problem, *option))
        exact, proven = _exact_mip(problem, mip_deadline, best)
        bounds.proven(proven)
        if exact is not None:
            options.append(_fund(problem, exact, deadline))
    stop = deadline - TIGHTEN_MARGIN
    if (lp is not None and lp.solved and bounds.best - lp.objective > CG_TOLERANCE * abs(bounds.best)
            and time.monotonic() < stop):
        # The docking is done with time left (a city round often ends well inside its limit):
        # column generation goes on where it stopped, for the bound alone. On city hard-scarce one
        # more round took the bound from 0.34 % above the LP optimum to 0.01 % in 2 s. An LP its
        # time limit cut short is left: on city capacity-1 12 s more did not finish it.
        lp.deadline = stop
        # From its basis: an LP the interior point method solved and no round changed was solved
        # anew from nothing (5 s of a city round's last 15).
        lp.prefer_simplex()
        _generate_columns(lag, lp, bounds, CG_ROUNDS, stop)
    best = max(options, key=lambda option: _objective(problem, *option))  # the first of equals: the LP's
    return _result(problem, *best, bounds.best)


def _decide(problem: Problem, lag: Lagrangian, bounds: Bounds, start: float, deadline: float,
            pin_money: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, DockingModel | None]:
    """The provider edges to take (indices into the problem's edges), the best prices known, and
    the LP of column generation as it stopped (None if it was not solved)."""
    p = problem
    mu, w = np.zeros(p.funders), np.zeros(p.providers)
    if len(p.edge_need) == 0:
        return np.zeros(0, dtype=np.int64), mu, w, None
    budget = deadline - start
    # The funding at the end must have time left whatever happens before.
    lp_deadline = deadline - 0.3 * budget
    columns = len(p.edge_need) + len(p.fund_need)
    if columns > LAGRANGE_COLUMNS:
        mu, w, _ = lag.smooth_prices(start + LAGRANGE_SHARE * budget)
        bounds.add(mu, w)
    if columns <= FULL_LP_COLUMNS:
        edges, funds = np.arange(len(p.edge_need)), np.arange(len(p.fund_need))
    elif columns <= LAGRANGE_COLUMNS:
        edges, funds = _first_columns(lag)
    else:
        edges, funds = _candidates(lag, mu, w)
    lp = DockingModel(p, edges, funds, p.capacity, p.budget.astype(float), lp_deadline, every_row=True,
                      linking="needed")
    # No round of column generation starts late: the rounding needs the time left, and the
    # bound proven so far stands.
    solution = _generate_columns(lag, lp, bounds, CG_ROUNDS, start + CG_SHARE * budget, CG_AFTER_FIRST * budget)
    if solution is None:
        pinned = np.nonzero(p.pinned_need[p.edge_need])[0]
        return _greedy(lag, mu, w, pinned, pin_money)[0], mu, w, None
    edges, funds, y, x, mu, w = solution
    return _round(p, edges, funds, y, x, deadline - 0.15 * budget, columns <= LAGRANGE_COLUMNS), mu, w, lp


def _first_columns(lag: Lagrangian) -> tuple[np.ndarray, np.ndarray]:
    """Edges to start column generation with, whatever the prices turn out to be: each need's
    FIRST_EDGES best by value with money at its affinity (money free), its FIRST_EDGES cheapest
    (money dear), its pinned edge; and every funder edge (a need paid by two funders only left
    most of its linking rows' edges unpayable in the first LP, and a round more to add the rest)."""
    p = lag.problem
    top = lag.fund_by_need.max(p.affinity, 0.0)
    keep = lag.pinned_edge.copy()
    for key in (p.value + p.shortfall * top[p.edge_need], -p.shortfall.astype(float) + 1e-9 * p.value):
        keep[_best_per_owner(p.edge_need, key, FIRST_EDGES)] = True
    return np.nonzero(keep)[0], np.arange(len(p.fund_need))


def _best_per_owner(owner: np.ndarray, key: np.ndarray, k: int, among: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k members with the largest key of each owner (ties: the first), among `among`."""
    order, rank = _ranked(owner, key, among)
    return order[rank < k]


def _ranked(owner: np.ndarray, key: np.ndarray, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The members (among `among`) by owner, largest key first (ties: the first), and each one's
    place among its owner's (0 for the best)."""
    idx = np.arange(len(owner)) if among is None else among
    order = idx[np.lexsort((-key[idx], owner[idx]))]
    o = owner[order]
    return order, np.arange(len(order)) - np.searchsorted(o, o)


def _generate_columns(lag: Lagrangian, lp: DockingModel, bounds: Bounds, rounds: int, stop: float,
                      after_first: float = 0.0) -> tuple | None:
    """Solve the LP over the model's edges, price every edge left out at its duals, add those
    that would raise it (at most PRICED_EDGES a need per round) and the linking rows its solution
    breaks, re-solve from the last basis; until nothing is added, or the LP's value and the best
    bound proven (by these duals or any prices before) agree to CG_TOLERANCE, or after `rounds`
    rounds, or before a round likely to end after `stop` (or `after_first` seconds after the first
    LP, if later) even with one edge a need (see CG_GROWTH). Every round's bound is proven, so
    stopping early costs only tightness.

    The last solved round's (edges, funds, y, x, mu, w), or None if the first LP is not solved."""
    p = lag.problem
    in_model = np.zeros(len(p.edge_need), dtype=bool)
    fund_in = np.zeros(len(p.fund_need), dtype=bool)
    solution = None
    for round_ in range(rounds + 1):
        began = time.monotonic()
        if not lp.run():
            return solution
        if round_ == 0 and after_first:
            stop = max(stop, time.monotonic() + after_first)
        mu, w = lp.prices()
        solution = (lp.edges, lp.funds, *lp.solution(), mu, w)
        bounds.add(mu, w)
        if round_ == rounds:
            return solution
        in_model[lp.edges] = True
        fund_in[lp.funds] = True
        now = time.monotonic()
        priced = _priced(lag, mu, w, in_model, fund_in)
        for per_need in range(PRICED_EDGES, 0, -1):
            edges, funds = priced(per_need)
            share = (len(edges) + len(funds)) / (len(lp.edges) + len(lp.funds))
            if now + CG_GROWTH * share * (now - began) <= stop:
                break
        else:
            return solution
        # The linking rows this solution breaks come in (highs.DockingModel); until none does, the
        # LP may lie above the bound its prices prove, and its agreeing with it says nothing.
        cuts = lp.separate()
        if not cuts and (bounds.best - lp.objective <= CG_TOLERANCE * abs(bounds.best) or not share):
            return solution
        # A later round cut short at `stop` leaves this round's solution: one that ran on would
        # take the dive's time, and the bound proven so far stands.
        lp.deadline = min(lp.deadline, stop)
        if share:
            lp.add(np.sort(edges), funds)
        lp.prefer_simplex()
    return solution


def _priced(lag: Lagrangian, mu: np.ndarray, w: np.ndarray, in_model: np.ndarray,
            fund_in: np.ndarray) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """The edges and funder edges to add to the LP at its prices, given at most how many edges a
    need: each edge's worth at these prices (lagrange.Lagrangian.paid), paid by every funder of its
    need or by those in the model only; an edge is added if it beats its need's best in the model
    (the best first), a need's funders if more of them would raise an edge the model has or gains."""
    p = lag.problem
    tolerance = 1e-9 * lag.scale[p.edge_need]
    r_all = p.value + lag.paid(mu) - w[p.edge_provider]
    r_model = p.value + lag.paid(mu, fund_in) - w[p.edge_provider]
    best = lag.by_need.max(np.where(in_model, r_model, -np.inf), -np.inf)
    best = np.where(p.pinned_need, best, np.maximum(best, 0.0))
    order, rank = _ranked(p.edge_need, r_all, np.nonzero(~in_model & (r_all > best[p.edge_need] + tolerance))[0])
    richer = np.isfinite(r_all) & ~(r_model >= r_all - tolerance)
    more_in_model = np.zeros(p.needs, dtype=bool)
    more_in_model[p.edge_need[in_model & richer]] = True

    def take(per_need: int) -> tuple[np.ndarray, np.ndarray]:
        edges = order[rank < per_need]
        more = more_in_model.copy()
        more[p.edge_need[edges[richer[edges]]]] = True
        return edges, np.nonzero(~fund_in & more[p.fund_need])[0]
    return take


def _exact_mip(p: Problem, deadline: float, start: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray | None, float]:
    """A small instance solved as it stands, by branch and bound from the docking `start` (see step 5
    above): the edges of its best docking (None if none), and the bound it proves."""
    model = DockingModel(p, np.arange(len(p.edge_need)), np.arange(len(p.fund_need)), p.capacity,
                         p.budget.astype(float), deadline, integer=True)
    model.start_from(*start)
    found = model.run()
    bound = model.mip_bound
    if not found:
        return None, bound
    y, _ = model.solution()
    return model.edges[y > 0.5], bound


def _candidates(lag: Lagrangian, mu: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges that can matter at these prices: reduced value close to the need's best option, and
    funder edges close to the need's best net affinity. Pinned needs keep all theirs."""
    p = lag.problem
    r, u = lag.reduced(mu, w)
    near = (r >= u[p.edge_need] - NEAR * lag.scale[p.edge_need]) | lag.pinned_edge
    edges = np.nonzero(near)[0]
    needy = np.zeros(p.needs, dtype=bool)
    needy[p.edge_need[edges][p.shortfall[edges] > 0]] = True
    # A funder matters if paying the need's largest shortfall from it rather than the best loses
    # little of the need's worth.
    loss = (lag.funding_price(mu)[p.fund_need] - (p.affinity - mu[p.fund_funder])) * lag.unit[p.fund_need]
    close = loss <= NEAR / 4 * lag.scale[p.fund_need]
    funds = np.nonzero(needy[p.fund_need] & (close | p.pinned_need[p.fund_need]))[0]
    return edges, funds


def _round(p: Problem, edges: np.ndarray, funds: np.ndarray, y: np.ndarray, x: np.ndarray,
           deadline: float, linking: bool) -> np.ndarray:
    """Keep the LP's whole assignments; decide the needs it left fractional by diving.

    The dive model has the whole assignments fixed and the fractional needs' edges free. Small
    instances let all the funding move in it (money can be rerouted to make room); large ones keep
    the whole assignments' funding as the LP had it and share out what is left."""
    taken = edges[y > 1 - INTEGRAL]
    settled = np.zeros(p.needs, dtype=bool)
    settled[p.edge_need[taken]] = True
    open_need = np.zeros(p.needs, dtype=bool)
    open_need[p.edge_need[edges[y > INTEGRAL]]] = True
    open_need &= ~settled
    if not open_need.any():
        return taken
    open_edges = edges[open_need[p.edge_need[edges]] & (y > INTEGRAL)]
    involved = settled | open_need
    if np.count_nonzero(involved[p.fund_need]) <= FREE_FUNDING_COLUMNS:
        dive_edges = np.concatenate([taken, open_edges])
        dive_funds = np.nonzero(involved[p.fund_need])[0]
        places, money = p.capacity, p.budget.astype(float)
    else:
        dive_edges = open_edges
        dive_funds = np.nonzero(open_need[p.fund_need])[0]
        places = p.capacity - np.bincount(p.edge_provider[taken], minlength=p.providers)
        kept = settled[p.fund_need[funds]]
        spent = np.bincount(p.fund_funder[funds[kept]], x[kept], minlength=p.funders)
        money = np.maximum(0.0, p.budget - spent)
    fixed = np.zeros(len(dive_edges), dtype=bool)
    fixed[:len(dive_edges) - len(open_edges)] = True
    model = DockingModel(p, dive_edges, dive_funds, places, money, deadline, fixed=fixed, linking="needed")
    # The needs still open get their linking rows (those of whole assignments only bound an x each),
    # up to a district fair's size: in a city round's dive, short of time, they cost more than they
    # gained (city base seed 1: 1.33 % with them, 0.92 % without).
    if linking:
        model.link(np.nonzero(open_need[p.fund_need[model.funds]])[0])
    if not model.run():
        return taken
    chosen = _dive(model, deadline)
    return np.union1d(taken, chosen)


def _dive(model: DockingModel, deadline: float) -> np.ndarray:
    """Settle fractional needs one at a time: try no provider, then each edge of the need the LP
    uses (the likeliest last, so its solve is usually the one to keep), re-solving from the last
    basis, and keep the option with the best LP value. The need with the largest shortfall goes
    first, so smaller ones fill the money left (as in first-fit decreasing; on district benchmarks
    this loses about a third less than taking the most decided first).

    Dropping needs that are fractional never breaks a rule, so out of time (or should a solve
    fail) the needs whole in the last LP solution are a feasible answer."""
    p = model.problem
    en = p.edge_need[model.edges]
    columns = np.arange(len(model.edges))
    done = np.zeros(p.needs, dtype=bool)
    done[en[model.lower > 0]] = True
    model.prefer_simplex()
    y, _ = model.solution()
    began, batches = time.monotonic(), 0
    while True:
        open_col = (y > INTEGRAL) & (y < 1 - INTEGRAL) & ~done[en]
        if not open_col.any():
            return model.edges[y > 0.5]
        if time.monotonic() > deadline:
            return model.edges[y > 1 - INTEGRAL]
        open_needs = np.unique(en[open_col])
        if len(open_needs) > ONE_BY_ONE or len(model.edges) + len(model.funds) > ONE_BY_ONE_COLUMNS:
            share = _batch_share(len(open_needs), batches, time.monotonic() - began, deadline)
            if not _settle_batch(model, open_needs, y, done, share):
                return model.edges[y > 1 - INTEGRAL]
            batches += 1
            y, _ = model.solution()
            continue
        n = en[np.argmax(np.where(open_col, p.shortfall[model.edges], -1))]
        own = columns[en == n]
        used = own[y[own] > INTEGRAL]
        options = [None, *used[np.argsort(y[used], kind="stable")]]
        best, best_value, last_ok = None, None, False
        for option in options:
            model.set_edges(own, 0.0, 0.0)
            if option is not None:
                model.set_edges(np.array([option]), 1.0, 1.0)
            last_ok = model.run()
            if last_ok and (best_value is None or model.objective > best_value + 1e-9 * abs(best_value)):
                best, best_value = option, model.objective
        if best_value is None:
            return model.edges[y > 1 - INTEGRAL]
        if best is not options[-1] or not last_ok:
            model.set_edges(own, 0.0, 0.0)
            if best is not None:
                model.set_edges(np.array([best]), 1.0, 1.0)
            if not model.run():
                return model.edges[y > 1 - INTEGRAL]
        y, _ = model.solution()
        done[n] = True


def _batch_share(open_needs: int, batches: int, elapsed: float, deadline: float) -> float:
    """The share of the open needs the next batch settles: 1/BATCH, or more when the batches left
    at that size would likely not fit in the time left (a processor shared with other work: the
    needs still open at the deadline are dropped and filled greedily, which loses more than
    larger batches). Each batch's re-solve leaves some settled needs' neighbours fractional anew,
    so a dive takes about BATCH_SPREAD times the batches the shrinking alone would."""
    if batches == 0 or open_needs <= ONE_BY_ONE:
        return 1 / BATCH
    fit = (deadline - time.monotonic()) / (elapsed / batches) / BATCH_SPREAD
    if fit < 1:
        return 1.0
    return max(1 / BATCH, 1 - (ONE_BY_ONE / open_needs) ** (1 / fit))


def _settle_batch(model: DockingModel, open_needs: np.ndarray, y: np.ndarray, done: np.ndarray,
                  share: float) -> bool:
    """Settle the most decided `share` of the fractional needs at once, each as the LP leans (its
    largest edge, or no provider if that share is larger), and re-solve: a dive of thousands of
    needs one at a time would take minutes. Going without a provider never makes the LP infeasible,
    so should it have no solution, those needs stay settled and half as many of the others take
    their edge; a need that cannot take its edge even alone gets no provider. (Halving the whole
    batch instead settled one need in eight re-solves, batch after batch, where money is short: city
    budget-20 seed 2 ran out of time with 550 needs open.) False if a solve fails."""
    p = model.problem
    en = p.edge_need[model.edges]
    is_open = np.zeros(p.needs, dtype=bool)
    is_open[open_needs] = True
    cols = np.nonzero(is_open[en])[0]
    top = _best_per_owner(en, y, 1, cols)  # each open need's largest edge
    none = 1.0 - np.bincount(en[cols], y[cols], minlength=p.needs)[en[top]]
    lean = np.maximum(y[top], none)
    order = np.argsort(-lean, kind="stable")
    batch = order[:max(1, int(np.ceil(len(top) * share)))]
    drop, take = top[batch[y[top[batch]] < none[batch]]], top[batch[y[top[batch]] >= none[batch]]]
    model.set_edges(cols[np.isin(en[cols], en[drop])], 0.0, 0.0)
    done[en[drop]] = True
    while True:
        own = cols[np.isin(en[cols], en[take])]
        model.set_edges(own, 0.0, 0.0)
        model.set_edges(take, 1.0, 1.0)
        if model.run():
            done[en[take]] = True
            return True
        if len(take) <= 1:
            model.set_edges(own, 0.0, 0.0)
            done[en[take]] = True
            return model.run()
        model.set_edges(own, 0.0, 1.0)
        take = take[:len(take) // 2]


def _greedy(lag: Lagrangian, mu: np.ndarray, w: np.ndarray, taken: np.ndarray,
            x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add to a feasible docking (edges `taken`, whole fen `x`): needs without a provider, by their
    best reduced value at prices (mu, w), each taking its best edge with a place left whose shortfall
    its funders can still pay in full, best net affinity first."""
    p = lag.problem
    r, u = lag.reduced(mu, w)
    x = x.copy()
    places = p.capacity - np.bincount(p.edge_provider[taken], minlength=p.providers)
    money = p.budget - np.bincount(p.fund_funder, x, minlength=p.funders)
    has = np.zeros(p.needs, dtype=bool)
    has[p.edge_need[taken]] = True
    fund_start = np.searchsorted(p.fund_need, np.arange(p.needs + 1))
    edge_start = np.searchsorted(p.edge_need, np.arange(p.needs + 1))
    net = p.affinity - mu[p.fund_funder]
    added = []
    for n in np.argsort(-u, kind="stable"):
        if u[n] <= 0:
            break
        if has[n]:
            continue
        lo, hi = edge_start[n], edge_start[n + 1]
        ks = fund_start[n] + np.argsort(-net[fund_start[n]:fund_start[n + 1]], kind="stable")
        for e in lo + np.argsort(-r[lo:hi], kind="stable"):
            need = int(p.shortfall[e])
            if r[e] <= 0 or places[p.edge_provider[e]] <= 0 or np.maximum(money[p.fund_funder[ks]], 0).sum() < need:
                continue
            for k in ks:
                give = max(0, min(need, int(money[p.fund_funder[k]])))
                money[p.fund_funder[k]] -= give
                x[k] += give
                need -= give
            places[p.edge_provider[e]] -= 1
            added.append(e)
            break
    return np.sort(np.concatenate([taken, np.array(added, dtype=np.int64)])), x


def _improve(p: Problem, chosen: np.ndarray, x: np.ndarray, deadline: float) -> tuple[np.ndarray, np.ndarray]:
    """Local search on a feasible docking: give a need a provider, or move it to another of its
    edges (a provider with a place left), when that gains, paying any extra shortfall from its
    funders' money left, best affinity first, or handing back what it no longer needs, least
    affinity first. Rounding leaves money unspent in lumps, and a dearer or cheaper provider for
    one need, or a need the prices passed over, often uses it better (the gain is counted in
    value and affinity, not at the prices). Every move keeps every rule in whole fen; passes
    repeat while they gain."""
    x = x.copy()
    edge_of = np.full(p.needs, -1)
    edge_of[p.edge_need[chosen]] = chosen
    places = p.capacity - np.bincount(p.edge_provider[chosen], minlength=p.providers)
    money = p.budget - np.bincount(p.fund_funder, x, minlength=p.funders).astype(np.int64)
    fund_start = np.searchsorted(p.fund_need, np.arange(p.needs + 1))
    edge_start = np.searchsorted(p.edge_need, np.arange(p.needs + 1))
    for _ in range(IMPROVE_PASSES):
        moved = False
        for n in range(p.needs):
            if time.monotonic() > deadline:
                break
            e, lo, hi = edge_of[n], edge_start[n], edge_start[n + 1]
            if hi == lo or p.pinned_need[n]:
                continue
            ks = np.arange(fund_start[n], fund_start[n + 1])
            ks = ks[np.argsort(-p.affinity[ks], kind="stable")]
            room = np.maximum(money[p.fund_funder[ks]], 0)
            others = np.arange(lo, hi)
            same = p.edge_provider[others] == (p.edge_provider[e] if e >= 0 else -1)
            others = others[(others != e) & ((places[p.edge_provider[others]] > 0) | same)]
            now_value, now_short = (float(p.value[e]), int(p.shortfall[e])) if e >= 0 else (0.0, 0)
            extra = p.shortfall[others] - now_short
            ok = extra <= room.sum()
            others, extra = others[ok], extra[ok]
            if not len(others):
                continue
            gain = p.value[others] - now_value
            for i, d in enumerate(extra.tolist()):  # the affinity the extra (or saved) fen earn
                gain[i] += _money_gain(p.affinity[ks], room, x[ks], d)
            if gain.max() <= 1e-12 * max(1.0, abs(now_value)):
                continue
            best = int(np.argmax(gain))
            f, d = int(others[best]), int(extra[best])
            delta = _money_moves(room, x[ks], d)
            x[ks] += delta
            money[p.fund_funder[ks]] -= delta
            if e >= 0:
                places[p.edge_provider[e]] += 1
            places[p.edge_provider[f]] -= 1
            edge_of[n] = f
            moved = True
        if not moved:
            break
    return np.sort(edge_of[edge_of >= 0]), x


def _money_moves(room: np.ndarray, given: np.ndarray, d: int) -> np.ndarray:
    """Change per funder edge (sorted best affinity first) to pay d more fen (d > 0) from the
    money left, best first, or d fewer (d < 0) taking back the least valued first."""
    delta = np.zeros(len(room), dtype=np.int64)
    if d > 0:
        take = np.minimum(room, np.maximum(0, d - (np.cumsum(room) - room)))
        delta += take
    elif d < 0:
        back = given[::-1]
        cut = np.minimum(back, np.maximum(0, -d - (np.cumsum(back) - back)))
        delta -= cut[::-1]
    return delta


def _money_gain(affinity: np.ndarray, room: np.ndarray, given: np.ndarray, d: int) -> float:
    return float(affinity @ _money_moves(room, given, d))


def _fund_pins(p: Problem) -> np.ndarray:
    """Whole fen per funder edge paying the pinned needs; pins whose shortfalls the funders cannot
    pay all together are refused, naming them."""
    pinned_edges = np.nonzero(p.pinned_need[p.edge_need])[0]
    demand = np.zeros(p.needs, dtype=np.int64)
    demand[p.edge_need[pinned_edges]] = p.shortfall[pinned_edges]
    if not demand.any():
        return np.zeros(len(p.fund_need), dtype=np.int64)
    funds = np.nonzero(demand[p.fund_need] > 0)[0]
    # No time limit: the pins' own funding is a small LP, and every answer must keep them.
    solved = solve_funding(p, demand, funds, p.pinned_need, float("inf"))
    # None when HiGHS stops short of the optimum, which without a time limit it does not: the LP is
    # feasible (unpaid fen has columns of its own) and bounded (a need's columns add up to its demand).
    assert solved is not None
    x, unpaid = solved
    short = np.nonzero(unpaid > 0.5)[0].tolist()
    if len(short):
        raise InvalidFields([Invalid(N_("Need %(id)s cannot be paid for together with the other pinned "
                                        "needs: their funders' budgets are not enough for all of them."),
                                     field=f"pinned[{p.pin_entry[n]}]", id=_show(p.need_ids[n])) for n in short])
    return np.rint(x).astype(np.int64)


def _fund(p: Problem, chosen: np.ndarray, deadline: float,
          pin_money: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The chosen edges that can be paid for, and whole fen per funder edge paying each exactly.
    Should the funding LP not be solved in time, the pins keep `pin_money` and the other needs are
    paid greedily (see `_greedy_funding`)."""
    chosen = chosen.copy()
    while True:
        demand = np.zeros(p.needs, dtype=np.int64)
        demand[p.edge_need[chosen]] = p.shortfall[chosen]
        funds = np.nonzero(demand[p.fund_need] > 0)[0]
        solved = solve_funding(p, demand, funds, p.pinned_need, max(deadline, time.monotonic() + 5))
        if solved is None and pin_money is not None:
            return _greedy_funding(p, chosen, pin_money)
        if solved is None:
            x, unpaid = np.zeros(len(p.fund_need)), demand.astype(float)
        else:
            x, unpaid = solved
        unpaid_needs = (unpaid > 0.5) & ~p.pinned_need
        if not unpaid_needs.any():
            break
        # Only when the solver's tolerances made a need look payable that is not quite: drop it.
        chosen = chosen[~unpaid_needs[p.edge_need[chosen]]]
    return _exact(p, chosen, demand, np.rint(x).astype(np.int64))


def _greedy_funding(p: Problem, chosen: np.ndarray, pin_money: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pins paid as `pin_money` pays them; every other chosen need, most valuable first, paid in
    full from its funders' money left, best affinity first, or dropped."""
    x = pin_money.astype(np.int64).copy()
    money = p.budget - np.bincount(p.fund_funder, x, minlength=p.funders).astype(np.int64)
    fund_start = np.searchsorted(p.fund_need, np.arange(p.needs + 1))
    keep = []
    for e in chosen[np.argsort(-p.value[chosen], kind="stable")].tolist():
        n, need = p.edge_need[e], int(p.shortfall[e])
        if p.pinned_need[n] or need == 0:
            keep.append(e)
            continue
        ks = np.arange(fund_start[n], fund_start[n + 1])
        ks = ks[np.argsort(-p.affinity[ks], kind="stable")]
        room = np.maximum(money[p.fund_funder[ks]], 0)
        if room.sum() < need:
            continue
        give = _money_moves(room, x[ks], need)
        x[ks] += give
        money[p.fund_funder[ks]] -= give
        keep.append(e)
    return np.sort(np.array(keep, dtype=np.int64)), x


def _exact(p: Problem, chosen: np.ndarray, demand: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make whole-fen funding exact: every budget kept, every chosen need paid to the fen. A basic
    solution is already exact; this mends the rare fen a tolerance left off, and drops a need that
    cannot be mended (never a pinned one)."""
    x = np.maximum(x, 0)
    x[demand[p.fund_need] == 0] = 0
    fund_start = np.searchsorted(p.fund_need, np.arange(p.needs + 1))
    by_affinity = np.lexsort((-p.affinity, p.fund_need))  # within each need, best affinity first
    used = np.bincount(p.fund_funder, x, minlength=p.funders)
    for f in np.nonzero(used > p.budget)[0]:
        for k in np.nonzero((p.fund_funder == f) & (x > 0))[0]:
            cut = min(int(x[k]), int(used[f] - p.budget[f]))
            x[k] -= cut
            used[f] -= cut
    paid = np.bincount(p.fund_need, x, minlength=p.needs)
    dropped = np.zeros(p.needs, dtype=bool)
    for n in np.nonzero(paid != demand)[0]:
        ks = by_affinity[fund_start[n]:fund_start[n + 1]]
        for k in ks[::-1]:  # too much: take back the least valued fen first
            cut = min(int(x[k]), int(paid[n] - demand[n]))
            if cut > 0:
                x[k] -= cut
                used[p.fund_funder[k]] -= cut
                paid[n] -= cut
        for k in ks:  # too little: add the best valued fen there is room for
            f = p.fund_funder[k]
            add = min(int(demand[n] - paid[n]), int(p.budget[f] - used[f]))
            if add > 0:
                x[k] += add
                used[f] += add
                paid[n] += add
        if paid[n] != demand[n]:
            if p.pinned_need[n]:
                raise AssertionError("a pinned need that was paid for in the LP could not be paid in fen")
            dropped[n] = True
            np.subtract.at(used, p.fund_funder[ks], x[ks])
            x[ks] = 0
    return chosen[~dropped[p.edge_need[chosen]]], x


def _objective(p: Problem, chosen: np.ndarray, x: np.ndarray) -> float:
    return float(p.value[chosen].sum() + p.affinity @ x)


def _result(p: Problem, chosen: np.ndarray, x: np.ndarray, bound: float) -> Result:
    objective = _objective(p, chosen, x)
    bound = max(bound, objective)  # the bound is proven; only rounding in its last digits could undercut
    gap = (bound - objective) / abs(bound) if bound else 0.0
    assignments = [Assignment(p.need_ids[n], p.provider_ids[q])
                    for n, q in zip(p.edge_need[chosen].tolist(), p.edge_provider[chosen].tolist())]
    paid = np.nonzero(x > 0)[0]
    funding = [Funding(p.need_ids[n], p.funder_ids[f], a) for n, f, a in
               zip(p.fund_need[paid].tolist(), p.fund_funder[paid].tolist(), x[paid].tolist())]
    return Result(assignments, funding, objective, bound, gap)
