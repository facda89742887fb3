"""The arithmetic of delivery evaluation, on its own so it can be checked by hand.

A leaf's score is 0–100 from its method: an anchored scale gives points ÷ 5 × 100, yes/no gives
100 or 0, a target gives min(achieved ÷ target, cap) × 100 (the cap is 1 unless the system sets
one; a cap above 1 lets over-achievement count, up to that ratio). None is "not applicable":
missing, never zero. A parent's score is the weighted mean of its children that have a score, so
the weights of the rest are renormalised within that parent; a parent whose children are all N/A
is N/A itself. Scores are kept exact on the way up and rounded to two decimals (half up) at the end.

Across evaluators: the consensus per leaf is the chair's when recorded, else (for display) the mean
of the members' scores; agreement is Krippendorff's alpha (interval metric) over evaluators ×
leaves with N/A missing; an evaluator's score is an outlier when it is further from the leaf's
median than 1.5 points of a 0–5 scale, which is 30 on the 0–100 scale scores are kept in.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

import krippendorff
import msgspec
import numpy as np

from market.evaluation.indicators.models import GRADES, POINTS, Bands, IndicatorNode
from market.evaluation.indicators.tree import leaves

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
OUTLIER_DISTANCE = Decimal("1.5") * HUNDRED / (POINTS - 1)  # 1.5 points of 0–5 on the 0–100 scale: 30

Scores = Mapping[str, Decimal | None]  # leaf path → 0–100, None for not applicable


def rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def scale_score(points: int) -> Decimal:
    if not 0 <= points < POINTS:
        raise ValueError(f"an anchored scale runs 0–{POINTS - 1}, not {points}")
    return rounded(Decimal(points) * HUNDRED / (POINTS - 1))


def yesno_score(yes: bool) -> Decimal:
    return HUNDRED if yes else Decimal(0)


def target_score(achieved: Decimal, target: Decimal, cap: Decimal | None = None) -> Decimal:
    if target <= 0 or achieved < 0:
        raise ValueError("a target is greater than 0 and an achievement is not negative")
    return rounded(min(achieved / target, cap or Decimal(1)) * HUNDRED)


Answer = int | bool | Decimal | tuple[Decimal, Decimal] | None


def leaf_score(leaf: IndicatorNode, answer: Answer) -> Decimal | None:
    """A leaf's score from what an evaluator found: points 0–5 (scale), True/False (yes/no), or for
    a target the achievement (the leaf's own target) or (achieved, target); None for N/A."""
    if answer is None:
        if not leaf.na_allowed:
            raise ValueError(f"{leaf.path} may not be not applicable")
        return None
    if leaf.method == "yesno" and isinstance(answer, bool):
        return yesno_score(answer)
    if leaf.method == "scale" and isinstance(answer, int) and not isinstance(answer, bool):
        return scale_score(answer)
    if leaf.method == "target":
        if isinstance(answer, tuple):
            return target_score(answer[0], answer[1], leaf.target_cap)
        if isinstance(answer, Decimal) and leaf.target is not None:
            return target_score(answer, leaf.target, leaf.target_cap)
    raise ValueError(f"{leaf.path} is scored by {leaf.method}; {answer!r} does not fit")


def _exact(nodes: Iterable[IndicatorNode], scores: Scores, out: dict[str, Decimal | None]) -> Decimal | None:
    """The weighted mean of these siblings that have a score, recording every node's on the way."""
    counted: list[tuple[int, Decimal]] = []
    for node in nodes:
        score = _exact(node.children, scores, out) if node.children else scores.get(node.path)
        out[node.path] = score
        if score is not None:
            counted.append((node.weight, score))
    if not counted:
        return None
    return sum((Decimal(w) * s for w, s in counted), Decimal(0)) / sum(w for w, _ in counted)


def node_scores(nodes: list[IndicatorNode], scores: Scores) -> dict[str, Decimal | None]:
    """Every node's score, leaves as given and parents aggregated, rounded to two decimals. A leaf
    missing from `scores` counts as not applicable."""
    out: dict[str, Decimal | None] = {}
    _exact(nodes, scores, out)
    return {path: None if s is None else rounded(s) for path, s in out.items()}


def total(nodes: list[IndicatorNode], scores: Scores) -> Decimal | None:
    exact = _exact(nodes, scores, {})
    return None if exact is None else rounded(exact)


def dimension_totals(nodes: list[IndicatorNode], scores: Scores) -> dict[str, Decimal | None]:
    every = node_scores(nodes, scores)
    return {n.path: every[n.path] for n in nodes}


def consensus(leaf_paths: Iterable[str], members: Mapping[Hashable, Scores],
              chair: Scores) -> dict[str, Decimal | None]:
    """Per leaf: the chair's consensus when recorded (N/A included), else the mean of the members'
    scores that are not N/A, else N/A."""
    out: dict[str, Decimal | None] = {}
    for path in leaf_paths:
        if path in chair:
            out[path] = chair[path]
            continue
        given = [s for m in members.values() if (s := m.get(path)) is not None]
        out[path] = rounded(sum(given, Decimal(0)) / len(given)) if given else None
    return out


def grade(bands: Bands, score: Decimal | None) -> str | None:
    if score is None:
        return None
    if score >= bands.grade_a_min:
        return "A"
    return "B" if score >= bands.grade_b_min else "C"


def passed(bands: Bands, score: Decimal | None) -> bool:
    got = grade(bands, score)
    return got is not None and GRADES.index(got) <= GRADES.index(bands.pass_grade)


def agreement(matrix: Mapping[int, Scores], leaf_paths: Iterable[str]) -> float | None:
    """Krippendorff's alpha, interval metric, over evaluators (rows) × leaves (units), N/A missing;
    None when it is undefined: fewer than two evaluators, no leaf scored by two, or no variation."""
    paths = list(leaf_paths)
    rows = [[math.nan if (s := scores.get(p)) is None else float(s) for p in paths] for scores in matrix.values()]
    data = np.array(rows, dtype=float)
    if len(rows) < 2 or not paths or not (np.sum(~np.isnan(data), axis=0) >= 2).any():
        return None
    try:
        alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="interval")
    except ValueError:  # every value the same: no disagreement to measure against
        return None
    return None if math.isnan(alpha) else round(float(alpha), 3)


class Outlier(msgspec.Struct, frozen=True):
    evaluator: int
    path: str
    score: Decimal
    median: Decimal


def outliers(matrix: Mapping[int, Scores], leaf_paths: Iterable[str],
             distance: Decimal = OUTLIER_DISTANCE) -> list[Outlier]:
    """Each evaluator's score further than `distance` from the median of that leaf's scores."""
    found: list[Outlier] = []
    for path in leaf_paths:
        given = {who: s for who, scores in matrix.items() if (s := scores.get(path)) is not None}
        if len(given) < 2:
            continue
        median = Decimal(statistics.median(given.values()))
        found.extend(Outlier(who, path, s, rounded(median)) for who, s in given.items() if abs(s - median) > distance)
    return found


def leaf_paths(nodes: list[IndicatorNode]) -> list[str]:
    return [n.path for n in leaves(nodes)]
