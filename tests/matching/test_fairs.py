"""The charity matchmaking fair: its steps, paddle raises that pledge once, the board, and the board
kept live across two app processes by PostgreSQL's LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from market.accounts import services as accounts
from market.core import clock
from market.core.errors import Conflict, Forbidden, InvalidFields, NotFound
from market.funding.pledges import services as pledges
from market.matching.fairs import services as fairs
from market.matching.fairs.models import (
    FAIR_STATUS_NAMES,
    ItemInput,
    RaiseInput,
    FunderRaised,
)
from market.matching.scoring.weights import Weights, configured
from tests.conftest import act_as, landed, post_form
from tests.factories import do, fair_input, live_fair, pay_pledge, second_funder, travel, who

W = Weights()


def test_the_fair_and_its_paddles_have_these_life_cycles():
    """Every move of both is walked, allowed and refused, by tests/test_structure.py."""
    assert {(t.action, t.source): t.target for t in fairs.FAIR.transitions} == {
        ("add_item", "draft"): "draft", ("add_item", "open"): "open", ("open", "draft"): "open",
        ("go_live", "open"): "live", ("stage", "live"): "live", ("close", "live"): "closed"}
    assert set(fairs.FAIR.statuses) == set(FAIR_STATUS_NAMES)
    assert {(t.action, t.source): t.target for t in fairs.RAISE.transitions} == {("confirm", "proposed"): "confirmed"}


async def test_a_fair_from_setup_to_report(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    funder = await who(pool, settings, world, "funder_admin")
    with pytest.raises(Forbidden):
        await do(pool, fairs.create, await who(pool, settings, world, "provider_admin"), fair_input())
    with pytest.raises(InvalidFields):
        await do(pool, fairs.create, bureau, fair_input(ends_at=datetime.now(UTC) - timedelta(hours=1)))
    fair_id = await do(pool, fairs.create, bureau, fair_input())
    with pytest.raises(NotFound):  # a draft is the organiser's
        await do(pool, fairs.get, funder, fair_id)
    with pytest.raises(Conflict):
        await do(pool, fairs.move, bureau, fair_id, "open")  # nothing in the running order
    await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=project, target_fen=100_000_00), W)
    with pytest.raises(InvalidFields):
        await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=project, target_fen=1_00), W)
    with pytest.raises(Forbidden):
        await do(pool, fairs.move, funder, fair_id, "open")
    await do(pool, fairs.move, bureau, fair_id, "open")
    with pytest.raises(Forbidden):  # not registered yet
        await do(pool, fairs.mark_interest, funder, fair_id, project)
    await do(pool, fairs.register, funder, fair_id)
    await do(pool, fairs.register, funder, fair_id)  # twice is once
    await do(pool, fairs.mark_interest, funder, fair_id, project)
    async with pool.acquire() as conn:
        assert await fairs.interests(conn, fair_id) == {project: 1}
    early = RaiseInput(project_id=project, amount_fen=10_000_00, token=uuid.uuid4())
    with pytest.raises(Conflict):  # not live yet
        await do(pool, fairs.raise_paddle, funder, fair_id, early)
    await do(pool, fairs.move, bureau, fair_id, "go_live")

    token = await do(pool, fairs.raise_paddle, funder, fair_id, early)
    assert await do(pool, fairs.raise_paddle, funder, fair_id, early) == token  # the same tap again
    with pytest.raises(Conflict, match=r"10,000\.00"):  # the token with another amount: the first one stands
        await do(pool, fairs.raise_paddle, funder, fair_id, RaiseInput(project_id=project, amount_fen=1_00,
                                                                         token=early.token))
    assert await pool.fetchval("select count(*) from pledges") == 0  # a first tap pledges nothing
    pledge = await do(pool, fairs.confirm_raise, funder, fair_id, token)
    assert await do(pool, fairs.confirm_raise, funder, fair_id, token) == pledge  # a double tap pledges once
    assert await pool.fetchval("select count(*) from pledges") == 1
    row = await pool.fetchrow("select * from pledges where id = $1", pledge)
    assert (row["project_id"], row["amount_fen"], row["status"]) == (project, 10_000_00, "pledged")
    other = await who(pool, settings, world, "provider_admin")
    with pytest.raises(Forbidden):
        await do(pool, fairs.confirm_raise, other, fair_id, token)

    async with pool.acquire() as conn:
        board = await fairs.board(conn, fair_id)
    assert (board.raised_fen, board.raises, board.funders, board.on_stage) == (10_000_00, 1, 1, 1)
    assert board.items[0].funders == ["测试funder"] and not board.items[0].reached
    with pytest.raises(Conflict):
        await do(pool, fairs.report, bureau, fair_id)
    second = await do(pool, fairs.raise_paddle, funder, fair_id, RaiseInput(project_id=project, amount_fen=5_000_00,
                                                                              token=uuid.uuid4()))
    withdrawn = await do(pool, fairs.confirm_raise, funder, fair_id, second)
    await do(pool, fairs.move, bureau, fair_id, "close")
    with pytest.raises(Conflict):
        await do(pool, fairs.raise_paddle, funder, fair_id, RaiseInput(project_id=project, amount_fen=1_00,
                                                                         token=uuid.uuid4()))
    report = await do(pool, fairs.report, None, fair_id)
    assert report.board.raised_fen == 15_000_00 and report.docked == 1
    assert (report.paid_fen, report.awaiting_fen, report.withdrawn_fen) == (0, 15_000_00, 0)
    # What became of the paddles since: one paid in, one withdrawn by its funder.
    await pay_pledge(pool, settings, world, pledge)
    await do(pool, pledges.cancel, funder, withdrawn)
    report = await do(pool, fairs.report, None, fair_id)
    assert report.by_funder == [FunderRaised(name_zh="测试funder", name_en=report.by_funder[0].name_en, raises=2,
                                             amount_fen=15_000_00, paid_fen=10_000_00, withdrawn_fen=5_000_00)]
    assert (report.paid_fen, report.awaiting_fen, report.withdrawn_fen) == (10_000_00, 0, 5_000_00)


async def test_an_all_or_nothing_target_makes_fair_pledges_conditional(pool, settings, world, project):
    fair_id = await live_fair(pool, settings, world, project, all_or_nothing=True)
    funder = await who(pool, settings, world, "funder_admin")
    token = await do(pool, fairs.raise_paddle, funder, fair_id,
                      RaiseInput(project_id=project, amount_fen=20_000_00, token=uuid.uuid4()))
    pledge = await pool.fetchrow("select * from pledges where id = $1",
                                 await do(pool, fairs.confirm_raise, funder, fair_id, token))
    ends = await pool.fetchval("select ends_at from fairs where id = $1", fair_id)
    assert (pledge["condition_target_fen"], pledge["condition_deadline"]) == (100_000_00, ends)


async def test_the_paddle_pages_take_two_taps(client, pool, settings, world, project):
    fair_id = await live_fair(pool, settings, world, project)
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    page = await client.get(f"/fairs/{fair_id}/paddle?lang=en")
    assert page.status_code == 200 and "Raise" in page.text
    token = str(uuid.uuid4())
    bad = await post_form(client, f"/fairs/{fair_id}/raises", {"project_id": project, "amount_yuan": "abc",
                                                               "token": token})
    assert bad.status_code == 400 and await pool.fetchval("select count(*) from fair_raises") == 0
    first = await post_form(client, f"/fairs/{fair_id}/raises", {"project_id": project, "amount_yuan": "8000",
                                                                 "token": token})
    assert first.status_code == 200 and f"/raises/{token}/confirm" in first.text
    assert await pool.fetchval("select count(*) from pledges") == 0
    for _ in range(2):
        second = await post_form(client, f"/fairs/{fair_id}/raises/{token}/confirm")
        assert second.status_code == 303
    assert await pool.fetchval("select count(*) from pledges where amount_fen = 800000") == 1
    board = await client.get(f"/fairs/{fair_id}/board?lang=en")
    assert board.status_code == 200 and "¥8,000.00" in board.text and 'data-board="/fairs/' in board.text
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    assert (await client.get(f"/fairs/{fair_id}/paddle")).status_code == 403


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def two_processes(database, tmp_path):
    """Two app processes serving the same database, as behind a load balancer."""
    env = {**os.environ, "DATABASE_URL": database, "MARKET_SECRET_KEY": "p" * 40, "MARKET_DATA_DIR": str(tmp_path),
           "MARKET_NOTIFY_SECONDS": "0", "MARKET_LOG_LEVEL": "warning"}
    ports = [_free_port(), _free_port()]
    # Started and left running beside the test, never waited on while it runs.
    procs = [subprocess.Popen([sys.executable, "-m", "market", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as probe:
            for base in bases:
                for _ in range(600):  # a minute: start-up is slow on a busy machine
                    try:
                        if (await probe.get(base + "/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise RuntimeError(f"{base} did not start")
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


async def _watch(base: str, fair_id: int, seen: list[dict], ready: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=None) as client, client.stream("GET", f"{base}/fairs/{fair_id}/events") \
            as response:
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "board":
                seen.append(json.loads(line.split(":", 1)[1]))
                ready.set()


async def test_two_processes_show_every_raise_on_every_board(pool, settings, world, project, two_processes):
    fair_id = await live_fair(pool, settings, world, project)
    second_org, second_user = await second_funder(pool, world)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("insert into fair_funders (fair_id, funder_id, registered_by) values ($1, $2, $3)",
                           fair_id, second_org, second_user)
    boards: list[list[dict]] = [[], []]
    ready = [asyncio.Event(), asyncio.Event()]
    watchers = [asyncio.create_task(_watch(base, fair_id, seen, flag))
                for base, seen, flag in zip(two_processes, boards, ready)]
    await asyncio.wait_for(asyncio.gather(*(flag.wait() for flag in ready)), 10)

    async def client_for(user_id: int, org_id: int, base: str) -> httpx.AsyncClient:
        async with pool.acquire() as conn, conn.transaction():
            token = await accounts.start_session(conn, settings, user_id)
            await conn.execute("update sessions set organisation_id = $1 where token_hash = $2", org_id,
                               accounts.token_hash(token))
        client = httpx.AsyncClient(base_url=base, cookies={"market_session": token})
        await client.get("/health")
        client.headers["x-csrftoken"] = client.cookies.get("market_csrf") or ""
        return client

    people = [(world["funder_admin"].user_id, world.orgs["funder"]), (second_user, second_org)]
    clients = [await client_for(user, org, base) for user, org in people for base in two_processes]
    amounts = [1_000_00 * (n + 1) for n in range(8)]

    async def raise_and_double_tap(n: int, amount: int) -> int:
        # The first tap goes to one process, the two confirming taps to both at once.
        person = n % 2
        token = str(uuid.uuid4())
        tap = await clients[2 * person].post(f"/api/fairs/{fair_id}/raises",
                                             json={"project_id": project, "amount_fen": amount, "token": token})
        assert tap.status_code == 201, tap.text
        confirms = await asyncio.gather(*(clients[2 * person + side].post(f"/api/fairs/{fair_id}/raises/{token}/confirm")
                                          for side in (0, 1)))
        assert all(c.status_code == 201 for c in confirms), [c.text for c in confirms]
        pledges = {c.json()["pledge_id"] for c in confirms}
        assert len(pledges) == 1
        return pledges.pop()

    try:
        made = await asyncio.gather(*(raise_and_double_tap(n, amount) for n, amount in enumerate(amounts)))
        assert len(set(made)) == len(amounts)
        assert await pool.fetchval("select count(*) from pledges") == len(amounts)
        deadline = asyncio.get_running_loop().time() + 5
        while asyncio.get_running_loop().time() < deadline:
            if all(seen and seen[-1]["raises"] == len(amounts) for seen in boards):
                break
            await asyncio.sleep(0.05)
        for seen in boards:
            last = seen[-1]
            assert (last["raises"], last["raised_fen"]) == (len(amounts), sum(amounts))
            assert sorted(last["items"][0]["funders"]) == ["测试funder", "测试second_funder"]
    finally:
        for task in watchers:
            task.cancel()
        for client in clients:
            await client.aclose()


async def test_a_board_stream_hears_raises_after_its_listener_was_cut(pool, settings, world, project, database,
                                                                      two_processes):
    """Finding 4: the process's LISTEN connection dies (as in a PostgreSQL restart) while a board is
    open; the process listens again on its own and the open board hears the next raise."""
    fair_id = await live_fair(pool, settings, world, project)
    seen: list[dict] = []
    ready = asyncio.Event()
    watcher = asyncio.create_task(_watch(two_processes[0], fair_id, seen, ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        admin = await asyncpg.connect(database)
        try:
            cut = await admin.fetchval("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                                       "where application_name = 'market-boards' and datname = current_database()")
            assert cut == 1
            for _ in range(100):  # listening again
                if await admin.fetchval("select count(*) from pg_stat_activity where application_name = "
                                        "'market-boards' and datname = current_database()"):
                    break
                await asyncio.sleep(0.1)
        finally:
            await admin.close()
        funder = await who(pool, settings, world, "funder_admin")
        token = await do(pool, fairs.raise_paddle, funder, fair_id,
                          RaiseInput(project_id=project, amount_fen=3_000_00, token=uuid.uuid4()))
        await do(pool, fairs.confirm_raise, funder, fair_id, token)
        for _ in range(100):
            if seen[-1]["raises"] == 1:
                break
            await asyncio.sleep(0.05)
        assert (seen[-1]["raises"], seen[-1]["raised_fen"]) == (1, 3_000_00)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)  # closed before the servers are stopped


async def test_a_head_of_a_board_stream_answers_its_headers_and_ends(client, pool, settings, world, project):
    # A monitor or link checker asking HEAD of the stream gets GET's headers at once, and the
    # stream stops listening rather than running until the client leaves.
    fair_id = await live_fair(pool, settings, world, project)
    r = await asyncio.wait_for(client.head(f"/fairs/{fair_id}/events"), 10)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"].startswith("text/event-stream")
    hub = client.app.state.boards
    for _ in range(100):
        if not hub.streams.get(fair_id):
            break
        await asyncio.sleep(0.05)
    assert not hub.streams.get(fair_id)


async def test_a_registered_funder_sees_the_projects_that_suit_it(client, pool, settings, world, project):
    from market.funding.resources import services as resources
    from market.funding.resources.models import ResourceInput
    fair_id = await live_fair(pool, settings, world, project)
    funder = await who(pool, settings, world, "funder_admin")
    await do(pool, resources.create, funder, ResourceInput(kind="money", title="助老专项资金", amount_fen=500_000_00,
                                                            categories=["01"]))
    from market.core.i18n import use_locale
    async with pool.acquire() as conn:
        with use_locale("en"):
            [suggested] = await fairs.suggestions(conn, funder, fair_id, configured(settings))
    assert suggested.project_id == project and suggested.score > 0 and suggested.reasons
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    page = await client.get(f"/fairs/{fair_id}?lang=en")
    assert "Suggested for you" in page.text and suggested.reasons[0] in page.text
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert "Suggested for you" not in (await client.get(f"/fairs/{fair_id}?lang=en")).text


async def test_the_fair_form_reads_local_times_and_refuses_bad_ones(client, pool, settings, world):
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    form = {"title_zh": "社区公益对对碰", "place": "街道会议室", "starts_at": "2027-03-01T09:00",
            "ends_at": "2027-03-01T12:00"}
    bad = await post_form(client, "/fairs", {**form, "ends_at": "next tuesday"})
    assert bad.status_code == 400 and await pool.fetchval("select count(*) from fairs") == 0
    backwards = await post_form(client, "/fairs", {**form, "ends_at": "2027-03-01T08:00"})
    assert backwards.status_code == 400 and await pool.fetchval("select count(*) from fairs") == 0
    made = await post_form(client, "/fairs", form)
    assert made.status_code == 303
    starts = await pool.fetchval("select starts_at from fairs")
    assert starts == datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    assert "社区公益对对碰" not in (await client.get("/fairs")).text  # a draft is the organiser's


async def test_a_fair_running_past_its_end_still_takes_all_or_nothing_raises(pool, settings, world, project):
    """A raise at a fair that ran late once failed with "the deadline must be later than now"."""
    fair_id = await live_fair(pool, settings, world, project, all_or_nothing=True)
    await travel(pool, hours=5)  # the fair was planned for four hours
    funder = await who(pool, settings, world, "funder_admin")
    token = await do(pool, fairs.raise_paddle, funder, fair_id,
                      RaiseInput(project_id=project, amount_fen=20_000_00, token=uuid.uuid4()))
    pledge = await pool.fetchrow("select * from pledges where id = $1",
                                 await do(pool, fairs.confirm_raise, funder, fair_id, token))
    assert pledge["condition_deadline"] > clock.now()


async def test_each_move_of_a_fair_is_audited_with_its_own_verb(pool, settings, world, project):
    fair_id = await live_fair(pool, settings, world, project)
    await do(pool, fairs.move, await who(pool, settings, world, "buyer_admin"), fair_id, "stage", 1)
    funder = await who(pool, settings, world, "funder_admin")
    token = await do(pool, fairs.raise_paddle, funder, fair_id,
                      RaiseInput(project_id=project, amount_fen=1_000_00, token=uuid.uuid4()))
    pledge = await do(pool, fairs.confirm_raise, funder, fair_id, token)
    assert await do(pool, fairs.confirm_raise, funder, fair_id, token) == pledge  # confirmed once, audited once
    moves = await pool.fetch("select verb, diff from audit_events where object_type = 'fair' and object_id = $1 "
                             "order by id", str(fair_id))
    assert [m["verb"] for m in moves] == ["fair.create", "fair.change", "fair.open", "fair.go_live", "fair.stage"]
    assert moves[3]["diff"]["status"] == ["open", "live"]
    raised = await pool.fetch("select verb, diff, organisation_id from audit_events where object_type = 'fair_raise' "
                              "and object_id = $1", str(token))
    assert [(r["verb"], r["organisation_id"]) for r in raised] == [("fair_raise.confirm", world.orgs["funder"])]
    assert raised[0]["diff"]["pledge_id"] == [None, pledge]


async def test_a_move_the_fair_cannot_make_now_names_the_ones_it_can(pool, settings, world, project):
    from market.core.i18n import use_locale
    fair_id = await live_fair(pool, settings, world, project)
    bureau = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(Conflict) as refused, use_locale("en"):
        await do(pool, fairs.move, bureau, fair_id, "open")
    with use_locale("en"):
        assert refused.value.text() == ("This cannot be done while it is live; what can be done now: Put on stage, "
                                        "Close the fair.")
    with pytest.raises(Conflict):  # the running order is fixed once the fair is live
        await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=project, target_fen=1_000_00), W)
    with pytest.raises(Forbidden):
        await do(pool, fairs.move, await who(pool, settings, world, "funder_admin"), fair_id, "close")
    with pytest.raises(NotFound):  # not a move: the running order has its own step
        await do(pool, fairs.move, bureau, fair_id, "add_item")


async def test_each_fair_page_has_a_json_twin_with_what_it_shows(client, pool, settings, world, project):
    fair_id = await live_fair(pool, settings, world, project)
    bureau = await who(pool, settings, world, "buyer_admin")
    draft = await do(pool, fairs.create, bureau, fair_input(title_zh="还在筹备的相亲会"))
    await act_as(client, pool, settings, None)
    listed = (await client.get("/api/fairs")).json()
    assert [f["id"] for f in listed["fairs"]] == [fair_id] and listed["may_set_up"] is False
    shown = (await client.get(f"/api/fairs/{fair_id}")).json()
    assert shown["fair"]["status"] == "live" and [i["project_id"] for i in shown["board"]["items"]] == [project]
    assert (shown["projects"], shown["may_register"], shown["marked"]) == ([], False, [])
    board = (await client.get(f"/api/fairs/{fair_id}/board")).json()
    assert (board["fair"]["id"], board["on_stage"], board["raises"]) == (fair_id, 1, 0)
    # A draft is the organiser's, on the page and in its twin alike.
    for url in (f"/fairs/{draft}", f"/api/fairs/{draft}", f"/fairs/{draft}/board", f"/api/fairs/{draft}/board"):
        assert (await client.get(url)).status_code == 404, url
    for url in (f"/fairs/{fair_id}/report", f"/api/fairs/{fair_id}/report"):  # not closed yet
        assert (await client.get(url)).status_code == 409, url

    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    organiser = (await client.get(f"/api/fairs/{draft}")).json()
    assert organiser["fair"]["organiser"] and [p for p, _ in organiser["projects"]] == [project]
    assert (await client.get("/api/fairs")).json()["may_set_up"] is True
    # A page at a time, the latest first; the organiser's draft among them, for the organiser alone.
    later = [await do(pool, fairs.create, bureau, fair_input(title_zh=f"第{i}场相亲会",
                                                               starts_at=datetime.now(UTC) + timedelta(days=i + 1),
                                                               ends_at=datetime.now(UTC) + timedelta(days=i + 2)))
             for i in range(2)]
    first = (await client.get("/api/fairs?limit=2")).json()
    rest = (await client.get(f"/api/fairs?limit=2&cursor={first['next_cursor']}")).json()
    assert [f["id"] for f in first["fairs"] + rest["fairs"]] == [later[1], later[0], draft, fair_id]
    assert first["total"] == 4 and rest["next_cursor"] is None

    await act_as(client, pool, settings, world["funder_admin"].user_id)
    marked = await post_form(client, f"/fairs/{fair_id}/interest/{project}", {"interested": "1"})
    assert landed(marked, "fair_interest_marked") == f"/fairs/{fair_id}"
    assert "已标记该项目" in (await client.get(marked.headers["location"])).text
    assert (await client.get(f"/api/fairs/{fair_id}")).json()["marked"] == [project]
    unmarked = await post_form(client, f"/fairs/{fair_id}/interest/{project}", {"interested": "0"})
    assert landed(unmarked, "fair_interest_cleared") == f"/fairs/{fair_id}"
    assert (await client.get(f"/api/fairs/{fair_id}")).json()["marked"] == []
    await post_form(client, f"/fairs/{fair_id}/interest/{project}", {"interested": "1"})
    paddle = (await client.get(f"/api/fairs/{fair_id}/paddle")).json()
    assert paddle["on_stage_project"] == project and paddle["raises"] == []
    assert [p for p, _ in paddle["project_choices"]] == [project]
    token = str(uuid.uuid4())
    await post_form(client, f"/fairs/{fair_id}/raises", {"project_id": project, "amount_yuan": "500", "token": token})
    raised = (await client.get(f"/api/fairs/{fair_id}/paddle")).json()["raises"]
    assert [(r["token"], r["amount_fen"], r["status"]) for r in raised] == [(token, 500_00, "proposed")]

    await act_as(client, pool, settings, world["provider_admin"].user_id)
    for url in (f"/fairs/{fair_id}/paddle", f"/api/fairs/{fair_id}/paddle"):
        assert (await client.get(url)).status_code == 403, url

    await do(pool, fairs.move, bureau, fair_id, "close")
    report = (await client.get(f"/api/fairs/{fair_id}/report")).json()
    assert report["report"]["board"]["raises"] == 0 and (report["dockings"], report["mine"]) == ({}, [])
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await client.get(f"/api/fairs/{fair_id}/report")).json()["mine"] == [project]
    # The report's chart names each bar in the reader's language where the project has an English title.
    await pool.execute("update projects set title_en = 'Home bathing for older people' where id = $1", project)
    english = (await client.get(f"/fairs/{fair_id}/report?lang=en")).text
    assert ">Home bathing for older people</text>" in english


async def test_a_refused_step_shows_the_fair_again_with_why(client, pool, settings, world, project):
    fair_id = await live_fair(pool, settings, world, project)
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    refused = await post_form(client, f"/fairs/{fair_id}/actions/open?lang=en")
    assert refused.status_code == 409 and "what can be done now" in refused.text and "Put on stage" in refused.text
    bad_stage = await post_form(client, f"/fairs/{fair_id}/actions/stage", {"on_stage": "9"})
    assert bad_stage.status_code == 400 and 'id="errors"' in bad_stage.text
    assert await pool.fetchval("select on_stage from fairs where id = $1", fair_id) == 1
    staged = await post_form(client, f"/fairs/{fair_id}/actions/stage", {"on_stage": "1"})
    assert landed(staged, "fair_staged") == f"/fairs/{fair_id}"
    assert "该项目已上台" in (await client.get(staged.headers["location"])).text


async def test_the_organiser_opens_registration_and_starts_the_fair_from_its_page(client, pool, settings, world,
                                                                                    project):
    bureau = await who(pool, settings, world, "buyer_admin")
    fair_id = await do(pool, fairs.create, bureau, fair_input())
    await do(pool, fairs.add_item, bureau, fair_id, ItemInput(project_id=project, target_fen=100_000_00), W)
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    opened = await post_form(client, f"/fairs/{fair_id}/actions/open")
    assert landed(opened, "fair_opened") == f"/fairs/{fair_id}"
    assert "报名已开放" in (await client.get(opened.headers["location"])).text
    live = await post_form(client, f"/fairs/{fair_id}/actions/go_live")
    assert landed(live, "fair_live") == f"/fairs/{fair_id}"
    assert "推介会已开始" in (await client.get(live.headers["location"])).text
    assert await pool.fetchrow("select status, on_stage from fairs where id = $1", fair_id) == ("live", 1)
