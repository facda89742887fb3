"""Keyset pagination: a list read a page at a time from where the last page ended, on an index.

A list sorts on a few columns that end with the row's id, so every row has one place in the order
(`Keyset`). A page is the first `limit` rows beyond a cursor: the sort key of the row where the page
before ended (or, going back, where the page after began), encoded opaquely. An item added while
someone pages moves no other item, so each item that existed throughout is shown exactly once; an
offset would repeat or skip one for every item added before it.

The filters are SQL built from the filters actually given (`Filters`): no `$1 is null or ...` whose
plan depends on a parameter being null, and never a value in the SQL text.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
import time
from itertools import islice
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import asyncpg
import msgspec

from market.core import glossary
from market.core.errors import Invalid
from market.core.i18n import N_
from market.core.kept import Kept

# Lists count their rows exactly up to this many; beyond it the planner's estimate is given, marked so.
EXACT_UP_TO = 10_000
# A search reads every row that holds its words, and counts them exactly, when fewer than this many
# (or than √(page × rows listed), if more) do; beyond it the list's order is walked and the total
# is an estimate, marked so.
SEARCH_EXACT_UP_TO = 1_000
# A search's estimate looks at each of its first few words' first few grams (one plan, one part each).
_ESTIMATED_WORDS, _ESTIMATED_GRAMS = 4, 6
_WORD_PARTS = re.compile(r"[㐀-鿿豈-﫿]+|[a-z0-9]+|[^\s㐀-鿿豈-﫿a-z0-9]")
_BAD_CURSOR = N_("This link to a page of the list is not valid: start from the first page.")


class Filters:
    """A WHERE clause built from the filters given, each value a numbered parameter."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = []
        self.searched: tuple[str, str] | None = None
        # An English search's words (the whole query, or each word) with the Chinese for them
        # (`glossary`): a row holds such a word in English or in one of them. Empty: no word has any.
        self.also: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def arg(self, value: Any) -> str:
        """The placeholder of one more parameter."""
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, clause: str, *values: Any) -> None:
        """A condition with `{}` where each value goes, e.g. `add("n.status = {}", status)`."""
        self.clauses.append(clause.format(*(self.arg(v) for v in values)))

    def copy(self) -> Filters:
        out = Filters()
        out.clauses, out.args, out.searched, out.also = list(self.clauses), list(self.args), self.searched, self.also
        return out

    def search(self, text: str, query: str) -> None:
        """Rows whose `text` (an SQL expression indexed as `market_grams(text)`, migration 0040) holds
        every word of the query, a phrase inside a longer text too. `fetch` adds the conditions, in the
        form that reads fewest rows for how many rows hold the words (`searching`). An English word
        (or the whole query) is also found as the Chinese words the dictionary gives for it (`glossary`):
        "elderly" finds 独居老人 too; English words that only join others ("for", "the") are not looked for."""
        # Spaces between words as SQL's pattern for them reads them (`market_query_grams`).
        query = " ".join(query.split())
        whole = glossary.chinese(query) if " " in query else ()
        if not whole:  # "help for the elderly": a row holds "help" and "elderly", in English or Chinese
            query = glossary.content(query)
        self.searched = (text, query)
        parts = ((query, whole),) if whole else tuple((word, glossary.chinese(word)) for word in query.split())
        self.also = parts if any(chinese for _, chinese in parts) else ()

    def searching(self, *, walk: bool = False, grams_only: bool = False) -> Filters:
        """These filters with the search's conditions. Found: the grams index gives the rows with all
        the query's grams, then each word is looked for in the text as written (`%` and `_` mean
        themselves), unless the word is its own only gram. Walked (the words are in many rows): each
        row the list's own index gives, in its order, is checked for each word, until a page is full;
        no grams, which would be computed row by row."""
        out = self.copy()
        out.searched, out.also = None, ()
        if self.searched is None:
            return out
        text, query = self.searched
        if not self.also:
            out.clauses += out._holding(text, query, walk, grams_only)
        for words, chinese in self.also:
            if not chinese:
                out.clauses += out._holding(text, words, walk, grams_only)
                continue
            # A row holds the words or one of the Chinese for them. Each is looked for in the text
            # apart from the grams: "(grams of one and its text) or (grams of another and its text)"
            # would compute the row's grams again for every row the index gives (250 ms for a search
            # of the catalogue's 1,648 items). Holding one's words, a row has its grams too.
            phrases = (words, *chinese)
            if not walk:
                out.clauses.append(" or ".join(f"market_grams({text}) @> market_query_grams({out.arg(phrase)})"
                                               for phrase in phrases).join("()"))
            if not grams_only:
                out.clauses.append(" or ".join(" and ".join(_holds(text, word).format(out.arg(word.lower()))
                                                            for word in phrase.split()).join("()")
                                               for phrase in phrases).join("()"))
        return out

    def _holding(self, text: str, phrase: str, walk: bool, grams_only: bool) -> list[str]:
        """The conditions (their values this filter's parameters) for "`text` holds every word of the
        phrase", in the form `searching` says."""
        clauses = [] if walk else [f"market_grams({text}) @> market_query_grams({self.arg(phrase)})"]
        for word in phrase.split():
            # A word that is its own only gram (养老, 孤, q, %) is in every row the grams index gives:
            # reading each one's text again to look for it is work for nothing.
            if walk or not (grams_only or query_grams(word) == [word.lower()]):
                clauses.append(_holds(text, word).format(self.arg(word.lower())))
        return clauses

    def sql(self) -> str:
        return " and ".join(self.clauses) or "true"


def _holds(text: str, word: str) -> str:
    """SQL for "`text` holds the word, in either case" (the word's lower case its parameter), as
    cheap as the word allows: lower() of a whole text is most of the cost of checking a row
    (PostgreSQL lowers every character by the locale's rules), so a word without letters that have
    a case (养老, 2026) is looked for as it is, and one whose only such letters are a-z in a text
    lowered in the C collation, which folds only those (both 3-4 times cheaper on the city)."""
    cased = [c for c in word if c.lower() != c.upper()]
    if not cased:
        return f"strpos({text}, {{}}) > 0"
    if all(c.isascii() for c in cased):
        return f'strpos(lower(({text}) collate "C"), {{}}) > 0'
    return f"strpos(lower({text}), {{}}) > 0"


@dataclass(frozen=True)
class Column:
    """One column of a sort: its SQL expression (with `{}` for the keyset's `args`, e.g. whether the
    title is the query), a name for it (an identifier; the page reads it as `_<name>`) and its type."""

    sql: str
    name: str
    type: type


@dataclass(frozen=True)
class Keyset:
    """A list's order: columns, the last the id, all descending or all ascending so that one row
    comparison (and one btree index on the same columns) serves it."""

    columns: tuple[Column, ...]
    descending: bool = True
    args: tuple[Any, ...] = ()
    # Set by `ranked`: the condition (with `{0}` for the query) that puts a row first, as the titles'
    # indexes serve it; and the same condition as cheaply as it can be checked row by row.
    exact: str | None = None
    exact_row: str | None = None

    def order_by(self, columns: tuple[str, ...], backwards: bool = False) -> str:
        way = "desc" if self.descending != backwards else "asc"
        return ", ".join(f"{c} {way}" for c in columns)

    def key_of(self, row: Any) -> list[Any]:
        return [row[f"_{c.name}"] for c in self.columns]


def ranked(q: str | None, titles: tuple[str, ...], order: tuple[Column, ...], descending: bool = True) -> Keyset:
    """A list's order; given a search, the rows whose title (in either language) is the query first."""
    if not q or not q.strip():
        return Keyset(order, descending)
    query = q.strip().lower()
    exact = " or ".join(f"lower({title}) = {{0}}" for title in titles)
    # A query without letters that have a case (养老服务) is a title's lower case only if it is the
    # title itself: checked on every row a search reads, lower() of each title was a fifth of the work.
    cased = any(c.lower() != c.upper() for c in query)
    exact_row = exact if cased else " or ".join(f"{title} = {{0}}" for title in titles)
    first = Column(f"({exact})", "exact", bool) if descending else Column(f"(not ({exact}))", "inexact", bool)
    return Keyset((first, *order), descending, args=(query,), exact=f"({exact})", exact_row=f"({exact_row})")


class Cursor(NamedTuple):
    key: list[Any]
    backwards: bool  # the page before the key, not after it
    at: int  # where the page it leads to begins in the list, from 0, for "51–100 of 8,000"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def encode(keyset: Keyset, key: Sequence[Any], *, backwards: bool, at: int) -> str:
    payload = json.dumps([int(backwards), at, [_plain(v) for v in key]], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _typed(value: Any, kind: type) -> Any:
    if kind is dt.datetime and isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(value)
        return parsed
    if kind is dt.date and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if kind is int and (type(value) is not int or not -2**63 <= value < 2**63):
        raise ValueError(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(value)
    return value


def decode(keyset: Keyset, cursor: str) -> Cursor:
    """The cursor a link carries, checked against the list's columns: a cursor that was altered or
    belongs to another list is refused as a bad request, never sent to the database."""
    try:
        backwards, at, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if backwards not in (0, 1) or type(at) is not int or not 0 <= at <= 10**9 or len(key) != len(keyset.columns):
            raise ValueError(cursor)
        return Cursor([_typed(v, c.type) for v, c in zip(key, keyset.columns, strict=True)], bool(backwards), at)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid(_BAD_CURSOR, field="cursor") from None


class Window(NamedTuple):
    """A page of a list: its rows, the cursors either side, where it begins and the list's total."""

    rows: list[Any]
    next: str | None
    previous: str | None
    first: int
    total: int
    estimated: bool
    also: tuple[str, ...] = ()  # the Chinese words an English search looked for besides its own


class Paged(msgspec.Struct, kw_only=True):
    """What every JSON list answers besides its items: pass `next_cursor` (or `previous_cursor`) back
    as `cursor` for the next (previous) page; `total` is exact unless `total_estimated`."""

    next_cursor: str | None = None
    previous_cursor: str | None = None
    first: int = 0  # where the page begins in the list, from 0
    total: int = 0
    total_estimated: bool = False
    # The Chinese words an English search (`q`) looked for besides its own, as the dictionary gives them.
    also_searched: tuple[str, ...] = ()


def paged_fields(window: Window) -> dict[str, Any]:
    """The `Paged` fields of a window, for a list's Struct."""
    return {"next_cursor": window.next, "previous_cursor": window.previous, "first": window.first,
            "total": window.total, "total_estimated": window.estimated, "also_searched": window.also}


def _rounded(estimate: int) -> int:
    """An estimate as people say one: two significant figures (5,180 is about 5,200)."""
    return round(estimate, 2 - len(str(estimate)))


async def _planned_rows(conn: asyncpg.Connection, from_where: str, args: Sequence[Any]) -> int:
    plan = await conn.fetchval(f"explain (format json) select 1 from {from_where}", *args)
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def query_grams(word: str) -> list[str]:
    """The grams `market_query_grams` (migrations 0040, 0055, 0057) makes of one word: pairs of Chinese
    characters, triples of an English word or number (of two: their pair), and one character alone
    (a letter, a digit, a sign such as `%`) itself."""
    grams: list[str] = []
    for part in _WORD_PARTS.findall(word.lower()):
        n = 3 if re.match(r"[a-z0-9]{3}", part) else 1 if len(part) == 1 else 2
        grams += [part[i:i + n] for i in range(len(part) - n + 1)]
    return list(dict.fromkeys(grams))


class Estimate(NamedTuple):
    """How many rows the planner expects to hold a search's words: `low` from all its grams at once
    (it multiplies their shares, as if they fell independently: the grams of one word do not, so a
    phrase comes out far too rare), `high` from each word's most selective gram alone; and how many
    rows the list has without the search."""

    low: int
    high: int
    listed: int


ESTIMATES_FOR = 300.0


# What a search's size is thought to be, kept: it only chooses how a page is read (every way gives the
# same rows) and makes an "about" total. The planner's estimates change only as far as the tables'
# statistics do, when a table is analysed; planning them took 0.6-1.4 ms of a search's 4-10 ms on the
# city. The candidates counted on the grams index (`_candidates`) change as rows are written; counting
# them was half the database time of a search for "elderly" on the city (2,237 of them, up to the
# point where walking the list wins), at every request.
_ESTIMATES: Kept[tuple[str, str], Estimate] = Kept()
_CANDIDATES: Kept[tuple[str, str], int] = Kept()


async def _search_rows(conn: asyncpg.Connection, from_: str, filters: Filters, words: list[list[str]]) -> Estimate:
    """The planner's estimates for a search whose words have these grams, from one plan of all of them."""
    text, _ = filters.searched or ("", "")
    grams = filters.searching(grams_only=True)
    words = words[:_ESTIMATED_WORDS]
    parts = [f"from {from_} where {grams.sql()}", f"from {from_} where {filters.sql()}"]
    for word in words:
        for gram in word[:_ESTIMATED_GRAMS]:
            parts.append(f"from {from_} where {filters.sql()} and market_grams({text}) @> array[{grams.arg(gram)}::text]")
    # Each part selects its number, which the verbose plan shows as its output: the planner may run the
    # parts in parallel, and then orders them by their cost, not as written.
    sql = f"explain (format json, verbose) {' union all '.join(f'select {i} {part}' for i, part in enumerate(parts))}"
    key = (sql, repr(grams.args))
    estimate = _ESTIMATES.get(key, ESTIMATES_FOR)
    if estimate is None:
        estimate = _planned_search(await conn.fetchval(sql, *grams.args), words, len(parts))
        _ESTIMATES.put(key, estimate)
    return estimate


def _planned_search(plan: Any, words: list[list[str]], parts: int) -> Estimate:
    plan = json.loads(plan) if isinstance(plan, str) else plan
    top = plan[0]["Plan"]
    # With many parts (a search of two English words has eleven) the planner may run them in parallel:
    # a Gather over the parts, each part that is itself parallel planned at one process's share of its
    # rows (PostgreSQL's divisor: the workers, and the leader's part while it has time). Taken for the
    # parts, the Gather was one part, and a search that found nothing read the whole list row by row.
    divisor = 1.0
    if top["Node Type"] in ("Gather", "Gather Merge"):
        workers = int(top.get("Workers Planned", 0))
        divisor = workers + max(0.0, 1.0 - 0.3 * workers)
        top = top["Plans"][0]
    numbered = {part.get("Output", [""])[0]: part for part in top.get("Plans", [])}
    rows = [round(numbered[str(i)]["Plan Rows"] * (divisor if numbered[str(i)].get("Parallel Aware") else 1.0))
            for i in range(parts) if str(i) in numbered]
    if len(rows) != parts:  # a part the planner proved empty is left out of the plan
        everything = int(plan[0]["Plan"]["Plan Rows"])
        return Estimate(everything, everything, everything)
    low, listed, each = rows[0], rows[1], iter(rows[2:])
    share = 1.0
    for word in words:
        share *= min([next(each) for _ in word[:_ESTIMATED_GRAMS]], default=listed) / max(listed, 1)
    return Estimate(low, max(low, round(share * listed)), listed)


# Lists counted to hold more than EXACT_UP_TO rows, by their SQL and arguments, with the planner's
# rows: for ESTIMATES_FOR seconds they are only estimated, from those rows; after that, while the
# planner expects them to be far larger (more than twice that), they are estimated afresh, and else
# counted again. Their total is an estimate anyway; counting 10,001 index entries to learn so again
# was most of an unfiltered list's database time on the city (the directory's 18,900 organisations
# were counted at every request).
_LARGE: Kept[tuple[str, str], int] = Kept()
_LARGE_KEY_UP_TO = 1000  # characters of arguments: a list filtered by thousands of places is not kept


async def count(conn: asyncpg.Connection, from_where: str, args: Sequence[Any]) -> tuple[int, bool]:
    """How many rows `from ... where ...` has: exact up to EXACT_UP_TO (cheap on the list's index),
    else the planner's estimate, marked estimated and rounded as an estimate should be."""
    key, now = (from_where, repr(list(args))), time.monotonic()
    kept = _LARGE.take(key)
    planned: int | None = None
    if kept is not None and now - kept[0] >= ESTIMATES_FOR:
        planned = await _planned_rows(conn, from_where, args)
        kept = (now, planned) if planned > 2 * EXACT_UP_TO else None
    if kept is None:
        exact = await conn.fetchval(f"select count(*) from (select 1 from {from_where} limit {EXACT_UP_TO + 1}) t",
                                    *args)
        if exact <= EXACT_UP_TO:
            return exact, False
        kept = (now, planned if planned is not None else await _planned_rows(conn, from_where, args))
    if len(key[1]) <= _LARGE_KEY_UP_TO:
        _LARGE.put(key, kept[1], at=kept[0])
    return _estimated(kept[1]), True


def _estimated(planned: int) -> int:
    """The planner's rows as a total: up to thousands, so that it stays above what was counted."""
    return -(-max(planned, EXACT_UP_TO + 1) // 1000) * 1000


def _beyond(columns: tuple[str, ...], key: Sequence[Any], descending: bool, backwards: bool, where: Filters) -> str:
    """The rows after the key in the order (before it going back): one row comparison an index serves."""
    sign = "<" if descending != backwards else ">"
    return f"({', '.join(columns)}) {sign} ({', '.join(where.arg(v) for v in key)})"


def _page_sql(select: str, from_: str, where: Filters, keyset: Keyset, place: Cursor | None, backwards: bool,
              limit: int) -> str:
    """The statement of one page (the placeholders' values go to `where.args`)."""
    placeholders = [where.arg(v) for v in keyset.args]
    columns = tuple(c.sql.format(*placeholders) for c in keyset.columns)
    limit_arg = where.arg(limit + 1)
    if keyset.exact is None:
        keys = ", ".join(f"{sql} as _{c.name}" for sql, c in zip(columns, keyset.columns, strict=True))
        clauses = [where.sql()] + ([_beyond(columns, place.key, keyset.descending, backwards, where)] if place else [])
        return (f"select {select}, {keys} from {from_} where {' and '.join(clauses)}"
                f" order by {keyset.order_by(columns, backwards)} limit {limit_arg}")
    # Ranked: the rows whose title is the query come first. Sorting on that would read every row that
    # matches before the first page; instead the two parts are read apart, each in the list's own
    # order from its index, and joined. A cursor lies in one part: going on from the first part takes
    # in all of the second, going on from the second none of the first (and the other way going back).
    exact = keyset.exact.format(*placeholders)
    exact_row = (keyset.exact_row or keyset.exact).format(*placeholders)
    lead, rest = keyset.columns[0], keyset.columns[1:]
    rest_sql = columns[1:]
    exact_first_value = lead.name == "exact"  # the lead column's value on the rows that come first
    in_first = place is not None and place.key[0] == exact_first_value
    parts = []
    for first in (True, False):
        if place is None:
            beyond: str | None = None
        elif in_first == first:
            beyond = _beyond(rest_sql, place.key[1:], keyset.descending, backwards, where)
        elif first == backwards:
            beyond = None  # the whole of this part lies beyond the cursor
        else:
            continue  # none of it does
        condition = exact if first else f"not coalesce({exact_row}, false)"
        value = "true" if first == exact_first_value else "false"
        keys = ", ".join([f"{value} as _{lead.name}"] + [f"{sql} as _{c.name}" for sql, c in zip(rest_sql, rest,
                                                                                               strict=True)])
        clauses = [where.sql(), condition] + ([beyond] if beyond else [])
        parts.append(f"(select {select}, {keys} from {from_} where {' and '.join(clauses)}"
                     f" order by {keyset.order_by(rest_sql, backwards)} limit {limit_arg})")
    names = tuple(f"_{c.name}" for c in keyset.columns)
    return f"select * from ({' union all '.join(parts)}) page order by {keyset.order_by(names, backwards)} limit {limit_arg}"


async def _candidates(conn: asyncpg.Connection, from_: str, filters: Filters, up_to: int) -> int:
    """How many rows hold all of a search's grams (a few more than hold its words), counted on the
    grams index up to `up_to`: each costs a visit, not the text check. A count kept from a while ago
    may be off by the rows written since: found rows are capped at `up_to` all the same (`fetch`)."""
    grams = filters.searching(grams_only=True)
    sql = f"select count(*) from (select 1 from {from_} where {grams.sql()} limit {grams.arg(up_to)}) t"
    key = (sql, repr(grams.args))
    found = _CANDIDATES.get(key, ESTIMATES_FOR)
    if found is None:
        found = int(await conn.fetchval(sql, *grams.args))
        _CANDIDATES.put(key, found)
    return found


async def _how_to_search(conn: asyncpg.Connection, from_: str, filters: Filters, limit: int) -> tuple[int, int | None]:
    """How many rows hold the search's words, about, and how many of them are worth finding (None: walk
    the list's order instead). Walking reads about limit × listed / matches rows, finding reads the
    matches: walk when matches² > limit × listed. The planner's low estimate decides when it is
    already past that (one word of one gram, 养老). A word's every gram is in each row that holds it,
    so its most selective gram's estimate (`high`) bounds its rows, as far as the statistics go: below
    the point where walking would win, its rows are found at once (`_found_sql`, which reads them
    up to that point). Words of several are multiplied as if they fell independently, which they do
    not ("elderly care"), so then, as when one word's bound is past that point, the grams index counts
    the candidates first, without reading their text: a phrase the planner thinks rare (居家养老,
    "elderly") is then not read row by row when thousands hold it, nor walked when few do."""
    _, query = filters.searched or ("", "")
    words = [query_grams(word) for word in query.split()]  # every character is a gram (migration 0057)
    low, high, listed = await _search_rows(conn, from_, filters, words)
    enough = limit * listed
    if low * low > enough:
        return low, None
    up_to = max(math.isqrt(enough), SEARCH_EXACT_UP_TO) + 1
    # The Chinese for an English word adds rows its grams' statistics do not count.
    if len(words) > 1 or high >= up_to or filters.also:
        found = await _candidates(conn, from_, filters, up_to)
        if found >= up_to:
            return max(high, found), None
    return max(high, up_to), up_to


def _found_sql(select: str, from_: str, where: Filters, keyset: Keyset, place: Cursor | None, backwards: bool,
               limit: int, up_to: int) -> str:
    """One statement for a search with few matches: read them (on the grams index, up to `up_to`) with
    their sort keys alone, count them, sort them and join the page's rows back. Every match is read
    anyway, so the title-first order needs no two parts (`_page_sql`), and neither counting them
    apart nor sorting whole rows is worth its cost. `_matches` comes first in each row."""
    placeholders = [where.arg(v) for v in keyset.args]
    columns = [c.sql.format(*placeholders) for c in keyset.columns]
    if keyset.exact is not None:
        exact = f"coalesce({(keyset.exact_row or keyset.exact).format(*placeholders)}, false)"
        columns[0] = exact if keyset.columns[0].name == "exact" else f"not {exact}"
    names = tuple(f"_{c.name}" for c in keyset.columns)
    keys = ", ".join(f"{sql} as {name}" for sql, name in zip(columns, names, strict=True))
    found = f"select {keys} from {from_} where {where.sql()} limit {where.arg(up_to)}"
    beyond = _beyond(names, place.key, keyset.descending, backwards, where) if place else "true"
    page = (f"select * from found where {beyond} order by {keyset.order_by(names, backwards)}"
            f" limit {where.arg(limit + 1)}")
    return (f"with found as materialized ({found}) select (select count(*) from found) as _matches, {select}, page.*"
            f" from {from_} join ({page}) page on {columns[-1]} = page.{names[-1]}"
            f" order by {keyset.order_by(tuple(f'page.{n}' for n in names), backwards)}")


async def fetch(conn: asyncpg.Connection, *, select: str, from_: str, filters: Filters, keyset: Keyset,
                cursor: str | None, limit: int, count_from: str | None = None, counted: bool = True) -> Window:
    """One page of `select <select> from <from_> where <filters>` in the keyset's order, beyond the
    cursor, with cursors to the pages either side and the total (`count_from` counts without the
    joins only the page needs; not `counted`, the total is what was read, for a glimpse of a list)."""
    place = decode(keyset, cursor) if cursor else None
    backwards = bool(place and place.backwards)
    counted_from = count_from or from_
    # How many rows hold a search's words, as the planner expects from the grams' statistics: that
    # decides how the page is read and whether the rows are counted.
    expected: int | None = None
    rows: list[Any] | None = None
    known: int | None = None  # the total, exact, when the search's own statement counted it
    lead = 0  # columns before the selected ones: the found statement's count (`_found_sql`)
    if filters.searched:
        expected, up_to = await _how_to_search(conn, counted_from, filters, limit)
        if up_to is not None:
            where = filters.searching()
            matches = await conn.fetch(_found_sql(select, from_, where, keyset, place, backwards, limit, up_to),
                                       *where.args)
            # Fewer matches than the cap: the page is theirs and their count exact. At the cap the page
            # would be of some of them only, so the list's order is walked; so too when a page beyond
            # a cursor is empty, which does not say which it was.
            if matches[0]["_matches"] < up_to if matches else place is None:
                rows, lead = list(matches), 1
                known = matches[0]["_matches"] if matches else 0
    if rows is None:
        where = filters.searching(walk=filters.searched is not None)
        rows = list(await conn.fetch(_page_sql(select, from_, where, keyset, place, backwards, limit), *where.args))
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    at = place.at if place else 0
    if backwards and not more:
        at = 0  # the first page, whatever the cursor said
    has_next = more if not backwards else True
    has_previous = bool(place) and (not backwards or more)
    if known is not None:
        total, estimated = known, False
    elif not counted or (place is None and not more):
        # A first page with room to spare holds the whole list: its rows are the total, exact, and
        # no statement need count them (the place picker's districts, a fund's or a fair's list).
        total, estimated = at + len(rows), False
    elif expected is not None and expected > SEARCH_EXACT_UP_TO:
        total, estimated = _rounded(expected), True
    else:
        found = filters.searching()
        total, estimated = await count(conn, f"{counted_from} where {found.sql()}", found.args)
    # The page's rows as selected: the sort key's own columns (`_<name>`) serve the cursors only.
    # They come last (see `_page_sql`): a row's columns up to them, taken whole rather than one by one.
    selected = len(rows[0]) - len(keyset.columns) if rows else 0
    return Window(
        rows=[dict(islice(r.items(), lead, selected)) for r in rows],
        next=encode(keyset, keyset.key_of(rows[-1]), backwards=False, at=at + len(rows)) if rows and has_next else None,
        previous=(encode(keyset, keyset.key_of(rows[0]), backwards=True, at=max(0, at - limit))
                  if rows and has_previous else None),
        first=at, total=max(total, at + len(rows)) if not estimated else total, estimated=estimated,
        also=tuple(chinese for _, words in filters.also for chinese in words))
