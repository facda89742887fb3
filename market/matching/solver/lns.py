"""Large-neighbourhood search on a feasible docking (step 4 of the method, after the swaps): free the
needs around one funder, keep every other need's provider and funding, and dock the freed needs
exactly, by HiGHS's branch and bound over their edges with the places and money the others leave,
starting from what they have now (so it never gets worse); keep the answer if it is better.

Where money outweighs values (affinities of 10⁻² to 10 per fen) every fen is spent, so no move of
one need can pay a dearer provider, and a swap frees no money: the needs a funder pays must change
together, which is what a neighbourhood lets them do. The neighbourhoods are the funders' (every
need with an edge to the funder), taken in the order of how far their needs' docking lies below
the LP's solution, a fixed number of them, so the same input gives the same answer unless the
phase runs out of time.
"""

from __future__ import annotations

import time

import numpy as np

from market.matching.solver.highs import DockingModel, funding_flow
from market.matching.solver.problem import Problem

# Neighbourhoods tried at most, and the search stops after this many in a row that gain nothing
# (a fixed amount of work, as for the swaps). Each sub-MIP of a district fair, about 12 needs and
# 100 edges, takes 3-15 ms, up to 0.13 s; 60 take 0.4-0.6 s where money outweighs values, and
# gained 0.02-0.25 points of gap there (80 gained up to 0.08 more than 40, in twice its time).
HOODS, FAILS = 60, 20
# HiGHS stops at the first docking better than the start: on affinity-1 seed 1 the first 40
# neighbourhoods took 0.49 s rather than 0.83 s, and gained as much. Its feasibility jump found
# nothing here: without it all 200 took 2.2 s rather than 3.0 s, to the same answer.
OPTIONS = {"mip_heuristic_run_feasibility_jump": False, "mip_max_improving_sols": 1}
GAIN = 1e-9  # a docking must be better by this share to be taken: floating point never cycles


class Search:
    def __init__(self, p: Problem, chosen: np.ndarray, x: np.ndarray) -> None:
        self.p = p
        self.edge_of = np.full(p.needs, -1)
        self.edge_of[p.edge_need[chosen]] = chosen
        self.x = x.astype(np.int64).copy()
        self.fund_start = np.searchsorted(p.fund_need, np.arange(p.needs + 1))
        self.edge_start = np.searchsorted(p.edge_need, np.arange(p.needs + 1))

    def docking(self) -> tuple[np.ndarray, np.ndarray]:
        return np.sort(self.edge_of[self.edge_of >= 0]), self.x.copy()

    def free(self, needs: np.ndarray, deadline: float) -> bool:
        """Dock `needs` anew, exactly, every other need kept as it is; True if that is better (and
        then the docking is changed)."""
        p = self.p
        inside = np.zeros(p.needs, dtype=bool)
        inside[needs] = True
        held = self.edge_of[~inside]
        places = p.capacity - np.bincount(p.edge_provider[held[held >= 0]], minlength=p.providers)
        edges = np.nonzero(inside[p.edge_need])[0]
        edges = edges[places[p.edge_provider[edges]] > 0]  # a full provider's edges can never be taken
        if not len(edges):
            return False
        funds = np.nonzero(inside[p.fund_need])[0]
        outside = ~inside[p.fund_need]
        money = p.budget - np.bincount(p.fund_funder[outside], self.x[outside], minlength=p.funders)
        now_edges = self.edge_of[needs]
        now_edges = now_edges[now_edges >= 0]
        now = float(p.value[now_edges].sum() + p.affinity[funds] @ self.x[funds])
        model = DockingModel(p, edges, funds, places, money.astype(float), deadline, integer=True)
        for option, setting in OPTIONS.items():
            model.h.setOptionValue(option, setting)
        model.start_from(now_edges, self.x)
        if not model.run():
            return False
        y, _ = model.solution()
        new_edges = model.edges[y > 0.5]
        # Checked in integers: one provider a need, places kept, then whole fen within the money left.
        if (len(np.unique(p.edge_need[new_edges])) < len(new_edges)
                or (np.bincount(p.edge_provider[new_edges], minlength=p.providers) > places).any()
                or p.pinned_need[needs].sum() != p.pinned_need[p.edge_need[new_edges]].sum()):
            return False
        paid = _pay(p, new_edges, funds, money)
        if paid is None:
            return False
        value = float(p.value[new_edges].sum() + p.affinity[funds] @ paid)
        if value <= now + GAIN * max(1.0, abs(now)):
            return False
        self.edge_of[needs] = -1
        self.edge_of[p.edge_need[new_edges]] = new_edges
        self.x[funds] = paid
        return True


def _pay(p: Problem, chosen: np.ndarray, funds: np.ndarray, money: np.ndarray) -> np.ndarray | None:
    """Whole fen on the funder edges `funds` (of the needs of `chosen`, and maybe others) paying each
    chosen edge's shortfall exactly, each funder within `money`, the most affinity first
    (`highs.funding_flow`); None if they cannot all be paid."""
    demand = np.zeros(p.needs, dtype=np.int64)
    demand[p.edge_need[chosen]] = p.shortfall[chosen]
    flowed = funding_flow(p, demand, funds, np.maximum(money, 0))
    if flowed is None:
        return None
    paid = flowed[funds].astype(np.int64)
    # The flow keeps every capacity; checked again in integers all the same.
    spent = np.bincount(p.fund_funder[funds], paid, minlength=p.funders)
    got = np.bincount(p.fund_need[funds], paid, minlength=p.needs)
    needs = np.nonzero(demand > 0)[0]
    if (paid < 0).any() or (spent > np.maximum(money, 0)).any() or (got[needs] != demand[needs]).any():
        return None
    return paid


def _worth(p: Problem, edges: np.ndarray, y: np.ndarray, funds: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per need, the value and affinity an (LP or whole) docking gives it."""
    worth = np.bincount(p.edge_need[edges], p.value[edges] * y, minlength=p.needs)
    return worth + np.bincount(p.fund_need[funds], p.affinity[funds] * x, minlength=p.needs)


def neighbourhoods(p: Problem, chosen: np.ndarray, x: np.ndarray,
                   guide: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None) -> list[np.ndarray]:
    """Each funder's needs, those whose docking lies furthest below the LP's solution `guide`
    (edges, y, funder edges, x) first (by the sum over their needs), ties and without a guide in
    the funders' order."""
    order = np.argsort(p.fund_funder, kind="stable")
    starts = np.searchsorted(p.fund_funder[order], np.arange(p.funders + 1))
    hoods = [np.unique(p.fund_need[order[starts[f]:starts[f + 1]]]) for f in range(p.funders)]
    if guide is None:
        return hoods
    below = _worth(p, *guide) - _worth(p, chosen, np.ones(len(chosen)), np.arange(len(x)), x)
    rank = np.argsort(-np.array([below[hood].sum() for hood in hoods]), kind="stable")
    return [hoods[f] for f in rank]


def search(p: Problem, chosen: np.ndarray, x: np.ndarray, deadline: float,
           guide: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
           hoods: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The docking after freeing the first `hoods` (HOODS) neighbourhoods in turn (fewer if FAILS in
    a row gain nothing, or the deadline comes), and how many were better."""
    s = Search(p, chosen, x)
    better = fails = 0
    for needs in neighbourhoods(p, chosen, x, guide)[:HOODS if hoods is None else hoods]:
        if fails >= FAILS or time.monotonic() > deadline:
            break
        if len(needs) and s.free(needs, deadline):
            better += 1
            fails = 0
        else:
            fails += 1
    return *s.docking(), better
