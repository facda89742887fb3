"""`market bench walk`: each kind of person on a generated city follows the links of the pages from
their workbench. Not a test of speed (figures, for the record): it finds what a city's size does to the
pages no list bench measures — an error page, a page that takes a second or a megabyte, a link shown
to someone the page then refuses.

Against the configured database (a generated city: `market demo --city`) it starts one `market
serve`, picks the busiest person of each kind (`PEOPLE`), logs each in through the log-in form with
the city's password, and follows the same-site links of every page breadth first from /dashboard (a
visitor's from the home page): at
most `per_shape` addresses of one shape (digits as N, the query's names), `pages` a person. It prints
each person's pages by status, then every page that failed (5xx), refused its reader (403; one for
another of their organisations says so, as it offers the switch), or was slower than `slow` ms (the
better of two tries) or larger than `large` KB, with the page that linked it. It exits 1 on a failure
or a refusal that offers no way on. `tests/demo/test_citygen.py` walks a small city so.
"""

from __future__ import annotations

import asyncio
import collections
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from http.cookiejar import CookieJar
from pathlib import Path
from typing import NamedTuple

import asyncpg

from market.core import db
from market.core.settings import Settings

# The busiest person of each kind, someone who works for two organisations, and a visitor who has not
# logged in (who, email, user id, organisation id; none for the visitor).
PEOPLE = """
with busiest as (
    select 'district bureau' as who, b.id as org from organisations b join contracts k on k.buyer_id = b.id
     where b.subtype = 'bureau' group by b.id order by count(*) desc, b.id limit 1),
  street as (
    select 'street office', b.id from organisations b join contracts k on k.buyer_id = b.id
     where b.subtype = 'street_office' group by b.id order by count(*) desc, b.id limit 1),
  provider as (
    select 'social organisation', k.provider_id from contracts k group by 1, 2 order by count(*) desc, 2 limit 1),
  funder as (
    select 'funder', p.funder_id from pledges p group by 1, 2 order by count(*) desc, 2 limit 1),
  evaluator as (
    select 'evaluator', m.organisation_id from panel_members p join memberships m on m.user_id = p.user_id
      join organisations o on o.id = m.organisation_id and o.kind = 'evaluator' and o.subtype = 'expert'
     group by 1, 2 order by count(*) desc, 2 limit 1),
  agency as (
    select 'evaluation agency', p.agency_id from panels p where p.agency_id is not null
     group by 1, 2 order by count(*) filter (where p.status = 'forming') desc, count(*) desc, 2 limit 1),
  platform as (select 'platform', id from organisations where kind = 'platform' order by id limit 1),
  kinds as (select * from busiest union all select * from street union all select * from provider
            union all select * from funder union all select * from evaluator union all select * from agency
            union all select * from platform)
select k.who, u.email, u.id as user_id, k.org as organisation_id
  from kinds k cross join lateral (select m.user_id from memberships m where m.organisation_id = k.org
                                    order by m.role <> 'admin', m.user_id limit 1) m
  join users u on u.id = m.user_id
union all
(select 'in two organisations', u.email, u.id, null from users u
  where (select count(*) from memberships m where m.user_id = u.id) > 1 order by u.id limit 1)
union all
(select 'resident', u.email, u.id, null
   from (select user_id, count(*) as supports from need_supports group by user_id) s join users u on u.id = s.user_id
  where u.community_id is not null and not exists (select from memberships m where m.user_id = u.id)
  order by s.supports desc, u.id limit 1)
union all
select 'visitor', null, null, null"""

# Not pages a person reads: leaving, languages, static files, downloads, the API's schema.
SKIP = re.compile(r"^/(static|lang|logout|login|signup|password|schema)\b|/files/|export|\.(pdf|xlsx|csv|png|svg|gz)$")
LINK = re.compile(r'href="(/[^"#]*)"')


class Visit(NamedTuple):
    path: str
    status: int
    seconds: float
    size: int
    came_from: str
    # A refusal that offers the switch to another of the person's organisations (a notice for it).
    switch: bool = False


Fetch = Callable[[str], Awaitable[tuple[int, str, bytes]]]


def shape(path: str) -> str:
    """An address with its ids as N and its query as the names it sets: one shape of page."""
    where, _, query = path.partition("?")
    names = sorted(pair.split("=", 1)[0] for pair in query.split("&") if pair)
    return re.sub(r"\d+", "N", where) + ("?" + "&".join(names) if names else "")


async def walk(fetch: Fetch, *, start: str = "/dashboard", pages: int = 200, per_shape: int = 3) -> list[Visit]:
    """The pages reached from `start` by following links, breadth first; `fetch` answers a path with its
    status, content type and body."""
    queue = collections.deque([(start, "")])
    seen, shapes = {start}, collections.Counter[str]()
    visits: list[Visit] = []
    while queue and len(visits) < pages:
        path, came_from = queue.popleft()
        began = time.perf_counter()
        status, kind, body = await fetch(path)
        visits.append(Visit(path, status, time.perf_counter() - began, len(body), came_from,
                            status == 403 and b'href="/account?next=' in body))
        if status != 200 or not kind.startswith("text/html"):
            continue
        for link in LINK.findall(body.decode(errors="replace")):
            link = link.replace("&amp;", "&")
            if link in seen or SKIP.search(link) or shapes[shape(link)] >= per_shape:
                continue
            seen.add(link)
            shapes[shape(link)] += 1
            queue.append((link, path))
    return visits


def refusals(visits: list[Visit]) -> list[Visit]:
    """Pages that failed, or that refused the person a link on their own pages led to, offering no way
    on (a page for another of their organisations offers the switch to it)."""
    return [v for v in visits if v.status >= 500 or (v.status == 403 and not v.switch)]


class _Browser:
    """One person's cookies over urllib: a bench needs no client library, and its requests go one at
    a time."""

    def __init__(self, base: str) -> None:
        self.base, self.jar = base, CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=120) as answer:
                return answer.status, answer.headers.get("content-type", ""), answer.read()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.headers.get("content-type", ""), refused.read()

    def log_in(self, email: str, password: str, lang: str) -> bool:
        self.get("/health")
        token = next((c.value or "" for c in self.jar if c.name == "market_csrf"), "")
        form = urllib.parse.urlencode({"email": email, "password": password, "_csrf_token": token}).encode()
        status, _, body = self.get("/login", form, {"x-csrftoken": token})
        self.get(f"/lang/{lang}?next=/")
        return status == 200 and b"/logout" in body


async def _walk_city(settings: Settings, pages: int, per_shape: int, lang: str, slow: float, large: int) -> int:
    from market.benches.api import _free_port, _healthy, _serve, _stop
    from market.citygen import PASSWORD

    dsn, embedded = db.database_dsn(settings)
    port = _free_port()
    server = None
    try:
        conn = await asyncpg.connect(dsn)
        try:
            people = await conn.fetch(PEOPLE)
        finally:
            await conn.close()
        server = _serve(settings, dsn, port, Path(tempfile.mkdtemp(prefix="mkt-bench-walk-")) / "statements.pickle")
        await _healthy(server, port)
        failed = 0
        for who, email, _user, _org in people:
            browser = _Browser(f"http://127.0.0.1:{port}")
            if email is None:
                await asyncio.to_thread(browser.get, f"/lang/{lang}?next=/")
            elif not await asyncio.to_thread(browser.log_in, email, PASSWORD, lang):
                print(f"{who} {email}: could not log in with the city's password (is this a generated city?)")
                failed += 1
                continue

            async def fetch(path: str, b: _Browser = browser) -> tuple[int, str, bytes]:
                return await asyncio.to_thread(b.get, path)
            visits = await walk(fetch, start="/dashboard" if email else "/", pages=pages, per_shape=per_shape)
            statuses = collections.Counter(v.status for v in visits)
            print(f"{who} {email or ''}: {len(visits)} pages, " + ", ".join(f"{n} × {s}" for s, n in sorted(statuses.items())),
                  flush=True)
            for v in visits:
                if v.status >= 400 and v.status != 404:
                    print(f"  {v.status} {v.path} (linked from {v.came_from})"
                          + (": offers the switch to the person's other organisation" if v.switch else ""))
            failed += len(refusals(visits))
            for v in visits:
                if v.status == 200 and (v.seconds * 1000 > slow or v.size > large * 1024):
                    again = time.perf_counter()
                    await fetch(v.path)
                    best = min(v.seconds, time.perf_counter() - again)
                    if best * 1000 > slow or v.size > large * 1024:
                        print(f"  {best * 1000:.0f} ms, {v.size // 1024} KB: {v.path} (linked from {v.came_from})")
        return 1 if failed else 0
    finally:
        _stop([server] if server else [], embedded)


def main(settings: Settings, *, pages: int = 200, per_shape: int = 3, lang: str = "zh_Hans", slow: float = 300,
         large: int = 200) -> int:
    return asyncio.run(_walk_city(settings, pages, per_shape, lang, slow, large))
