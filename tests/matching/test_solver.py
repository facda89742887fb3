"""The docking solver: optimal on small cases worked out by hand, every rule kept (checked here in
plain integers, independently of the solver's own code), deterministic, and bad input refused
naming the entry. No database."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import msgspec
import numpy as np
import pytest

from market.cli import main
from market.core.errors import Invalid, InvalidFields
from market.core.i18n import use_locale
from market.matching.solver import highs as models
from market.matching.solver import lns, method
from market.matching.solver.bench import GRID, generate_family, generate_sized, lp_optimum
from market.matching.solver.lagrange import Lagrangian
from market.matching.solver.problem import index
from market.matching.solver.solve import Instance, Result, parse, solve
from market.matching.solver.swaps import Swaps


def instance(needs, providers, funders, provider_edges, funder_edges=(), pinned=(), forbidden=()):
    """Compact tuples as the JSON a user would write: needs (id, gov_money), providers (id, capacity),
    funders (id, budget), provider_edges (need, provider, price, value), funder_edges (need, funder,
    affinity)."""
    return {
        "needs": [{"id": i, "gov_money": g} for i, g in needs],
        "providers": [{"id": i, "capacity": c} for i, c in providers],
        "funders": [{"id": i, "budget": b} for i, b in funders],
        "provider_edges": [{"need": n, "provider": p, "price": c, "value": v} for n, p, c, v in provider_edges],
        "funder_edges": [{"need": n, "funder": f, "affinity": a} for n, f, a in funder_edges],
        "pinned": [list(pair) for pair in pinned],
        "forbidden": [list(pair) for pair in forbidden],
    }


def run(data: dict) -> dict:
    """Solve as the CLI does (JSON in, JSON out) and check the answer keeps every rule."""
    result = solve(parse(json.dumps(data).encode()))
    out = json.loads(msgspec.json.encode(result))
    check(data, out)
    return out


def check(data: dict, out: dict) -> None:
    """Every rule, in integers: assignments are edges, one per need, within capacity, pins kept,
    bans kept; funding only on funder edges, whole positive fen, each need's shortfall paid exactly,
    each budget kept; objective and gap as stated; the bound above the objective."""
    gov = {n["id"]: n["gov_money"] for n in data["needs"]}
    capacity = {p["id"]: p["capacity"] for p in data["providers"]}
    budget = {f["id"]: f["budget"] for f in data["funders"]}
    edge = {(e["need"], e["provider"]): e for e in data["provider_edges"]}
    affinity = {(e["need"], e["funder"]): e["affinity"] for e in data["funder_edges"]}
    provider_of = {}
    for a in out["assignments"]:
        assert (a["need"], a["provider"]) in edge, a
        assert a["need"] not in provider_of, f"need {a['need']} assigned twice"
        provider_of[a["need"]] = a["provider"]
    for p, cap in capacity.items():
        assert sum(1 for q in provider_of.values() if q == p) <= cap, f"provider {p} over capacity"
    for n, p in data.get("pinned", []):
        assert provider_of.get(n) == p, f"pinned {n}-{p} not kept"
    for n, p in data.get("forbidden", []):
        assert provider_of.get(n) != p, f"forbidden {n}-{p} chosen"
    paid = dict.fromkeys(gov, 0)
    spent = dict.fromkeys(budget, 0)
    value = 0.0
    for f in out["funding"]:
        assert type(f["amount"]) is int and f["amount"] > 0, f
        assert (f["need"], f["funder"]) in affinity, f
        assert f["need"] in provider_of, f"funding for unassigned need {f['need']}"
        paid[f["need"]] += f["amount"]
        spent[f["funder"]] += f["amount"]
        value += affinity[f["need"], f["funder"]] * f["amount"]
    for n in gov:
        owed = max(0, edge[n, provider_of[n]]["price"] - gov[n]) if n in provider_of else 0
        assert paid[n] == owed, f"need {n} paid {paid[n]} of {owed} fen"
    for f, b in budget.items():
        assert spent[f] <= b, f"funder {f} over budget"
    value += sum(edge[n, p]["value"] for n, p in provider_of.items())
    assert out["objective"] == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert out["upper_bound"] >= out["objective"] - 1e-9
    if out["upper_bound"]:
        assert out["gap"] == pytest.approx((out["upper_bound"] - out["objective"]) / abs(out["upper_bound"]),
                                           abs=1e-12)


def pairs(out: dict) -> set[tuple]:
    return {(a["need"], a["provider"]) for a in out["assignments"]}


def funding(out: dict) -> dict[tuple, int]:
    return {(f["need"], f["funder"]): f["amount"] for f in out["funding"]}


def test_the_best_provider_for_one_need_is_not_the_best_docking():
    # Greedy gives need A its best provider P and leaves B with none (10); the optimum is 9 + 8.
    out = run(instance(needs=[("A", 100), ("B", 100)], providers=[("P", 1), ("Q", 1)], funders=[],
                       provider_edges=[("A", "P", 100, 10), ("A", "Q", 100, 9), ("B", "P", 100, 8)]))
    assert pairs(out) == {("A", "Q"), ("B", "P")}
    assert out["objective"] == 17 and out["upper_bound"] == pytest.approx(17) and out["gap"] == pytest.approx(0)


def test_money_goes_to_the_two_needs_that_fit_not_the_single_best():
    # Shortfalls 60, 50, 50 against a budget of 100: the most valuable need alone is worth 10, the
    # other two together 14. The LP takes need 1 whole and 4/5 of another (10 + 0.8 * 7 = 15.6), a
    # bound 10 % above the best docking; branch and bound proves 14, so the gap says it is the best.
    out = run(instance(needs=[(1, 0), (2, 0), (3, 0)], providers=[(1, 3)], funders=[("f", 100)],
                       provider_edges=[(1, 1, 60, 10), (2, 1, 50, 7), (3, 1, 50, 7)],
                       funder_edges=[(1, "f", 0), (2, "f", 0), (3, "f", 0)]))
    assert pairs(out) == {(2, 1), (3, 1)}
    assert funding(out) == {(2, "f"): 50, (3, "f"): 50}
    assert out["objective"] == 14
    assert out["upper_bound"] == pytest.approx(14, rel=1e-4)
    assert out["gap"] <= 1e-4


def test_without_branch_and_bound_the_bound_is_the_lps(monkeypatch):
    monkeypatch.setattr(method, "EXACT_COLUMNS", 0)
    out = run(instance(needs=[(1, 0), (2, 0), (3, 0)], providers=[(1, 3)], funders=[("f", 100)],
                       provider_edges=[(1, 1, 60, 10), (2, 1, 50, 7), (3, 1, 50, 7)],
                       funder_edges=[(1, "f", 0), (2, "f", 0), (3, "f", 0)]))
    assert out["upper_bound"] == pytest.approx(15.6)


def test_a_full_provider_sends_the_least_valuable_need_elsewhere():
    out = run(instance(needs=[(1, 0), (2, 0), (3, 0)], providers=[("big", 2), ("small", 5)], funders=[],
                       provider_edges=[(1, "big", 0, 5), (2, "big", 0, 4), (3, "big", 0, 3), (3, "small", 0, 1)]))
    assert pairs(out) == {(1, "big"), (2, "big"), (3, "small")}
    assert out["objective"] == 10


def test_the_shortfall_is_paid_to_the_fen_best_affinity_first_within_budgets():
    # 1,001 fen short; two funders of 600 each: 600 from the keener one, 401 from the other.
    out = run(instance(needs=[(1, 999)], providers=[(1, 1)], funders=[("keen", 600), ("mild", 600)],
                       provider_edges=[(1, 1, 2000, 50)],
                       funder_edges=[(1, "keen", 0.02), (1, "mild", 0.01)]))
    assert funding(out) == {(1, "keen"): 600, (1, "mild"): 401}
    assert out["objective"] == pytest.approx(50 + 0.02 * 600 + 0.01 * 401)


def test_a_need_is_funded_in_full_or_gets_a_provider_it_can_afford():
    # The valuable provider leaves 500 fen unpaid and the funder has 499: the cheaper one, which
    # the government money covers, is taken instead.
    out = run(instance(needs=[(1, 1000)], providers=[("dear", 1), ("cheap", 1)], funders=[("f", 499)],
                       provider_edges=[(1, "dear", 1500, 100), (1, "cheap", 900, 60)],
                       funder_edges=[(1, "f", 1.0)]))
    assert pairs(out) == {(1, "cheap")} and out["funding"] == []
    assert out["objective"] == 60


def test_budgets_shared_by_needs_are_never_exceeded():
    # Six needs 100 fen short, worth 11..16. Funder a (250) backs the odd ones, b (130) the even
    # ones and also 1 and 3. b pays one even need at most: 6; a pays two odd ones whole: 5 and 3.
    # A third odd need would have only a's 50 and b's 30 left. Taking 1, 3, 5 instead is worth 39.
    needs = [(n, 0) for n in range(1, 7)]
    out = run(instance(needs=needs, providers=[(1, 6)], funders=[("a", 250), ("b", 130)],
                       provider_edges=[(n, 1, 100, 10 + n) for n in range(1, 7)],
                       funder_edges=[(n, "a" if n % 2 else "b", 0.001 * n) for n in range(1, 7)]
                       + [(n, "b", 0.0) for n in (1, 3)]))
    assert pairs(out) == {(3, 1), (5, 1), (6, 1)}
    assert funding(out) == {(3, "a"): 100, (5, "a"): 100, (6, "b"): 100}
    assert out["objective"] == pytest.approx(13 + 15 + 16 + 0.3 + 0.5 + 0.6)


def test_pinned_pairs_are_kept_and_forbidden_ones_never_taken():
    data = instance(needs=[(1, 0), (2, 0)], providers=[("p", 1), ("q", 1)], funders=[],
                    provider_edges=[(1, "p", 0, 10), (1, "q", 0, 1), (2, "p", 0, 9), (2, "q", 0, 8)],
                    pinned=[(1, "q")], forbidden=[(2, "q")])
    out = run(data)
    assert pairs(out) == {(1, "q"), (2, "p")}
    assert out["objective"] == 10
    # Without the pin and the ban the docking is different, so they did the work.
    assert pairs(run({**data, "pinned": [], "forbidden": []})) == {(1, "p"), (2, "q")}


def test_a_pinned_need_is_kept_even_at_a_loss_and_paid_for():
    out = run(instance(needs=[(1, 0), (2, 0)], providers=[(1, 2)], funders=[("f", 100)],
                       provider_edges=[(1, 1, 100, -5), (2, 1, 100, 50)],
                       funder_edges=[(1, "f", 0.0), (2, "f", 0.0)], pinned=[(1, 1)]))
    assert pairs(out) == {(1, 1)} and funding(out) == {(1, "f"): 100}
    assert out["objective"] == -5


@pytest.mark.parametrize("change,entries,words", [
    (lambda d: d.update(pinned=[[1, "p"], [2, "p"]]), {"pinned[0]", "pinned[1]"}, "cannot be paid for together"),
    (lambda d: d.update(pinned=[[1, "p"], [3, "p"]]) or d["providers"][0].update(capacity=1),
     {"providers[0]"}, "2 pinned needs but room for only 1"),
    (lambda d: d.update(pinned=[[4, "p"]]), {"pinned[0]"}, "funders' budgets (0 fen)"),
])
def test_pins_that_cannot_all_be_kept_are_refused(change, entries, words):
    data = instance(needs=[(1, 0), (2, 0), (3, 0), (4, 0)], providers=[("p", 3)], funders=[("f", 150)],
                    provider_edges=[(1, "p", 100, 1), (2, "p", 100, 1), (3, "p", 0, 1), (4, "p", 100, 1)],
                    funder_edges=[(1, "f", 0), (2, "f", 0)])
    change(data)
    with pytest.raises(InvalidFields) as caught:
        solve(parse(json.dumps(data).encode()))
    assert any(e.field in entries and words in str(e) for e in caught.value.errors), \
        [(e.field, str(e)) for e in caught.value.errors]


def good() -> dict:
    return instance(needs=[(1, 0), ("b", 10)], providers=[("p", 1)], funders=[(7, 100)],
                    provider_edges=[(1, "p", 50, 3), ("b", "p", 50, 2)], funder_edges=[(1, 7, 0.1)])


@pytest.mark.parametrize("change,entry,words", [
    (lambda d: d["provider_edges"].append({"need": 9, "provider": "p", "price": 1, "value": 1}),
     "provider_edges[2]", "Need 9 is not in the list of needs"),
    (lambda d: d["provider_edges"].append({"need": 1, "provider": "x", "price": 1, "value": 1}),
     "provider_edges[2]", "Provider 'x' is not in the list of providers"),
    (lambda d: d["funder_edges"].append({"need": "b", "funder": "7", "affinity": 1}),
     "funder_edges[1]", "Funder '7' is not in the list of funders"),
    (lambda d: d["provider_edges"].append({"need": 1, "provider": "p", "price": 9, "value": 9}),
     "provider_edges[2]", "already listed: provider_edges[0]"),
    (lambda d: d["funder_edges"].append({"need": 1, "funder": 7, "affinity": 0}),
     "funder_edges[1]", "already listed: funder_edges[0]"),
    (lambda d: d["needs"].append({"id": "b", "gov_money": 0}), "needs[2]", "already used by needs[1]"),
    (lambda d: d["funders"].append({"id": 7, "budget": 0}), "funders[1]", "already used by funders[0]"),
    (lambda d: d.update(pinned=[[1, "p"]], forbidden=[[1, "p"]]), "pinned[0]", "also forbidden"),
    (lambda d: d.update(pinned=[[1, "p"], ["b", "p"], [1, "p"]]), "pinned[2]", "already listed: pinned[0]"),
    (lambda d: d.update(pinned=[["b", "q"]]), "pinned[0]", "Provider 'q' is not"),
    (lambda d: d.update(forbidden=[[2, "p"]]), "forbidden[0]", "Need 2 is not"),
    (lambda d: d.update(pinned=[["b", "p"]], provider_edges=d["provider_edges"][:1]), "pinned[0]",
     "no provider edge"),
])
def test_inconsistent_input_is_refused_naming_the_entry(change, entry, words):
    data = good()
    change(data)
    with pytest.raises(InvalidFields) as caught:
        parse(json.dumps(data).encode())
    assert any(e.field == entry and words in str(e) for e in caught.value.errors), \
        [(e.field, str(e)) for e in caught.value.errors]


@pytest.mark.parametrize("change,where", [
    (lambda d: d["needs"][0].update(gov_money=-1), "$.needs[0].gov_money"),
    (lambda d: d["funders"][0].update(budget=10.5), "$.funders[0].budget"),
    (lambda d: d["provider_edges"][1].update(price="50"), "$.provider_edges[1].price"),
    (lambda d: d["providers"][0].update(capacity=-2), "$.providers[0].capacity"),
    (lambda d: d["needs"][1].update(id=True), "$.needs[1].id"),
    (lambda d: d["provider_edges"][0].pop("value"), "$.provider_edges[0]"),
    (lambda d: d["funder_edges"][0].update(share=1), "$.funder_edges[0]"),
    (lambda d: d.update(pinned=[[1]]), "$.pinned[0]"),
])
def test_malformed_input_is_refused_naming_the_entry(change, where):
    data = good()
    change(data)
    with pytest.raises(Invalid) as caught:
        parse(json.dumps(data).encode())
    assert where in str(caught.value)


def test_not_json_is_refused():
    with pytest.raises(Invalid, match="not valid"):
        parse(b"{needs: ")


def test_integer_and_string_ids_are_different_ids():
    out = run(instance(needs=[(1, 0), ("1", 0)], providers=[(1, 1), ("1", 1)], funders=[],
                       provider_edges=[(1, "1", 0, 2), ("1", 1, 0, 3)]))
    assert pairs(out) == {(1, "1"), ("1", 1)}


def test_nothing_to_dock_is_an_empty_answer():
    out = run(instance(needs=[(1, 0)], providers=[], funders=[], provider_edges=[]))
    assert out == {"assignments": [], "funding": [], "objective": 0.0, "upper_bound": 0.0, "gap": 0.0}


def generated(needs: int, seed: int) -> dict:
    return json.loads(msgspec.json.encode(generate_sized(needs, max(25, needs // 3), max(6, needs // 3), 5, seed)))


def with_pins_and_bans(data: dict) -> dict:
    """Pins and bans as a user would set them: three pins on different needs and providers, one
    of them on a need its funders must pay for, and every fortieth edge banned."""
    gov = {n["id"]: n["gov_money"] for n in data["needs"]}
    funded = {e["need"] for e in data["funder_edges"]}
    pins: list[list] = []
    for e in data["provider_edges"]:
        paid = e["price"] > gov[e["need"]]
        if (not paid or (e["need"] in funded and not any(p for p in pins if p[2]))) and \
                not any(e["need"] == n or e["provider"] == p for n, p, _ in pins):
            pins.append([e["need"], e["provider"], paid])
    data["pinned"] = [[n, p] for n, p, _ in pins[:3]]
    data["forbidden"] = [[e["need"], e["provider"]] for e in data["provider_edges"][5::40]
                         if [e["need"], e["provider"]] not in data["pinned"]]
    return data


@pytest.mark.parametrize("needs,seed", [(30, 1), (120, 2), (400, 3)])
def test_generated_instances_are_docked_feasibly_and_close_to_the_bound(needs, seed):
    out = run(with_pins_and_bans(generated(needs, seed)))
    assert out["gap"] < 0.03
    assert len(out["assignments"]) > needs // 2


def test_the_method_for_large_instances_keeps_every_rule(monkeypatch):
    # Prices first, the LP on the edges that matter, the dive sharing out what money is left: the
    # city-sized path, on an instance small enough for a test.
    monkeypatch.setattr(method, "FULL_LP_COLUMNS", 0)
    monkeypatch.setattr(method, "FREE_FUNDING_COLUMNS", 0)
    out = run(with_pins_and_bans(generated(400, 9)))
    assert out["gap"] < 0.03


def test_the_lp_method_alone_is_feasible_where_the_exact_one_would_run(monkeypatch):
    data = generated(30, 4)
    exact = run(data)
    monkeypatch.setattr(method, "EXACT_COLUMNS", 0)
    rounded = run(data)
    assert exact["upper_bound"] <= rounded["upper_bound"] * (1 + 1e-9)  # branch and bound's is no weaker
    assert rounded["objective"] <= exact["objective"] + 1e-6


def test_the_same_input_gives_the_same_answer_to_the_byte():
    # A fair solved outright whose branch and bound ends in a tenth of a second, and one past
    # EXACT_COLUMNS, solved by the LP, the dive, the local search and the neighbourhood search (its
    # 20 sub-MIPs take 0.09 s, the solve 0.4 s, well before its 1.7 s): no stage of either meets a
    # clock, even on a loaded machine. (Where the clock cuts branch and bound, as on a fair
    # of 150 needs whose first node takes 0.9 s, the answer depends on how far it got: solve says so.)
    for data in (generated(30, 5), generated(300, 6)):
        raw = json.dumps(data).encode()
        first = msgspec.json.encode(solve(parse(raw)))
        assert msgspec.json.encode(solve(parse(raw))) == first


def test_out_of_time_still_answers_feasibly():
    data = generated(300, 7)
    out = json.loads(msgspec.json.encode(solve(parse(json.dumps(data).encode()), time_limit=0.001)))
    check(data, out)


def test_cli_solves_a_file_and_writes_the_result(tmp_path, capsys):
    data = instance(needs=[(1, 0), (2, 0), (3, 0)], providers=[(1, 3)], funders=[("f", 100)],
                    provider_edges=[(1, 1, 60, 10), (2, 1, 50, 7), (3, 1, 50, 7)],
                    funder_edges=[(1, "f", 0), (2, "f", 0), (3, "f", 0)])
    (tmp_path / "in.json").write_text(json.dumps(data))
    with use_locale("en"):
        assert main(["match", "solve", str(tmp_path / "in.json"), "--out", str(tmp_path / "out.json")]) == 0
    out = json.loads((tmp_path / "out.json").read_text())
    check(data, out)
    assert out["objective"] == 14
    assert msgspec.convert(out, Result).upper_bound == pytest.approx(14, rel=1e-4)
    summary = capsys.readouterr().out
    assert "2 of 3 needs assigned" in summary and "100 fen funded" in summary and "gap 0.0" in summary


def test_cli_refuses_bad_input_with_the_entry_and_writes_nothing(tmp_path, capsys):
    data = good()
    data["funder_edges"].append({"need": 1, "funder": "nobody", "affinity": 0})
    (tmp_path / "in.json").write_text(json.dumps(data))
    with use_locale("en"):
        assert main(["match", "solve", str(tmp_path / "in.json"), "--out", str(tmp_path / "out.json")]) == 2
    assert "funder_edges[1]: Funder 'nobody' is not in the list of funders." in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()
    assert main(["match", "solve", str(tmp_path / "missing.json"), "--out", str(tmp_path / "out.json")]) == 2


def test_without_an_lp_solution_a_greedy_docking_by_prices_still_answers(monkeypatch):
    data = generated(200, 8)
    gov = {n["id"]: n["gov_money"] for n in data["needs"]}
    data["pinned"] = [[e["need"], e["provider"]] for e in data["provider_edges"] if e["price"] > gov[e["need"]]][:1]
    monkeypatch.setattr(models.DockingModel, "run", lambda self, grace=0.0: False)
    out = run(data)
    assert len(out["assignments"]) > 50 and out["funding"]


# Families of the benchmark's grid, small: each stresses another part of the method (see
# market/matching/bench.py). The bound must be proven, never below a docking (the one found; the
# best one on the instances worked out by hand below), and never weaker than the exact optimum of
# the whole LP, computed here by HiGHS on every edge.
SMALL = (120, 45, 20)


def family_instance(cell: str, seed: int = 5) -> dict:
    return json.loads(msgspec.json.encode(generate_family(GRID[cell], *SMALL, seed=seed)))


def lp_of(data: dict) -> float:
    return lp_optimum(msgspec.convert(data, Instance))


@pytest.mark.parametrize("cell", [c for c, f in GRID.items() if f is not None])
@pytest.mark.parametrize("path", ["columns", "prices"])
def test_every_family_gets_a_bound_no_weaker_than_the_lp_optimum(monkeypatch, cell, path):
    # `columns`: column generation from a few edges a need; `prices`: the Lagrangian's prices
    # first, then the LP over the edges that matter (the city round's path). `run` checks that the
    # bound is not below the docking.
    monkeypatch.setattr(method, "FULL_LP_COLUMNS", 0)
    if path == "prices":
        monkeypatch.setattr(method, "LAGRANGE_COLUMNS", 0)
    data = family_instance(cell)
    out = run(data)
    assert out["upper_bound"] <= lp_of(data) * (1.005 if path == "prices" else 1 + method.CG_TOLERANCE)


# A need of 100,000 fen whose favourite funder has 30,000 and whose other funder costs affinity:
# the plain LP delivers three tenths of the need, all paid by the favourite (0.3 * 10 + 30 = 33),
# as if that funder could pay a whole need. Each funder pays at most what it has, so delivering it
# pays 70,000 from the other: 10 + 30 - 14 = 26 is the best, and the bound must say so.
SMALL_FUNDER = instance(needs=[(1, 0)], providers=[("p", 1)], funders=[("kind", 30_000), ("dear", 1_000_000)],
                        provider_edges=[(1, "p", 100_000, 10)], funder_edges=[(1, "kind", 0.001), (1, "dear", -0.0002)])


@pytest.mark.parametrize("path", ["lp", "columns", "prices"])
def test_a_funder_is_not_counted_as_paying_more_than_it_has(monkeypatch, path):
    monkeypatch.setattr(method, "EXACT_COLUMNS", 0)
    if path != "lp":
        monkeypatch.setattr(method, "FULL_LP_COLUMNS", 0)
    if path == "prices":
        monkeypatch.setattr(method, "LAGRANGE_COLUMNS", 0)
    out = run(SMALL_FUNDER)
    assert lp_of(SMALL_FUNDER) == pytest.approx(33)
    assert out["objective"] == pytest.approx(26) and out["upper_bound"] == pytest.approx(26)
    assert funding(out) == {(1, "kind"): 30_000, (1, "dear"): 70_000}


@pytest.mark.parametrize("linking", ["all", "needed"])
def test_the_lp_with_linking_rows_pays_a_need_from_a_funder_only_as_far_as_its_money_goes(linking):
    p = index(msgspec.convert(SMALL_FUNDER, Instance))

    def lp(linking: str) -> models.DockingModel:
        model = models.DockingModel(p, np.arange(1), np.arange(2), p.capacity, p.budget.astype(float),
                                    time.monotonic() + 10, linking=linking)
        assert model.run()
        while linking == "needed" and model.separate():
            assert model.run()
        return model

    assert lp("none").objective == pytest.approx(33)
    model = lp(linking)
    assert model.objective == pytest.approx(26)
    y, x = model.solution()
    assert y.tolist() == pytest.approx([1.0]) and x.tolist() == pytest.approx([30_000, 70_000])


def test_what_paying_a_shortfall_is_worth_fills_from_the_best_funder_within_its_budget():
    p = index(msgspec.convert(instance(
        needs=[(1, 0), (2, 0)], providers=[("p", 2)], funders=[("a", 30), ("b", 50), ("c", 1000)],
        provider_edges=[(1, "p", 60, 0), (2, "p", 100, 0)],
        funder_edges=[(1, "a", 3.0), (1, "b", 2.0), (2, "a", 1.0), (2, "c", 0.5)]), Instance))
    lag = Lagrangian(p)
    mu = np.zeros(p.funders)
    # Need 1, shortfall 60: 30 from a (3 each), 30 from b (2 each). Need 2, 100: a's 30, then 70 of c.
    assert lag.paid(mu).tolist() == [30 * 3.0 + 30 * 2.0, 30 * 1.0 + 70 * 0.5]
    # Dear money at a: b first for need 1 (50 at 2, then 10 at 3 - 2.5); c pays all of need 2.
    mu[list(p.funder_ids).index("a")] = 2.5
    assert lag.paid(mu).tolist() == pytest.approx([50 * 2.0 + 10 * 0.5, 100 * 0.5])
    # Without c, need 2's 100 cannot be paid by a alone.
    only_a_and_b = p.fund_funder != list(p.funder_ids).index("c")
    assert lag.paid(mu, only_a_and_b)[1] == -np.inf


@pytest.mark.parametrize("cell", ["base", "values-price", "budget-90", "gov-none", "capacity-10", "hard-places"])
def test_families_with_little_integrality_gap_are_docked_within_half_a_percent(monkeypatch, cell):
    # A district fair's path (columns, a dive) on six fairs of 120 needs: within half a per cent on
    # average, as the grid's district fairs are, and none far off. One fair alone says little: the
    # same method lands 0.1-0.7 % on different draws of values-price, as the dive goes.
    monkeypatch.setattr(method, "FULL_LP_COLUMNS", 0)
    monkeypatch.setattr(method, "EXACT_COLUMNS", 0)
    gaps = [run(family_instance(cell, seed))["gap"] for seed in range(1, 7)]
    assert np.mean(gaps) <= 0.005
    assert max(gaps) <= 0.01


def test_prices_for_scores_unrelated_to_price_and_tiny_affinities_converge():
    # The family: money nearly free, values 0-100: the Lagrangian alone proves a bound
    # within half a percent of the LP optimum (it was 70 % above before money was scaled).
    data = family_instance("base", seed=2)
    lag = Lagrangian(index(msgspec.convert(data, Instance)))
    _, _, bound = lag.smooth_prices(float("inf"))
    assert run(data)["objective"] <= bound <= lp_of(data) * 1.005


def test_local_search_moves_a_need_to_a_dearer_provider_to_spend_money_left():
    # The LP funds need 1 with provider 1; rounding may leave money that a dearer provider of the
    # same need earns affinity with.
    p = index(msgspec.convert(instance(
        needs=[(1, 0)], providers=[(1, 1), (2, 1)], funders=[("f", 100)],
        provider_edges=[(1, 1, 40, 10), (1, 2, 100, 9)], funder_edges=[(1, "f", 0.1)]), Instance))
    chosen, x = method._improve(p, np.array([0]), np.array([40]), float("inf"))
    assert chosen.tolist() == [1] and x.tolist() == [100]


def test_without_a_funding_lp_in_time_pins_keep_their_money_and_the_rest_is_paid_greedily(monkeypatch):
    data = with_pins_and_bans(generated(120, 10))
    real = models.solve_funding
    # The pins' own funding is solved; the funding of the whole docking runs out of time.
    monkeypatch.setattr(method, "solve_funding", lambda p, demand, funds, pinned, deadline:
                        real(p, demand, funds, pinned, deadline) if deadline == float("inf") else None)
    out = run(data)
    assert len(out["assignments"]) > 60 and out["funding"]


def test_a_swap_takes_a_full_providers_place_paying_by_rerouting_another_needs_money():
    # Every place is taken, so no need can move alone. B is worth more at P than A; its one funder f
    # has no money left, but C, paid by f, can be paid by g instead, which frees f's money for B.
    p = index(msgspec.convert(instance(
        needs=[("A", 0), ("B", 0), ("C", 0)], providers=[("P", 1), ("Q", 1)], funders=[("f", 100), ("g", 100)],
        provider_edges=[("A", "P", 0, 1), ("B", "P", 100, 10), ("C", "Q", 100, 5)],
        funder_edges=[("B", "f", 0), ("C", "f", 0), ("C", "g", 0)]), Instance))
    swaps = Swaps(p, np.array([0, 2]), np.array([0, 100, 0]))
    assert swaps.run(float("inf"))
    chosen, x = swaps.docking()
    assert chosen.tolist() == [1, 2] and x.tolist() == [100, 0, 100]
    # What the search keeps as it goes (each need's worth, each funder's paying edges) is the docking's.
    assert swaps.worth == [swaps._worth(n) for n in range(p.needs)] == [0.0, 10.0, 5.0]
    assert [sorted(paying) for paying in swaps.paying] == [[0], [2]]


def test_two_needs_trade_places_when_each_is_worth_more_at_the_others_provider():
    p = index(msgspec.convert(instance(
        needs=[("A", 0), ("B", 0)], providers=[("P", 1), ("Q", 1)], funders=[],
        provider_edges=[("A", "P", 0, 5), ("A", "Q", 0, 9), ("B", "P", 0, 9), ("B", "Q", 0, 5)]), Instance))
    swaps = Swaps(p, np.array([0, 3]), np.zeros(0, dtype=np.int64))
    assert swaps.run(float("inf"))
    assert swaps.docking()[0].tolist() == [1, 2]


def test_a_need_takes_a_free_place_when_another_needs_money_can_be_rerouted_for_it():
    # B's one funder f has paid all its money to C; C's other funder g has money left, so C is paid
    # by g instead and f pays B. No move of B alone with its own funders' money left could do it.
    p = index(msgspec.convert(instance(
        needs=[("B", 0), ("C", 0)], providers=[("P", 1), ("Q", 1)], funders=[("f", 100), ("g", 100)],
        provider_edges=[("B", "P", 100, 10), ("C", "Q", 100, 5)],
        funder_edges=[("B", "f", 0), ("C", "f", 0), ("C", "g", 0)]), Instance))
    assert method._improve(p, np.array([1]), np.array([0, 100, 0]), float("inf"))[0].tolist() == [1]
    swaps = Swaps(p, np.array([1]), np.array([0, 100, 0]))
    assert swaps.run(float("inf"))
    chosen, x = swaps.docking()
    assert chosen.tolist() == [0, 1] and x.tolist() == [100, 0, 100]


def test_a_funders_needs_are_docked_together_where_no_move_of_one_need_and_no_swap_can_gain():
    # f has paid all its money to A (worth 10); B and C would be worth 12 together, each paying half
    # of it. B or C alone cannot be paid, A moving alone cannot gain, and A has no other funder to be
    # paid by instead: only freeing f's needs together finds the better docking.
    p = index(msgspec.convert(instance(
        needs=[("A", 0), ("B", 0), ("C", 0)], providers=[("P", 1), ("Q", 1), ("R", 1)], funders=[("f", 100)],
        provider_edges=[("A", "P", 100, 10), ("B", "Q", 50, 6), ("C", "R", 50, 6)],
        funder_edges=[("A", "f", 0.001), ("B", "f", 0.001), ("C", "f", 0.001)]), Instance))
    start = (np.array([0]), np.array([100, 0, 0]))
    assert method._improve(p, *start, float("inf"))[0].tolist() == [0]
    assert not Swaps(p, *start).run(float("inf"))
    chosen, x, better = lns.search(p, *start, float("inf"))
    assert better == 1 and chosen.tolist() == [1, 2] and x.tolist() == [0, 50, 50]


def test_on_a_fair_past_exact_columns_where_money_outweighs_values_the_neighbourhoods_gain(monkeypatch):
    # 300 needs, 7,500 edges: past what is solved outright, so the large-neighbourhood search runs.
    better = []
    real = lns.search

    def spy(*args, **kwargs):
        *docking, count = real(*args, **kwargs)
        better.append(count)
        return *docking, count
    monkeypatch.setattr(lns, "search", spy)
    data = json.loads(msgspec.json.encode(generate_family(GRID["affinity-1e-2"], 300, 90, 120, 1)))
    out = run(with_pins_and_bans(data))  # every rule kept, in integers
    assert better and better[0] > 0 and out["gap"] < 0.03


def test_the_dive_settles_larger_batches_only_when_quarters_would_not_end_in_time():
    now = time.monotonic()
    # 10 batches took 1 s: 60 s left is room for 200 more at a quarter, more than 2,600 needs take.
    assert method._batch_share(2_600, 10, 1.0, now + 60) == 0.25
    assert method._batch_share(2_600, 0, 0.0, now) == 0.25  # nothing measured yet
    # 6 s left fits 6 batches of 1 s, counted as 2 (re-solves unsettle neighbours): each settles more.
    share = method._batch_share(2_600, 10, 10.0, now + 6)
    assert 0.25 < share < 1
    assert method._batch_share(2_600, 10, 10.0, now + 1) == 1.0  # not even one more: all at once


def test_a_dive_batch_the_money_cannot_pay_still_settles_the_needs_it_drops():
    # Three needs of 100 fen each and one funder of 100: a batch that gives both a and b their
    # provider has no solution. Dropping c never breaks a rule, so c stays settled while half as
    # many of the others take their edge. (Halving the whole batch instead settled c alone, one need
    # per batch where money is short, and a city dive ran out of time with 550 needs open.)
    data = instance(needs=[("a", 0), ("b", 0), ("c", 0)], providers=[("p", 1), ("q", 1), ("r", 1)],
                    funders=[("f", 100)], provider_edges=[("a", "p", 100, 10), ("b", "q", 100, 10), ("c", "r", 100, 10)],
                    funder_edges=[("a", "f", 0.0), ("b", "f", 0.0), ("c", "f", 0.0)])
    p = index(msgspec.convert(data, Instance))
    model = models.DockingModel(p, np.arange(3), np.arange(3), p.capacity, p.budget.astype(float), time.monotonic() + 10)
    y = np.array([0.5, 0.5, 0.3])  # a and b lean to their provider, c to none
    done = np.zeros(p.needs, dtype=bool)
    assert method._settle_batch(model, np.arange(3), y, done, share=1.0)
    assert done.sum() == 2 and done[p.edge_need[2]]
    settled_y, _ = model.solution()
    assert settled_y[2] == 0 and settled_y[0] == 1  # c dropped, a (the first to take) delivered


def test_a_round_of_columns_that_would_not_fit_adds_each_needs_best_edge_rather_than_none(monkeypatch):
    # The product's city-wide run: the first round (75,000 columns beside 55,000) would not end in
    # time, so no round ran and the LP stayed 3.3 % below its optimum (gap 1.24 %); rounds starting
    # with one edge a need reached it (0.01 %).
    data = family_instance("base")
    p = index(msgspec.convert(data, Instance))
    lag = Lagrangian(p)
    first = method._best_per_owner(p.edge_need, -p.shortfall.astype(float), 1)
    funds = np.arange(len(p.fund_need))

    def model() -> models.DockingModel:
        return models.DockingModel(p, first, funds, p.capacity, p.budget.astype(float), time.monotonic() + 60,
                                   every_row=True, linking="needed")
    twin = model()
    assert twin.run()
    in_model, fund_in = np.zeros(len(p.edge_need), bool), np.zeros(len(p.fund_need), bool)
    in_model[first], fund_in[funds] = True, True
    priced = method._priced(lag, *twin.prices(), in_model, fund_in)
    added = {k: priced(k) for k in (1, 2)}
    size = {k: len(e) + len(f) for k, (e, f) in added.items()}
    assert size[2] > size[1] > 0
    # Each reading of the clock one second on: the first LP "took" a second, and the time left fits
    # a round of the best edge a need but not one of two.
    clock = iter(range(1, 100))
    monkeypatch.setattr(method, "time", SimpleNamespace(monotonic=lambda: float(next(clock))))
    stop = 2 + method.CG_GROWTH * size[1] / (len(first) + len(funds))
    lp = model()
    method._generate_columns(lag, lp, method.Bounds(lag), 1, stop)
    assert set(lp.edges.tolist()) == set(first.tolist()) | set(added[1][0].tolist())
    assert set(lp.funds.tolist()) == set(funds.tolist()) | set(added[1][1].tolist())


@pytest.mark.parametrize("values", [0.0, 1e-9])
@pytest.mark.parametrize("path", ["columns", "prices"])
def test_where_only_money_is_worth_anything_the_bound_is_no_weaker_than_the_lp_optimum(monkeypatch, path, values):
    # Every provider value 0, or a billionth of what it was, as when a fair weighs only what funders
    # care for: the LP's scale was taken from the median value, 0 or next to it, and its prices came
    # back so far off that the bound was 2.5-3.5 times the optimum (gaps of 70 %).
    monkeypatch.setattr(method, "EXACT_COLUMNS", 0)
    monkeypatch.setattr(method, "FULL_LP_COLUMNS", 0)
    if path == "prices":
        monkeypatch.setattr(method, "LAGRANGE_COLUMNS", 0)
    data = family_instance("hard-money")  # values 0-100, money worth 10 of them a fen
    for edge in data["provider_edges"]:
        edge["value"] *= values
    out = run(data)
    assert out["objective"] > 0
    assert out["upper_bound"] <= lp_of(data) * (1.005 if path == "prices" else 1 + method.CG_TOLERANCE)



def odd_fair(seed: int) -> dict:
    """A small fair of a family the grid does not have, drawn at random: values all 0, negative, or up
    to a billion; affinities from -10⁻³ to 10 per fen, or of either sign; budgets 0-150 % of full
    funding, one of them sometimes 0; places 0-5; needs without an edge; prices of 0."""
    rng = np.random.default_rng(seed)
    n, providers, funders = int(rng.integers(3, 25)), int(rng.integers(2, 12)), int(rng.integers(1, 8))
    typical = np.round(10 ** rng.uniform(2, 9) * rng.uniform(0.3, 3, n))
    gov = (typical * rng.uniform(0, 1.5, n)).astype(int) * int(rng.random() < 0.7)
    kind = ("score", "neg", "zero", "huge")[seed % 4]
    provider_edges = []
    for need in range(n):
        if rng.random() < 0.1:
            continue
        for p in rng.choice(providers, size=int(rng.integers(1, providers + 1)), replace=False):
            price = int(typical[need] * rng.uniform(0.5, 1.5)) * int(rng.random() < 0.9)
            value = {"score": rng.uniform(0, 100), "neg": rng.uniform(-50, 50), "zero": 0.0,
                     "huge": rng.uniform(1e6, 1e9)}[kind]
            provider_edges.append((need, int(p), price, round(float(value), 3)))
    unit = (1e-7, 1e-4, 10.0, -1e-3)[seed // 4 % 4]
    funder_edges = [(need, int(f), float(unit * rng.uniform(-1 if seed % 3 == 0 else 0.1, 1)))
                    for need in range(n) for f in rng.choice(funders, size=int(rng.integers(0, funders + 1)), replace=False)]
    budgets = (typical.sum() * rng.uniform(0, 1.5) * rng.uniform(0, 2, funders) / funders).astype(int)
    return instance(needs=[(i, int(g)) for i, g in enumerate(gov)],
                    providers=[(j, int(c)) for j, c in enumerate(rng.integers(0, 6, providers))],
                    funders=[(k, int(b)) for k, b in enumerate(budgets)],
                    provider_edges=provider_edges, funder_edges=funder_edges)


def exact_optimum(data: dict) -> float:
    """The best docking's worth, by HiGHS's branch and bound run to the end (the solver's own model,
    none of its method)."""
    p = index(msgspec.convert(data, Instance))
    model = models.DockingModel(p, np.arange(len(p.edge_need)), np.arange(len(p.fund_need)), p.capacity,
                                p.budget.astype(float), time.monotonic() + 60, integer=True)
    model.h.setOptionValue("mip_rel_gap", 0.0)
    assert model.run() and model.h.getModelStatus() == models.highspy.HighsModelStatus.kOptimal
    return model.objective


@pytest.mark.parametrize("seed", range(16))
def test_on_odd_families_the_bound_holds_and_a_small_fair_is_proven_near_its_best(seed):
    # Drawn from families unlike the grid's, where the LP's scale once failed (values all 0: a gap
    # of 72 %) and its bound lay up to 6.7 % above dockings that were the best there are.
    data = odd_fair(seed)
    out = run(data)
    best = exact_optimum(data)
    assert out["upper_bound"] >= best - 1e-6 * max(1.0, abs(best))
    assert out["objective"] >= best - 1e-3 * max(1.0, abs(best))
    assert out["gap"] <= 2e-3
