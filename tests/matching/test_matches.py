"""A project's matches page as `matches.project_matches` finds it — every pair ranked and checked over
arrays, the whole facts read and the lines written only for the pairs shown — is the page the
pair-by-pair scorer gives (`candidates.pairwise_matches`), field by field: for every project of the demo
district and of a small generated city, in both languages, with the default weights and others, and for
a short page as well as the usual one. Among them are projects with bids, live calls and awards,
projects open to every district, conflicts of interest, related parties, providers barred by their
standing and providers at full capacity: the test says it met each."""

from collections import Counter
from datetime import UTC, datetime

import msgspec

from market.citygen import generate
from market.core import clock, db, i18n
from market.core.access import Identity
from market.demo import load_demo
from market.matching.scoring import candidates, matches
from market.matching.scoring.candidates import ProjectMatches
from market.matching.scoring.weights import Weights

# The page's own gate lets a platform administrator see every project's matches.
ADMIN = Identity(user_id=0, email="admin@example.org", display_name="admin", locale="en", community_id=None,
                 session_hash="", org_id=0, org_kind="platform", org_status="verified", role="admin")
OTHER_WEIGHTS = Weights(price=30, same_district=0, other_district=0, capacity_contracts=1, money=40, prefers_group=5,
                        late_report=7, evaluations=12.5, upheld_objection=2.5)


def _differences(fast: object, slow: object, path: str = "") -> list[str]:
    """Where two pages part, as paths into their JSON."""
    if isinstance(fast, dict) and isinstance(slow, dict):
        return [d for key in dict.fromkeys([*fast, *slow])
                for d in _differences(fast.get(key), slow.get(key), f"{path}.{key}")]
    if isinstance(fast, list) and isinstance(slow, list) and len(fast) == len(slow):
        return [d for at, (x, y) in enumerate(zip(fast, slow)) for d in _differences(x, y, f"{path}[{at}]")]
    return [] if msgspec.json.encode(fast) == msgspec.json.encode(slow) else [f"{path}: {fast!r} != {slow!r}"]


def _met(page: ProjectMatches) -> set[str]:
    """What the page shows, of the cases the test means to meet."""
    met = {f"excluded: {rule}" for group in page.excluded for rule in group.rules}
    met |= {name for name, shown in (
        ("rules from a call", page.rules_from == "call"), ("every district", page.cross_district),
        ("other districts counted", page.other_district > 0), ("a bid", any(p.bid for p in page.providers)),
        ("pinned", any(p.pinned for p in page.providers)),
        ("pinned below the best", any(p.pinned for p in page.providers[1:])),
        ("more providers", page.more_providers > 0), ("more funders", page.more_funders > 0),
        ("a group cut short", any(group.count > len(group.first) for group in page.excluded))) if shown}
    return met


async def _same_pages(conn, weights: Weights, cases: tuple[tuple[str, int], ...]) -> Counter[str]:
    """Both ways give the same page for every approved project, in each (language, limit) of `cases`;
    returns how many pages met each case `_met` names."""
    met: Counter[str] = Counter()
    approved = await conn.fetch("select id from projects where status = 'approved' order by id")
    for project_id in [r["id"] for r in approved]:
        for locale, limit in cases:
            with i18n.use_locale(locale):
                fast = await matches.project_matches(conn, ADMIN, project_id, weights, limit)
                slow = await candidates.pairwise_matches(conn, project_id, weights, limit)
            assert msgspec.json.encode(fast) == msgspec.json.encode(slow), (
                project_id, locale, limit, _differences(msgspec.to_builtins(fast), msgspec.to_builtins(slow))[:5])
            met.update(_met(fast))
    return met


async def _facts_of_some_are_theirs_of_all(conn) -> None:
    """The page reads the whole facts of the few it shows: they are those a read of everyone gives them."""
    tree = candidates._Tree(await conn.fetch("select id, parent_id, level, name_zh, name_en from jurisdictions"))
    on = candidates.today()
    providers = await candidates.provider_facts(conn, tree, on)
    funders = await candidates.funder_facts(conn, tree)
    some = [i for i in providers if i % 3 == 0] + [0]
    assert await candidates.provider_facts(conn, tree, on, ids=some) == {i: providers[i] for i in some if i}
    some = [i for i in funders if i % 2 == 0]
    assert await candidates.funder_facts(conn, tree, ids=some) == {i: funders[i] for i in some}
    assert any(p.items for p in providers.values()) and any(p.scorecard is not None for p in providers.values())
    assert any(f.gifts for f in funders.values()) and any(f.money_fen for f in funders.values())


BOTH_LANGUAGES = (("en", 10), ("zh_Hans", 10), ("en", 2))


async def test_the_demo_districts_pages_are_the_pairwise_scorers(database):
    conn = await db.connect_admin(database)
    try:
        await load_demo(conn)
        met = await _same_pages(conn, Weights(), BOTH_LANGUAGES) + await _same_pages(conn, OTHER_WEIGHTS,
                                                                                    (("zh_Hans", 10),))
    finally:
        await conn.close()
    assert {"rules from a call", "every district", "a bid", "pinned", "more providers", "a group cut short",
            "excluded: provider_type", "excluded: rating", "excluded: barred", "excluded: no_bid",
            "excluded: capacity", "excluded: no_money"} <= set(met), met


async def test_a_small_citys_pages_are_the_pairwise_scorers(database):
    conn = await db.connect_admin(database)
    try:
        now = datetime(2026, 3, 2, tzinfo=UTC)
        await generate(conn, scale=0.01, seed=11, now=now, say=lambda line: None)
        # On the city's own day its calls are open or closed and its contracts under way, as it was made.
        await clock.travel_to(conn, now)
        met = await _same_pages(conn, Weights(), BOTH_LANGUAGES) + await _same_pages(conn, OTHER_WEIGHTS,
                                                                                    (("zh_Hans", 10),))
        await _facts_of_some_are_theirs_of_all(conn)
    finally:
        await conn.close()
    assert {"rules from a call", "every district", "other districts counted", "a bid", "pinned",
            "pinned below the best", "more providers", "more funders", "a group cut short", "excluded: provider_type",
            "excluded: rating", "excluded: years", "excluded: barred", "excluded: conflict", "excluded: no_bid",
            "excluded: capacity", "excluded: related_party", "excluded: no_money"} <= set(met), met


def test_a_page_that_differs_is_told_where():
    page = {"providers": [{"lines": [{"text": "Rated 4A."}]}], "excluded": [{"count": 13}]}
    assert _differences(page, page) == []
    other = msgspec.json.decode(msgspec.json.encode(page))
    other["providers"][0]["lines"][0]["text"] = "Rated 3A."
    other["excluded"][0]["count"] = 12
    assert _differences(page, other) == [".providers[0].lines[0].text: 'Rated 4A.' != 'Rated 3A.'",
                                         ".excluded[0].count: 13 != 12"]
