"""`market`: serve, db upgrade|status, demo, audit verify, admin create, jurisdictions import, payments
reconcile, funding settle, match solve, bench matching, settings."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from market.app import install, load_settings
from market.core import db
from market.core.i18n import gettext
from market.core.logs import configure_logging
from market.core.settings import ENVIRONMENT, Settings, SettingsError


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        sys.exit(f"market: {exc}")


def _with_database(settings: Settings, work: Callable[[Any], Awaitable[int]], pooled: bool = False) -> int:
    """Run work(connection) against the configured database, starting the embedded one if need be;
    `pooled`: migrate, then run work(pool) with a pool like the application's."""
    dsn, embedded = db.database_dsn(settings)

    async def run() -> int:
        conn = await db.connect_admin(dsn)
        try:
            if not pooled:
                return await work(conn)
            await db.migrate(conn)
            pool = await db.create_pool(msgspec.structs.replace(settings, db_pool_min=1, db_pool_max=2), dsn)
            try:
                return await work(pool)
            finally:
                await pool.close()
        finally:
            await conn.close()
    try:
        return _run(run())
    finally:
        if embedded is not None:
            embedded.stop()


def _run(step: Awaitable[int | None]) -> int:
    """Run a database step; the usual failures become a message and exit code 2, not a traceback."""
    try:
        return asyncio.run(step) or 0  # type: ignore[arg-type]
    except db.MigrationError as exc:
        print(f"market: {exc}", file=sys.stderr)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"market: cannot use the database: {exc}", file=sys.stderr)
    return 2


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    configure_logging(settings)
    dsn, embedded = db.database_dsn(settings)

    async def prepare() -> None:
        conn = await db.connect_admin(dsn)
        try:
            applied = await db.migrate(conn)
            if applied:
                print(f"applied migrations: {', '.join(applied)}")
            if args.demo:
                from market.demo import load_demo
                print_logins(await load_demo(conn))
        finally:
            await conn.close()
    if failed := _run(prepare()):
        if embedded is not None:
            embedded.stop()
        return failed
    # Worker processes read their settings from the environment like any other process would.
    os.environ["DATABASE_URL"] = dsn
    os.environ["MARKET_SECRET_KEY"] = settings.secret_key
    print(f"公益服务市场 market: http://{args.host}:{args.port}  (Ctrl+C stops it)", flush=True)
    # uvicorn re-raises the signal that stopped it; SIGTERM's default action would kill this process
    # before the embedded PostgreSQL is stopped, so turn it into an orderly exit.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run("market.app:create_app_from_environment", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_config=None, proxy_headers=True, server_header=False)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def print_logins(logins: list[tuple[str, str, str]]) -> None:
    from market.demo import DEMO_PASSWORD

    print(f"\nDemo log-ins (password for all: {DEMO_PASSWORD}):")
    width = max(len(email) for _, email, _ in logins)
    for role, email, org in logins:
        print(f"  {email.ljust(width)}  {role:<18} {org}")
    print()


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    async def work(conn: Any) -> int:
        applied = await db.migrate(conn)
        print(f"applied: {', '.join(applied)}" if applied else "the database is up to date")
        return 0
    return _with_database(_settings(), work)


def cmd_db_status(args: argparse.Namespace) -> int:
    async def work(conn: Any) -> int:
        rows = await db.migration_status(conn)
        for row in rows:
            state = "CHANGED since applied" if row.changed else (f"applied {row.applied_at}" if row.applied_at else "pending")
            print(f"{row.name:<40} {state}")
        return 1 if any(r.changed for r in rows) else 0
    return _with_database(_settings(), work)


# The domains whose periodic jobs are clocks that record what fell due and tell people so. A generated
# city has years of history no clock has seen: they run over it once, and what they tell counts as
# emailed and read, as it would have been as it arose (a bureau's administrator opened the city on 1,220
# unread notices of one minute). Else the first app processes queued 21,900 notifications (reports
# overdue and not filed, buyers to rate) and emailed them 50 a round each for over an hour, beside
# whatever was measured meanwhile. (Funding's jobs move money through the payment provider: not history.)
CITY_CLOCKS = ("delivery", "procurement", "rectification", "buyers", "complaints")


def cmd_demo(args: argparse.Namespace) -> int:
    async def work(conn: Any) -> int:
        from market.demo import load_demo
        await db.migrate(conn)
        print_logins(await load_demo(conn))
        return 0

    async def city(conn: Any) -> int:
        import time

        from market.citygen import PASSWORD, generate
        await db.migrate(conn)
        started = time.perf_counter()
        try:
            await generate(conn, scale=args.scale, seed=args.seed)
        except RuntimeError as exc:
            print(f"market: {exc}", file=sys.stderr)
            return 2
        print(f"city loaded in {time.perf_counter() - started:.1f} s; every log-in is org<id>@city.market, "
              f"an agency's expert's org<id>.expert<n>@city.market or resident<n>@city.market, password {PASSWORD}")
        return 0

    async def catch_up(pool: Any) -> int:
        from litestar.datastructures import State

        from market.app import DOMAINS
        from market.citygen import DOMAIN
        state = State({"pool": pool, "settings": settings})
        before = await pool.fetchval("select coalesce(max(id), 0) from notifications")
        for domain in DOMAINS:
            if domain.name in CITY_CLOCKS:
                for job in domain.jobs:
                    await job(state)
        # Only what the clocks told the city's people now: anyone else's notices (a database that had
        # the demo district, or real people) are news, and wait to be emailed as ever.
        told = await pool.fetchval(
            """with told as (update notifications set email_status = 'sent', emailed_at = created_at,
                                     read_at = coalesce(read_at, created_at)
                              where id > $1 and email_status = 'pending'
                                and user_id in (select id from users where email like '%@' || $2)
                              returning 1) select count(*) from told""", before, DOMAIN)
        print(f"its clocks caught up with its history: {told} notifications, counted as emailed and read")
        return 0

    settings = _settings()
    if not args.city:
        return _with_database(settings, work)
    return _with_database(settings, city) or _with_database(settings, catch_up, pooled=True)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    async def work(conn: Any) -> int:
        from market.audit.services import verify_chain
        count, breaks = await verify_chain(conn)
        for b in breaks:
            print(f"entry {b.id}: {b.reason}")
        print(f"{count} audit entries checked: " + ("the chain is intact" if not breaks else f"{len(breaks)} problems"))
        return 1 if breaks else 0
    return _with_database(_settings(), work)


def cmd_opendata_export(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(pool: Any) -> int:
        from market.opendata import bulk
        from market.storage.services import storage_from_settings
        async with pool.acquire() as conn:
            made = await bulk.make(conn, storage_from_settings(settings), settings)
        print(f"{made.releases} releases, {made.bytes} bytes gzipped, sha256 {made.sha256}: served at {bulk.PATH}")
        return 0
    return _with_database(settings, work, pooled=True)


def cmd_admin_create(args: argparse.Namespace) -> int:
    password = os.environ.get("MARKET_ADMIN_PASSWORD") or getpass.getpass("Password for the new platform admin: ")

    async def work(conn: Any) -> int:
        from market.core.errors import MarketError
        from market.demo import create_platform_admin
        await db.migrate(conn)
        try:
            async with conn.transaction():
                user_id = await create_platform_admin(conn, args.email, args.name, password)
        except MarketError as exc:
            print(f"market: {exc.text()} {exc.field_errors() or ''}", file=sys.stderr)
            return 2
        print(f"platform administrator {args.email} is user {user_id}")
        return 0
    return _with_database(_settings(), work)


def cmd_jurisdictions_import(args: argparse.Namespace) -> int:
    import csv

    with open(args.file, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))

    async def work(conn: Any) -> int:
        from market.core.errors import MarketError
        from market.places.services import import_jurisdictions
        await db.migrate(conn)
        try:
            async with conn.transaction():
                added = await import_jurisdictions(conn, rows)
        except MarketError as exc:
            print("market: " + gettext("%(problem)s (nothing was imported)", problem=exc.text()), file=sys.stderr)
            return 2
        print(gettext("%(added)s jurisdictions added, %(kept)s already there.", added=added, kept=len(rows) - added))
        return 0
    return _with_database(_settings(), work)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(gettext("a date such as 2026-11-01")) from None


def cmd_payments_reconcile(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(pool: Any) -> int:
        from market.core.errors import Unavailable
        from market.funding.payments.gateways import gateway_from_settings
        from market.funding.payments.online import reconcile
        gateway = gateway_from_settings(settings)
        if not gateway.online:
            print(gettext("Online payment is not set up here (MARKET_PAYMENT_BACKEND=offline): nothing to "
                          "reconcile."))
            return 0
        try:
            report = await reconcile(pool, gateway, datetime.combine(args.since, time.min,
                                                                      ZoneInfo(settings.timezone)))
        except Unavailable as exc:
            print(f"market: {exc.text()}", file=sys.stderr)
            return 2
        for event, what in report:
            created = datetime.fromtimestamp(event["created"], ZoneInfo(settings.timezone))
            print(f"{created:%Y-%m-%d %H:%M:%S}  {event['id']}  {event['type']:<32} {what}")
        repaired = sum(1 for _, what in report if what.startswith("repaired"))
        print(gettext("%(count)s events since %(date)s; %(repaired)s repaired.", count=len(report),
                      date=f"{args.since:%Y-%m-%d}", repaired=repaired))
        return 0
    return _with_database(settings, work, pooled=True)


def cmd_funding_settle(args: argparse.Namespace) -> int:
    async def work(pool: Any) -> int:
        from market.funding.pledges.services import settle_due
        print(gettext("%(count)s projects with an all-or-nothing deadline passed were settled.",
                      count=await settle_due(pool)))
        return 0
    return _with_database(_settings(), work, pooled=True)


def cmd_match_solve(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from market.core.errors import InvalidFields, MarketError
    from market.matching.solver.solve import parse, solve

    try:
        data = Path(args.input).read_bytes()
    except OSError as exc:
        print(f"market: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        instance = parse(data)
        result = solve(instance, time_limit=args.time_limit)
    except MarketError as exc:
        problems = exc.errors if isinstance(exc, InvalidFields) else [exc]
        for problem in problems:
            print(f"market: {problem.field + ': ' if problem.field else ''}{problem.text()}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    try:
        Path(args.out).write_bytes(msgspec.json.encode(result) + b"\n")
    except OSError as exc:
        print(f"market: {exc}", file=sys.stderr)
        return 2
    print(gettext("%(assigned)s of %(needs)s needs assigned, %(funded)s fen funded, objective %(objective)s, "
                  "upper bound %(bound)s, gap %(gap)s, %(seconds)s s",
                  assigned=len(result.assignments), needs=len(instance.needs),
                  funded=sum(f.amount for f in result.funding), objective=f"{result.objective:.2f}",
                  bound=f"{result.upper_bound:.2f}", gap=f"{result.gap:.3%}", seconds=f"{seconds:.2f}"))
    return 0


def _city_run(settings: Settings, args: argparse.Namespace, keep: bool) -> int:
    """A city-wide rolling docking run as the platform; kept (`market match run --platform`) or rolled
    back once measured (`market bench docking`)."""
    async def work(conn: Any) -> int:
        from market.core.errors import MarketError
        from market.matching.docking import citywide
        from market.matching.scoring.weights import configured as configured_weights

        def progress(stage: str, seconds: float) -> None:
            print(f"  {stage:<12} {seconds:8.1f} s", flush=True)
        tx = conn.transaction()
        await tx.start()
        try:
            owner, user = await citywide.platform_owner(conn, args.as_email)
            report = await citywide.run_platform(conn, owner, user, configured_weights(settings),
                                                 time_limit=args.time_limit, progress=progress)
        except MarketError as exc:
            await tx.rollback()
            print(f"market: {exc.text()}", file=sys.stderr)
            return 2
        except BaseException:
            await tx.rollback()
            raise
        await (tx.commit() if keep else tx.rollback())
        total = sum(report.seconds.values())
        inside = ", ".join(f"{k} {v:.1f} s" for k, v in report.candidate_seconds.items())
        print(f"docking run {report.run_id if keep else '(rolled back)'}: {report.projects} projects, "
              f"{report.provider_edges} provider edges, {report.funder_edges} funder edges, "
              f"{report.assignments} assigned")
        print(f"  candidates: {inside}")
        print(f"  total {total:.1f} s; peak memory (maxrss) {report.peak_mib:.0f} MiB")
        print(f"  objective {report.objective:.2f}, upper bound {report.upper_bound:.2f}, gap {report.gap:.3%}")
        return 0
    return _with_database(settings, work)


def cmd_match_run(args: argparse.Namespace) -> int:
    if not args.platform:
        print("market: a run from the command line is the platform-wide one: add --platform (a buyer or "
              "foundation runs its own on /docking)", file=sys.stderr)
        return 2
    return _city_run(_settings(), args, keep=True)


def cmd_bench_docking(args: argparse.Namespace) -> int:
    return _city_run(_settings(), args, keep=False)


def cmd_bench_matching(args: argparse.Namespace) -> int:
    from market.matching.solver.bench import GRID, SIZES
    from market.matching.solver.bench import main as bench

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        print(f"market: sizes are {', '.join(SIZES)}", file=sys.stderr)
        return 2
    cells = [c.strip() for c in args.cells.split(",") if c.strip()] if args.cells else None
    if cells and any(c not in GRID for c in cells):
        print(f"market: cells are {', '.join(GRID)}", file=sys.stderr)
        return 2
    return bench(sizes, args.seed, cells, args.jobs)


def cmd_bench_api(args: argparse.Namespace) -> int:
    from market.benches.api import main as bench

    return bench(_settings(), clients=args.clients, seconds=args.seconds, nth=args.nth, budget=args.budget,
                 workers=args.workers, only=args.only, check=args.check, rows_above=args.rows_above, runs=args.runs)


def cmd_bench_walk(args: argparse.Namespace) -> int:
    from market.benches.walk import main as bench
    return bench(_settings(), pages=args.pages, per_shape=args.per_shape, lang=args.lang, slow=args.slow,
                 large=args.large)


def cmd_bench_fair(args: argparse.Namespace) -> int:
    from market.benches.fair import main as bench

    return bench(args.phones, args.boards, args.spread, args.seed)


def cmd_settings(args: argparse.Namespace) -> int:
    for var, (_, text) in ENVIRONMENT.items():
        print(f"{var:<30} {text}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="market", description="公益服务市场 — the public service market")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve the web application")
    serve.add_argument("--demo", action="store_true", help="load the demo district first (idempotent)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    dbp = sub.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    dbp.add_parser("upgrade", help="apply pending migrations").set_defaults(func=cmd_db_upgrade)
    dbp.add_parser("status", help="list applied and pending migrations").set_defaults(func=cmd_db_status)

    demo = sub.add_parser("demo", help="load the demo district and print its log-ins")
    demo.add_argument("--city", action="store_true", help="instead, generate a whole city (market/citygen.py)")
    demo.add_argument("--scale", type=float, default=1.0, help="the city's size, 1.0 = 16 districts, ~6,000 "
                                                               "communities, 100,000 needs (with --city)")
    demo.add_argument("--seed", type=int, default=1, help="the same seed and day give the same city (with --city)")
    demo.set_defaults(func=cmd_demo)

    auditp = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    auditp.add_parser("verify", help="check the audit trail's hash chain").set_defaults(func=cmd_audit_verify)

    adminp = sub.add_parser("admin", help="platform administrators").add_subparsers(dest="admin_command", required=True)
    create = adminp.add_parser("create", help="create a platform administrator (password from "
                                              "$MARKET_ADMIN_PASSWORD or a prompt)")
    create.add_argument("email")
    create.add_argument("--name", default="平台管理员")
    create.set_defaults(func=cmd_admin_create)

    jur = sub.add_parser("jurisdictions", help="the jurisdiction tree").add_subparsers(
        dest="jurisdictions_command", required=True)
    imp = jur.add_parser("import", help="add jurisdictions from a CSV file with the columns code, parent_code, "
                                        "level (district/street/community/grid), name_zh, name_en")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_jurisdictions_import)

    pay = sub.add_parser("payments", help="online payments").add_subparsers(dest="payments_command", required=True)
    rec = pay.add_parser("reconcile", help="list Stripe's events since a date, apply any the webhook missed, "
                                           "and send refunds still waiting")
    rec.add_argument("--since", type=_date, required=True, help="YYYY-MM-DD")
    rec.set_defaults(func=cmd_payments_reconcile)

    fund = sub.add_parser("funding", help="pledges and funds").add_subparsers(dest="funding_command", required=True)
    fund.add_parser("settle", help="settle all-or-nothing pledges whose deadline has passed (each app process "
                                   "also does this every MARKET_NOTIFY_SECONDS)").set_defaults(func=cmd_funding_settle)

    opendata = sub.add_parser("opendata", help="the open data (OCDS)").add_subparsers(dest="opendata_command",
                                                                                    required=True)
    opendata.add_parser("export", help="make the bulk file of every release now (each app process also makes it "
                                       "once a day)").set_defaults(func=cmd_opendata_export)

    match = sub.add_parser("match", help="the docking of needs, providers and funders").add_subparsers(
        dest="match_command", required=True)
    msolve = match.add_parser("solve", help="solve a docking problem in a JSON file (see market/matching/solver.py "
                                            "for its shape) and write the result as JSON")
    msolve.add_argument("input")
    msolve.add_argument("--out", required=True, help="where to write the result")
    msolve.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    msolve.set_defaults(func=cmd_match_solve)

    mrun = match.add_parser("run", help="a rolling docking run over every project waiting for a provider, kept "
                                        "as the platform's (stages timed)")
    mrun.add_argument("--platform", action="store_true", help="over the whole platform (required)")
    mrun.add_argument("--as", dest="as_email", default=None, help="the platform administrator it is run as "
                                                                  "(default: the first)")
    mrun.add_argument("--time-limit", type=float, default=60.0, help="the solver's seconds (default 60)")
    mrun.set_defaults(func=cmd_match_run)

    bench = sub.add_parser("bench", help="benchmarks (figures, not tests)").add_subparsers(
        dest="bench_command", required=True)
    bmatch = bench.add_parser("matching", help="time, peak memory, objective, bound and gap of the docking "
                                               "solver on generated instances")
    bmatch.add_argument("--sizes", default="district,city", help="comma-separated: district, city")
    bmatch.add_argument("--seed", type=int, default=None, help="one seed (default: each size's seeds)")
    bmatch.add_argument("--cells", default=None, help="comma-separated cells of the grid (default: all; see "
                                                      "market/matching/bench.py)")
    bmatch.add_argument("--jobs", type=int, default=1, help="solves at once (2: the other core busy)")
    bmatch.set_defaults(func=cmd_bench_matching)
    bdock = bench.add_parser("docking", help="a city-wide rolling docking run end to end against the database "
                                             "(e.g. one from `market demo --city`): seconds per stage, peak "
                                             "memory, edges, objective, bound and gap; the run is rolled back")
    bdock.add_argument("--as", dest="as_email", default=None, help="the platform administrator it runs as")
    bdock.add_argument("--time-limit", type=float, default=60.0, help="the solver's seconds (default 60)")
    bdock.set_defaults(func=cmd_bench_docking)
    bfair = bench.add_parser("fair", help="a live fair on two app processes: phones raising paddles, boards "
                                          "following; lost or doubled pledges and confirm-to-board latency")
    bfair.add_argument("--phones", type=int, default=200, help="funders' phones, one raise each (default 200)")
    bfair.add_argument("--boards", type=int, default=50, help="open boards, half on each process (default 50)")
    bfair.add_argument("--spread", type=float, default=60.0, help="seconds over which the raises come (default 60)")
    bfair.add_argument("--seed", type=int, default=1, help="for the moments of the raises")
    bfair.set_defaults(func=cmd_bench_fair)

    bapi = bench.add_parser("api", help="the public lists, their JSON twins, a search and detail pages against "
                                        "the configured database (a generated city) with concurrent clients: "
                                        "req/s, p50, p99, size, statements, and the same SQL straight through "
                                        "asyncpg; --check: plans that scan a whole large table")
    bapi.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    bapi.add_argument("--seconds", type=float, default=3.0, help="seconds of load per route and side (default 3)")
    bapi.add_argument("--nth", type=int, default=100, help="the request in a row compared with the 1st (default 100)")
    bapi.add_argument("--budget", type=float, default=10.0, help="seconds a route may take to reach it (default 10)")
    bapi.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                      help="app processes measured, each request sent to the one with the fewest in flight, "
                           "as a load balancer does (default: one a core)")
    bapi.add_argument("--only", default=None, help="only the routes whose path contains this")
    bapi.add_argument("--check", action="store_true", help="exit 1 when a list's plan scans a whole large table")
    bapi.add_argument("--rows-above", type=int, default=10_000, help="what a large table is, for --check "
                                                                     "(default 10,000 rows)")
    bapi.add_argument("--runs", type=int, default=7, help="times each list statement runs, for --check (default 7)")
    bapi.set_defaults(func=cmd_bench_api)

    bwalk = bench.add_parser("walk", help="the busiest person of each kind on the configured database (a "
                                          "generated city) follows the links from their workbench: pages that "
                                          "fail, refuse their reader, or are slow or large; exit 1 on a failure "
                                          "or a refusal")
    bwalk.add_argument("--pages", type=int, default=200, help="pages a person (default 200)")
    bwalk.add_argument("--per-shape", type=int, default=3, help="addresses of one shape, ids as N (default 3)")
    bwalk.add_argument("--lang", default="zh_Hans", choices=["zh_Hans", "en"], help="the pages' language")
    bwalk.add_argument("--slow", type=float, default=300, help="a page slower than this many ms is named (300)")
    bwalk.add_argument("--large", type=int, default=200, help="a page larger than this many KB is named (200)")
    bwalk.set_defaults(func=cmd_bench_walk)

    sub.add_parser("settings", help="list every setting (environment variable)").set_defaults(func=cmd_settings)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    install()
    return args.func(args)
