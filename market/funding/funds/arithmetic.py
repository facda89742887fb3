"""How a matching pool turns gifts into matches, on its own so it can be checked by hand.

All money is integer fen. Nothing here touches the database.

Ratio matching (配捐): the pool adds ratio_num/ratio_den of every gift, rounded down to the fen.
Gifts are served first come, first served, in ascending gift id. A gift below the minimum gets
nothing. A gift's match is then cut to whatever is left of three limits: the donor's cap (over all
of that donor's gifts in the pool, on any project), the project's cap, and the pool itself. Every
match records what it would have been uncut and, when cut, which limit cut it; when two limits are
equally tight the earlier of donor cap, project cap, pool is named.

Quadratic funding: a project's ideal match is (Σ√c)² − Σc, where c is one donor's total to that
project, so many small donors count for more than one large one, and a lone donor earns nothing.
When the ideals add up to more than the pool, every ideal is scaled down by the same factor k; the
pool never scales a match up. A project whose scaled match would exceed the per-project cap gets
the cap instead, and k is worked out again over the rest with the money that frees up, until no
project is over. The real-valued matches become fen by rounding each down and giving the fen left
over (up to the floor of the real-valued total) one each to the largest fractional remainders,
smaller project id first on a tie.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction

import msgspec

# Its own context, so a caller changing the global decimal context cannot change a result.
CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN)
PLACES = Decimal("0.000001")

BELOW_MINIMUM = "below_minimum"
DONOR_CAP = "donor_cap"
PROJECT_CAP = "project_cap"
POOL_EXHAUSTED = "pool_exhausted"


class Gift(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    donor: int
    project: int
    amount_fen: int


class RatioRules(msgspec.Struct, frozen=True, kw_only=True):
    ratio_num: int
    ratio_den: int
    min_gift_fen: int = 0
    per_donor_cap_fen: int | None = None
    per_project_cap_fen: int | None = None


class RatioMatch(msgspec.Struct, frozen=True, kw_only=True):
    gift_id: int
    donor: int
    project: int
    amount_fen: int
    ratio_fen: int  # the match before any minimum, cap or pool cut it
    match_fen: int
    reason: str | None  # why match_fen < ratio_fen; None when it was not cut


class RatioResult(msgspec.Struct, frozen=True, kw_only=True):
    matches: tuple[RatioMatch, ...]  # in gift id order
    project_totals: dict[int, int]
    total_match_fen: int
    pool_left_fen: int


class QuadraticProject(msgspec.Struct, frozen=True, kw_only=True):
    project: int
    donors: int  # donors whose gifts to the project add up to more than 0
    contributed_fen: int  # Σc
    sqrt_sum: str  # Σ√c, for display
    ideal: str  # (Σ√c)² − Σc, for display
    capped: bool
    k: str  # the factor this project's ideal was multiplied by: the pool's k, or cap ÷ ideal if capped
    match_fen: int


class QuadraticResult(msgspec.Struct, frozen=True, kw_only=True):
    projects: tuple[QuadraticProject, ...]  # in project id order
    k: str  # the scale factor applied to every project that is not capped
    total_match_fen: int


def _fen(name: str, value: object) -> None:
    if type(value) is not int or value < 0:
        raise ValueError(f"{name} must be a whole number of fen, 0 or more; got {value!r}")


def _check_gifts(gifts: Iterable[Gift]) -> None:
    seen: set[int] = set()
    for g in gifts:
        _fen(f"gift {g.id}: amount_fen", g.amount_fen)
        if g.id in seen:
            # First come, first served needs one order; two gifts with one id have none.
            raise ValueError(f"gift {g.id}: the id is used twice")
        seen.add(g.id)


def _with_new_gift(gifts: Sequence[Gift], donor: int, project: int, amount_fen: int) -> list[Gift]:
    _fen("amount_fen", amount_fen)
    new_id = max((g.id for g in gifts), default=0) + 1
    return [*gifts, Gift(id=new_id, donor=donor, project=project, amount_fen=amount_fen)]


def ratio_match(rules: RatioRules, gifts: Sequence[Gift], pool_fen: int) -> RatioResult:
    if type(rules.ratio_num) is not int or rules.ratio_num < 0:
        raise ValueError(f"ratio_num must be a whole number, 0 or more; got {rules.ratio_num!r}")
    if type(rules.ratio_den) is not int or rules.ratio_den <= 0:
        raise ValueError(f"ratio_den must be a whole number above 0; got {rules.ratio_den!r}")
    _fen("min_gift_fen", rules.min_gift_fen)
    for name in ("per_donor_cap_fen", "per_project_cap_fen"):
        if getattr(rules, name) is not None:
            _fen(name, getattr(rules, name))
    _fen("pool_fen", pool_fen)
    _check_gifts(gifts)

    by_donor: dict[int, int] = defaultdict(int)
    by_project: dict[int, int] = defaultdict(int)
    spent = 0
    matches = []
    for g in sorted(gifts, key=lambda g: g.id):
        wanted = g.amount_fen * rules.ratio_num // rules.ratio_den
        match, reason = wanted, None
        if g.amount_fen < rules.min_gift_fen:
            match, reason = 0, BELOW_MINIMUM
        else:
            limits = [(DONOR_CAP, rules.per_donor_cap_fen, by_donor[g.donor]),
                      (PROJECT_CAP, rules.per_project_cap_fen, by_project[g.project]),
                      (POOL_EXHAUSTED, pool_fen, spent)]
            for code, cap, used in limits:
                if cap is not None and cap - used < match:
                    match, reason = cap - used, code
        by_donor[g.donor] += match
        by_project[g.project] += match
        spent += match
        matches.append(RatioMatch(gift_id=g.id, donor=g.donor, project=g.project, amount_fen=g.amount_fen,
                                  ratio_fen=wanted, match_fen=match, reason=reason))
    return RatioResult(matches=tuple(matches), project_totals={p: by_project[p] for p in sorted(by_project)},
                       total_match_fen=spent, pool_left_fen=pool_fen - spent)


def ratio_preview(rules: RatioRules, gifts: Sequence[Gift], pool_fen: int,
                  donor: int, project: int, amount_fen: int) -> int:
    """The match a new gift would get, coming after every gift already made."""
    return ratio_preview_match(rules, gifts, pool_fen, donor, project, amount_fen).match_fen


def ratio_preview_match(rules: RatioRules, gifts: Sequence[Gift], pool_fen: int,
                        donor: int, project: int, amount_fen: int) -> RatioMatch:
    """The new gift's match with the reason it was cut, if it was."""
    return ratio_match(rules, _with_new_gift(gifts, donor, project, amount_fen), pool_fen).matches[-1]


def _ideal(contributions: list[int]) -> tuple[Decimal, Fraction]:
    """Σ√c for display and (Σ√c)² − Σc: exact whenever it is rational, else to 50 digits."""
    with localcontext(CONTEXT):
        sqrt_sum = sum((Decimal(c).sqrt() for c in contributions), Decimal(0))
        if len(contributions) < 2:
            return sqrt_sum, Fraction(0)
        # The ideal is rational only when every c is the same square-free number times a square
        # (e.g. 200 and 800 fen: 10√2 + 20√2); then Σ√c = Σ√(c·base) / √base with whole roots,
        # and 50-digit decimals would otherwise round an exact 800 to 799.99…
        base = contributions[0]
        roots = [math.isqrt(c * base) for c in contributions]
        if all(r * r == c * base for r, c in zip(roots, contributions)):
            return sqrt_sum, Fraction(sum(roots) ** 2, base) - sum(contributions)
        return sqrt_sum, Fraction(sqrt_sum * sqrt_sum) - sum(contributions)


def _fmt(value: Fraction | Decimal) -> str:
    with localcontext(CONTEXT):
        if isinstance(value, Fraction):
            value = Decimal(value.numerator) / value.denominator
        return str(value.quantize(PLACES))


def quadratic_match(gifts: Sequence[Gift], pool_fen: int, per_project_cap_fen: int | None = None) -> QuadraticResult:
    _fen("pool_fen", pool_fen)
    if per_project_cap_fen is not None:
        _fen("per_project_cap_fen", per_project_cap_fen)
    _check_gifts(gifts)
    cap = per_project_cap_fen

    totals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for g in gifts:
        totals[g.project][g.donor] += g.amount_fen
    # Sorted by donor so the decimal sums, and so the result, do not depend on the gifts' order.
    contributions = {p: [c for _, c in sorted(totals[p].items()) if c > 0] for p in sorted(totals)}
    ideals = {p: _ideal(cs) for p, cs in contributions.items()}
    ideal = {p: i for p, (_, i) in ideals.items()}

    # A capped project's match is the whole cap.
    capped: dict[int, Fraction] = {}
    left = Fraction(pool_fen)
    while True:
        wanted = sum(ideal[p] for p in ideal if p not in capped)
        k = min(Fraction(1), left / wanted) if wanted else Fraction(1)
        if cap is None:
            break
        over = [p for p in ideal if p not in capped and k * ideal[p] > cap]
        if not over:
            break
        # Only ever raises k for the rest, so a project once capped never needs to be uncapped.
        capped.update(dict.fromkeys(over, Fraction(cap)))
        left -= cap * len(over)

    real = {p: capped[p] if p in capped else k * ideal[p] for p in ideal}
    fen = {p: math.floor(v) for p, v in real.items()}
    spare = math.floor(sum(real.values())) - sum(fen.values())
    # spare is below the number of projects with a fractional part, so only those get a fen; none of
    # them is at its cap (a capped project's match is the whole cap), so none can be pushed over it.
    for p in sorted(real, key=lambda p: (fen[p] - real[p], p))[:spare]:
        fen[p] += 1

    projects = tuple(
        QuadraticProject(project=p, donors=len(cs), contributed_fen=sum(cs), sqrt_sum=_fmt(ideals[p][0]),
                         ideal=_fmt(ideal[p]), capped=p in capped,
                         k=_fmt(capped[p] / ideal[p] if p in capped else k), match_fen=fen[p])
        for p, cs in contributions.items())
    return QuadraticResult(projects=projects, k=_fmt(k), total_match_fen=sum(fen.values()))


def quadratic_preview(gifts: Sequence[Gift], pool_fen: int, per_project_cap_fen: int | None,
                      donor: int, project: int, amount_fen: int) -> int:
    """How much this project's match would grow with the new gift; what other projects would lose
    to it is not counted, and a project whose match would not grow shows 0."""
    def match(result: QuadraticResult) -> int:
        return next((r.match_fen for r in result.projects if r.project == project), 0)

    before = quadratic_match(gifts, pool_fen, per_project_cap_fen)
    after = quadratic_match(_with_new_gift(gifts, donor, project, amount_fen), pool_fen, per_project_cap_fen)
    return max(0, match(after) - match(before))
