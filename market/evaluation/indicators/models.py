"""Indicator systems (指标体系): a tree of dimensions, indicators and sub-indicators with weights
that add up to 100 among siblings, each leaf scored by a method; versioned like the catalogue."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from market.core.i18n import N_

Stage = Literal["midterm", "final"]
Method = Literal["scale", "yesno", "target"]
STAGES: tuple[str, ...] = ("midterm", "final")
METHODS: tuple[str, ...] = ("scale", "yesno", "target")
GRADES: tuple[str, ...] = ("A", "B", "C")  # best first
MAX_DEPTH = 3
POINTS = 6  # an anchored scale runs 0–5

STAGE_NAMES = {"midterm": N_("mid-term evaluation"), "final": N_("final evaluation")}
METHOD_NAMES = {"scale": N_("anchored scale 0–5"), "yesno": N_("yes or no"),
                "target": N_("achieved against a target")}
LEVEL_NAMES = {1: N_("Dimension"), 2: N_("Indicator"), 3: N_("Sub-indicator")}
STATUS_NAMES = {"draft": N_("draft"), "published": N_("published"), "retired": N_("retired")}


class Anchor(msgspec.Struct, frozen=True):
    """What one point of an anchored scale means; the anchor's place in the list is its points."""

    text_zh: str
    text_en: str


class Bands(msgspec.Struct, frozen=True, kw_only=True):
    """Grade bands: A from `grade_a_min`, B from `grade_b_min`, C below; `pass_grade` or better passes."""

    grade_a_min: Decimal = Decimal(85)
    grade_b_min: Decimal = Decimal(60)
    pass_grade: str = "B"


class NodeData(msgspec.Struct, frozen=True, kw_only=True):
    """One node as a file row or a form gives it. `path` is 1, 1.2 or 1.2.1: dimension, indicator,
    sub-indicator. A node with no children is a leaf and has a scoring method."""

    path: str
    name_zh: str
    name_en: str
    weight: int
    method: str | None = None
    anchors: list[Anchor] = []
    target: Decimal | None = None  # a fixed target; None: the target comes from the contract
    target_cap: Decimal | None = None  # achieved ÷ target counts up to this (1 when None)
    evidence_zh: str = ""
    evidence_en: str = ""
    na_allowed: bool = False
    satisfaction: bool = False  # the dimension that resident surveys feed
    # How residents are asked about an indicator of that dimension, where its name is not a question.
    question_zh: str = ""
    question_en: str = ""

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1

    @property
    def parent(self) -> str | None:
        return self.path.rsplit(".", 1)[0] if "." in self.path else None


class IndicatorNode(NodeData, frozen=True, kw_only=True):
    """A node with the nodes under it."""

    children: list[IndicatorNode] = []


class SystemVersion(msgspec.Struct, frozen=True, kw_only=True):
    """A version of an indicator system: whose (None: the platform's), for which catalogue code
    (an item, sub-category or category; None: every item) and which stage."""

    id: int
    owner_id: int | None
    applies_to: str | None
    stage: str
    revision: int
    title_zh: str
    title_en: str
    status: str
    grade_a_min: Decimal
    grade_b_min: Decimal
    pass_grade: str
    created_at: datetime
    published_at: datetime | None
    retired_at: datetime | None
    owner_name_zh: str = ""
    owner_name_en: str = ""

    @property
    def bands(self) -> Bands:
        return Bands(grade_a_min=self.grade_a_min, grade_b_min=self.grade_b_min, pass_grade=self.pass_grade)


class IndicatorSystem(SystemVersion, frozen=True, kw_only=True):
    """A version with its tree: the dimensions, each holding its indicators."""

    nodes: list[IndicatorNode]


Code = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{2}(\.[0-9]{2}){0,2}$")]


class NewSystemVersion(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    stage: Stage
    title_zh: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    title_en: Annotated[str, msgspec.Meta(max_length=300)] = ""
    applies_to: Code | None = None
    copy_from: Annotated[int, msgspec.Meta(ge=1, le=2**62)] | None = None


class NodeEdit(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the node form changes: names, weight, evidence, whether N/A is allowed, and for an indicator of
    the satisfaction dimension how residents are asked about it."""

    name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    weight: Annotated[int, msgspec.Meta(ge=1, le=100)]
    evidence_zh: Annotated[str, msgspec.Meta(max_length=500)] = ""
    evidence_en: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    na_allowed: bool = False
    question_zh: Annotated[str, msgspec.Meta(max_length=200)] = ""
    question_en: Annotated[str, msgspec.Meta(max_length=300)] = ""


class TreeProblem(msgspec.Struct, frozen=True):
    """One thing wrong with a tree: the node's path (empty for the settings), the column, the message."""

    path: str
    column: str
    message: str
