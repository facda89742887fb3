"""The shape of an indicator system: the tree built from its rows, and what makes it publishable —
weights that add up to 100 among siblings at every level, a scoring method on every leaf and every
point of an anchored scale described in both languages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from market.core.i18n import N_, gettext
from market.evaluation.indicators.models import (
    GRADES,
    MAX_DEPTH,
    METHODS,
    POINTS,
    Bands,
    IndicatorNode,
    NodeData,
    TreeProblem,
)

TOP = ""  # the parent of the dimensions
MAX_CAP = Decimal(2)


def sort_key(path: str) -> list[int]:
    return [int(p) for p in path.split(".")]


def build(rows: Iterable[NodeData]) -> list[IndicatorNode]:
    """The dimensions, each holding its indicators, in path order. Rows whose parent is missing are
    left out (`problems` reports them)."""
    ordered = sorted(rows, key=lambda r: sort_key(r.path))
    children: dict[str, list[NodeData]] = {}
    for row in ordered:
        children.setdefault(row.parent or TOP, []).append(row)

    def grow(row: NodeData) -> IndicatorNode:
        fields: dict[str, Any] = msgspec.structs.asdict(row)
        return IndicatorNode(**fields, children=[grow(c) for c in children.get(row.path, [])])
    return [grow(r) for r in children.get(TOP, [])]


def flatten(nodes: Iterable[IndicatorNode]) -> list[IndicatorNode]:
    """Every node, parents before their children."""
    out: list[IndicatorNode] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def leaves(nodes: Iterable[IndicatorNode]) -> list[IndicatorNode]:
    return [n for n in flatten(nodes) if not n.children]


def as_rows(nodes: Iterable[IndicatorNode]) -> list[NodeData]:
    return [NodeData(**{k: v for k, v in msgspec.structs.asdict(n).items() if k != "children"}) for n in flatten(nodes)]


def asked_of_residents(path: str, by_path: Mapping[str, NodeData]) -> bool:
    """Whether the node at `path` lies in the beneficiary-satisfaction dimension (resident surveys ask
    its leaves)."""
    dimension = by_path.get(path.split(".", 1)[0])
    return "." in path and dimension is not None and dimension.satisfaction


def problems(rows: list[NodeData], bands: Bands) -> list[TreeProblem]:
    """Everything that keeps these rows from being a publishable system (none: it is one)."""
    found: list[TreeProblem] = []

    def problem(where: str, column: str, message: str, **params: object) -> None:
        found.append(TreeProblem(where, column, gettext(message, **params)))

    by_path = {r.path: r for r in rows}
    siblings: dict[str, list[NodeData]] = {}
    for row in sorted(rows, key=lambda r: sort_key(r.path)):
        if row.depth > MAX_DEPTH:
            problem(row.path, "path", N_("A system has at most three levels: dimension, indicator, sub-indicator."))
            continue
        if row.parent is not None and row.parent not in by_path:
            problem(row.path, "path", N_("%(path)s needs the row for %(parent)s, which is missing."),
                    path=row.path, parent=row.parent)
            continue
        siblings.setdefault(row.parent or TOP, []).append(row)
    if not siblings.get(TOP):
        problem("", "path", N_("A system needs at least one dimension."))
    for parent, group in siblings.items():
        numbers = [int(r.path.rsplit(".", 1)[-1]) for r in group]
        if numbers != list(range(1, len(group) + 1)):
            problem(group[0].path, "path", N_("Number the rows under one parent 1, 2, 3… without gaps or repeats."))
        weights = sum(r.weight for r in group)
        if weights != 100:
            if parent == TOP:
                problem(group[0].path, "weight", N_("The dimensions' weights add up to %(sum)s; they must add up to 100."),
                        sum=weights)
            else:
                problem(group[0].path, "weight", N_("The weights under %(parent)s add up to %(sum)s; they must add up "
                        "to 100."), parent=parent, sum=weights)
    for row in rows:
        if row.path not in {r.path for group in siblings.values() for r in group}:
            continue
        is_leaf = row.path not in siblings
        if not 1 <= row.weight <= 100:
            problem(row.path, "weight", N_("A weight is a whole number from 1 to 100."))
        if not is_leaf:
            if row.method or row.anchors or row.target is not None or row.target_cap is not None:
                problem(row.path, "method", N_("Only an indicator with nothing under it is scored; remove the method "
                        "from this row or the rows under it."))
            if row.na_allowed:
                problem(row.path, "na_allowed", N_("Only an indicator with nothing under it can be not applicable."))
        elif row.method not in METHODS:
            problem(row.path, "method", N_("An indicator with nothing under it needs a scoring method: %(methods)s."),
                    methods=", ".join(METHODS))
        if row.method == "scale":
            if len(row.anchors) != POINTS or not all(a.text_zh and a.text_en for a in row.anchors):
                problem(row.path, "anchors", N_("An anchored scale describes every point from 0 to 5, in Chinese and "
                        "in English."))
        elif row.anchors:
            problem(row.path, "anchors", N_("Only an anchored scale has descriptions of its points."))
        if row.method != "target" and (row.target is not None or row.target_cap is not None):
            problem(row.path, "target", N_("Only an indicator scored against a target has a target or a cap."))
        if row.target is not None and row.target <= 0:
            problem(row.path, "target", N_("A target is a number greater than 0."))
        if row.target_cap is not None and not Decimal(1) <= row.target_cap <= MAX_CAP:
            problem(row.path, "target_cap", N_("The cap is a number from 1 to 2: how far above its target an "
                    "achievement still counts."))
        if row.satisfaction and row.depth != 1:
            problem(row.path, "satisfaction", N_("Only a dimension is marked as the beneficiary-satisfaction part."))
        if (row.question_zh or row.question_en) and not (is_leaf and asked_of_residents(row.path, by_path)):
            problem(row.path, "question_zh", N_("Only an indicator of the beneficiary-satisfaction part with nothing "
                    "under it is asked of residents."))
    if sum(1 for r in rows if r.satisfaction and r.depth == 1) > 1:
        problem("", "satisfaction", N_("At most one dimension is the beneficiary-satisfaction part."))
    if not Decimal(0) < bands.grade_b_min < bands.grade_a_min <= Decimal(100):
        problem("", "grade_a_min", N_("Grade bands need 0 < the lowest B < the lowest A ≤ 100."))
    if bands.pass_grade not in GRADES:
        problem("", "pass_grade", N_("The pass grade is A, B or C."))
    return found
