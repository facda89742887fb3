from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

# Scores travel as numbers 0–100 and are kept to two decimals (Decimal) from there on.
Score = Annotated[float, msgspec.Meta(ge=0, le=100)]


class Criterion(msgspec.Struct, frozen=True):
    position: int
    name_zh: str
    name_en: str
    weight: int
    min_score: int | None
    is_price: bool
    indicator_path: str | None = None  # on a panel scoring an indicator system: the leaf it is


class Candidate(msgspec.Struct, frozen=True):
    candidate_id: int
    organisation_id: int
    label: str  # as the panel was formed: the organisation's name in Chinese
    price_fen: int | None
    submitted_at: datetime
    label_en: str = ""  # and in English, where it has one


class Member(msgspec.Struct, frozen=True):
    user_id: int
    display_name: str
    role: str
    submitted: bool = False  # has handed in their scores


class Ranked(msgspec.Struct, frozen=True, kw_only=True):
    """One candidate's result: its total, whether it is out and why, and how a tie was broken."""

    candidate_id: int
    label: str
    scores: dict[int, Decimal | None]
    label_en: str = ""
    total: Decimal | None
    out: bool
    reasons: list[str]
    rank: int | None = None
    tie_note: str = ""
    grade: str | None = None  # on a panel scoring an indicator system: A, B or C by its bands
    passed: bool | None = None


class AddMember(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    role: Literal["chair", "member"] = "member"


class Declaration(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    candidate_id: Annotated[int, msgspec.Meta(ge=1, le=2**62)]
    conflicted: bool
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class ScoreInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    candidate_id: Annotated[int, msgspec.Meta(ge=1, le=2**62)]
    position: Annotated[int, msgspec.Meta(ge=1, le=999)]
    score: Score | None
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # For an indicator scored against a fixed target: what was achieved; the score follows from it.
    achieved: Annotated[float, msgspec.Meta(ge=0, le=10**9)] | None = None


# A member's scores on one candidate at once: at most one a criterion.
ScoreList = Annotated[list[ScoreInput], msgspec.Meta(min_length=1, max_length=999)]


class MemberScore(msgspec.Struct, frozen=True, kw_only=True):
    user_id: int
    display_name: str
    candidate_id: int
    position: int
    score: float | None
    note: str


class ConsensusScore(msgspec.Struct, frozen=True, kw_only=True):
    """The chair's consensus on one criterion of one candidate, with the note that explains it."""

    candidate_id: int
    position: int
    score: Decimal | None  # None: not applicable
    note: str


class Expert(msgspec.Struct, frozen=True, kw_only=True):
    """One of an agency's people as its staff assign a panel: their open panels, and why this panel
    may not seat them (None: it may)."""
    user_id: int
    display_name: str
    load: int
    seated: bool
    excluded: str | None


class AgencyInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agency_id: Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class AssignInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    count: Annotated[int, msgspec.Meta(ge=1, le=20)]


class NoteInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    candidate_id: Annotated[int, msgspec.Meta(ge=1, le=2**62)]
    kind: Literal["document", "site"]
    body: Annotated[str, msgspec.Meta(min_length=2, max_length=4000)]


class NotePhoto(msgspec.Struct, frozen=True, kw_only=True):
    file_id: uuid.UUID
    filename: str
    link: str  # made out to the reader, expiring


class Note(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    display_name: str
    candidate_id: int
    kind: str
    body: str
    created_at: datetime
    photos: list[NotePhoto] = []


class Agency(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name_zh: str
    name_en: str


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """A panel's result for its one candidate (a delivery panel: the provider): total, grade and
    whether it passed, by the bands of its indicator system (the default bands on plain criteria)."""

    total: Decimal | None
    grade: str | None
    passed: bool
