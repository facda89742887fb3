"""`market bench fair`: a fair at its real size. Not a test: figures for the record.

One embedded PostgreSQL with the demo district, two `market serve` processes on it (as behind a load
balancer), the demo's spring fair live, and then at once:

* `boards` projector boards open on the fair's event stream, half on each process;
* `phones` funders' phones, each signed in for a funder organisation of its own, each raising a
  paddle once at a random moment within `spread` seconds: the first tap (propose an amount) and,
  a moment later, the second (confirm), each tap sent to both processes at once, as a phone on a
  shaky network sends a tap again before the first answer arrives.

Then it counts in the database: every raise must be exactly one pledge (none lost, none doubled).
And it measures, for every confirmed raise and every board, the time from the confirming tap to
the first board showing that raise's funder (each phone's organisation has its own name on the
board, so each raise is recognised on it): p50 and p99 over every raise and board, and of the time
until the last of all boards shows it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from functools import cache
from pathlib import Path

import asyncpg
import httpx

from market.benches import stop_servers
from market.core import db
from market.accounts import services as accounts
from market.matching.fairs import services as fairs
from market.organisations import credit_code
from market.organisations import services as organisations
from market.core.settings import load_settings

SPRING_FAIR = "2027年上城区公益对对碰（春季）"  # the demo's fair that is open, ready to go live
PHONE_NAME = "举牌测试{:04d}"
SECRET = "b" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User and system processor seconds of a running process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _prepare(dsn: str, settings, phones: int) -> tuple[int, list[int], list[str]]:
    """Demo data, the spring fair live, and `phones` funder organisations registered for it, each
    with a signed-in user. The fair, its projects, and the phones' session tokens."""
    from market.demo import load_demo

    conn = await db.connect_admin(dsn)
    try:
        await db.migrate(conn)
        await load_demo(conn)
        fair = await conn.fetchrow("select id, organiser_id from fairs where title_zh = $1", SPRING_FAIR)
        projects = [r["project_id"] for r in await conn.fetch(
            "select project_id from fair_items where fair_id = $1 order by position", fair["id"])]
        district = await conn.fetchval("select id from jurisdictions where level = 'district' order by id limit 1")
        organiser = await conn.fetchval("select user_id from memberships where organisation_id = $1 and role = 'admin' "
                                        "order by user_id limit 1", fair["organiser_id"])
        tokens = []
        async with conn.transaction():
            bureau = await accounts.identity_for(conn, await accounts.start_session(conn, settings, organiser))
            assert bureau is not None  # its session has just been started
            await fairs.move(conn, bureau, fair["id"], "go_live")
            for i in range(phones):
                name = PHONE_NAME.format(i)
                org_id = await organisations.insert_organisation(
                    conn, kind="funder", subtype="enterprise", name_zh=name, name_en=f"Paddle test {i:04d}",
                    credit_code=credit_code.make("91", "330102", f"PB{i:06d}"), jurisdiction_id=district, rating=None,
                    registration_date=None, description="", contact_name="", contact_phone="0571-0000",
                    contact_email="", address="", status="verified")
                user_id = await accounts.insert_user(conn, email=f"paddle{i:04d}@bench.test", display_name=name,
                                                             password_hash="x", community_id=None, locale="zh_Hans")
                # The database is new (see _run): nobody has these credit codes and emails yet.
                assert org_id is not None and user_id is not None
                await accounts.insert_membership(conn, user_id=user_id, organisation_id=org_id, role="admin")
                await conn.execute("insert into fair_funders (fair_id, funder_id, registered_by) values ($1, $2, $3)",
                                   fair["id"], org_id, user_id)
                tokens.append(await accounts.start_session(conn, settings, user_id))
        return fair["id"], projects, tokens
    finally:
        await conn.close()


def _serve(dsn: str, data_dir: str, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(DATABASE_URL=dsn, MARKET_DATA_DIR=data_dir, MARKET_SECRET_KEY=SECRET, MARKET_LOG_LEVEL="warning",
               MARKET_NOTIFY_SECONDS="0")
    with open(Path(data_dir) / f"serve-{port}.log", "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "market", "serve", "--port", str(port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every phone: httpx builds one per client otherwise, 58 processor ms each
    here, and 200 phones in a burst then spent more of this process than the boards did, delaying
    the taps and the readings the bench takes."""
    return ssl.create_default_context()


async def _tap(phone: httpx.AsyncClient, url: str, retries: list[int], **kw) -> httpx.Response:
    """A tap, sent again (the same request, so the same raise) if the connection drops before an
    answer, as a phone does."""
    for attempt in range(3):
        try:
            return await phone.post(url, **kw)
        except httpx.TransportError:
            if attempt == 2:
                raise
            retries.append(1)
    raise AssertionError("unreachable")


async def _healthy(base: str) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(1200):  # two minutes: start-up is slow on a busy machine
            try:
                if (await probe.get(base + "/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


class Board:
    """One projector's event stream: when each funder first appeared on it. Like a browser's
    EventSource it connects again when the stream ends or fails, and counts that."""

    def __init__(self, base: str, fair_id: int) -> None:
        self.base, self.fair_id = base, fair_id
        self.first_seen: dict[str, float] = {}
        self.ready = asyncio.Event()
        self.events = 0
        self.reconnects: list[str] = []

    async def watch(self) -> None:
        while True:
            try:
                await self._follow()
                self.reconnects.append("ended")
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                self.reconnects.append(type(exc).__name__)
            await asyncio.sleep(0.5)

    async def _follow(self) -> None:
        """The stream read over a bare connection (HTTP/1.1, chunked): fifty boards read through
        an HTTP client library took more processor time than both app processes together, time
        the two cores then lacked to serve the phones."""
        host, port = self.base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(f"GET /fairs/{self.fair_id}/events HTTP/1.1\r\nHost: {host}\r\n"
                         "Accept: text/event-stream\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200") or b"chunked" not in head.lower():
                raise ValueError(head.split(b"\r\n", 1)[0].decode())
            buffer = b""
            event: bytes | None = None
            data: list[bytes] = []
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                buffer += await reader.readexactly(size)
                await reader.readexactly(2)
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    line = line.rstrip(b"\r")
                    if not line:  # the end of one event: its data lines joined, as EventSource does
                        if event == b"board" and data:
                            self._board(json.loads(b"\n".join(data)))
                        event, data = None, []
                    elif line.startswith(b"event:"):
                        event = line[6:].strip()
                    elif line.startswith(b"data:"):
                        data.append(line[6:] if line.startswith(b"data: ") else line[5:])
        finally:
            writer.close()

    def _board(self, board: dict) -> None:
        now = time.perf_counter()
        self.events += 1
        for item in board["items"]:
            for name in item["funders"]:
                self.first_seen.setdefault(name, now)
        self.ready.set()


async def _phone(i: int, token: str, bases: list[str], fair_id: int, project: int, delay: float,
                 confirmed_at: dict[str, float], answered_at: dict[str, float], problems: list[str],
                 retries: list[int]) -> None:
    """Wait, raise (first tap), confirm (second tap); each tap sent to both processes at once."""
    await asyncio.sleep(delay)
    try:
        await _raise_and_confirm(i, token, bases, fair_id, project, confirmed_at, answered_at, problems, retries)
    except httpx.HTTPError as exc:
        problems.append(f"phone {i}: {type(exc).__name__} {exc}")


async def _raise_and_confirm(i: int, token: str, bases: list[str], fair_id: int, project: int,
                             confirmed_at: dict[str, float], answered_at: dict[str, float], problems: list[str],
                             retries: list[int]) -> None:
    async with httpx.AsyncClient(cookies={"market_session": token}, timeout=60, verify=_tls()) as phone:
        await phone.get(bases[i % 2] + "/health")  # the CSRF cookie
        phone.headers["x-csrftoken"] = phone.cookies.get("market_csrf") or ""
        raise_id = str(uuid.uuid4())
        body = {"project_id": project, "amount_fen": 1_000_00 + 100 * i, "token": raise_id}
        taps = await asyncio.gather(*(_tap(phone, f"{b}/api/fairs/{fair_id}/raises", retries, json=body)
                                      for b in bases))
        if any(t.status_code != 201 for t in taps):
            problems.append(f"phone {i}: raise answered {[t.status_code for t in taps]} {taps[0].text[:200]}")
            return
        await asyncio.sleep(0.3)  # the funder reads the amount back before confirming
        tapped = time.perf_counter()
        taps = await asyncio.gather(*(_tap(phone, f"{b}/api/fairs/{fair_id}/raises/{raise_id}/confirm", retries)
                                      for b in bases))
        if any(t.status_code != 201 for t in taps) or len({t.json()["pledge_id"] for t in taps}) != 1:
            problems.append(f"phone {i}: confirm answered {[t.status_code for t in taps]} {taps[0].text[:200]}")
            return
        confirmed_at[PHONE_NAME.format(i)] = tapped
        answered_at[PHONE_NAME.format(i)] = time.perf_counter()


async def _run(phones: int, boards: int, spread: float, seed: int) -> int:
    data_dir = tempfile.mkdtemp(prefix="mkt-fair-")
    procs: list[subprocess.Popen] = []
    server = db.EmbeddedPostgres(Path(data_dir))
    try:
        started = time.perf_counter()
        settings = load_settings({"MARKET_DATA_DIR": data_dir, "MARKET_SECRET_KEY": SECRET})
        fair_id, projects, tokens = await _prepare(server.dsn, settings, phones)
        ports = [_free_port(), _free_port()]
        procs = [_serve(server.dsn, data_dir, port) for port in ports]
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        await asyncio.gather(*(_healthy(b) for b in bases))
        print(f"set up in {time.perf_counter() - started:.1f} s: demo data, fair {fair_id} live, {phones} funders "
              f"signed in, two app processes", flush=True)

        screens = [Board(bases[i % 2], fair_id) for i in range(boards)]
        watchers = [asyncio.create_task(s.watch()) for s in screens]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in screens)), 60)

        rng = random.Random(seed)
        confirmed_at: dict[str, float] = {}
        answered_at: dict[str, float] = {}  # when the later of a confirm's two taps was answered
        problems: list[str] = []
        retries: list[int] = []
        began = time.perf_counter()
        await asyncio.gather(*(_phone(i, t, bases, fair_id, projects[i % len(projects)], rng.uniform(0, spread),
                                      confirmed_at, answered_at, problems, retries) for i, t in enumerate(tokens)))
        tapping = time.perf_counter() - began
        # Let the last boards arrive (a board that never shows a raise counts as missing).
        settle = time.perf_counter() + 10
        while time.perf_counter() < settle and not all(set(confirmed_at) <= set(s.first_seen) for s in screens):
            await asyncio.sleep(0.05)
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)

        conn = await asyncpg.connect(server.dsn)
        try:
            counts = await conn.fetchrow(
                """select count(*) as raises, count(*) filter (where r.status = 'confirmed') as confirmed,
                          count(distinct r.pledge_id) as pledges,
                          (select count(*) from pledges p join organisations o on o.id = p.funder_id
                            where o.name_zh like '举牌测试%') as pledge_rows
                     from fair_raises r join organisations o on o.id = r.funder_id
                    where r.fair_id = $1 and o.name_zh like '举牌测试%'""", fair_id)
        finally:
            await conn.close()
        each = [s.first_seen[name] - at for name, at in confirmed_at.items() for s in screens if name in s.first_seen]
        every = [max(s.first_seen[name] for s in screens) - at for name, at in confirmed_at.items()
                 if all(name in s.first_seen for s in screens)]
        missing = sum(1 for name in confirmed_at for s in screens if name not in s.first_seen)
        lost = phones - counts["pledge_rows"] if counts["pledge_rows"] < phones else 0
        doubled = max(0, counts["pledge_rows"] - counts["pledges"]) + max(0, counts["pledges"] - phones)
        print(f"{phones} phones, {boards} boards, raises over {spread:g} s (all taps done in {tapping:.1f} s), "
              f"load {os.getloadavg()[0]:.1f}")
        print(f"raises {counts['raises']}, confirmed {counts['confirmed']}, pledges {counts['pledge_rows']} "
              f"(distinct {counts['pledges']}): lost {lost}, doubled {doubled}, phone errors {len(problems)}, "
              f"taps sent again after a dropped connection {len(retries)}")
        answers = [answered_at[name] - at for name, at in confirmed_at.items()]
        after = [max(s.first_seen[name] for s in screens) - answered_at[name] for name in confirmed_at
                 if all(name in s.first_seen for s in screens)]
        print(f"confirm -> its answer: p50 {_percentile(answers, 0.5):.3f} s, p99 {_percentile(answers, 0.99):.3f} s; "
              f"answer -> on every board: p50 {_percentile(after, 0.5):.3f} s, p99 {_percentile(after, 0.99):.3f} s "
              f"(negative: the boards had it first)")
        print(f"confirm -> board, each raise on each board ({len(each)}): p50 {_percentile(each, 0.5):.3f} s, "
              f"p99 {_percentile(each, 0.99):.3f} s, max {max(each, default=float('nan')):.3f} s; "
              f"missing {missing}")
        print(f"confirm -> on every board ({len(every)} raises): p50 {_percentile(every, 0.5):.3f} s, "
              f"p99 {_percentile(every, 0.99):.3f} s; board updates received {sum(s.events for s in screens)}, "
              f"streams connected again {sum(len(s.reconnects) for s in screens)} "
              f"({', '.join(sorted(set(r for s in screens for r in s.reconnects)))})")
        for p in problems[:10]:
            print(p, file=sys.stderr)
        if problems or retries:
            for log in sorted(Path(data_dir).glob("serve-*.log")):
                print(f"{log.name}:", log.read_text(errors="replace")[-3000:], file=sys.stderr)
        cpu = {name: _cpu_seconds(proc.pid) for name, proc in (("app 1", procs[0]), ("app 2", procs[1]))}
        print("processor seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
              + f", this process {time.process_time():.1f}")
        ok = not problems and not missing and not lost and not doubled and counts["pledge_rows"] == phones
        return 0 if ok else 1
    finally:
        stop_servers(procs)
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(phones: int = 200, boards: int = 50, spread: float = 60.0, seed: int = 1) -> int:
    return asyncio.run(_run(phones, boards, spread, seed))
