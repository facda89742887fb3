"""`market bench api`: the public pages at the city's size. Not a test: figures for the record.

Against the configured database (a generated city: `market demo --city`), it starts `workers` app
processes (`market serve`, one a core by default, as deployed) with MARKET_STATEMENTS_FILE set, so that
every response says how many statements it ran and the statements themselves, with their arguments,
are kept; it sends each request to the process with the fewest in flight, as the load balancer in
front of them would (`Balancer`). For each public list page and its JSON twin, a search and one detail
page of each kind it measures:

* the 1st request on a freshly started process and the 100th in a row (one client: asyncpg's pool
  hands the same connection back, so that is the 100th on a connection: PostgreSQL switches a
  prepared statement to a generic plan after the 5th);
* throughput, p50 and p99 with `clients` concurrent clients, and the response's size; beside the
  p99, that of the requests no freeze of the machine by its host overlapped, with the freezes seen
  (`freezes.py`: on a virtual machine a p99 can be mostly the host's);
* the route's own statements (as the server recorded them: what the services built, so this stays
  true whatever they build) sent straight through asyncpg with the same concurrency, one connection
  per client, and the ratio of the two rates; also their 1st and 100th run on a fresh connection.

The clients speak HTTP/1.1 over bare asyncio streams, keep-alive: a client library's parsing costs
processor time the server then lacks (see fair.py); they run on uvloop, as the server does. App
processes, PostgreSQL and clients share the machine's cores, which the output says.

`--check` instead runs each list's statements (recorded from the list routes with varied filters:
places at each level, status, category, search, offset) more than five times each on one connection
with auto_explain reporting every plan, and exits 1 when a plan scans a whole large table.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

from market.benches import stop_servers
from market.benches.freezes import Freezes, Span, unfrozen
from market.core import db
from market.core.db import RECORD_HEADER
from market.core.settings import Settings
from market.opendata import bulk
from market.storage.services import storage_from_settings

Statements = list[tuple[str, tuple[Any, ...]]]
# Statements the app adds around a route's own (transaction and pool reset): not replayed.
_AROUND = ("begin", "commit", "rollback", "select pg_advisory_unlock_all")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class Client:
    """One keep-alive HTTP/1.1 connection, GET only."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, record: bool = False) -> tuple[int, dict[str, str], bytes]:
        """GET `path`; with `record` the server counts and keeps the request's statements (MARKET_STATEMENTS_FILE)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=2**22)
        assert self.reader is not None
        asked = f"{RECORD_HEADER}: 1\r\n" if record else ""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{asked}\r\n".encode())
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:
            chunks = []
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            await self.reader.readexactly(2)
            body = b"".join(chunks)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _routes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(kind, path) of every route measured, with real ids and search words from the city."""
    ids = await conn.fetchrow("""
        select (select max(id) from needs where status = 'open') as need,
               (select max(id) from projects) as project,
               (select max(id) from calls where published_at is not null) as call,
               (select max(id) from organisations where status = 'verified') as org,
               (select min(id) from jurisdictions where level = 'district') as district""")
    word = "养老"
    lists = ["needs", "projects", "calls", "organisations", "resources", "catalogue", "funds", "fairs", "lists"]
    out = [("list", f"/{name}") for name in lists] + [("json list", f"/api/{name}") for name in lists]
    out += [("json list", "/api/jurisdictions"), ("list", f"/needs?place={ids['district']}"),
            ("json list", f"/api/needs?place={ids['district']}"),
            ("search", f"/needs?q={_quote(word)}"), ("search", f"/api/needs?q={_quote(word)}")]
    # A phrase of several grams, a word found by the catalogue item's English name, one character, one
    # letter and one sign (anyone may send those: they read every need before migration 0057).
    out += [("search", f"/api/needs?q={_quote(q)}") for q in ("居家养老", "elderly", "孤", "q", "%")]
    for kind, key in (("needs", "need"), ("projects", "project"), ("calls", "call"), ("organisations", "org"),
                      ("scorecards", "district")):
        out += [("detail", f"/{kind}/{ids[key]}"), ("json detail", f"/api/{kind}/{ids[key]}")]
    # The buyer scorecards' index (every district's score, from the whole city's payments and ratings).
    out += [("list", "/scorecards"), ("json list", "/api/scorecards")]
    # What the city is told of its complaints and of what evaluations found: the lists, and each
    # organisation's complaint figures for every year (the most rows the figures have).
    for path in ("/complaints", "/complaints/figures?year=0", "/rectification"):
        out += [("list", path), ("json list", f"/api{path}")]
    # The procurement record as open data: a page of releases, and one call's.
    out += [("json list", "/api/ocds/releases"), ("json detail", f"/api/ocds/calls/{ids['call']}")]
    return out


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


def _recorded(path: Path) -> dict[str, Statements]:
    """The last recording of each GET target in the server's statements file."""
    found: dict[str, Statements] = {}
    if path.exists():
        with path.open("rb") as f:
            while True:
                try:
                    method, target, statements = pickle.load(f)
                except EOFError:
                    break
                if method == "GET":
                    found[target] = statements
    return found


def _own(statements: Statements) -> Statements:
    return [(sql, args) for sql, args in statements if not sql.lstrip().lower().startswith(_AROUND)]


class Served(subprocess.Popen[bytes]):
    """A `market serve` started for a bench, and the file it writes its output to."""

    log: Path


def _serve(settings: Settings, dsn: str, port: int, statements: Path) -> Served:
    env = dict(os.environ, MARKET_DATA_DIR=str(settings.data_dir), DATABASE_URL=dsn, MARKET_SECRET_KEY=settings.secret_key,
               MARKET_STATEMENTS_FILE=str(statements), MARKET_LOG_LEVEL="warning")
    path = statements.with_suffix(f".{port}.log")
    log = open(path, "wb")  # noqa: SIM115 - the server writes to it until stopped
    server = Served([sys.executable, "-m", "market", "serve", "--port", str(port)], env=env, stdout=log,
                    stderr=subprocess.STDOUT)
    server.log = path
    return server


def _stop(servers: Sequence[subprocess.Popen[bytes]], embedded: db.EmbeddedPostgres | None) -> None:
    stop_servers(servers)
    if embedded is not None:
        embedded.stop()


class Balancer:
    """What a load balancer in front of the app processes does (nginx's least_conn): each request goes
    to the process with the fewest requests in flight, over each client's keep-alive connection to it.
    Clients connected to the processes straight would each stay with one, and a process that happened
    to get more of them would answer them slower."""

    def __init__(self, ports: list[int], clients: int) -> None:
        self.conns = [[Client("127.0.0.1", port) for port in ports] for _ in range(clients)]
        self.busy = [0] * len(ports)

    async def get(self, client: int, path: str) -> tuple[int, dict[str, str], bytes]:
        target = min(range(len(self.busy)), key=self.busy.__getitem__)
        self.busy[target] += 1
        try:
            return await self.conns[client][target].get(path)
        finally:
            self.busy[target] -= 1

    def close(self) -> None:
        for conns in self.conns:
            for conn in conns:
                conn.close()


async def _healthy(server: Served, port: int) -> None:
    for _ in range(1200):  # two minutes: start-up on a busy machine is slow
        if server.poll() is not None:
            # It will not start (a migration refused, say): waiting on would say nothing for two minutes.
            said = server.log.read_text(errors="replace").strip().splitlines()
            raise RuntimeError(f"market serve exited with status {server.returncode}: "
                               f"{said[-1] if said else 'no output'} (its output: {server.log})")
        try:
            if (await Client("127.0.0.1", port).get("/health"))[0] == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("market serve did not start")


async def _concurrently(clients: int, seconds: float, one: Callable[[int], Any]) -> tuple[float, list[Span]]:
    """Run `one(worker)` in `clients` loops for `seconds`: requests a second and when each began and
    ended (time.monotonic, as `Freezes` reads it)."""
    spans: list[Span] = []
    end = time.monotonic() + seconds

    async def loop(worker: int) -> None:
        while time.monotonic() < end:
            began = time.monotonic()
            await one(worker)
            spans.append((began, time.monotonic()))
    began = time.monotonic()
    await asyncio.gather(*(loop(i) for i in range(clients)))
    return len(spans) / (time.monotonic() - began), spans


def _latencies(spans: list[Span]) -> list[float]:
    return [ended - began for began, ended in spans]


async def _in_a_row(nth: int, budget: float, one: Callable[[], Any]) -> tuple[float, float, int]:
    """The 1st and the `nth` run in a row (or the last one within `budget` seconds, and which)."""
    times = []
    end = time.perf_counter() + budget
    for i in range(nth):
        began = time.perf_counter()
        await one()
        times.append(time.perf_counter() - began)
        if i >= 1 and time.perf_counter() > end:
            break
    return times[0], times[-1], len(times)


async def _replay(conn: asyncpg.Connection, statements: Statements) -> None:
    for sql, args in statements:
        await conn.fetch(sql, *args)


async def _connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, server_settings={"role": db.APP_ROLE, "application_name": "market-bench",
                                                       "timezone": "UTC"})
    await db._init_connection(conn)
    return conn


async def _bulk_first(conn: asyncpg.Connection, settings: Settings) -> str:
    """The open data's bulk file of the day, made here where it is due, as an app process would make it
    in the run's first seconds otherwise (its build would be measured as the routes' time)."""
    start = time.perf_counter()
    made = await bulk.make_if_due(conn, storage_from_settings(settings), settings)
    if made is None:
        return "the open data's bulk file of the day was made already"
    return (f"the open data's bulk file of the day, made before the run: {made.releases:,} releases, "
            f"{made.bytes / 2**20:.1f} MiB gzipped, in {time.perf_counter() - start:.1f} s")


def _cores_note(clients: int, workers: int) -> str:
    return (f"{os.cpu_count()} cores shared by {workers} app processes, PostgreSQL and {clients} clients in this "
            f"process, which sends each request to the app process with the fewest in flight "
            f"(load {os.getloadavg()[0]:.1f} at the start)")


async def _run(settings: Settings, clients: int, seconds: float, nth: int, budget: float, workers: int,
               only: str | None) -> int:
    dsn, embedded = db.database_dsn(settings)
    workdir = Path(tempfile.mkdtemp(prefix="mkt-bench-api-"))
    statements_file = workdir / "statements.pickle"
    ports = [_free_port() for _ in range(workers)]
    servers: list[Served] = []
    conns: list[asyncpg.Connection] = []
    freezes = Freezes()
    try:
        admin = await db.connect_admin(dsn)
        try:
            routes = [r for r in await _routes(admin) if only is None or only in r[1]]
            print(await _bulk_first(admin, settings), flush=True)
        finally:
            await admin.close()
        print(_cores_note(clients, workers), flush=True)
        servers = [_serve(settings, dsn, port, statements_file) for port in ports]
        for server, port in zip(servers, ports):
            await _healthy(server, port)
        print(_ceiling(await _ceiling_rate(ports, clients, seconds)), flush=True)
        rows = []
        for kind, path in routes:
            client = Client("127.0.0.1", ports[0])
            answer: dict[str, Any] = {}

            async def request(c: Client = client, p: str = path, a: dict[str, Any] = answer) -> None:
                status, headers, body = await c.get(p, record=True)
                if status != 200:
                    raise RuntimeError(f"{p} answered {status}: {body[:300]!r}")
                a.update(statements=int(headers.get("x-statements", "0")), size=len(body))
            first, later, n = await _in_a_row(nth, budget, request)
            client.close()
            own = _own(_recorded(statements_file).get(path, []))
            fresh = await _connect(dsn)
            try:
                sql_first, sql_later, sql_n = await _in_a_row(nth, budget, partial(_replay, fresh, own))
            finally:
                await fresh.close()

            balancer = Balancer(ports, clients)
            rate, spans = await _concurrently(clients, seconds, partial(balancer.get, path=path))
            balancer.close()
            frozen = freezes.between(spans[0][0], max(ended for _, ended in spans))
            latencies, calm = _latencies(spans), _latencies(unfrozen(spans, frozen))
            while len(conns) < clients:
                conns.append(await _connect(dsn))

            async def replay(worker: int, s: Statements = own) -> None:
                await _replay(conns[worker], s)
            sql_rate, _ = await _concurrently(clients, seconds, replay)
            rows.append((kind, path, rate, _percentile(latencies, 0.5), _percentile(latencies, 0.99),
                         answer["size"], sql_rate, answer["statements"], len(own), first, later, n, sql_first,
                         sql_later, sql_n, len(frozen), sum(f[2] for f in frozen), _percentile(calm, 0.99)))
            print(_row(rows[-1]), flush=True)
        print()
        print(_table(rows))
        return 0
    finally:
        freezes.close()
        for conn in conns:
            await conn.close()
        _stop(servers, embedded)


async def _ceiling_rate(ports: list[int], clients: int, seconds: float) -> float:
    """The rate of `/health`: one `select 1` outside a transaction, no page. Every route pays at least
    its HTTP, routing and middleware, so none can answer faster than this on this machine."""
    balancer = Balancer(ports, clients)
    try:
        rate, _ = await _concurrently(clients, seconds, lambda w: balancer.get(w, "/health"))
    finally:
        balancer.close()
    return rate


def _ceiling(rate: float) -> str:
    return (f"ceiling: /health (one `select 1`, no page) {rate:.0f}/s with the same clients and processes; no route "
            f"answers faster, so a route whose own SQL answers over {2 * rate:.0f}/s cannot reach a ratio of 0.5")


def _versus(rate: float, sql_rate: float, own: int) -> tuple[str, str]:
    """The route's own SQL's rate and the ratio to it; none when the route sent no statement of its own
    (what it shows the process had kept), as replaying nothing has no rate."""
    if not own:
        return "—", "—"
    return f"{sql_rate:.1f}", f"{rate / sql_rate if sql_rate else 0:.2f}"


def _row(r: tuple[Any, ...]) -> str:
    (kind, path, rate, p50, p99, size, sql_rate, stmts, own, first, later, n, sql_first, sql_later, sql_n, frozen,
     stolen, calm) = r
    sql, ratio = _versus(rate, sql_rate, own)
    return (f"{path:<28} {kind:<11} {rate:7.1f}/s p50 {p50 * 1000:7.1f} ms p99 {p99 * 1000:7.1f} ms "
            f"({calm * 1000:.1f} ms unfrozen; {frozen} host freezes, {stolen * 10} ms stolen) "
            f"{size / 1024:7.1f} KB | SQL {sql:>7}/s ratio {ratio:>4} | "
            f"{stmts} statements ({own} its own) | 1st {first * 1000:.0f} ms, #{n} {later * 1000:.0f} ms; "
            f"SQL 1st {sql_first * 1000:.0f} ms, #{sql_n} {sql_later * 1000:.0f} ms")


def _table(rows: list[tuple[Any, ...]]) -> str:
    lines = ["| route | kind | req/s | p50 ms | p99 ms | p99 ms unfrozen | host freezes | KB | SQL req/s | ratio "
             "| statements (own) | 1st ms | 100th ms | SQL 1st ms | SQL 100th ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (kind, path, rate, p50, p99, size, sql_rate, stmts, own, first, later, n, sql_first, sql_later, sql_n, frozen,
         _, calm) in rows:
        sql, ratio = _versus(rate, sql_rate, own)
        lines.append(
            f"| `{path}` | {kind} | {rate:.1f} | {p50 * 1000:.1f} | {p99 * 1000:.1f} | {calm * 1000:.1f} | {frozen} "
            f"| {size / 1024:.0f} | {sql} | {ratio} | {stmts} ({own}) "
            f"| {first * 1000:.0f} | {later * 1000:.0f}{'' if n >= 100 else f' (#{n})'} | {sql_first * 1000:.0f} "
            f"| {sql_later * 1000:.0f}{'' if sql_n >= 100 else f' (#{sql_n})'} |")
    return "\n".join(lines)


async def _check_variants(conn: asyncpg.Connection) -> list[str]:
    """Each list route with varied filters: every level of place, status, category, search, offset."""
    places = await conn.fetch("""
        select distinct on (level) id, level from jurisdictions
         where level in ('district', 'street', 'community') order by level, id desc""")
    category = await conn.fetchval("select code from catalogue_entries where code ~ '^[0-9]{2}$' order by code "
                                   "limit 1")
    # 养老, and an English word that is also looked for in Chinese (market.core.glossary).
    filters = [""] + [f"place={p['id']}" for p in places] + ["q=%E5%85%BB%E8%80%81", "q=elderly", "offset=500"]
    if category:
        filters.append(f"category={category}")
    lists = {"needs": ["status=open"], "projects": [], "calls": [], "organisations": ["kind=provider"],
             "resources": [], "catalogue": []}
    # What the city is told of complaints and of what evaluations found, with the filters their pages offer.
    busiest = await conn.fetchval("select organisation_id from complaint_figures where year = 0 "
                                  "order by lodged desc limit 1")
    owner = await conn.fetchval("select owner_id from rectification_items order by id desc limit 1")
    by_org = [f"organisation={busiest}"] if busiest else []
    # The first year, whose rows the newest-first order reaches last.
    first = await conn.fetchval("select min(year) from complaint_figures where year > 0")
    by_year = [f"year={first}", *[f"{f}&year={first}" for f in by_org], f"place={places[0]['id']}&year={first}"] \
        if first and places else []
    told = [f"/api/complaints?{f}" for f in ["status=dispatched", "status=closed", "category=service_quality",
                                             "category=procurement_conduct", *by_org,
                                             *[f"place={p['id']}" for p in places],
                                             *[f"place={p['id']}&status=answered" for p in places], *by_year]]
    told += ["/api/complaints/figures", "/api/complaints/figures?year=0"]
    told += [f"/api/complaints/figures?year=0&place={p['id']}" for p in places]
    told += [f"/api/rectification?{f}" for f in ["status=open", "status=late", "status=verified",
                                                 *([f"organisation={owner}"] if owner else [])]]
    unfiltered = [f"/api/{name}" for name in ("funds", "fairs", "catalogue/versions", "complaints", "rectification")]
    unfiltered += ["/api/jurisdictions"] + [f"/api/jurisdictions?parent={p['id']}" for p in places]
    return [f"/api/{name}" + (f"?{f}" if f else "") for name, extra in lists.items() for f in filters + extra] \
        + told + unfiltered + [f"{u}{'&' if '?' in u else '?'}limit=10" for u in unfiltered]


async def _check(settings: Settings, rows_above: int, runs: int) -> int:
    dsn, embedded = db.database_dsn(settings)
    workdir = Path(tempfile.mkdtemp(prefix="mkt-bench-check-"))
    statements_file = workdir / "statements.pickle"
    port = _free_port()
    servers: list[Served] = []
    try:
        admin = await db.connect_admin(dsn)
        try:
            targets = await _check_variants(admin)
            servers = [_serve(settings, dsn, port, statements_file)]
            await _healthy(servers[0], port)
            client = Client("127.0.0.1", port)
            for target in targets:
                status, _, body = await client.get(target, record=True)
                if status != 200:
                    print(f"{target}: {status} {body[:200]!r} (skipped)")
            client.close()
            recorded = _recorded(statements_file)
            big = {r["relname"]: int(r["reltuples"]) for r in await admin.fetch(
                "select relname, reltuples from pg_class where relkind = 'r' and reltuples > $1", rows_above)}
            plans: list[str] = []
            admin.add_log_listener(lambda _c, message: plans.append(message.message))
            # With the rows each node read (not its timing): a scan a LIMIT stops early is not whole.
            await admin.execute("load 'auto_explain'; set auto_explain.log_min_duration = 0; "
                                "set auto_explain.log_format = json; set auto_explain.log_level = notice; "
                                "set auto_explain.log_analyze = on; set auto_explain.log_timing = off")
            scans: dict[tuple[str, str], set[str]] = {}
            executions = 0
            for _ in range(runs):
                for target in targets:
                    for sql, args in _own(recorded.get(target, [])):
                        plans.clear()
                        await admin.fetch(sql, *args)
                        await asyncio.sleep(0)  # the notices' callbacks
                        executions += 1
                        for plan in plans:
                            for relation in _seq_scans(plan, big):
                                    scans.setdefault((target.split("?")[0], relation), set()).add(target)
        finally:
            await admin.close()
        print(f"{len(targets)} list requests' statements, each run {runs} times on one connection "
              f"({executions} executions); tables above {rows_above:,} rows: {', '.join(sorted(big))}")
        for (route, relation), where in sorted(scans.items()):
            print(f"  {route}: a whole scan of {relation} ({big[relation]:,} rows), e.g. {sorted(where)[0]}")
        print("no plan scans a whole large table" if not scans else f"{len(scans)} plans scan a whole large table")
        return 1 if scans else 0
    finally:
        _stop(servers, embedded)


def _seq_scans(notice: str, big: dict[str, int]) -> list[str]:
    """The large tables (`big`: rows each) a plan auto_explain reported read whole: a sequential scan
    that read (returned or filtered out) at least half the table's rows."""
    start = notice.find("{")
    if start < 0:
        return []
    try:
        plan = json.loads(notice[start:])
    except ValueError:
        return []
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        relation = node.get("Relation Name")
        if node.get("Node Type") in ("Seq Scan", "Parallel Seq Scan") and relation in big:
            read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1)
            if read >= big[relation] / 2:
                found.append(relation)
        for child in node.get("Plans", []):
            walk(child)
    walk(plan.get("Plan", plan))
    return found


def main(settings: Settings, *, clients: int = 16, seconds: float = 3.0, nth: int = 100, budget: float = 10.0,
         workers: int = 1, only: str | None = None, check: bool = False, rows_above: int = 10_000,
         runs: int = 7) -> int:
    # The clients' own loop in C as the server's is: what they spend is processor time the server lacks.
    if check:
        return uvloop.run(_check(settings, rows_above, runs))
    return uvloop.run(_run(settings, clients, seconds, nth, budget, workers, only))
