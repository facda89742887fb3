"""Local search by swaps on a feasible docking: a need takes a place at a full provider from the need
holding it, which either moves to the swapper's old provider or goes without; or, where a place is
free, a need moves there alone with money rerouted for it.

Where places are scarce (providers of capacity 1, every place taken) the rounding of the LP leaves
the wrong needs in the places, and no move of one need alone can mend that: every other provider
is full. A swap frees nothing and fills nothing, so it is the smallest move that can. Each swap is
costed exactly in value and affinity: both needs' funding is handed back, and the shortfalls paid
again from their funders' money left, best affinity first; a swap whose money does not suffice is
not made. Every swap keeps every rule in whole fen, so the search can stop at any time.
"""

from __future__ import annotations

import time

import numpy as np

from market.matching.solver.problem import Problem

PASSES = 4  # over every need; later passes find few swaps
# Swaps costed, at most, per need: a fixed amount of work, so the same input gives the same answer
# (a deadline alone would not), and a district's search stays within a fraction of a second.
TRIES = 10
# A gain must beat this share of the docking's value, so rounding in floating point never cycles.
EPSILON = 1e-12


class Swaps:
    def __init__(self, p: Problem, chosen: np.ndarray, x: np.ndarray) -> None:
        self.p = p
        fund_start = np.searchsorted(p.fund_need, np.arange(p.needs + 1)).tolist()
        edge_start = np.searchsorted(p.edge_need, np.arange(p.needs + 1)).tolist()
        funder, affinity = p.fund_funder.tolist(), p.affinity.tolist()
        provider, value, shortfall = p.edge_provider.tolist(), p.value.tolist(), p.shortfall.tolist()
        # Per need: its funder edges, best affinity first (k, funder, affinity); its provider edges.
        self.funds = []
        for n in range(p.needs):
            ks = sorted(range(fund_start[n], fund_start[n + 1]), key=lambda k: (-affinity[k], k))
            self.funds.append([(k, funder[k], affinity[k]) for k in ks])
        self.edges = [list(range(edge_start[n], edge_start[n + 1])) for n in range(p.needs)]
        self.edge_at = {(n, provider[e]): e for n in range(p.needs) for e in self.edges[n]}
        self.provider, self.value, self.shortfall = provider, value, shortfall
        self.affinity, self.fund_owner = affinity, p.fund_need.tolist()
        self.x = x.astype(np.int64).tolist()
        # Each funder's funder edges that carry money. Rerouting looks only at those: a funder has tens
        # of edges on a city round and pays a few, and looking at every one was most of the search's
        # time (the rest is skipped anyway).
        self.paying: list[set[int]] = [set() for _ in range(p.funders)]
        for k, f in enumerate(funder):
            if self.x[k] > 0:
                self.paying[f].add(k)
        self.funder = funder
        self.money = (p.budget - np.bincount(p.fund_funder, x, minlength=p.funders)).astype(np.int64).tolist()
        self.edge_of = [-1] * p.needs
        self.holders: list[set[int]] = [set() for _ in range(p.providers)]
        for e in chosen.tolist():
            n = int(p.edge_need[e])
            self.edge_of[n] = e
            self.holders[provider[e]].add(n)
        self.free = (p.capacity - np.bincount(p.edge_provider[chosen], minlength=p.providers)).tolist()
        self.pinned = p.pinned_need.tolist()
        # What each need contributes, kept as swaps are made: the search reads them millions of times on a
        # city round (most of its time there when summed afresh each time).
        self.worth = [self._worth(n) for n in range(p.needs)]

    def _worth(self, n: int) -> float:
        """What need n contributes: its provider's value and the affinity its funding earns."""
        e = self.edge_of[n]
        if e < 0:
            return 0.0
        return self.value[e] + sum(a * self.x[k] for k, _, a in self.funds[n])

    def _give(self, k: int, f: int, d: int, change: dict[int, int], xchange: dict[int, int]) -> None:
        change[f] = change.get(f, 0) - d
        xchange[k] = xchange.get(k, 0) + d

    def _pay(self, n: int, amount: int, change: dict[int, int], xchange: dict[int, int]) -> float | None:
        """Pay `amount` fen for need n (after the pending `change` of money left per funder and
        `xchange` of fen per funder edge, which this extends): from its funders' money left, best
        affinity first, then by rerouting: another need paid by one of n's funders pays that much
        from one of its own funders with money left instead. The affinity this earns (rerouting
        included), or None if the money cannot be found."""
        earned, left = 0.0, amount
        money, x, owner, affinity = self.money, self.x, self.fund_owner, self.affinity
        for k, f, a in self.funds[n]:
            give = min(left, money[f] + change.get(f, 0))
            if give > 0:
                self._give(k, f, give, change, xchange)
                earned += a * give
                left -= give
        if left == 0:
            return earned
        for k, f, a in self.funds[n]:
            # In the order of the edges, those paying now and those this move has given to.
            for k1 in sorted(self.paying[f].union(k1 for k1 in xchange if self.funder[k1] == f)):
                d = min(left, x[k1] + xchange.get(k1, 0))
                if d <= 0 or owner[k1] == n:
                    continue
                for k2, f2, a2 in self.funds[owner[k1]]:
                    move = min(d, money[f2] + change.get(f2, 0)) if f2 != f else 0
                    if move > 0:
                        self._give(k1, f, -move, change, xchange)
                        self._give(k2, f2, move, change, xchange)
                        self._give(k, f, move, change, xchange)
                        earned += (a2 - affinity[k1] + a) * move
                        left -= move
                        d -= move
                        if left == 0:
                            return earned
                        if d == 0:
                            break
        return None

    def _hand_back(self, n: int, change: dict[int, int], xchange: dict[int, int]) -> float:
        """Need n's funding returned to its funders; the affinity it earned."""
        earned = 0.0
        for k, f, a in self.funds[n]:
            given = self.x[k] + xchange.get(k, 0)
            if given:
                self._give(k, f, -given, change, xchange)
                earned += a * given
        return earned

    def _try(self, b: int, e: int, a: int) -> tuple[float, dict, dict, dict] | None:
        """Need b takes edge e at a full provider from need a: a moves to b's old provider if it has
        an edge there, else goes without (a < 0: e's provider has a place free, b moves alone). The
        gain and the changes (edges, money, fen), or None if b's shortfall cannot be paid."""
        old_b = self.edge_of[b]
        change: dict[int, int] = {}
        xchange: dict[int, int] = {}
        if a < 0:
            return self._move(b, e, change, xchange)
        gain = -self.value[self.edge_of[a]] - self._hand_back(a, change, xchange)
        if old_b >= 0:
            gain -= self.value[old_b] + self._hand_back(b, change, xchange)
        earned = self._pay(b, self.shortfall[e], change, xchange)
        if earned is None:
            return None
        gain += self.value[e] + earned
        edges = {b: e, a: -1}
        moved = self.edge_at.get((a, self.provider[old_b]), -1) if old_b >= 0 else -1
        if moved >= 0:
            change2, xchange2 = dict(change), dict(xchange)
            earned = self._pay(a, self.shortfall[moved], change2, xchange2)
            if earned is not None and self.value[moved] + earned > 0:
                gain += self.value[moved] + earned
                edges[a], change, xchange = moved, change2, xchange2
        return gain, edges, change, xchange

    def _move(self, b: int, e: int, change: dict[int, int], xchange: dict[int, int]) -> tuple | None:
        """Need b alone takes edge e at a provider with a place free, its shortfall paid as a swap's."""
        old_b = self.edge_of[b]
        gain = -self.value[old_b] - self._hand_back(b, change, xchange) if old_b >= 0 else 0.0
        earned = self._pay(b, self.shortfall[e], change, xchange)
        if earned is None:
            return None
        return gain + self.value[e] + earned, {b: e}, change, xchange

    def _apply(self, edges: dict[int, int], change: dict[int, int], xchange: dict[int, int]) -> None:
        for n in edges:
            old = self.edge_of[n]
            if old >= 0:
                self.holders[self.provider[old]].discard(n)
                self.free[self.provider[old]] += 1
        for n, e in edges.items():
            self.edge_of[n] = e
            if e >= 0:
                self.holders[self.provider[e]].add(n)
                self.free[self.provider[e]] -= 1
        for f, d in change.items():
            self.money[f] += d
        for k, d in xchange.items():
            self.x[k] += d
            if self.x[k] > 0:
                self.paying[self.funder[k]].add(k)
            else:
                self.paying[self.funder[k]].discard(k)
        for n in set(edges).union(self.fund_owner[k] for k in xchange):
            self.worth[n] = self._worth(n)

    def run(self, deadline: float) -> bool:
        """Passes over every need making the best gaining swap each finds, until a pass finds none,
        the tries are used up or the deadline passes; True if any swap was made."""
        p, best_affinity = self.p, [max((a for _, _, a in fs), default=0.0) for fs in self.funds]
        worth = self.worth
        scale = max(1.0, sum(abs(w) for w in worth))
        swapped, tries = False, TRIES * p.needs
        for _ in range(PASSES):
            gained = False
            for b in range(p.needs):
                if time.monotonic() > deadline:
                    return swapped
                if self.pinned[b]:
                    continue
                now = worth[b]
                best = None
                for e in self.edges[b]:
                    q = self.provider[e]
                    if e == self.edge_of[b]:
                        continue
                    # At most b gains this: its new edge with every fen at its best affinity.
                    reach = self.value[e] + self.shortfall[e] * max(best_affinity[b], 0.0) - now
                    back = self.edge_of[b]
                    # A place free: b moves there alone (the simpler moves did that where b's own
                    # funders had the money; here it may be rerouted).
                    for a in (-1,) if self.free[q] > 0 else sorted(self.holders[q]):
                        if a >= 0:
                            if self.pinned[a] or a == b:
                                continue
                            moved = self.edge_at.get((a, self.provider[back]), -1) if back >= 0 else -1
                            hope = self.value[moved] + self.shortfall[moved] * max(best_affinity[a], 0.0) \
                                if moved >= 0 else 0.0
                            if reach + max(hope, 0.0) - worth[a] <= EPSILON * scale:
                                continue
                        elif reach <= EPSILON * scale:
                            continue
                        tries -= 1
                        if tries < 0:
                            return swapped
                        tried = self._try(b, e, a)
                        if tried is not None and tried[0] > EPSILON * scale and (best is None or tried[0] > best[0]):
                            best = tried
                if best is not None:
                    self._apply(*best[1:])
                    gained = swapped = True
            if not gained:
                break
        return swapped

    def docking(self) -> tuple[np.ndarray, np.ndarray]:
        chosen = np.array(sorted(e for e in self.edge_of if e >= 0), dtype=np.int64)
        return chosen, np.array(self.x, dtype=np.int64)
