"""The docking problem's input and answer, as `market match solve` reads and writes them (see
docs/matching.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_FEN = 10**13  # sums of these stay exact in the floating point the LP solver works in

Id = int | str
Fen = Annotated[int, msgspec.Meta(ge=0, le=MAX_FEN)]


class Need(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    gov_money: Fen


class Provider(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    capacity: Annotated[int, msgspec.Meta(ge=0, le=10**9)]


class Funder(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    budget: Fen


class ProviderEdge(msgspec.Struct, forbid_unknown_fields=True):
    need: Id
    provider: Id
    price: Fen
    value: Annotated[float, msgspec.Meta(ge=-1e15, le=1e15)]


class FunderEdge(msgspec.Struct, forbid_unknown_fields=True):
    need: Id
    funder: Id
    affinity: Annotated[float, msgspec.Meta(ge=-1e6, le=1e6)]  # value per fen given


class Instance(msgspec.Struct, forbid_unknown_fields=True):
    needs: list[Need]
    providers: list[Provider]
    funders: list[Funder]
    provider_edges: list[ProviderEdge]
    funder_edges: list[FunderEdge]
    pinned: list[tuple[Id, Id]] = []  # [need, provider]
    forbidden: list[tuple[Id, Id]] = []


class Assignment(msgspec.Struct):
    need: Id
    provider: Id


class Funding(msgspec.Struct):
    need: Id
    funder: Id
    amount: int


class Result(msgspec.Struct):
    assignments: list[Assignment]
    funding: list[Funding]
    objective: float
    upper_bound: float
    gap: float
