"""Rectification items: raised once per finding, fixed with evidence, verified or rejected back to
open, withdrawn; every step allowed and refused; the clock's reminder and two levels of escalation,
each once even when two processes run it at once; what the public sees and what it does not."""

import asyncio
import io
import re
from datetime import timedelta

import pytest
from litestar.datastructures import State
from PIL import Image

from market.core import clock
from market.core.errors import Conflict, Forbidden, InvalidFields, NotFound
from market.core.i18n import use_locale
from market.dashboard import services as dashboard
from market.notifications import services as notifications
from market.rectification import jobs
from market.rectification import services as items
from market.rectification.domain import DOMAIN
from market.rectification.models import STATUSES
from market.rectification.workflow import ITEM
from market.storage import images
from market.storage.services import storage_from_settings
from tests.conftest import act_as, api_headers, post_form
from tests.serve import serving
from tests.factories import PNG, do, make_org, photo_with_gps, travel, walk_pages, who

ESCALATE = 14
EXPECTED_STEPS = {  # action → {from: to}
    "submit": {"open": "fix_submitted"},
    "verify": {"fix_submitted": "verified"},
    "reject": {"fix_submitted": "open"},
    "withdraw": {"open": "withdrawn", "fix_submitted": "withdrawn"},
}


def test_every_step_allowed_and_refused():
    for action, moves in EXPECTED_STEPS.items():
        for status in STATUSES:
            if status in moves:
                assert ITEM.find(action, status).target == moves[status]
            else:
                with pytest.raises(Conflict):
                    ITEM.check(action, status, {"owner", "buyer"})
    assert set(EXPECTED_STEPS) == set(ITEM.actions)
    assert {t.action for t in ITEM.transitions if t.who == {"owner"}} == {"submit"}
    assert {t.action for t in ITEM.transitions if t.who == {"buyer"}} == {"verify", "reject", "withdraw"}


async def raise_one(pool, world, *, buyer=None, key="1", due_in=30, source="evaluation", source_id=7) -> int:
    return await do(pool, lambda conn: items.raise_item(
        conn, source=source, source_id=source_id, key=key, owner_id=world.orgs["provider"],
        buyer_id=buyer or world.orgs["bureau"], finding_zh="助浴服务记录不全", finding_en="Bathing records incomplete",
        evidence_required="补齐的服务记录与现场照片", due=clock.today() + timedelta(days=due_in),
        source_link="/contracts/1#evaluations"))


async def notices(pool, kind):
    return await pool.fetch("select * from notifications where kind = $1 order by id", kind)


async def street_office(pool, world) -> tuple[int, int]:
    """A street office under the district's bureau, with the bureau's staff member as its one member."""
    async with pool.acquire() as conn:
        office = await make_org(conn, world, "office", "buyer", "street_office", 81, world.street)
        uid = await conn.fetchval("select id from users where email = 'buyer.staff@people.test'")
        await conn.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                           uid, office)
    return office, uid


async def fix(pool, settings, identity, item_id, files=((PNG, "记录.png"),), text="已补齐全部服务记录并拍照存档。"):
    return await do(pool, items.submit_fix, storage_from_settings(settings), settings, identity, item_id, text,
                    list(files))


async def test_a_finding_is_raised_once_and_its_owner_told(pool, settings, world):
    first = await raise_one(pool, world)
    assert await raise_one(pool, world) == first  # the same finding again: the same item
    assert await raise_one(pool, world, key="2") != first
    row = await pool.fetchrow("select * from rectification_items where id = $1", first)
    assert (row["status"], row["escalation_level"], row["owner_id"]) == ("open", 0, world.orgs["provider"])
    owners = {world[n].user_id for n in ("provider_admin", "provider_staff")}
    assert {n["user_id"] for n in await notices(pool, "rectification_raised")} == owners
    assert len(await notices(pool, "rectification_raised")) == 2 * len(owners)  # one per item per person
    assert await pool.fetchval("select count(*) from audit_events where verb = 'rectification.raise'") == 2
    with pytest.raises(ValueError):
        await raise_one(pool, world, source="rumour")


async def test_fix_verify_and_reject_with_their_guards(pool, settings, world):
    item_id = await raise_one(pool, world)
    owner = await who(pool, settings, world, "provider_admin")
    buyer = await who(pool, settings, world, "buyer_staff")
    stranger = await who(pool, settings, world, "other_provider_admin")
    with pytest.raises(Forbidden):  # only the owner submits
        await fix(pool, settings, buyer, item_id)
    with pytest.raises(Forbidden):
        await fix(pool, settings, stranger, item_id)
    with pytest.raises(InvalidFields) as refused:  # evidence is required, and words
        await fix(pool, settings, owner, item_id, files=(), text="好了")
    assert {e.field for e in refused.value.errors} == {"text", "evidence"}
    assert await pool.fetchval("select count(*) from rectification_fixes") == 0
    with pytest.raises(Conflict):  # nothing to verify yet
        await do(pool, items.verify, buyer, item_id)

    assert await fix(pool, settings, owner, item_id) == 1
    assert await pool.fetchval("select status from rectification_items where id = $1", item_id) == "fix_submitted"
    assert len(await notices(pool, "rectification_submitted")) == 2  # the bureau's admin and staff
    with pytest.raises(Conflict):  # one fix at a time
        await fix(pool, settings, owner, item_id)
    with pytest.raises(Forbidden):  # only the buyer verifies
        await do(pool, items.verify, owner, item_id)
    with pytest.raises(InvalidFields):  # a rejection says why
        await do(pool, items.reject, buyer, item_id, "不行")
    await do(pool, items.reject, buyer, item_id, "照片看不清记录内容，请重新拍摄。")
    assert await pool.fetchval("select status from rectification_items where id = $1", item_id) == "open"
    assert len(await notices(pool, "rectification_rejected")) == 2

    assert await fix(pool, settings, owner, item_id, text="已重新拍摄清晰的服务记录。") == 2
    await do(pool, items.verify, buyer, item_id)
    row = await pool.fetchrow("select * from rectification_items where id = $1", item_id)
    assert row["status"] == "verified" and row["verified_by"] == buyer.user_id
    with pytest.raises(Conflict):
        await do(pool, items.reject, buyer, item_id, "再看一次，还是不够清楚。")
    with pytest.raises(Conflict):
        await do(pool, items.withdraw, buyer, item_id, "误报，撤回这一项整改。")
    view = await do(pool, items.item_view, settings, owner, item_id)
    assert [(x.version, bool(x.rejected_at)) for x in view.fixes] == [(2, False), (1, True)]  # every version kept
    assert view.fixes[1].rejection_reason.startswith("照片看不清")
    verbs = [r["verb"] for r in await pool.fetch("select verb from audit_events where object_type = $1 order by id",
                                                 ITEM.name)]
    assert verbs == ["rectification.raise", "rectification.submit", "rectification.reject", "rectification.submit",
                     "rectification.verify"]


async def test_the_buyer_withdraws_an_item_raised_in_error(pool, settings, world):
    item_id = await raise_one(pool, world)
    owner = await who(pool, settings, world, "provider_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(Forbidden):
        await do(pool, items.withdraw, owner, item_id, "我们认为这一项不成立。")
    await do(pool, items.withdraw, buyer, item_id, "评估时看错了合同，撤回。")
    view = await do(pool, items.item_view, settings, None, item_id)
    assert view.item.status == "withdrawn" and view.withdrawn_reason == "评估时看错了合同，撤回。"
    with pytest.raises(Conflict):
        await fix(pool, settings, owner, item_id)


async def test_a_fix_photo_loses_its_location_and_stays_private(pool, settings, world):
    item_id = await raise_one(pool, world)
    owner = await who(pool, settings, world, "provider_admin")
    await fix(pool, settings, owner, item_id, files=((photo_with_gps(), "现场.jpg"),))
    row = await pool.fetchrow("select f.* from rectification_fix_files x join files f on f.id = x.file_id")
    kept = storage_from_settings(settings).get(row["storage_key"])
    assert not images.has_location(kept) and Image.open(io.BytesIO(kept)).size == (64, 48)
    assert row["visibility"] == "private"


async def test_the_clock_reminds_then_escalates_two_levels_once_across_processes(pool, settings, world):
    office, uid = await street_office(pool, world)
    item_id = await raise_one(pool, world, buyer=office, due_in=10)
    job = next(iter(DOMAIN.jobs))
    state = State({"pool": pool, "settings": settings})

    async def both() -> list[jobs.Done]:
        return list(await asyncio.gather(jobs.run(pool, ESCALATE), jobs.run(pool, ESCALATE)))

    assert sum(d.reminded for d in await both()) == 0
    await travel(pool, days=7)  # 3 days before
    assert sorted(d.reminded for d in await both()) == [0, 1]
    assert len(await notices(pool, "rectification_due")) == 2
    await travel(pool, days=3)  # the due day: not late yet
    assert sum(d.late for d in await both()) == 0
    await travel(pool, days=1)
    # As every app process runs it (the domain's periodic job), two at once.
    await asyncio.gather(job(state), job(state))
    assert await pool.fetchval("select escalation_level from rectification_items where id = $1", item_id) == 1
    late = await notices(pool, "rectification_late")
    assert [n["user_id"] for n in late] == [uid]  # the street office's one member, once
    assert len(await notices(pool, "rectification_late_owner")) == 2
    assert sum(d.late for d in await both()) == 0

    await travel(pool, days=ESCALATE - 1)  # late, but not yet long enough to go higher
    assert sum(d.escalated for d in await both()) == 0
    await travel(pool, days=1)
    assert sorted(d.escalated for d in await both()) == [0, 1]
    escalated = await notices(pool, "rectification_escalated")
    bureau = {world[n].user_id for n in ("buyer_admin", "buyer_staff")}
    assert {n["user_id"] for n in escalated} == bureau and len(escalated) == len(bureau)
    # It names the owner and the buyer in the reader's language.
    async with pool.acquire() as conn:
        with use_locale("en"):
            english = (await notifications.inbox_page(conn, escalated[0]["user_id"])).items[0].text
        with use_locale("zh_Hans"):
            chinese = (await notifications.inbox_page(conn, escalated[0]["user_id"])).items[0].text
    assert "Test provider" in english and "测试provider" not in english and "测试provider" in chinese
    assert await pool.fetchval("select notified_org_id from rectification_escalations where level = 2") == \
        world.orgs["bureau"]
    assert sum(d.escalated for d in await both()) == 0
    assert await pool.fetchval("select count(*) from audit_events where verb = 'rectification.escalate'") == 2
    # The bureau above is now a party: it reads the fixes; and it finds the item on its workbench.
    bureau_admin = await who(pool, settings, world, "buyer_admin")
    assert (await do(pool, items.item_view, settings, bureau_admin, item_id)).side == "overseer"
    lists = await do(pool, items.workbench_lists, world.orgs["bureau"], 20)
    assert [t["link"] for t in lists["rectification_escalated"].rows] == [items.link(item_id)]


async def test_a_bureau_with_more_late_items_than_its_workbench_shows_reaches_every_one(client, pool, settings,
                                                                                        world):
    """Hundreds of items go late at a district's bureau on the city: its workbench shows the first few,
    counts them all and links to the list of exactly those escalated to it. A failed evaluation raises
    a dozen at once, so a rectification list shows its first five however long the others run."""
    office, _ = await street_office(pool, world)
    own = [await raise_one(pool, world, key=f"own-{n}", due_in=n + 1) for n in range(5)]
    below = [await raise_one(pool, world, buyer=office, key=f"below-{n}", due_in=n + 1) for n in range(2)]
    in_time = await raise_one(pool, world, key="in-time", due_in=60)
    await travel(pool, days=5)
    await jobs.run(pool, ESCALATE)  # the bureau's own five are late: level 1
    await travel(pool, days=ESCALATE)
    await jobs.run(pool, ESCALATE)  # the office's two went to the bureau above it: level 2
    bureau = world.orgs["bureau"]
    lists = await do(pool, items.workbench_lists, bureau, 4)
    escalated = lists["rectification_escalated"]
    assert (len(escalated.rows), escalated.total) == (4, 7)
    assert escalated.more_link == f"/rectification?escalated_to={bureau}"
    view = await do(pool, dashboard.workbench, await who(pool, settings, world, "buyer_admin"))
    (shown,) = [x for x in view.lists if x.kind == "rectification_escalated"]
    assert (len(shown.items), shown.total, shown.more_link) == (5, 7, escalated.more_link)

    found = (await client.get(f"{escalated.more_link}&lang=en")).text
    assert sorted(int(i) for i in re.findall(r'data-item="(\d+)"', found)) == sorted(own + below)
    assert f'data-item="{in_time}"' not in found
    assert "Late items escalated to Test bureau" in found and f'name="escalated_to" value="{bureau}"' in found
    twin = (await client.get(f"/api/rectification?escalated_to={bureau}&status=open")).json()
    assert sorted(i["id"] for i in twin["items"]) == sorted(own + below) and twin["escalated_to"] == bureau
    # The street office's own late items are escalated to it too, as their buyer: those two only.
    office_twin = (await client.get(f"/api/rectification?escalated_to={office}")).json()
    assert sorted(i["id"] for i in office_twin["items"]) == sorted(below)


async def test_two_app_processes_mark_late_and_escalate_once_each(pool, settings, world, database, tmp_path):
    """`market serve` with two worker processes, each running the rectification clock every second."""
    office, uid = await street_office(pool, world)
    item_id = await raise_one(pool, world, buyer=office, due_in=2)
    level = "select escalation_level from rectification_items where id = $1"

    async def level_reached(wanted: int) -> None:
        for _ in range(100):
            if await pool.fetchval(level, item_id) == wanted:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # several more passes of both processes' clocks

    with serving(database, tmp_path, workers=2, MARKET_NOTIFY_SECONDS="1",
                 MARKET_RECTIFICATION_ESCALATE_DAYS=str(ESCALATE)):
        await travel(pool, days=3)
        await level_reached(1)
        await travel(pool, days=ESCALATE)
        await level_reached(2)
    bureau = {world[n].user_id for n in ("buyer_admin", "buyer_staff")}
    assert [n["user_id"] for n in await notices(pool, "rectification_late")] == [uid]  # the office's member, once
    escalated = await notices(pool, "rectification_escalated")
    assert {n["user_id"] for n in escalated} == bureau and len(escalated) == len(bureau)
    # late, then escalated: each once (the clock was past the reminder's days when it first ran)
    assert await pool.fetchval("select count(*) from rectification_escalations where item_id = $1", item_id) == 2


async def test_a_verified_item_is_never_late(pool, settings, world):
    item_id = await raise_one(pool, world, due_in=2)
    await fix(pool, settings, await who(pool, settings, world, "provider_admin"), item_id)
    await do(pool, items.verify, await who(pool, settings, world, "buyer_admin"), item_id)
    await travel(pool, days=30)
    done = await jobs.run(pool, ESCALATE)
    assert (done.late, done.escalated) == (0, 0)


async def test_standing_counts_open_and_late(pool, settings, world):
    await raise_one(pool, world, key="a", due_in=5)
    submitted = await raise_one(pool, world, key="b", due_in=5)
    await fix(pool, settings, await who(pool, settings, world, "provider_admin"), submitted)
    provider = world.orgs["provider"]
    assert (await do(pool, items.standings, [provider]))[provider].open == 2
    await travel(pool, days=6)
    standing = (await do(pool, items.standings, [provider]))[provider]
    # a fix waiting for verification is the buyer's to look at, not the owner's delay
    assert (standing.open, standing.late) == (1, 1)


async def test_the_public_sees_the_item_but_not_the_fix(client, pool, settings, world):
    item_id = await raise_one(pool, world)
    await fix(pool, settings, await who(pool, settings, world, "provider_admin"), item_id,
              text="已补齐全部服务记录，联系电话13800001111的老人已回访。")
    page = await client.get(f"/rectification/{item_id}")
    assert page.status_code == 200 and "助浴服务记录不全" in page.text
    assert "13800001111" not in page.text and "provider_admin" not in page.text
    twin = (await client.get(f"/api/rectification/{item_id}")).json()
    assert twin["item"]["status"] == "fix_submitted" and twin["fixes"] is None and twin["source_link"] is None
    listed = (await client.get("/api/rectification", params={"status": "fix_submitted",
                                                             "organisation": world.orgs["provider"]})).json()
    assert [i["id"] for i in listed["items"]] == [item_id] and listed["total"] == 1
    assert (await client.get("/api/rectification", params={"status": "verified"})).json()["total"] == 0
    assert "助浴服务记录不全" in (await client.get("/rectification?status=fix_submitted")).text
    assert (await client.get("/rectification/999999")).status_code == 404


async def test_the_public_list_pages_every_item_once_in_each_filter(client, pool, settings, world):
    """Paged on its newest-first key with only the filters given: every item of a filter once, newest
    first, late ones alone when asked, while more are raised."""
    ids = [await raise_one(pool, world, key=str(n), due_in=-3 if n % 2 else 30, source_id=n) for n in range(7)]
    late = [i for n, i in enumerate(ids) if n % 2]

    added = iter(range(100, 200))

    async def raise_another():
        n = next(added)
        await raise_one(pool, world, key=f"new{n}", source_id=n)

    async def walk(**filters):
        async def read(conn, cursor):
            page = await items.public_list(conn, **filters, cursor=cursor, limit=2)
            return [i.id for i in page.items], page.next_cursor
        return await walk_pages(pool, read, raise_another)
    every = await walk()
    assert every[-len(ids):] == ids[::-1]
    assert await walk(status="late") == late[::-1]
    assert set(ids) <= set(await walk(organisation_id=world.orgs["provider"]))


async def test_the_pages_take_a_fix_and_a_verification(client, pool, settings, world):
    item_id = await raise_one(pool, world)
    owner = world["provider_admin"]
    await act_as(client, pool, settings, owner.user_id, owner.org_id)
    page = await client.get(f"/rectification/{item_id}")
    assert 'id="submit-fix"' in page.text
    refused = await post_form(client, f"/rectification/{item_id}/fix", {"text": "已整改"})
    assert refused.status_code == 400 and "f-evidence" in refused.text and await pool.fetchval("select count(*) from rectification_fixes") == 0
    sent = await client.post(f"/rectification/{item_id}/fix", data={"_csrf_token": client.cookies.get("market_csrf"),
                                                                     "text": "已补齐全部服务记录并拍照存档。"},
                             files={"evidence": ("记录.png", PNG, "image/png")}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    buyer = world["buyer_staff"]
    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    view = (await client.get(f"/api/rectification/{item_id}")).json()
    assert view["side"] == "buyer" and view["may"] == ["verify", "reject", "withdraw"]
    link = view["fixes"][0]["files"][0]["link"]
    assert (await client.get(link)).status_code == 200  # the buyer reads the owner's private evidence
    r = await client.post(f"/api/rectification/{item_id}/verify", headers=api_headers(client))
    assert r.status_code == 201 and r.json()["item"]["status"] == "verified"
    with pytest.raises(NotFound):
        await do(pool, items.item_view, settings, None, 424242)
