"""Keyset pagination on a table of its own: every row that exists throughout is seen exactly once
while rows are added between pages, back and forth; a bad cursor is a bad request."""

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest

from market.core import db, keyset
from market.core.errors import Invalid
from market.core.i18n import use_locale
from market.core.web import Pager, template_environment

ORDER = keyset.Keyset((keyset.Column("t.rank", "rank", int), keyset.Column("t.at", "at", dt.datetime),
                       keyset.Column("t.id", "id", int)))
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@contextlib.asynccontextmanager
async def _logged(conn: asyncpg.Connection) -> AsyncIterator[list[str]]:
    """The statements `conn` sends within the block. asyncpg calls a logger soon after a statement, not
    during it: a test reading them midway first awaits `asyncio.sleep(0)`."""
    sent: list[str] = []

    def note(query: asyncpg.connection.LoggedQuery) -> None:
        sent.append(query.query)

    conn.add_query_logger(note)
    try:
        yield sent
        await asyncio.sleep(0)
    finally:
        conn.remove_query_logger(note)


async def _table(conn: asyncpg.Connection, rows: int) -> None:
    await conn.execute("create temporary table t (id serial primary key, rank int not null, at timestamptz not null,"
                       " colour text not null)")
    await conn.executemany("insert into t (rank, at, colour) values ($1, $2, $3)",
                           [(i % 3, START + dt.timedelta(minutes=i // 2), "red" if i % 2 else "blue")
                            for i in range(rows)])


async def _page(conn: asyncpg.Connection, cursor: str | None, colour: str | None = None) -> keyset.Window:
    filters = keyset.Filters()
    if colour:
        filters.add("t.colour = {}", colour)
    return await keyset.fetch(conn, select="t.*", from_="t", filters=filters, keyset=ORDER, cursor=cursor, limit=7)


async def test_every_row_once_while_rows_are_added(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await _table(conn, 40)
        before = {r["id"] for r in await conn.fetch("select id from t where colour = 'red'")}
        seen: list[int] = []
        window = await _page(conn, None, "red")
        assert (window.first, window.total, window.estimated, window.previous) == (0, 20, False, None)
        while True:
            seen += [r["id"] for r in window.rows]
            # New rows sort everywhere in the order: before, among and after the ones already shown.
            await conn.executemany("insert into t (rank, at, colour) values ($1, $2, 'red')",
                                   [(2, START + dt.timedelta(days=1), ), (1, START + dt.timedelta(minutes=5)),
                                    (0, START - dt.timedelta(days=1))])
            if not window.next:
                break
            window = await _page(conn, window.next, "red")
        assert len(seen) == len(set(seen))
        assert before <= set(seen)
        assert all(r["colour"] == "red" for r in await conn.fetch("select colour from t where id = any($1)", seen))


async def test_back_and_forth(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await _table(conn, 20)
        first = await _page(conn, None)
        second = await _page(conn, first.next)
        third = await _page(conn, second.next)
        assert (second.first, third.first, len(third.rows), third.next) == (7, 14, 6, None)
        back = await _page(conn, third.previous)
        assert [r["id"] for r in back.rows] == [r["id"] for r in second.rows] and back.first == 7
        start = await _page(conn, back.previous)
        assert [r["id"] for r in start.rows] == [r["id"] for r in first.rows]
        assert (start.first, start.previous) == (0, None)


@pytest.mark.parametrize("cursor", ["", "garbage!", "W10", "WzAsMCxbMSwyXV0", "WzAsMCxbMSwiMjAyNiIsM11d",
                                    "WzAsMCxbdHJ1ZSwiMjAyNi0wMS0wMVQwMDowMDowMCswMDowMCIsM11d"])
async def test_a_bad_cursor_is_refused(pool: asyncpg.Pool, cursor: str) -> None:
    async with pool.acquire() as conn:
        await _table(conn, 3)
        with pytest.raises(Invalid) as refused:
            await _page(conn, cursor or "x")
        assert refused.value.field == "cursor"


async def test_a_list_that_fits_on_its_first_page_is_counted_from_the_page(pool: asyncpg.Pool) -> None:
    # The first page of a short list (a place picker's districts, the funds) has all its rows: its total
    # is theirs, with no statement to count them. A list one row longer is counted as before.
    async with pool.acquire() as conn:
        await _table(conn, 14)
        async with _logged(conn) as sent:
            short = await _page(conn, None, "red")
            await asyncio.sleep(0)
            counted_short = [q for q in sent if "count(" in q]
            full = await _page(conn, None)
    assert (len(short.rows), short.total, short.estimated, short.next) == (7, 7, False, None)
    assert counted_short == []
    assert (len(full.rows), full.total, full.estimated) == (7, 14, False) and full.next
    assert any("count(" in q for q in sent)


async def test_a_large_total_is_estimated(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await _table(conn, keyset.EXACT_UP_TO + 500)
        await conn.execute("analyze t")
        window = await _page(conn, None)
        assert window.estimated and window.total % 1000 == 0 and window.total > keyset.EXACT_UP_TO
        window = await _page(conn, None, "red")
        assert (window.total, window.estimated) == (5250, False)


async def test_a_list_counted_as_large_is_estimated_a_while_then_counted_again_unless_far_larger(
        pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Counting 10,001 rows to learn that a list is too long to count was most of an unfiltered list's
    # database time on the city. Once counted so, a list is only estimated for a while (ESTIMATES_FOR),
    # without a statement; then, if the planner expects it to be far larger (more than twice
    # EXACT_UP_TO), it is estimated afresh, and else counted again: a list that shrank shows its count.
    async with pool.acquire() as conn:
        await conn.execute("create temporary table t (id serial primary key, rank int not null, at timestamptz not null,"
                           " colour text not null)")
        await conn.execute("insert into t (rank, at, colour) select g % 3, $1::timestamptz + g * interval '1 minute', "
                           "case when g % 2 = 0 then 'red' else 'blue' end from generate_series(1, 25000) g", START)
        await conn.execute("analyze t")

        async def asked(colour: str | None) -> tuple[int, bool, list[str]]:
            async with _logged(conn) as sent:
                window = await _page(conn, None, colour)
            return window.total, window.estimated, [q.split()[0] for q in sent if q.startswith(("select count", "explain"))]

        assert await asked(None) == (25000, True, ["select", "explain"])
        assert await asked("red") == (13000, True, ["select", "explain"])  # 12,500, rounded up as estimated
        assert await asked(None) == (25000, True, [])
        assert await asked("red") == (13000, True, [])
        monkeypatch.setattr(keyset, "ESTIMATES_FOR", 0.0)
        assert await asked(None) == (25000, True, ["explain"])
        assert await asked("red") == (13000, True, ["explain", "select"])
        await conn.execute("delete from t where id > 30")
        await conn.execute("analyze t")
        assert await asked(None) == (30, False, ["explain", "select"])


@pytest.mark.parametrize("locale,shown", [("en", "51–100 of about 12,000"), ("zh_Hans", "第 51–100 条，共约 12,000 条")])
def test_an_estimated_total_is_shown_as_one(locale, shown):
    pager = Pager(first=51, last=100, total=12_000, previous="?cursor=a", next="?cursor=b", estimated=True)
    with use_locale(locale):
        html = template_environment({}).get_template("_pager.html").render(pager=pager)
    assert shown in html and 'rel="prev"' in html and 'rel="next"' in html


SEARCH_ORDER = (keyset.Column("s.rank", "rank", int), keyset.Column("s.id", "id", int))


async def _texts(conn: asyncpg.Connection, rows: list[tuple[str, str, int]]) -> None:
    await conn.execute("create temporary table s (id serial primary key, title text not null, body text not null,"
                       " rank int not null)")
    await conn.execute("create index on s using gin (market_grams(title || ' ' || body))")
    await conn.execute("create index on s (lower(title))")
    await conn.executemany("insert into s (title, body, rank) values ($1, $2, $3)", rows)
    await conn.execute("analyze s")


async def _found(conn: asyncpg.Connection, q: str, cursor: str | None, limit: int = 7) -> keyset.Window:
    filters = keyset.Filters()
    filters.search("s.title || ' ' || s.body", q)
    return await keyset.fetch(conn, select="s.id", from_="s", filters=filters, cursor=cursor, limit=limit,
                              keyset=keyset.ranked(q, ("s.title",), SEARCH_ORDER))


def _expected(rows: list[tuple[str, str, int]], q: str) -> list[int]:
    """The rows holding the query, those titled with it first, then by rank and id, highest first."""
    held = [(i + 1, title, rank) for i, (title, body, rank) in enumerate(rows) if q in f"{title} {body}"]
    return [i for i, _, _ in sorted(held, key=lambda r: (r[1] == q, r[2], r[0]), reverse=True)]


@pytest.mark.parametrize("others", [30, 3000])
async def test_a_search_pages_the_exact_titles_first_then_the_rest_both_ways(pool: asyncpg.Pool, others: int) -> None:
    # 10 titled exactly with the query (a page and a half of 7), 20 holding it in a longer text, and
    # rows without it: among 30 the word is common and the list's order is walked; among 3,000 it is
    # rare and its rows are found on the grams index.
    rows = [("养老", "上门服务", i % 4) for i in range(10)] + [("社区养老服务", "助餐", i % 5) for i in range(10)]
    rows += [("助浴", f"为居家养老的老人{i}", i % 3) for i in range(10)] + [("助餐", "老年食堂", i % 2) for i in range(others)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        pages = [await _found(conn, "养老", None)]
        while pages[-1].next:
            pages.append(await _found(conn, "养老", pages[-1].next))
        assert [r["id"] for p in pages for r in p.rows] == _expected(rows, "养老")
        assert [(p.first, p.total, p.estimated) for p in pages][:2] == [(0, 30, False), (7, 30, False)]
        back = pages[-1]
        for page in reversed(pages[:-1]):
            back = await _found(conn, "养老", back.previous)
            assert [r["id"] for r in back.rows] == [r["id"] for r in page.rows] and back.first == page.first
        assert back.previous is None


@pytest.mark.parametrize("others", [30, 3000])
async def test_a_title_is_the_query_in_either_case_and_a_chinese_one_as_written(pool: asyncpg.Pool, others: int) -> None:
    # A query with letters that have a case ranks a title first whatever its case; one without
    # (养老服务) ranks first the title that is the query itself, checked without lowering every title.
    # Walked among 30 other rows, found on the grams index among 3,000.
    rows = [("Bath Help", "上门", 1), ("bath help", "助浴", 0), ("Bath help for elders", "上门", 9),
            ("养老服务", "上门", 0), ("社区养老服务", "助餐", 9), ("ＡＢＣ养老服务", "助餐", 8)]
    rows += [("助餐", f"老年食堂{i}", i % 2) for i in range(others)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        english = await _found(conn, "BATH HELP", None)
        chinese = await _found(conn, "养老服务", None)
    assert [r["id"] for r in english.rows] == [1, 2, 3]
    assert [r["id"] for r in chinese.rows] == [4, 5, 6]


async def test_a_word_in_many_rows_is_read_in_the_lists_order_and_its_total_estimated(pool: asyncpg.Pool) -> None:
    # A word the planner expects in so many rows that the list's order is walked, not every
    # row with the word read and sorted; the page is the same and the total is an estimate, marked.
    rows = [("助餐" if i % 2 else "养老", f"服务{'养老' if i % 2 else '助浴'}{i % 7}", i % 11) for i in range(6000)]
    rows += [("老人洗澡", "上门助浴", 1) for _ in range(5)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        common = await _found(conn, "养老", None, limit=50)
        assert [r["id"] for r in common.rows] == _expected(rows, "养老")[:50]
        assert common.estimated and 5000 <= common.total <= 7000 and common.total % 100 == 0
        second = await _found(conn, "养老", common.next, limit=50)
        assert [r["id"] for r in second.rows] == _expected(rows, "养老")[50:100]
        rare = await _found(conn, "老人洗澡", None)
        assert ([r["id"] for r in rare.rows], rare.total, rare.estimated) == (_expected(rows, "老人洗澡"), 5, False)


async def test_a_phrase_in_many_rows_is_walked_and_one_character_found_on_the_index(pool: asyncpg.Pool) -> None:
    # 居家养老 is three grams, each in a quarter of the rows: the planner, multiplying their shares,
    # expects the phrase in a hundred. The grams index counts 1,500 candidates, so the list's order
    # is walked (a page reads some 200 rows, not 1,500) and the total is given as the estimate it is.
    # 孤 alone is a gram of its own: four rows, found on the index and counted exactly, not every row
    # of the list read.
    rows = [("助浴", f"居家养老服务{i}", i % 9) if i % 4 == 0 else ("助餐", f"社区食堂{i}", i % 9) for i in range(6000)]
    rows += [("孤老关爱", "上门探访", 1) for _ in range(4)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        async with _logged(conn) as sent:
            phrase = await _found(conn, "居家养老", None, limit=50)
            await asyncio.sleep(0)
            walked = [q for q in sent if "strpos" in q and "market_query_grams" not in q]
            sent.clear()
            one = await _found(conn, "孤", None)
    assert [r["id"] for r in phrase.rows] == _expected(rows, "居家养老")[:50]
    assert phrase.estimated and 1400 <= phrase.total <= 1600 and walked
    assert ([r["id"] for r in one.rows], one.total, one.estimated) == (_expected(rows, "孤"), 4, False)
    assert not any("strpos" in q and "market_query_grams" not in q for q in sent)


async def test_a_searchs_estimates_are_planned_once_a_while_and_a_page_is_the_same_with_them_kept(
        pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Planning a search's estimates was 0.6-1.4 ms of its 4-10 ms on the city, and they change only as
    # the table's statistics do. The same search again reads the same page without planning them; a
    # while later (ESTIMATES_FOR) they are planned again.
    rows = [("助浴", f"居家养老服务{i}", i % 9) if i % 4 == 0 else ("助餐", f"社区食堂{i}", i % 9) for i in range(3000)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        async with _logged(conn) as sent:
            first = await _found(conn, "居家养老", None)
            await asyncio.sleep(0)
            assert sum(q.startswith("explain") for q in sent) == 1
            sent.clear()
            again = await _found(conn, "居家养老", None)
            other = await _found(conn, "社区食堂", None)
            await asyncio.sleep(0)
            assert sum(q.startswith("explain") for q in sent) == 1  # the other search's own
            sent.clear()
            monkeypatch.setattr(keyset, "ESTIMATES_FOR", 0.0)
            later = await _found(conn, "居家养老", None)
            await asyncio.sleep(0)
            assert sum(q.startswith("explain") for q in sent) == 1
    assert [r["id"] for r in first.rows] == [r["id"] for r in again.rows] == [r["id"] for r in later.rows]
    assert (first.total, first.estimated) == (again.total, again.estimated) == (later.total, later.estimated)
    assert [r["id"] for r in first.rows] == _expected(rows, "居家养老")[:7] and other.rows


def _candidates_counted(sent: list[str]) -> int:
    """How many of these statements count a search's candidates on the grams index alone."""
    return sum(q.startswith("select count(*) from (select 1 from") and "strpos" not in q for q in sent)


async def test_a_searchs_candidates_are_counted_once_a_while_and_its_pages_stay_right_as_rows_are_added(
        pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Counting the rows that hold a search's grams was half the database time of a search for "elderly"
    # on the city, at every request. The count is kept a while (ESTIMATES_FOR): the same search again
    # counts nothing, and rows written meanwhile are still found, in order (here 600 more than the
    # kept count knows of, past the point where the list's order is walked instead).
    rows = [("助浴", f"elderly care at home {i}", i % 9) if i % 3 == 0 else ("助餐", f"community canteen {i}", i % 9)
            for i in range(3000)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        async with _logged(conn) as sent:
            first = await _found(conn, "elderly care", None)
            await asyncio.sleep(0)
            assert _candidates_counted(sent) == 1
            sent.clear()
            added = [("助浴", f"elderly care nearby {i}", i % 7) for i in range(600)]
            await conn.executemany("insert into s (title, body, rank) values ($1, $2, $3)", added)
            again = await _found(conn, "elderly care", None)
            await asyncio.sleep(0)
            assert _candidates_counted(sent) == 0
            sent.clear()
            monkeypatch.setattr(keyset, "ESTIMATES_FOR", 0.0)
            later = await _found(conn, "elderly care", None)
            await asyncio.sleep(0)
            assert _candidates_counted(sent) == 1
    assert [r["id"] for r in first.rows] == _expected(rows, "elderly care")[:7]
    assert [r["id"] for r in again.rows] == [r["id"] for r in later.rows] == _expected(rows + added, "elderly care")[:7]
    assert (first.total, first.estimated) == (1000, False)
    assert again.estimated and later.estimated  # more than the cap found: walked, and the total about


@pytest.mark.parametrize("query", ["居家养老", "elderly care", "ab 养 a养b", "2026年 助餐", "Ω λ", "a_b 100% 7，", ""])
async def test_the_estimate_asks_for_the_grams_the_index_is_searched_by(pool: asyncpg.Pool, query: str) -> None:
    async with pool.acquire() as conn:
        in_sql = await conn.fetchval("select market_query_grams($1)", query)
    assert sorted({g for word in query.split() for g in keyset.query_grams(word)}) == sorted(in_sql)


async def test_one_letter_digit_or_sign_is_found_on_the_index_not_by_reading_every_row(pool: asyncpg.Pool) -> None:
    # Every character is a gram of its own (migration 0057): a query of single letters, digits or signs
    # (a_b, %, 7, B) is found on the grams index and counted exactly. Before, such a query had no gram
    # and read the list row by row: on the city 0.3-1.6 s of the database for each request.
    rows = [("助餐", "服务说明", i % 5) for i in range(3000)]
    rows += [("编号a_b", "上门", 1), ("助浴", "代码a_b", 2), ("满意度100%", "第7期", 3)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        async with _logged(conn) as sent:
            for query, ids in [("a_b", [3001, 3002]), ("x_y", []), ("%", [3003]), ("7", [3003]), ("B", [3001, 3002]),
                               ("00%", [3003]), ("0%7", [])]:
                found = await _found(conn, query, None)
                assert (sorted(r["id"] for r in found.rows), found.total, found.estimated) == (ids, len(ids), False)
    assert sent and not any("strpos" in q and "market_query_grams" not in q for q in sent)


async def test_a_word_that_is_its_own_gram_is_found_on_the_index_without_reading_each_rows_text(
        pool: asyncpg.Pool) -> None:
    # 养老, q, 7% are each a gram of the index (a pair of Chinese characters, one letter, a digit and a
    # sign): every row the index gives for them holds them, and the rows' text is not read again to
    # look. 养 老 apart, or 老养, is not 养老; a phrase of several grams is still looked for row by row.
    rows = [("助餐", "服务说明", i % 5) for i in range(3000)]
    rows += [("居家养老", "上门", 1), ("助浴", "养 老 老养", 2), ("Q&A", "代码7%", 3), ("养老助餐", "q", 4)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        async with _logged(conn) as sent:
            for query, ids in [("养老", [3001, 3004]), ("Q", [3003, 3004]), ("7 %", [3003]), ("养老 q", [3004])]:
                found = await _found(conn, query, None)
                assert (sorted(r["id"] for r in found.rows), found.total) == (ids, len(ids)), query
        assert sent and not any("strpos" in q for q in sent)
        async with _logged(conn) as sent:
            found = await _found(conn, "居家养老", None)
        assert [r["id"] for r in found.rows] == [3001] and any("strpos" in q for q in sent)


@pytest.mark.parametrize("others", [30, 3000])
async def test_a_word_is_found_in_either_case_and_each_kind_of_word_as_written(pool: asyncpg.Pool, others: int) -> None:
    # Each word is checked the cheapest way it allows (Chinese as written, a-z in the C collation's
    # lower case, other letters in the locale's), and every way finds the same rows: among 30 rows
    # walked in the list's order, among 3,000 found on the grams index.
    rows = [("Elderly Care", "上门", 3), ("助浴", "for the ELDERLY", 2), ("助餐", "elderly 养老", 1),
            ("ΣΟΦΙΑ", "Ωμέγα 养老", 2), ("σοφια", "代码50%_养老", 1), ("颐养", "养 老", 4)]
    rows += [("助餐", f"社区食堂{i}", i % 2) for i in range(others)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        for query, ids in [("elderly", [1, 2, 3]), ("ELDERLY 养老", [3]), ("σοφια", [4, 5]), ("ωΜΈΓΑ", [4]),
                           ("50%_养老", [5]), ("养老", [3, 4, 5]), ("Elderly养老", [])]:
            found = await _found(conn, query, None)
            assert sorted(r["id"] for r in found.rows) == ids, query
            assert (found.total, found.estimated) == (len(ids), False), query


async def test_a_search_in_fewer_rows_than_a_walk_would_read_is_counted_exactly_with_its_page(pool: asyncpg.Pool) -> None:
    # 1,050 of 30,000 rows hold 居家养老: fewer than a walk of the list's order would read for a page
    # of 50 (√(50 × 30,000) ≈ 1,225), so they are read, sorted and counted in the one statement that
    # gives the page, exactly (beyond 1,000 the total used to be an estimate), with no count apart;
    # every page, forth and back, is the list's own.
    rows = [("助浴", f"居家养老服务{i}", i % 9) if i % 28 == 0 and i < 28 * 1050 else ("助餐", f"社区食堂{i}", i % 9)
            for i in range(30_000)]
    rows[28] = ("居家养老", "上门", 0)
    expected = _expected(rows, "居家养老")
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        async with _logged(conn) as sent:
            pages = [await _found(conn, "居家养老", None, limit=50)]
            await asyncio.sleep(0)
            first = list(sent)
            for _ in range(2):
                pages.append(await _found(conn, "居家养老", pages[-1].next, limit=50))
            back = await _found(conn, "居家养老", pages[-1].previous, limit=50)
    assert len(expected) == 1050 and expected[0] == 29
    assert [r["id"] for p in pages for r in p.rows] == expected[:150]
    assert [(p.first, p.total, p.estimated) for p in pages] == [(0, 1050, False), (50, 1050, False), (100, 1050, False)]
    assert [r["id"] for r in back.rows] == expected[50:100] and back.first == 50
    assert len(first) == 2 and not any("count(*) from (select 1" in q for q in first)


@pytest.mark.parametrize("others", [30, 3000])
async def test_an_english_word_finds_rows_written_in_chinese_and_says_what_it_looked_for(
        pool: asyncpg.Pool, others: int) -> None:
    # Residents write in Chinese; "elderly" finds 独居老人 and 老年食堂 as well as the English title,
    # which the query itself ranks first. Walked among 30 other rows, found on the grams index among
    # 3,000 (the dictionary's words are not in the grams' statistics of "elderly").
    rows = [("独居老人午饭没着落", "社区", 3), ("放学后孩子没人看", "课后托管", 5), ("Elderly", "day care", 1),
            ("助餐", "老年食堂", 2), ("Meal help for the elderly", "", 4)]
    rows += [("楼道堆物", f"邻里纠纷{i}", i % 2) for i in range(others)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        english = await _found(conn, "Elderly", None)
        chinese = await _found(conn, "老人", None)
    assert [r["id"] for r in english.rows] == [3, 5, 1, 4]
    assert (english.total, english.estimated) == (4, False)
    assert english.also[:3] == ("老人", "老年", "老年人")
    assert [r["id"] for r in chinese.rows] == [1] and chinese.also == ()


async def test_each_english_word_is_in_english_or_chinese_and_a_phrase_the_dictionary_has_is_taken_whole(
        pool: asyncpg.Pool) -> None:
    # "lonely elderly": a row holds each word, in either language (孤单老人; lonely 老人). "migrant
    # workers" is in the dictionary as a whole (农民工), which neither word alone would find.
    # Words that only join others are not looked for: "help for the elderly" is "help" and "elderly"
    # (帮助老人; the English title too), but "the" alone is looked for as it is.
    rows = [("孤单老人", "", 1), ("独居老人", "", 2), ("lonely", "老人", 3), ("孤单", "儿童", 4),
            ("农民工子女", "", 5), ("民工", "", 6), ("workers", "migrant", 7), ("帮助老人", "", 8),
            ("Help the elderly", "", 9), ("for the record", "", 10)]
    async with pool.acquire() as conn:
        await _texts(conn, rows)
        both = await _found(conn, "lonely elderly", None)
        phrase = await _found(conn, "migrant workers", None)
        joined = await _found(conn, "help for the elderly", None)
        only_the = await _found(conn, "the", None)
    assert sorted(r["id"] for r in both.rows) == [1, 3]
    assert sorted(r["id"] for r in phrase.rows) == [5, 6, 7] and phrase.also == ("民工", "农民工")
    assert sorted(r["id"] for r in joined.rows) == [8, 9]
    assert sorted(r["id"] for r in only_the.rows) == [9, 10]


async def test_a_search_the_planner_would_run_in_parallel_is_still_estimated_part_by_part(database: str) -> None:
    # A search's estimate is one plan of many parts (two words of four grams: ten); when the planner runs
    # them in parallel it orders them by cost under a Gather. Taken for the parts, that Gather made a
    # search for words no row holds walk every row of the list (30,000 projects on the city, 55 ms).
    # A temporary table is never read in parallel: this one is a table of the test's own database.
    conn = await db.connect_admin(database)
    try:
        await conn.execute("create table parallel_texts (id serial primary key, title text not null,"
                           " body text not null, rank int not null)")
        await conn.execute("create index on parallel_texts using gin (market_grams(title || ' ' || body))")
        await conn.executemany("insert into parallel_texts (title, body, rank) values ($1, $2, $3)",
                               [("助餐", f"community canteen, one meal a day {i}", i % 9) for i in range(3000)])
        await conn.execute("analyze parallel_texts")
        for setting in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size",
                        "min_parallel_index_scan_size"):
            await conn.execute(f"set {setting} = 0")
        filters = keyset.Filters()
        filters.search("t.title || ' ' || t.body", "xylophone quartet")
        sent: list[tuple[str, tuple[object, ...]]] = []
        conn.add_query_logger(lambda query: sent.append((query.query, query.args)))
        found = await keyset.fetch(conn, select="t.id", from_="parallel_texts t", filters=filters, cursor=None, limit=7,
                                   keyset=keyset.ranked("xylophone quartet", ("t.title",), (
                                       keyset.Column("t.rank", "rank", int), keyset.Column("t.id", "id", int))))
        await asyncio.sleep(0)
        plan, args = next((q, a) for q, a in sent if q.startswith("explain"))
        planned = await conn.fetchval(plan, *args)  # json, decoded
    finally:
        await conn.close()
    assert planned[0]["Plan"]["Node Type"] == "Gather"  # the planner did run it in parallel
    walked = [q for q, _ in sent if "strpos" in q and "market_query_grams" not in q]
    assert (found.rows, found.total, found.estimated) == ([], 0, False) and not walked
