"""Online payments through the real `stripe` library, against the local stand-in of Stripe's API:
Checkout, webhooks (signatures, duplicates, replays, any order), outages, refunds and reconciliation."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import msgspec
import pytest

from market.core import db
from market.core.errors import Conflict, NotFound
from market.core.settings import Settings
from market.funding.ledger import services as ledger
from market.funding.payments import online
from market.funding.payments.gateways import StripeGateway
from market.funding.pledges import services as pledges
from market.funding.pledges.models import PledgeInput
from tests.conftest import act_as, dsn_for, post_form
from tests.factories import do, run_cli, who
from tests.stripe_standin import StripeStandin

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")

API_KEY = "sk_test_market"
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def app_settings(settings: Settings, stripe_api: StripeStandin) -> Settings:
    return msgspec.structs.replace(settings, payment_backend="stripe", stripe_api_key=API_KEY,
                                   stripe_webhook_secret=stripe_api.webhook_secret, stripe_api_base=stripe_api.api_base,
                                   stripe_timeout_seconds=0.5, stripe_retries=0)


@pytest.fixture
def gateway(stripe_api: StripeStandin) -> StripeGateway:
    return StripeGateway(API_KEY, stripe_api.webhook_secret, stripe_api.api_base, timeout_seconds=0.5, retries=0)


async def make_pledge(pool, settings, world, project, amount=3_000_00) -> int:
    funder = await who(pool, settings, world, "funder_admin")
    return await do(pool, pledges.create, funder, PledgeInput(target_type="project", target_id=project,
                                                               amount_fen=amount))


async def _checkout(pool, settings, world, gateway, pledge_id) -> str:
    funder = await who(pool, settings, world, "funder_admin")
    return await online.begin_checkout(pool, gateway, funder, pledge_id, BASE)


def _session_id(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def _deliver(pool, events) -> list[str]:
    return [await online.record_event(pool, event, "webhook") for event in events]


async def _books(pool) -> dict:
    """Everything the payments touch, in a form two databases can be compared by."""
    return {
        "pledges": [tuple(r) for r in await pool.fetch(
            "select id, status, disbursed_fen, allocated_project_id from pledges order by id")],
        "payments": [tuple(r) for r in await pool.fetch(
            "select id, status, failure, stripe_session_id, stripe_payment_intent from payments order by id")],
        "balances": [tuple(r) for r in await pool.fetch("select key, balance_fen from ledger_accounts order by key")],
        "movements": Counter(tuple(r) for r in await pool.fetch("select kind, pledge_id from ledger_transactions")),
        "refunds": {tuple(r) for r in await pool.fetch(
            "select payment_id, amount_fen, status, stripe_refund_id from payment_refunds")},
        "waiting": await pool.fetchval("select count(*) from stripe_events where not applied"),
    }


async def test_a_pledge_paid_through_checkout_reaches_its_project(client, pool, settings, world, project,
                                                                  stripe_api):
    pledge_id = await make_pledge(pool, settings, world, project)
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    page = await client.get(f"/pledges/{pledge_id}")
    assert "/checkout" in page.text  # the online option is offered with the stripe backend
    response = await post_form(client, f"/pledges/{pledge_id}/checkout")
    assert response.status_code == 303
    url = response.headers["location"]
    assert url.startswith(stripe_api.api_base + "/pay/cs_test_")

    payment = await pool.fetchrow("select * from payments where pledge_id = $1", pledge_id)
    [request] = stripe_api.requests
    assert request.idempotency_key == f"market-checkout-payment-{payment['id']}"
    assert request.params["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    assert request.params["line_items"][0]["price_data"]["unit_amount"] == "300000"
    assert request.params["line_items"][0]["price_data"]["currency"] == "cny"
    assert (payment["method"], payment["status"], payment["stripe_session_id"]) == ("stripe", "pending",
                                                                                    _session_id(url))
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "awaiting_payment"

    # Paying twice is not possible: the funder is sent back to the same open session.
    again = await post_form(client, f"/pledges/{pledge_id}/checkout")
    assert again.headers["location"] == url
    assert stripe_api.created["checkout.session"] == 1

    for event in stripe_api.complete(_session_id(url)):
        payload, signature = stripe_api.webhook(event)
        delivered = await client.post("/stripe/webhook", content=payload, headers={"stripe-signature": signature})
        assert delivered.status_code == 200, delivered.text
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "allocated"
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.project(project)) == 3_000_00
    assert await pool.fetchval("select status from payments where pledge_id = $1", pledge_id) == "confirmed"

    # Nobody confirms or rejects an online payment by hand.
    buyer = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(Conflict):
        await do(pool, pledges.reject_payment, buyer, payment["id"], "never arrived")


async def test_a_bad_signature_is_refused_and_changes_nothing(client, pool, settings, world, project, stripe_api,
                                                             gateway):
    pledge_id = await make_pledge(pool, settings, world, project)
    url = await _checkout(pool, settings, world, gateway, pledge_id)
    completed, _ = stripe_api.complete(_session_id(url))
    payload, signature = stripe_api.webhook(completed)
    before = await _books(pool)
    stale = stripe_api.sign(payload, stripe_api.webhook_secret, int(datetime.now().timestamp()) - 3600)
    tampered = payload.replace(b'"payment_status": "paid"', b'"payment_status": "paid" ')
    for body, headers in ((payload, {"stripe-signature": stripe_api.sign(payload, "whsec_someone_else")}),
                          (tampered, {"stripe-signature": signature}),
                          (payload, {"stripe-signature": stale}),  # a replay of an old delivery
                          (payload, {}),
                          (b"not json", {"stripe-signature": stripe_api.sign(b"not json", stripe_api.webhook_secret)})):
        response = await client.post("/stripe/webhook", content=body, headers=headers)
        assert response.status_code == 400
    assert await _books(pool) == before
    assert await pool.fetchval("select count(*) from stripe_events") == 0
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "awaiting_payment"


async def test_events_twice_and_in_any_order_end_as_once_in_order(pool, settings, world, project, stripe_api,
                                                                 gateway, database, pg_server):
    """Four payments: paid; abandoned (session expired); paid then refunded by the receiver through us;
    paid then refunded at Stripe itself. Delivered once in order, and, to copies of the database made
    before any delivery, every event twice in shuffled orders: the books must end the same."""
    ids = [await make_pledge(pool, settings, world, project, amount) for amount in (1_000_00, 2_000_00, 3_000_00,
                                                                                 4_000_00)]
    sessions = [_session_id(await _checkout(pool, settings, world, gateway, i)) for i in ids]
    await pool.close()
    admin = await asyncpg.connect(pg_server.dsn)
    copies = [f"t_{uuid.uuid4().hex[:16]}" for _ in range(3)]
    for copy in copies:
        await admin.execute(f"create database {copy} template {urlsplit(database).path.strip('/')}")
    first = await db.create_pool(settings, database)
    try:
        await _deliver(first, stripe_api.complete(sessions[0]))
        await _deliver(first, stripe_api.expire(sessions[1]))
        await _deliver(first, stripe_api.complete(sessions[2]))
        buyer = await who(first, settings, world, "buyer_admin")
        await do(first, pledges.refund, buyer, ids[2], "项目调整，退回认捐")
        assert await online.send_refunds(first, gateway) == 1
        await _deliver(first, stripe_api.events[-2:])
        await _deliver(first, stripe_api.complete(sessions[3]))
        intent = await first.fetchval("select stripe_payment_intent from payments where pledge_id = $1", ids[3])
        gateway.client.v1.refunds.create({"payment_intent": intent})  # from Stripe's Dashboard, not through us
        await _deliver(first, stripe_api.events[-2:])
        in_order = await _books(first)
    finally:
        await first.close()
    assert [s for _, s, *_ in in_order["pledges"]] == ["allocated", "awaiting_payment", "refunded", "refunded"]
    assert [p[1] for p in in_order["payments"]] == ["confirmed", "failed", "confirmed", "confirmed"]
    assert len(in_order["refunds"]) == 2 and all(r[2] == "sent" for r in in_order["refunds"])
    assert in_order["waiting"] == 0

    events = list(stripe_api.events)
    for seed, copy in enumerate(copies):
        shuffled = events * 2
        random.Random(seed).shuffle(shuffled)
        other = await db.create_pool(settings, dsn_for(pg_server, copy))
        try:
            outcomes = await _deliver(other, shuffled)
            assert outcomes.count("already recorded") == len(events)
            assert await _books(other) == in_order, f"shuffle {seed}"
        finally:
            await other.close()
            await admin.execute(f"drop database {copy} with (force)")
    await admin.close()


async def test_stripe_down_leaves_the_pledge_awaiting_payment_and_a_retry_charges_once(
        client, pool, settings, world, project, stripe_api):
    pledge_id = await make_pledge(pool, settings, world, project)
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    stripe_api.fail_with(500)
    response = await post_form(client, f"/pledges/{pledge_id}/checkout")
    assert response.status_code == 503
    assert "nothing was charged" in response.text or "没有扣款" in response.text
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "awaiting_payment"

    stripe_api.delay(2.0)  # longer than the 0.5 s the app waits
    response = await post_form(client, f"/pledges/{pledge_id}/checkout")
    assert response.status_code == 503
    stripe_api.wait_idle()
    assert stripe_api.created["checkout.session"] == 0

    response = await post_form(client, f"/pledges/{pledge_id}/checkout")
    assert response.status_code == 303
    keys = {r.idempotency_key for r in stripe_api.requests if r.method == "POST"}
    assert len(keys) == 1  # every attempt was the same request to Stripe
    assert await pool.fetchval("select count(*) from payments where pledge_id = $1", pledge_id) == 1

    # Stripe made the session but its answer was lost: the retry is answered with the same session.
    url = response.headers["location"]
    await pool.execute("update payments set stripe_session_id = null, checkout_url = null where pledge_id = $1",
                       pledge_id)
    retried = await post_form(client, f"/pledges/{pledge_id}/checkout")
    assert retried.headers["location"] == url
    assert stripe_api.created["checkout.session"] == 1


async def test_refunds_go_back_through_stripe_once_even_when_it_is_down(pool, settings, world, project, stripe_api,
                                                                       gateway):
    pledge_id = await make_pledge(pool, settings, world, project)
    await _deliver(pool, stripe_api.complete(_session_id(await _checkout(pool, settings, world, gateway, pledge_id))))
    buyer = await who(pool, settings, world, "buyer_admin")
    await do(pool, pledges.refund, buyer, pledge_id, "项目取消，退回认捐")
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.project(project)) == 0
    stripe_api.fail_with(500)
    assert await online.send_refunds(pool, gateway) == 0
    row = await pool.fetchrow("select * from payment_refunds")
    assert (row["status"], row["attempts"]) == ("pending", 1) and "APIError" in row["last_error"]
    assert stripe_api.created["refund"] == 0

    assert await online.send_refunds(pool, gateway) == 1
    assert await online.send_refunds(pool, gateway) == 0
    [refund] = [o for o in stripe_api.objects.values() if o["object"] == "refund"]
    assert refund["amount"] == 3_000_00 and refund["metadata"] == {"payment_refund_id": str(row["id"])}
    assert [r.idempotency_key for r in stripe_api.requests if r.path == "/v1/refunds"] == [
        f"market-refund-{row['id']}"] * 2
    assert await pool.fetchval("select stripe_refund_id from payment_refunds") == refund["id"]
    before = await _books(pool)
    await _deliver(pool, stripe_api.events[-2:])  # Stripe's word on the refund changes nothing more
    assert await _books(pool) == before


async def test_money_that_comes_after_the_pledge_closed_goes_back(pool, settings, world, project, stripe_api,
                                                                 gateway):
    funder = await who(pool, settings, world, "funder_admin")
    deadline = datetime.now(UTC) + timedelta(days=1)
    pledge_id = await do(pool, pledges.create, funder, PledgeInput(
        target_type="project", target_id=project, amount_fen=1_000_00, condition_target_fen=100_000_00,
        condition_deadline=deadline))
    url = await _checkout(pool, settings, world, gateway, pledge_id)
    assert await pledges.settle_due(pool, deadline + timedelta(seconds=1)) == 1
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "cancelled"
    await _deliver(pool, stripe_api.complete(_session_id(url)))
    payment = await pool.fetchrow("select * from payments where pledge_id = $1", pledge_id)
    assert payment["status"] == "failed" and "refunded" in payment["failure"]
    async with pool.acquire() as conn:
        assert await ledger.balance(conn, ledger.funder(world.orgs["funder"])) == 0
    assert await online.send_refunds(pool, gateway) == 1
    assert stripe_api.created["refund"] == 1


async def test_reconciliation_repairs_events_the_webhook_missed(pool, settings, world, project, stripe_api, gateway):
    since = datetime.now(UTC) - timedelta(minutes=1)
    pledge_id = await make_pledge(pool, settings, world, project)
    stripe_api.complete(_session_id(await _checkout(pool, settings, world, gateway, pledge_id)))
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "awaiting_payment"

    report = await online.reconcile(pool, gateway, since)
    assert [(e["type"], what) for e, what in report] == [
        ("checkout.session.completed", "repaired: payment confirmed"),
        ("payment_intent.succeeded", "repaired: already confirmed")]
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "allocated"
    again = await online.reconcile(pool, gateway, since)
    assert [what for _, what in again] == ["recorded: payment confirmed", "recorded: already confirmed"]
    assert await online.reconcile(pool, gateway, datetime.now(UTC) + timedelta(hours=1)) == []


async def test_a_funder_who_paid_can_ask_stripe_directly(pool, settings, world, project, stripe_api, gateway):
    pledge_id = await make_pledge(pool, settings, world, project)
    stripe_api.complete(_session_id(await _checkout(pool, settings, world, gateway, pledge_id)))
    payment_id = await pool.fetchval("select id from payments where pledge_id = $1", pledge_id)
    stranger = await who(pool, settings, world, "provider_admin")
    with pytest.raises(NotFound):
        await online.check_payment(pool, gateway, stranger, payment_id)
    funder = await who(pool, settings, world, "funder_admin")
    assert await online.check_payment(pool, gateway, funder, payment_id) == "payment confirmed"
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "allocated"


async def test_the_reconcile_command_lists_and_repairs(pool, settings, world, project, stripe_api, gateway,
                                                       database, monkeypatch, tmp_path, capsys):
    pledge_id = await make_pledge(pool, settings, world, project)
    stripe_api.complete(_session_id(await _checkout(pool, settings, world, gateway, pledge_id)))
    for name, value in (("DATABASE_URL", database), ("MARKET_SECRET_KEY", "c" * 40),
                        ("MARKET_DATA_DIR", str(tmp_path)), ("MARKET_PAYMENT_BACKEND", "stripe"),
                        ("MARKET_STRIPE_API_KEY", API_KEY), ("MARKET_STRIPE_API_BASE", stripe_api.api_base)):
        monkeypatch.setenv(name, value)
    today = datetime.now(UTC).date()
    assert await run_cli("payments", "reconcile", "--since", f"{today - timedelta(days=1)}") == 0
    out = capsys.readouterr().out
    assert "checkout.session.completed" in out and "repaired: payment confirmed" in out
    assert await pool.fetchval("select status from pledges where id = $1", pledge_id) == "allocated"
    stripe_api.fail_with(500)
    monkeypatch.setenv("MARKET_STRIPE_RETRIES", "0")
    assert await run_cli("payments", "reconcile", "--since", f"{today}") == 2
    err = capsys.readouterr().err
    assert err.startswith("market: ") and "APIError" in err
