"""The arithmetic of delivery evaluation against cases computed by hand."""

from decimal import Decimal as D

import pytest

from market.evaluation.indicators import scoring, tree
from market.evaluation.indicators.models import Bands, NodeData

ANCHORS = []  # the arithmetic does not read them


def node(path, weight, method=None, **kw):
    return NodeData(path=path, name_zh=path, name_en=path, weight=weight, method=method, **kw)


# Two levels: dimension 1 (60) holds 1.1 (70, scale) and 1.2 (30, yes/no); dimension 2 (40) holds
# 2.1 (50, against a target of 200, counted up to 1.2×) and 2.2 (50, scale).
TREE = tree.build([
    node("1", 60), node("1.1", 70, "scale"), node("1.2", 30, "yesno", na_allowed=True),
    node("2", 40), node("2.1", 50, "target", target=D(200), target_cap=D("1.2")), node("2.2", 50, "scale", na_allowed=True),
])
LEAVES = {n.path: n for n in tree.leaves(TREE)}


def test_leaf_scores_by_method():
    assert [scoring.leaf_score(LEAVES["1.1"], p) for p in range(6)] == [D(0), D(20), D(40), D(60), D(80), D(100)]
    assert scoring.leaf_score(LEAVES["1.2"], True) == 100 and scoring.leaf_score(LEAVES["1.2"], False) == 0
    assert scoring.leaf_score(LEAVES["2.1"], D(150)) == D(75)              # 150 ÷ 200
    assert scoring.leaf_score(LEAVES["2.1"], D(260)) == D(120)             # 1.3 capped at 1.2
    assert scoring.leaf_score(LEAVES["2.1"], (D(45), D(60))) == D(75)      # the contract's target
    assert scoring.target_score(D(300), D(200)) == D(100)                  # no cap set: capped at 1
    assert scoring.target_score(D(1), D(3)) == D("33.33")
    assert scoring.leaf_score(LEAVES["1.2"], None) is None


@pytest.mark.parametrize("leaf, answer", [("1.1", 6), ("1.1", -1), ("1.1", True), ("1.2", 1), ("1.1", None),
                                           ("2.1", (D(1), D(0)))])
def test_answers_that_do_not_fit_are_refused(leaf, answer):
    with pytest.raises(ValueError):
        scoring.leaf_score(LEAVES[leaf], answer)


def test_weights_at_two_levels():
    scores = {"1.1": D(80), "1.2": D(100), "2.1": D(75), "2.2": D(60)}
    # dimension 1: 0.7 × 80 + 0.3 × 100 = 86; dimension 2: 0.5 × 75 + 0.5 × 60 = 67.5
    assert scoring.dimension_totals(TREE, scores) == {"1": D("86.00"), "2": D("67.50")}
    # 0.6 × 86 + 0.4 × 67.5 = 51.6 + 27 = 78.6
    assert scoring.total(TREE, scores) == D("78.60")


def test_not_applicable_is_missing_never_zero():
    scores = {"1.1": D(80), "1.2": None, "2.1": D(75), "2.2": None}
    # 1.2 left out: dimension 1 is 70 × 80 ÷ 70 = 80 (as zero it would be 56); dimension 2 is 75
    assert scoring.dimension_totals(TREE, scores) == {"1": D("80.00"), "2": D("75.00")}
    assert scoring.total(TREE, scores) == D("78.00")  # 0.6 × 80 + 0.4 × 75
    # a dimension whose indicators are all N/A is N/A itself, and the other dimension stands alone
    alone = {"1.1": D(80), "1.2": D(100), "2.1": None, "2.2": None}
    assert scoring.node_scores(TREE, alone)["2"] is None
    assert scoring.total(TREE, alone) == D("86.00")
    assert scoring.total(TREE, {}) is None


def test_over_achievement_counts_up_to_the_cap_and_rounding_is_at_the_end():
    scores = {"1.1": D(80), "1.2": D(100), "2.1": D(120), "2.2": D(60)}
    assert scoring.total(TREE, scores) == D("87.60")  # 0.6 × 86 + 0.4 × 90
    thirds = tree.build([node("1", 33, "yesno"), node("2", 33, "yesno"), node("3", 34, "yesno")])
    assert scoring.total(thirds, {"1": D(100), "2": D(0), "3": D(0)}) == D("33.00")
    halves = tree.build([node("1", 50, "scale"), node("2", 50, "scale")])
    assert scoring.total(halves, {"1": D("80.01"), "2": D(80)}) == D("80.01")  # 80.005, half up


def test_consensus_is_the_chairs_else_the_members_mean():
    members = {7: {"1.1": D(80), "1.2": D(100), "2.1": D(75)},
               8: {"1.1": D(60), "1.2": None, "2.1": D(80)},
               9: {"1.1": D(70), "1.2": D(100), "2.1": None}}
    chair = {"1.2": None, "2.2": D(40)}
    assert scoring.consensus(["1.1", "1.2", "2.1", "2.2"], members, chair) == {
        "1.1": D("70.00"),   # (80 + 60 + 70) ÷ 3
        "1.2": None,         # the chair recorded not applicable
        "2.1": D("77.50"),   # (75 + 80) ÷ 2: the N/A is left out
        "2.2": D(40),        # only the chair scored it
    }
    assert scoring.consensus(["2.2"], members, {}) == {"2.2": None}


def test_grade_bands_and_passing():
    default = Bands()
    assert [scoring.grade(default, D(s)) for s in ("100", "85", "84.99", "60", "59.99", "0")] == [
        "A", "A", "B", "B", "C", "C"]
    assert scoring.grade(default, None) is None and not scoring.passed(default, None)
    assert scoring.passed(default, D(60)) and not scoring.passed(default, D("59.99"))
    strict = Bands(grade_a_min=D(90), grade_b_min=D(70), pass_grade="A")
    assert scoring.grade(strict, D(89)) == "B" and not scoring.passed(strict, D(89)) and scoring.passed(strict, D(90))
    assert scoring.passed(Bands(pass_grade="C"), D(10))


def test_krippendorffs_alpha_on_his_worked_example():
    """Source: Klaus Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), University of
    Pennsylvania, ScholarlyCommons, Departmental Papers (ASC) 43, section C: reliability data of
    4 observers × 12 units with missing values; the paper gives α = 0.743 (nominal) and
    α = 0.849 (interval)."""
    data = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
            "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
            "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
            "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]}
    units = [f"u{i}" for i in range(1, 13)]
    matrix = {who: {u: None if v is None else D(v) for u, v in zip(units, values, strict=True)}
              for who, values in data.items()}
    assert scoring.agreement(matrix, units) == 0.849
    # on the 0–100 scale scores are kept in (points × 20) alpha is the same: the interval metric is linear
    scaled = {who: {u: None if s is None else s * 20 for u, s in row.items()} for who, row in matrix.items()}
    assert scoring.agreement(scaled, units) == 0.849


def test_agreement_is_undefined_without_two_raters_or_variation():
    assert scoring.agreement({1: {"a": D(80)}}, ["a"]) is None
    assert scoring.agreement({1: {"a": D(80)}, 2: {"b": D(60)}}, ["a", "b"]) is None  # no leaf scored twice
    assert scoring.agreement({1: {"a": D(80), "b": D(80)}, 2: {"a": D(80), "b": D(80)}}, ["a", "b"]) is None
    perfect = {1: {"a": D(80), "b": D(40)}, 2: {"a": D(80), "b": D(40)}}
    assert scoring.agreement(perfect, ["a", "b"]) == 1.0


def test_outliers_are_more_than_one_and_a_half_points_from_the_median():
    assert scoring.OUTLIER_DISTANCE == 30  # 1.5 of 5 points, on the 0–100 scale
    matrix = {1: {"a": D(80), "b": D(60)}, 2: {"a": D(60), "b": D(90)}, 3: {"a": D(20), "b": D(60)},
              4: {"a": None, "b": None}}
    found = scoring.outliers(matrix, ["a", "b"])
    # a: median 60, 20 is 40 away; b: median 60, 90 is exactly 30 away, not more
    assert found == [scoring.Outlier(3, "a", D(20), D("60.00"))]
    assert scoring.outliers({1: {"a": D(0)}}, ["a"]) == []
    assert [o.evaluator for o in scoring.outliers(matrix, ["b"], distance=D(15))] == [2]
