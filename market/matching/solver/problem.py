"""An Instance checked and turned into arrays: every id replaced by its position, every edge that
can never be chosen left out, and edges sorted by need so per-need work is one vectorised pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.core.errors import Invalid, InvalidFields
from market.core.i18n import N_
from market.matching.solver.models import Id, Instance

MAX_PROBLEMS = 20  # enough to fix a file in one go, few enough to read


@dataclass(frozen=True)
class Problem:
    need_ids: list[Id]
    provider_ids: list[Id]
    funder_ids: list[Id]
    capacity: np.ndarray  # int64 per provider
    budget: np.ndarray  # int64 per funder
    # Provider edges that may be chosen, sorted by need (input order within a need).
    edge_need: np.ndarray
    edge_provider: np.ndarray
    value: np.ndarray  # float64
    shortfall: np.ndarray  # int64: max(0, price - gov_money)
    pinned_need: np.ndarray  # bool per need: its one remaining edge must be chosen
    pin_entry: dict[int, int]  # need -> its position in Instance.pinned, for messages
    # Funder edges of needs that may need funding, sorted by need.
    fund_need: np.ndarray
    fund_funder: np.ndarray
    affinity: np.ndarray  # float64

    @property
    def needs(self) -> int:
        return len(self.need_ids)

    @property
    def providers(self) -> int:
        return len(self.provider_ids)

    @property
    def funders(self) -> int:
        return len(self.funder_ids)


class Segments:
    """Per-owner reductions over an array sorted by owner (owners without members get `fill`)."""

    def __init__(self, owner: np.ndarray, owners: int) -> None:
        self.owners = owners
        self.present, self.starts = np.unique(owner, return_index=True)

    def max(self, values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(self.owners, fill, dtype=float)
        if len(values):
            out[self.present] = np.maximum.reduceat(values, self.starts)
        return out

    def sum(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.owners, dtype=values.dtype)
        if len(values):
            out[self.present] = np.add.reduceat(values, self.starts)
        return out


def worth_at_most(p: Problem) -> np.ndarray:
    """Per need, what it could be worth at most: its largest value plus its largest shortfall paid at
    its funders' largest affinity (in magnitude); 0 for a need without an edge."""
    top = np.zeros(p.needs)
    np.maximum.at(top, p.fund_need, np.abs(p.affinity))
    worth = np.zeros(p.needs)
    np.maximum.at(worth, p.edge_need, np.abs(p.value) + p.shortfall * top[p.edge_need])
    return worth


class _Problems:
    def __init__(self) -> None:
        self.errors: list[Invalid] = []

    def add(self, entry: str, message: str, **params: object) -> None:
        if len(self.errors) < MAX_PROBLEMS:
            self.errors.append(Invalid(message, field=entry, **params))

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidFields(self.errors)


NOT_A_NEED = N_("Need %(id)s is not in the list of needs.")
NOT_A_PROVIDER = N_("Provider %(id)s is not in the list of providers.")
NOT_A_FUNDER = N_("Funder %(id)s is not in the list of funders.")


def _positions(items: list, kind: str, problems: _Problems) -> dict[Id, int]:
    # Ids are dict keys as they are: 1 and "1" differ, and msgspec has already refused booleans.
    where: dict[Id, int] = {}
    for i, item in enumerate(items):
        if item.id in where:
            problems.add(f"{kind}[{i}]", N_("The id %(id)s is already used by %(other)s."),
                         id=_show(item.id), other=f"{kind}[{where[item.id]}]")
        else:
            where[item.id] = i
    return where


def _show(id_: Id) -> str:
    return repr(id_) if isinstance(id_, str) else str(id_)


def _ends(kind: str, pairs: list[tuple[Id, Id]], first: tuple[dict, str], second: tuple[dict, str],
          problems: _Problems) -> tuple[np.ndarray, np.ndarray]:
    """Positions of both ends of each pair in `kind`; unknown ids and repeated pairs are problems."""
    (first_at, first_message), (second_at, second_message) = first, second
    a = [first_at.get(x) for x, _ in pairs]
    b = [second_at.get(y) for _, y in pairs]
    if None in a or None in b:
        for i, (x, y) in enumerate(pairs):
            if a[i] is None:
                problems.add(f"{kind}[{i}]", first_message, id=_show(x))
            if b[i] is None:
                problems.add(f"{kind}[{i}]", second_message, id=_show(y))
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a_, b_ = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
    code = a_ * (len(second_at) + 1) + b_
    order = np.argsort(code, kind="stable")
    for d in np.nonzero(code[order][1:] == code[order][:-1])[0][:MAX_PROBLEMS]:
        problems.add(f"{kind}[{order[d + 1]}]", N_("This pair is already listed: %(other)s."),
                     other=f"{kind}[{order[d]}]")
    return a_, b_


def index(instance: Instance) -> Problem:
    """The instance as arrays, or InvalidFields listing what is wrong with it, each naming its entry."""
    problems = _Problems()
    needs = _positions(instance.needs, "needs", problems)
    providers = _positions(instance.providers, "providers", problems)
    funders = _positions(instance.funders, "funders", problems)
    need, provider, funder = (needs, NOT_A_NEED), (providers, NOT_A_PROVIDER), (funders, NOT_A_FUNDER)
    e_need, e_prov = _ends("provider_edges", [(e.need, e.provider) for e in instance.provider_edges],
                           need, provider, problems)
    f_need, f_funder = _ends("funder_edges", [(e.need, e.funder) for e in instance.funder_edges],
                             need, funder, problems)
    pin_need, pin_prov = _ends("pinned", instance.pinned, need, provider, problems)
    ban_need, ban_prov = _ends("forbidden", instance.forbidden, need, provider, problems)
    problems.raise_any()

    width = len(providers) + 1
    edge_code = e_need * width + e_prov
    edge_order = np.argsort(edge_code)
    pin_code, ban_code = pin_need * width + pin_prov, ban_need * width + ban_prov
    pin_edge = edge_order[np.minimum(np.searchsorted(edge_code[edge_order], pin_code), len(edge_code) - 1)] \
        if len(edge_code) else np.zeros(len(pin_code), np.int64)
    banned_pin = np.isin(pin_code, ban_code)
    pin_entry: dict[int, int] = {}
    for i, n in enumerate(pin_need.tolist()):
        entry = f"pinned[{i}]"
        if banned_pin[i]:
            problems.add(entry, N_("This pair is also forbidden: %(other)s."),
                         other=f"forbidden[{np.nonzero(ban_code == pin_code[i])[0][0]}]")
        elif not len(edge_code) or edge_code[pin_edge[i]] != pin_code[i]:
            problems.add(entry, N_("There is no provider edge for this pair, so it has no price."))
        elif n in pin_entry:
            problems.add(entry, N_("This need is already pinned to another provider: %(other)s."),
                         other=f"pinned[{pin_entry[n]}]")
        else:
            pin_entry[n] = i
    problems.raise_any()

    gov = np.array([n.gov_money for n in instance.needs], dtype=np.int64)
    capacity = np.array([p.capacity for p in instance.providers], dtype=np.int64)
    budget = np.array([f.budget for f in instance.funders], dtype=np.int64)
    price = np.array([e.price for e in instance.provider_edges], dtype=np.int64)
    value = np.array([e.value for e in instance.provider_edges], dtype=float)
    affinity = np.array([e.affinity for e in instance.funder_edges], dtype=float)
    shortfall = np.maximum(0, price - gov[e_need]) if len(price) else np.zeros(0, np.int64)
    has_funder = np.zeros(len(gov), dtype=bool)
    has_funder[f_need] = True
    reach = np.zeros(len(gov), dtype=np.int64)  # what a need's funders could give it at most
    np.add.at(reach, f_need, budget[f_funder])

    pinned_need = np.zeros(len(gov), dtype=bool)
    pinned_edge = np.zeros(len(price), dtype=bool)
    pin_count = np.zeros(len(capacity), dtype=np.int64)
    for n, i in pin_entry.items():
        k = pin_edge[i]
        pinned_need[n] = pinned_edge[k] = True
        pin_count[e_prov[k]] += 1
        if shortfall[k] > reach[n]:
            problems.add(f"pinned[{i}]", N_("Need %(id)s lacks %(short)s fen beyond its government money, more "
                                            "than its funders' budgets (%(reach)s fen) could give."),
                         id=_show(instance.needs[n].id), short=int(shortfall[k]), reach=int(reach[n]))
    for p in np.nonzero(pin_count > capacity)[0]:
        problems.add(f"providers[{p}]", N_("Provider %(id)s has %(pins)s pinned needs but room for only "
                                           "%(capacity)s."), id=_show(instance.providers[p].id),
                     pins=int(pin_count[p]), capacity=int(capacity[p]))
    problems.raise_any()

    # An edge may be chosen if it is not forbidden, its need is not pinned elsewhere, and any
    # shortfall has someone who could pay it.
    usable = ~np.isin(edge_code, ban_code) & ((shortfall == 0) | has_funder[e_need]) \
        & (~pinned_need[e_need] | pinned_edge)
    keep = np.nonzero(usable)[0]
    keep = keep[np.argsort(e_need[keep], kind="stable")]
    needs_funding = np.zeros(len(gov), dtype=bool)
    needs_funding[e_need[keep][shortfall[keep] > 0]] = True
    fkeep = np.nonzero(needs_funding[f_need])[0]
    fkeep = fkeep[np.argsort(f_need[fkeep], kind="stable")]
    return Problem(
        need_ids=[n.id for n in instance.needs],
        provider_ids=[p.id for p in instance.providers],
        funder_ids=[f.id for f in instance.funders],
        capacity=capacity, budget=budget,
        edge_need=e_need[keep], edge_provider=e_prov[keep], value=value[keep], shortfall=shortfall[keep],
        pinned_need=pinned_need, pin_entry=pin_entry,
        fund_need=f_need[fkeep], fund_funder=f_funder[fkeep], affinity=affinity[fkeep],
    )
