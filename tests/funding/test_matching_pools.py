"""Matching pools against cases worked out by hand; the arithmetic is in the comments."""

import random
from decimal import localcontext

import pytest

from market.funding.funds.arithmetic import (
    Gift,
    RatioRules,
    quadratic_match,
    quadratic_preview,
    ratio_match,
    ratio_preview,
)

ONE_TO_ONE = RatioRules(ratio_num=1, ratio_den=1)


def gifts(*rows: tuple[int, int, int]) -> list[Gift]:
    """(donor, project, amount_fen) rows, numbered 1, 2, 3… in the order given."""
    return [Gift(id=i, donor=d, project=p, amount_fen=a) for i, (d, p, a) in enumerate(rows, start=1)]


def matches(result) -> list[tuple[int, int, str | None]]:
    return [(m.ratio_fen, m.match_fen, m.reason) for m in result.matches]


def by_project(result) -> dict[int, int]:
    return {p.project: p.match_fen for p in result.projects}


# Ratio matching


def test_one_to_one_matches_every_gift_in_full():
    # 500 + 300 to project 1, 200 to project 2, all matched 1:1; the pool of 10000 keeps 10000 − 1000 = 9000.
    result = ratio_match(ONE_TO_ONE, gifts((1, 1, 500), (2, 1, 300), (3, 2, 200)), 10_000)
    assert matches(result) == [(500, 500, None), (300, 300, None), (200, 200, None)]
    assert result.project_totals == {1: 800, 2: 200}
    assert (result.total_match_fen, result.pool_left_fen) == (1000, 9000)


def test_one_to_two_rounds_each_match_down_to_the_fen():
    # 333 × 1/2 = 166.5 → 166; 1 × 1/2 = 0.5 → 0 (nothing was cut, so no reason); 1000 × 1/2 = 500.
    rules = RatioRules(ratio_num=1, ratio_den=2)
    result = ratio_match(rules, gifts((1, 1, 333), (2, 1, 1), (3, 1, 1000)), 10_000)
    assert matches(result) == [(166, 166, None), (0, 0, None), (500, 500, None)]
    assert result.project_totals == {1: 666}


def test_a_gift_below_the_minimum_gets_nothing():
    # Minimum 1000: 999 would have earned 999 but gets 0; exactly 1000 earns 1000.
    rules = RatioRules(ratio_num=1, ratio_den=1, min_gift_fen=1000)
    result = ratio_match(rules, gifts((1, 1, 999), (2, 1, 1000)), 10_000)
    assert matches(result) == [(999, 0, "below_minimum"), (1000, 1000, None)]
    assert result.total_match_fen == 1000


def test_the_donor_cap_counts_that_donors_gifts_to_every_project():
    # Donor 1's cap is 1500: 1000 to project 1 (1500 − 1000 = 500 left), 1000 to project 2 gets the
    # last 500, 300 more to project 1 gets 0. Donor 2's 400 has its own cap and is matched in full.
    rules = RatioRules(ratio_num=1, ratio_den=1, per_donor_cap_fen=1500)
    result = ratio_match(rules, gifts((1, 1, 1000), (1, 2, 1000), (1, 1, 300), (2, 2, 400)), 10_000)
    assert matches(result) == [(1000, 1000, None), (1000, 500, "donor_cap"), (300, 0, "donor_cap"),
                               (400, 400, None)]
    assert result.project_totals == {1: 1000, 2: 900}


def test_the_project_cap_stops_a_project_and_not_the_others():
    # Project 1's cap is 2000: 1500, then 2000 − 1500 = 500 of 800, then 0 of 100; project 2 gets its 700.
    rules = RatioRules(ratio_num=1, ratio_den=1, per_project_cap_fen=2000)
    result = ratio_match(rules, gifts((1, 1, 1500), (2, 1, 800), (3, 1, 100), (4, 2, 700)), 10_000)
    assert matches(result) == [(1500, 1500, None), (800, 500, "project_cap"), (100, 0, "project_cap"),
                               (700, 700, None)]
    assert result.project_totals == {1: 2000, 2: 700}
    # A gift that exactly fills the room left is not cut: 1500, then 500 of the 500 left.
    result = ratio_match(rules, gifts((1, 1, 1500), (2, 1, 500)), 10_000)
    assert matches(result) == [(1500, 1500, None), (500, 500, None)]


def test_when_limits_tie_the_earlier_one_is_named():
    # Donor cap 300 and a pool of 300 against a 500 gift: both leave 300; the donor cap comes first.
    rules = RatioRules(ratio_num=1, ratio_den=1, per_donor_cap_fen=300, per_project_cap_fen=300)
    assert matches(ratio_match(rules, gifts((1, 1, 500)), 300)) == [(500, 300, "donor_cap")]
    # Project cap and pool tie at 200 once the donor cap is out of the way: the project cap is named.
    rules = RatioRules(ratio_num=1, ratio_den=1, per_project_cap_fen=200)
    assert matches(ratio_match(rules, gifts((1, 1, 500)), 200)) == [(500, 200, "project_cap")]


def test_when_the_pool_runs_out_the_earlier_gift_id_is_served_first():
    # Pool 1000: gift 1 (600) gets 600, gift 2 (700) the last 1000 − 600 = 400, gift 3 (50) nothing.
    first = [Gift(id=3, donor=3, project=1, amount_fen=50), Gift(id=2, donor=2, project=2, amount_fen=700),
             Gift(id=1, donor=1, project=1, amount_fen=600)]
    result = ratio_match(ONE_TO_ONE, first, 1000)
    assert [(m.gift_id, m.match_fen, m.reason) for m in result.matches] == [
        (1, 600, None), (2, 400, "pool_exhausted"), (3, 0, "pool_exhausted")]
    assert (result.project_totals, result.pool_left_fen) == ({1: 600, 2: 400}, 0)
    # The same gifts with the 700 arriving first: 700, then 1000 − 700 = 300 of 600, then 0.
    swapped = [Gift(id=1, donor=2, project=2, amount_fen=700), Gift(id=2, donor=1, project=1, amount_fen=600),
               Gift(id=3, donor=3, project=1, amount_fen=50)]
    assert [m.match_fen for m in ratio_match(ONE_TO_ONE, swapped, 1000).matches] == [700, 300, 0]


def test_the_preview_is_what_the_gift_then_gets():
    # Donor cap 1000, project cap 1400, pool 5000. Donor 1 has 600 matched, project 1 has 600 + 500 = 1100.
    # A new 800 from donor 1: the ratio gives 800, donor room 1000 − 600 = 400, project room
    # 1400 − 1100 = 300, pool room 5000 − 1100 = 3900, so 300 and the project cap is why.
    rules = RatioRules(ratio_num=1, ratio_den=1, per_donor_cap_fen=1000, per_project_cap_fen=1400)
    before = gifts((1, 1, 600), (2, 1, 500))
    assert ratio_preview(rules, before, 5000, donor=1, project=1, amount_fen=800) == 300
    made = ratio_match(rules, [*before, Gift(id=3, donor=1, project=1, amount_fen=800)], 5000)
    assert (made.matches[-1].match_fen, made.matches[-1].reason) == (300, "project_cap")
    # On another project the donor cap binds instead: min(800, 400, 1400, 3900) = 400.
    assert ratio_preview(rules, before, 5000, donor=1, project=2, amount_fen=800) == 400


# Quadratic funding


def test_a_single_donor_earns_no_match_even_over_several_gifts():
    # Donor 1 gives 100 + 300 = 400 to project 1: (√400)² − 400 = 0.
    result = quadratic_match(gifts((1, 1, 100), (1, 1, 300)), 10_000)
    [project] = result.projects
    assert (project.donors, project.contributed_fen, project.match_fen) == (1, 400, 0)
    assert (project.sqrt_sum, project.ideal, result.total_match_fen) == ("20.000000", "0.000000", 0)


def test_two_donors_of_100_and_400():
    # (√100 + √400)² − (100 + 400) = (10 + 20)² − 500 = 900 − 500 = 400; the pool of 10000 is ample, k = 1.
    result = quadratic_match(gifts((1, 1, 100), (2, 1, 400)), 10_000)
    [project] = result.projects
    assert (project.donors, project.contributed_fen, project.match_fen, project.capped) == (2, 500, 400, False)
    assert (project.sqrt_sum, project.ideal, project.k, result.k) == ("30.000000", "400.000000", "1.000000",
                                                                     "1.000000")
    assert result.total_match_fen == 400


def test_two_donors_of_200_are_matched_exactly_not_to_50_digits():
    # (√200 + √200)² − 400 = 4 × 200 − 400 = 400; at 50 digits (2 × 14.142…)² comes out as 399.99…95.
    result = quadratic_match(gifts((1, 1, 200), (2, 1, 200)), 10_000)
    assert (result.projects[0].ideal, result.projects[0].match_fen) == ("400.000000", 400)


def test_many_small_donors_beat_one_large_donor():
    # Each project raises 400 or more:
    # project 1, four donors × 100: (4 × 10)² − 400 = 1600 − 400 = 1200
    # project 2, one donor × 400: (20)² − 400 = 0
    # project 3, donors of 100 and 900: (10 + 30)² − 1000 = 1600 − 1000 = 600
    result = quadratic_match(gifts((1, 1, 100), (2, 1, 100), (3, 1, 100), (4, 1, 100), (5, 2, 400),
                                   (6, 3, 100), (7, 3, 900)), 10_000)
    assert by_project(result) == {1: 1200, 2: 0, 3: 600}
    assert [p.donors for p in result.projects] == [4, 1, 2]
    assert result.total_match_fen == 1800


def test_a_short_pool_scales_every_ideal_and_hands_out_spare_fen_by_largest_remainder():
    # Ideals 1200, 600, 400 (as above, with project 3 as 100 + 400) add up to 2200 against a pool of 1000:
    # k = 1000/2200 = 5/11 = 0.454545…
    # project 1: 1200 × 5/11 = 545.45… → 545, remainder .45
    # project 2:  600 × 5/11 = 272.72… → 272, remainder .72
    # project 3:  400 × 5/11 = 181.81… → 181, remainder .81
    # The floors add up to 998; the real total is 1000, so 2 spare fen go to projects 3 and 2.
    result = quadratic_match(gifts((1, 1, 100), (2, 1, 100), (3, 1, 100), (4, 1, 100),
                                   (5, 2, 100), (6, 2, 900), (7, 3, 100), (8, 3, 400)), 1000)
    assert by_project(result) == {1: 545, 2: 273, 3: 182}
    assert result.total_match_fen == 1000
    assert result.k == "0.454545"


def test_equal_remainders_go_to_the_smaller_project_id():
    # Projects 7, 3 and 5 each have donors of 100 and 400: ideal 400 each, 1200 in all, pool 1000:
    # k = 5/6, each 400 × 5/6 = 333.33… → 333; 999 in floors, 1 spare fen, to project 3.
    result = quadratic_match(gifts((1, 7, 100), (2, 7, 400), (3, 3, 100), (4, 3, 400), (5, 5, 100),
                                   (6, 5, 400)), 1000)
    assert by_project(result) == {3: 334, 5: 333, 7: 333}


def test_a_pool_that_is_not_short_hands_out_only_the_floor_of_the_real_total():
    # Two projects, each with donors of 100 and 200: (10 + √200)² − 300 = 2√20000 = 282.8427…
    # Together 565.685… → 565 fen of the 10000; floors 282 + 282 = 564, and the last fen breaks the
    # tie of equal remainders for project 1.
    result = quadratic_match(gifts((1, 1, 100), (2, 1, 200), (3, 2, 100), (4, 2, 200)), 10_000)
    assert by_project(result) == {1: 283, 2: 282}
    assert result.total_match_fen == 565
    assert (result.projects[0].sqrt_sum, result.projects[0].ideal) == ("24.142136", "282.842712")


def test_capping_is_repeated_until_no_project_is_over_the_cap():
    # Ideals: project 1 (4 × 100) 1200, project 2 (100 + 900) 600, project 3 (100 + 400) 400,
    # project 4 (100 + 100) (10 + 10)² − 200 = 200. Cap 250, pool 900.
    # Round 1: k = 900/2400 = 3/8; project 1 would get 450 > 250: capped, 900 − 250 = 650 left.
    # Round 2: k = 650/1200 = 13/24; project 2 would get 325 > 250: capped, 400 left.
    # Round 3: k = 400/600 = 2/3; project 3 would get 266.67 > 250: capped, 150 left.
    # Round 4: k = 150/200 = 3/4; project 4 gets 150, under the cap. Done.
    # Stopping after one round would leave project 2 at 325, over the cap.
    result = quadratic_match(gifts((1, 1, 100), (2, 1, 100), (3, 1, 100), (4, 1, 100), (5, 2, 100),
                                   (6, 2, 900), (7, 3, 100), (8, 3, 400), (9, 4, 100), (10, 4, 100)), 900, 250)
    assert by_project(result) == {1: 250, 2: 250, 3: 250, 4: 150}
    assert [p.capped for p in result.projects] == [True, True, True, False]
    # A capped project's factor is cap ÷ ideal: 250/1200, 250/600, 250/400.
    assert [p.k for p in result.projects] == ["0.208333", "0.416667", "0.625000", "0.750000"]
    assert (result.k, result.total_match_fen) == ("0.750000", 900)


def test_capping_never_scales_a_match_up():
    # As above with pool 1000: round 1 k = 1000/2400, project 1 at 500 capped, 750 left; round 2
    # k = 750/1200 = 5/8, project 2 at 375 capped, 500 left; round 3 k = 500/600 = 5/6, project 3 at
    # 333.33 capped, 250 left; round 4: 250/200 > 1, so k = 1 and project 4 gets its ideal 200.
    # 250 × 3 + 200 = 950 of the 1000.
    result = quadratic_match(gifts((1, 1, 100), (2, 1, 100), (3, 1, 100), (4, 1, 100), (5, 2, 100),
                                   (6, 2, 900), (7, 3, 100), (8, 3, 400), (9, 4, 100), (10, 4, 100)), 1000, 250)
    assert by_project(result) == {1: 250, 2: 250, 3: 250, 4: 200}
    assert (result.k, result.total_match_fen) == ("1.000000", 950)


def test_the_result_does_not_depend_on_the_order_of_the_gifts_or_the_decimal_context():
    # Projects 1 and 2 with donors of 100 and 200: 282.8427… each; project 3, four donors × 100 split
    # over several gifts: 1200. Pool 1000: k = 1000/1765.685…
    # project 1 and 2: 282.8427… × k = 160.19 → 160; project 3: 1200 × k = 679.62 → 679;
    # 999 in floors, the spare fen to project 3 (.62 beats .19).
    base = gifts((1, 1, 100), (2, 1, 200), (3, 2, 100), (4, 2, 200), (5, 3, 60), (5, 3, 40), (6, 3, 100),
                 (7, 3, 30), (7, 3, 70), (8, 3, 100))
    expected = quadratic_match(base, 1000)
    assert by_project(expected) == {1: 160, 2: 160, 3: 680}
    rng = random.Random(20240601)
    for _ in range(20):
        shuffled = base[:]
        rng.shuffle(shuffled)
        assert quadratic_match(shuffled, 1000) == expected
    with localcontext() as ctx:
        ctx.prec = 5
        assert quadratic_match(base, 1000) == expected


def test_the_preview_counts_only_this_projects_gain():
    # Pool 1200; projects 1 and 2 each have donors of 100 and 400: 400 each, k = 1.
    # A new donor gives 100 to project 1: (10 + 20 + 10)² − 600 = 1000; 1000 + 400 > 1200, so k = 6/7:
    # project 1 6000/7 = 857.14 → 857, project 2 2400/7 = 342.86 → 342 (+1 spare fen: 343).
    # Project 1 grows 857 − 400 = 457; project 2's loss of 57 is not counted.
    before = gifts((1, 1, 100), (2, 1, 400), (3, 2, 100), (4, 2, 400))
    assert quadratic_preview(before, 1200, None, donor=5, project=1, amount_fen=100) == 457
    after = quadratic_match([*before, Gift(id=5, donor=5, project=1, amount_fen=100)], 1200)
    assert by_project(after) == {1: 857, 2: 343}


def test_the_preview_adds_to_a_donors_existing_gift_and_is_zero_when_nothing_grows():
    before = gifts((1, 1, 100), (2, 1, 400))
    # Donor 1 adds 300 to their 100: (20 + 20)² − 800 = 800, up 800 − 400 = 400.
    assert quadratic_preview(before, 10_000, None, donor=1, project=1, amount_fen=300) == 400
    # With the cap at 400 the project is already full: 0.
    assert quadratic_preview(before, 10_000, 400, donor=5, project=1, amount_fen=100) == 0
    # A lone donor to a new project: 0.
    assert quadratic_preview(before, 10_000, None, donor=5, project=9, amount_fen=100) == 0


# Invalid input


def test_invalid_input_is_refused_naming_the_entry():
    good = gifts((1, 1, 100))
    with pytest.raises(ValueError, match="gift 2: amount_fen"):
        ratio_match(ONE_TO_ONE, [*good, Gift(id=2, donor=2, project=1, amount_fen=-1)], 1000)
    with pytest.raises(ValueError, match="gift 12: amount_fen"):
        quadratic_match([*good, Gift(id=12, donor=2, project=1, amount_fen=-5)], 1000)
    with pytest.raises(ValueError, match="gift 4: amount_fen"):
        quadratic_match([Gift(id=4, donor=2, project=1, amount_fen=10.5)], 1000)
    with pytest.raises(ValueError, match="gift 1: the id is used twice"):
        ratio_match(ONE_TO_ONE, [*good, *good], 1000)
    with pytest.raises(ValueError, match="ratio_den"):
        ratio_match(RatioRules(ratio_num=1, ratio_den=0), good, 1000)
    with pytest.raises(ValueError, match="ratio_num"):
        ratio_match(RatioRules(ratio_num=-1, ratio_den=1), good, 1000)
    with pytest.raises(ValueError, match="per_donor_cap_fen"):
        ratio_match(RatioRules(ratio_num=1, ratio_den=1, per_donor_cap_fen=-1), good, 1000)
    with pytest.raises(ValueError, match="min_gift_fen"):
        ratio_match(RatioRules(ratio_num=1, ratio_den=1, min_gift_fen=-1), good, 1000)
    with pytest.raises(ValueError, match="pool_fen"):
        ratio_match(ONE_TO_ONE, good, -1)
    with pytest.raises(ValueError, match="pool_fen"):
        quadratic_match(good, -1)
    with pytest.raises(ValueError, match="per_project_cap_fen"):
        quadratic_match(good, 1000, -1)
    with pytest.raises(ValueError, match="amount_fen"):
        quadratic_preview(good, 1000, None, donor=2, project=1, amount_fen=-100)
