"""Funding's pages, as funders and receivers use them: a pledge and its bank transfer with the
receipt, the receiver's queue of transfers to confirm, refunds, and milestone acceptance that pays."""

from __future__ import annotations

import pytest

from market.funding.ledger import services as ledger
from tests.conftest import act_as, api_headers, landed, post_form
from tests.factories import PNG, make_pledge, pay_pledge, pledge_status, travel


async def _as(client, pool, world, name):
    await act_as(client, pool, client.app.state.settings, world[name].user_id)


async def _payment_status(pool, pledge_id):
    return await pool.fetchval("select status from payments where pledge_id = $1 order by id desc limit 1", pledge_id)


async def test_a_funder_records_a_transfer_with_its_receipt_and_the_receiver_confirms(client, pool, settings, world,
                                                                                       project):
    pledge = await make_pledge(pool, settings, world, "project", project, 8_000_00)
    await _as(client, pool, world, "provider_admin")
    assert (await client.get(f"/pledges/{pledge}")).status_code == 404  # not its business
    await _as(client, pool, world, "funder_admin")
    page = await client.get(f"/pledges/{pledge}?lang=en")
    assert page.status_code == 200 and "Record the transfer" in page.text and "/checkout" not in page.text
    # The project's title in the page's language, where it has an English one.
    await pool.execute("update projects set title_en = 'Meals in Dongpo Road' where id = $1", project)
    assert "Meals in Dongpo Road" in (await client.get(f"/pledges/{pledge}?lang=en")).text
    assert "东坡路社区老年助餐" in (await client.get(f"/pledges/{pledge}?lang=zh_Hans")).text

    bad = await post_form(client, f"/pledges/{pledge}/transfer", {"bank_reference": "", "paid_on": "2026-11-20"})
    assert bad.status_code == 400
    assert await pool.fetchval("select count(*) from payments") == 0
    future = await post_form(client, f"/pledges/{pledge}/transfer", {"bank_reference": "ICBC-9", "paid_on": "2099-01-01"})
    assert future.status_code == 400 and await pool.fetchval("select count(*) from payments") == 0

    response = await post_form(client, f"/pledges/{pledge}/transfer", {"bank_reference": "ICBC-20261120-7",
                                                                       "paid_on": "2026-11-20"},
                               files={"receipt": ("回单.png", PNG, "image/png")})
    assert response.status_code == 303, response.text
    payment = await pool.fetchrow("select * from payments where pledge_id = $1", pledge)
    assert payment["status"] == "pending" and payment["receipt_file"] is not None
    assert await pool.fetchval("select organisation_id from files where id = $1",
                               payment["receipt_file"]) == world.orgs["funder"]

    await _as(client, pool, world, "buyer_staff")
    queue = await client.get("/payments?lang=en")
    assert "ICBC-20261120-7" in queue.text and "Confirm: the money arrived" not in queue.text
    ticked = {f"confirmed-payment-{payment['id']}": "yes"}
    assert (await post_form(client, f"/payments/{payment['id']}/confirm", ticked)).status_code == 403
    await _as(client, pool, world, "buyer_admin")
    queue = await client.get("/payments?lang=en")
    assert "ICBC-20261120-7" in queue.text and f"/files/{payment['receipt_file']}" in queue.text
    assert (await post_form(client, f"/payments/{payment['id']}/reject", {"reason": "no"})).status_code == 400
    assert await _payment_status(pool, pledge) == "pending"
    unticked = await post_form(client, f"/payments/{payment['id']}/confirm")  # the box says it cannot be undone
    assert unticked.status_code == 400 and "cannot be undone" in unticked.text
    assert await _payment_status(pool, pledge) == "pending"
    confirmed = await post_form(client, f"/payments/{payment['id']}/confirm", ticked)
    assert landed(confirmed, "payment_confirmed") == "/payments"
    # In the language the queue was read in.
    assert "The payment is confirmed: the money is in." in (await client.get(confirmed.headers["location"])).text
    assert await pledge_status(pool, pledge) == "allocated"
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.project(project)) == 8_000_00
    assert "ICBC-20261120-7" not in (await client.get("/payments")).text

    await _as(client, pool, world, "funder_admin")
    page = await client.get(f"/pledges/{pledge}?lang=en")
    assert "allocated to the project" in page.text and "Record the transfer" not in page.text


async def test_a_rejected_transfer_tells_the_funder_why(client, pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "project", project, 1_000_00)
    await _as(client, pool, world, "funder_admin")
    await post_form(client, f"/pledges/{pledge}/transfer", {"bank_reference": "ABC-1", "paid_on": "2026-11-20"})
    payment = await pool.fetchval("select id from payments where pledge_id = $1", pledge)
    await _as(client, pool, world, "buyer_admin")
    assert (await post_form(client, f"/payments/{payment}/reject",
                            {"reason": "账户未收到这笔款项"})).status_code == 303
    await _as(client, pool, world, "funder_admin")
    page = await client.get(f"/pledges/{pledge}")
    assert "账户未收到这笔款项" in page.text and f"/pledges/{pledge}/transfer" in page.text
    assert await pledge_status(pool, pledge) == "awaiting_payment"
    assert (await post_form(client, f"/pledges/{pledge}/cancel")).status_code == 303
    assert await pledge_status(pool, pledge) == "cancelled"


async def test_the_receiver_refunds_with_a_reason(client, pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "project", project, 2_000_00)
    await pay_pledge(pool, settings, world, pledge)
    await _as(client, pool, world, "funder_admin")
    assert (await post_form(client, f"/pledges/{pledge}/refund", {"reason": "想要回这笔钱"})).status_code == 403
    await _as(client, pool, world, "buyer_admin")
    assert (await post_form(client, f"/pledges/{pledge}/refund", {"reason": ""})).status_code == 400
    assert await pledge_status(pool, pledge) == "allocated"
    refunded = await post_form(client, f"/pledges/{pledge}/refund", {"reason": "项目取消，退回认捐"})
    assert landed(refunded, "pledge_refunded") == f"/pledges/{pledge}"
    assert "认捐已退款" in (await client.get(refunded.headers["location"])).text
    assert await pledge_status(pool, pledge) == "refunded"
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.funder(world.orgs["funder"])) == 0


@pytest.mark.usefixtures("signed")
async def test_the_buyer_accepts_a_milestone_on_the_contract_page_and_the_provider_is_paid(client, pool, settings,
                                                                                             world, signed):
    first = await pool.fetchval("select min(position) from contract_milestones where contract_id = $1 "
                                "and kind = 'payment'", signed)
    await _as(client, pool, world, "provider_admin")
    page = await client.get(f"/contracts/{signed}")
    assert f"/milestones/{first}/accept" not in page.text
    assert (await post_form(client, f"/contracts/{signed}/milestones/{first}/accept")).status_code == 403
    await _as(client, pool, world, "buyer_admin")
    page = await client.get(f"/contracts/{signed}?lang=en")
    assert f"/milestones/{first}/accept" not in page.text and "it can be accepted from" in page.text  # not due yet
    await travel(pool, days=40)
    await _as(client, pool, world, "buyer_admin")  # a log-in lasts hours, not weeks
    page = await client.get(f"/contracts/{signed}?lang=en")
    assert f"/milestones/{first}/accept" in page.text and "Accept and pay" in page.text
    assert "Paid after a passed mid-term evaluation" in page.text
    # Accepting pays money that does not come back: it asks first, saying how much.
    confirm = await client.get(f"/contracts/{signed}/milestones/{first}/accept?lang=en")
    amount = await pool.fetchval("select amount_fen * 40 / 100 from contracts where id = $1", signed)
    from market.core.i18n import format_money, use_locale
    with use_locale("en"):
        assert format_money(amount) in confirm.text and 'name="confirm" value="yes"' in confirm.text
    unconfirmed = await post_form(client, f"/contracts/{signed}/milestones/{first}/accept")
    assert unconfirmed.status_code == 303 and unconfirmed.headers["location"].endswith(f"/milestones/{first}/accept")
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.provider(world.orgs["provider"])) == 0
    done = await post_form(client, f"/contracts/{signed}/milestones/{first}/accept", {"confirm": "yes"})
    assert done.status_code == 303
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.provider(world.orgs["provider"])) == amount
    location, _, anchor = done.headers["location"].partition("#")
    landed = await client.get(f"{location}&lang=en#{anchor}")
    assert "The milestone was accepted." in landed.text
    again = await post_form(client, f"/contracts/{signed}/milestones/{first}/accept", {"confirm": "yes"})
    assert again.status_code == 409
    page = await client.get(f"/contracts/{signed}?lang=en")
    assert f"/milestones/{first}/accept" not in page.text and "paid" in page.text
    # The page's twin is the whole view: the contract, the reader's side, and each milestone's state.
    view = (await client.get(f"/api/contracts/{signed}?accepted={first}")).json()
    assert view["status"] == "signed" and view["side"] == "buyer" and view["can_sign"] is False
    assert len(view["states"]) == len(view["milestones"]) and view["just_accepted"]["paid_fen"] == amount
    accepted = next(m for m in view["states"] if m["position"] == first)
    assert accepted["paid_fen"] == amount and accepted["acceptable"] is False
    following = next(m for m in view["states"] if m["position"] == first + 1)
    assert following["why_not"]  # the next one waits for its due date and its gates
    twice = await client.post(f"/api/contracts/{signed}/milestones/{first}/accept", headers=api_headers(client))
    assert twice.status_code == 409


async def test_the_funder_dashboard_follows_the_money_to_the_provider(client, pool, settings, world, signed):
    project = await pool.fetchval("select c.project_id from contracts k join calls c on c.id = k.call_id "
                                  "where k.id = $1", signed)
    paid = await make_pledge(pool, settings, world, "project", project, 50_000_00)
    await pay_pledge(pool, settings, world, paid)
    promised = await make_pledge(pool, settings, world, "project", project, 7_000_00)
    await _as(client, pool, world, "buyer_admin")
    first = await pool.fetchval("select min(position) from contract_milestones where contract_id = $1 "
                                "and kind = 'payment'", signed)
    await travel(pool, days=40)
    await _as(client, pool, world, "buyer_admin")
    await post_form(client, f"/contracts/{signed}/milestones/{first}/accept", {"confirm": "yes"})
    share = await pool.fetchval("select amount_fen * 40 / 100 from contracts where id = $1", signed)

    await _as(client, pool, world, "funder_admin")
    page = (await client.get("/dashboard?lang=en")).text
    giving = page[page.index('id="giving"'):]
    assert f"/pledges/{paid}" in giving and f"/pledges/{promised}" in giving
    from market.core.i18n import format_money, use_locale
    with use_locale("en"):
        for amount in (50_000_00, 7_000_00, share):
            assert format_money(amount) in giving
    assert f"/contracts/{signed}" in giving and "1 / " in giving
    assert "selection: " in giving  # the award's evaluation score
    pledge_page = (await client.get(f"/pledges/{paid}?lang=en")).text
    assert "paid to the provider" in pledge_page and f"/contracts/{signed}" in pledge_page


async def test_a_funders_pledges_are_paged_and_its_dashboard_reads_the_same_few_statements(client, pool, settings,
                                                                                          world, project):
    """A foundation may make thousands of pledges: its dashboard shows its totals over all of them, its
    newest ten and a way to the rest, in a fixed number of statements; its list of pledges gives each
    once, newest first, while more are made, and only its own."""
    from market.funding.dashboards import SHOWN
    from market.funding.pledges import services as pledges
    from tests.app.test_statements import _grown, _statements
    from market.funding.pledges.models import PledgeInput
    from tests.conftest import identity_of
    from tests.factories import do, make_fund, second_funder, transfer, walk_pages, who

    made = [await make_pledge(pool, settings, world, "project", project, 1_000_00 * (n + 1)) for n in range(5)]
    await _as(client, pool, world, "funder_admin")
    urls = ["/dashboard", "/api/dashboard", "/pledges", "/pledges?status=pledged", "/api/pledges"]
    for url in urls:  # asyncpg looks a type up the first time a connection meets it: not counted
        await _statements(client, url)
    few = {url: await _statements(client, url) for url in urls}
    fund = await make_fund(pool, world)
    made += [await make_pledge(pool, settings, world, "fund" if n % 2 else "project", fund if n % 2 else project,
                               1_000_00) for n in range(55)]
    await pay_pledge(pool, settings, world, made[0])
    many = {url: await _statements(client, url) for url in urls}
    assert not _grown(few, many)

    # A transfer to a fund the funder runs waits for its word, and its dashboard says so.
    own_fund = await pool.fetchval("insert into funds (owner_id, name_zh, created_by) values ($1, '基金会专项', $2) "
                                   "returning id", world.orgs["funder"], world["funder_admin"].user_id)
    their_org, their_user = await second_funder(pool, world)
    donor = await identity_of(pool, settings, their_user, their_org)
    gift = await do(pool, pledges.create, donor, PledgeInput(target_type="fund", target_id=own_fund, amount_fen=300_00))
    await do(pool, pledges.record_offline, donor, gift, transfer())
    giving = (await client.get("/api/dashboard")).json()["giving"]
    assert giving["transfers_waiting"] == 1
    assert giving["pledge_count"] == 60 and [p["id"] for p in giving["pledges"]] == made[::-1][:SHOWN]
    assert giving["giving"]["paid_fen"] == 1_000_00 and giving["giving"]["promised_fen"] == (
        sum(1_000_00 * (n + 1) for n in range(5)) - 1_000_00 + 55 * 1_000_00)
    assert giving["project_count"] == 1 and [o["project_id"] for o in giving["outcomes"]] == [project]
    assert 'href="/pledges">查看全部 60 笔认捐' in (await client.get("/dashboard")).text
    listed = (await client.get("/api/pledges")).json()
    assert len(listed["items"]) == 50 and listed["total"] == 60 and listed["next_cursor"]
    assert (await client.get("/api/pledges?status=lost")).status_code == 400
    assert [p["id"] for p in (await client.get("/api/pledges?status=allocated")).json()["items"]] == [made[0]]
    page = await client.get("/pledges?status=pledged")
    assert page.text.count('<tr data-status="pledged">') == 50 and 'rel="next"' in page.text and "共 59 条" in page.text

    funder = await who(pool, settings, world, "funder_admin")

    async def read(conn, cursor):
        found = await pledges.pledge_list(conn, funder, cursor=cursor, limit=7)
        return [p.id for p in found.items], found.next_cursor
    seen = await walk_pages(pool, read, lambda: make_pledge(pool, settings, world, "project", project, 500_00))
    assert [i for i in seen if i in made] == made[::-1] and seen == sorted(seen, reverse=True)
    # newest first by when it was made, whatever its number (an imported or generated history)
    await pool.execute("update pledges set created_at = created_at - interval '1 year' where id = $1", made[-1])
    async with pool.acquire() as conn:
        assert (await pledges.pledge_list(conn, funder, limit=1000)).items[-1].id == made[-1]
    await _as(client, pool, world, "buyer_admin")
    assert (await client.get("/pledges")).status_code == 403


async def test_the_transfers_page_is_paged_longest_waiting_first_and_holds_only_the_receivers_own(client, pool,
                                                                                                   settings, world,
                                                                                                   project):
    """A bureau may have many transfers waiting: its transfers page gives each once, the longest waiting
    first, fifty a page with the way on, in the same few statements however many wait; another
    receiver's transfers are not on it, and the funder is named in the page's language."""
    from market.funding.pledges import services as pledges
    from tests.app.test_statements import _grown, _statements
    from tests.factories import do, make_fund, transfer, walk_pages, who

    funder = await who(pool, settings, world, "funder_admin")

    async def waiting(target_type="project", target=project) -> int:
        pledge = await make_pledge(pool, settings, world, target_type, target, 1_000_00)
        return await do(pool, pledges.record_offline, funder, pledge, transfer())

    made = [await waiting() for _ in range(3)]
    # A fund's owner is the receiver of what is pledged to it: not the bureau's, nor on its page.
    elsewhere = await waiting("fund", await make_fund(pool, world))
    await pool.execute("update funds set owner_id = $1", world.orgs["funder"])
    await _as(client, pool, world, "buyer_admin")
    urls = ["/payments", "/api/payments"]
    for url in urls:  # asyncpg looks a type up the first time a connection meets it: not counted
        await _statements(client, url)
    few = {url: await _statements(client, url) for url in urls}
    made += [await waiting() for _ in range(52)]
    many = {url: await _statements(client, url) for url in urls}
    assert not _grown(few, many)

    listed = (await client.get("/api/payments")).json()
    assert [p["id"] for p in listed["items"]] == made[:50] and listed["total"] == 55 and listed["may_decide"]
    assert elsewhere not in [p["id"] for p in listed["items"]]
    rest = (await client.get(f"/api/payments?cursor={listed['next_cursor']}")).json()
    assert [p["id"] for p in rest["items"]] == made[50:] and rest["next_cursor"] is None
    await pool.execute("update organisations set name_en = 'Test Foundation' where id = $1", world.orgs["funder"])
    page = await client.get("/payments?lang=en")
    assert page.text.count('action="/payments/') == 2 * 50 and 'rel="next"' in page.text
    assert "Test Foundation" in page.text and "1–50 of 55" in page.text
    assert "测试funder" in (await client.get("/payments?lang=zh_Hans")).text

    bureau = await who(pool, settings, world, "buyer_admin")

    async def read(conn, cursor):
        found = await pledges.payment_queue(conn, bureau, cursor=cursor, limit=7)
        return [p.id for p in found.items], found.next_cursor
    seen = await walk_pages(pool, read, waiting)
    assert seen[:len(made)] == made and seen == sorted(seen)
