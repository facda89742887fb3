"""Online payments: Stripe Checkout sessions, the events Stripe sends back, refunds and reconciliation.

The network is never called inside a database transaction that holds the books: a checkout first
commits its pending payment (so a funder who meets an outage still has a pledge awaiting payment),
then asks Stripe for a session with an idempotency key made from that payment's id, so asking
again returns the same session rather than a second charge. A refund is written to the ledger with
a `payment_refunds` row and sent afterwards, again until Stripe has it.

Stripe's events are applied by `record_event`, the webhook's and the reconciliation's one door:
the event id is stored (primary key) in the same transaction as its effect, so a duplicate or a
replay changes nothing; every effect checks the state it finds rather than trusting the order of
arrival; a refund seen before the payment it refunds waits, and is applied when the payment is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, NotFound, Unavailable
from market.funding.ledger import services as ledger
from market.funding.payments.gateways import Checkout, PaymentGateway, Session
from market.funding.pledges import services as pledges

log = structlog.get_logger(__name__)


async def begin_checkout(pool: asyncpg.Pool, gateway: PaymentGateway, identity: Identity, pledge_id: int,
                         base_url: str) -> str:
    """The address of a Stripe Checkout page where the funder pays the pledge: a new one, or the open
    one already made for it. Raises Unavailable (the pledge still awaiting payment) if Stripe cannot
    be reached."""
    if not gateway.online:
        raise Conflict("Online payment is not set up here; pay by bank transfer.")
    while True:
        async with pool.acquire() as conn, conn.transaction():
            order = await prepare_checkout(conn, identity, pledge_id, base_url)
        if isinstance(order, Checkout):
            session = await gateway.checkout(order)
            async with pool.acquire() as conn:
                await conn.execute("update payments set stripe_session_id = $2, checkout_url = $3 "
                                   "where id = $1 and stripe_session_id is null", order.payment_id, session.id,
                                   session.url)
            return session.url or f"{base_url}/pledges/{pledge_id}"
        payment_id, session_id = order
        session = await gateway.session(session_id)
        if session.status == "open" and session.url:
            return session.url
        # Paid or expired without our hearing of it: apply what Stripe says, then look again.
        async with pool.acquire() as conn, conn.transaction():
            await ledger.serialise(conn)
            await _apply_session(conn, payment_id, session)
        if session.status == "complete":
            return f"{base_url}/pledges/{pledge_id}"


async def prepare_checkout(conn: asyncpg.Connection, identity: Identity, pledge_id: int,
                            base_url: str) -> Checkout | tuple[int, str]:
    """What to ask Stripe for: (payment id, session id) of the online payment in flight, or a checkout
    for a payment not yet sent to Stripe (made now if there is none)."""
    pending = await conn.fetchrow("select y.*, p.funder_id from payments y join pledges p on p.id = y.pledge_id "
                                  "where y.pledge_id = $1 and y.status = 'pending'", pledge_id)
    if pending is not None:
        if not (identity.acts_for_verified and identity.org_id == pending["funder_id"]):
            raise Forbidden("Only the funder that made the pledge pays or cancels it.")
        if pending["method"] != "stripe":
            raise Conflict("A payment of this pledge is waiting to be confirmed.")
        if pending["stripe_session_id"]:
            return pending["id"], pending["stripe_session_id"]
        payment_id, amount = pending["id"], pending["amount_fen"]
    else:
        pledge = await pledges.start_payment(conn, identity, pledge_id)
        amount = pledge["amount_fen"]
        payment_id = await conn.fetchval(
            "insert into payments (pledge_id, method, amount_fen, recorded_by) values ($1, 'stripe', $2, $3) "
            "returning id", pledge_id, amount, identity.user_id)
        await audit.record(conn, verb=Verb.PAYMENT_RECORD, object_type="payment", object_id=payment_id,
                           actor=identity.user_id, organisation=identity.org_id,
                           after={"pledge_id": pledge_id, "method": "stripe", "amount_fen": amount})
    title = await conn.fetchval("select coalesce(pr.title_zh, f.name_zh) from pledges p left join projects pr "
                                "on pr.id = p.project_id left join funds f on f.id = p.fund_id where p.id = $1",
                                pledge_id)
    return Checkout(payment_id=payment_id, pledge_id=pledge_id, amount_fen=amount, currency=ledger.CURRENCY,
                    description=f"公益服务市场 认捐 #{pledge_id} · {title or ''}",
                    success_url=f"{base_url}/pledges/{pledge_id}?paid=1", cancel_url=f"{base_url}/pledges/{pledge_id}")


async def _apply_session(conn: asyncpg.Connection, payment_id: int, session: Session) -> str:
    if session.status == "complete" and session.payment_status == "paid" and session.payment_intent:
        return await _paid(conn, payment_id, session.payment_intent, session.id)
    if session.status == "expired":
        return await _expired(conn, payment_id)
    return "not paid yet"


async def _stripe_payment(conn: asyncpg.Connection, payment_id: Any) -> Any:
    if not str(payment_id or "").isdigit():
        return None
    return await conn.fetchrow("select * from payments where id = $1 and method = 'stripe' for update",
                               int(payment_id))


async def _paid(conn: asyncpg.Connection, payment_id: Any, intent: str, session_id: str | None) -> str:
    payment = await _stripe_payment(conn, payment_id)
    if payment is None:
        return "not a payment of ours"
    await conn.execute("update payments set stripe_payment_intent = coalesce(stripe_payment_intent, $2), "
                       "stripe_session_id = coalesce(stripe_session_id, $3) where id = $1", payment["id"], intent,
                       session_id)
    if payment["status"] == "confirmed":
        return "already confirmed"
    pledge = await conn.fetchrow("select * from pledges where id = $1 for update", payment["pledge_id"])
    if payment["status"] == "pending" and pledge["status"] == "awaiting_payment":
        await pledges.confirm_payment(conn, None, payment["id"])
        return "payment confirmed"
    if payment["failure"] == "paid after the pledge was closed; refunded":
        return "already refunded"
    # The money came after the pledge was closed (its session expired, or an all-or-nothing deadline
    # passed): it is booked in and straight back out, and the refund is sent to Stripe.
    held = pledges.held(pledge)
    await ledger.post(conn, "payment", [(ledger.funder(pledge["funder_id"]), -payment["amount_fen"]),
                                        (held, payment["amount_fen"])], pledge_id=pledge["id"],
                      project_id=pledge["project_id"], memo=f"payment #{payment['id']} (late)")
    await ledger.post(conn, "refund", [(held, -payment["amount_fen"]),
                                       (ledger.funder(pledge["funder_id"]), payment["amount_fen"])],
                      pledge_id=pledge["id"], project_id=pledge["project_id"],
                      memo=f"payment #{payment['id']} came after the pledge was {pledge['status']}")
    late = "paid after the pledge was closed; refunded"
    if payment["status"] == "pending":
        await pledges.fail_payment(conn, payment, late)
    else:  # failed already (its checkout expired): only what became of it changes
        await conn.execute("update payments set failure = $2 where id = $1", payment["id"], late)
    await conn.execute("insert into payment_refunds (payment_id, amount_fen) values ($1, $2)", payment["id"],
                       payment["amount_fen"])
    return "paid after the pledge was closed; refund queued"


async def _expired(conn: asyncpg.Connection, payment_id: Any) -> str:
    payment = await _stripe_payment(conn, payment_id)
    if payment is None:
        return "not a payment of ours"
    if not pledges.PAYMENT.allowed("fail", payment["status"]):
        return f"payment already {payment['status']}"
    await pledges.fail_payment(conn, payment, "checkout expired")
    return "checkout expired"


async def _refunded(conn: asyncpg.Connection, refund: dict[str, Any]) -> str | None:
    intent = refund.get("payment_intent")
    # A payment is refunded once, whole: the row, if any, is this refund's, whoever asked for it.
    row = await conn.fetchrow("select r.* from payment_refunds r join payments y on y.id = r.payment_id "
                              "where y.stripe_payment_intent = $1 for update of r", intent)
    if row is not None:
        if row["status"] == "pending":
            await conn.execute("update payment_refunds set status = 'sent', stripe_refund_id = $2, sent_at = market_now() "
                               "where id = $1", row["id"], refund["id"])
        return "refund recorded"
    payment = await conn.fetchrow("select * from payments where stripe_payment_intent = $1", intent)
    if payment is None:
        return None  # the payment's own event has not come yet
    # Refunded at Stripe itself (its Dashboard), not through us: book it, if the money is still here.
    pledge = await conn.fetchrow("select * from pledges where id = $1 for update", payment["pledge_id"])
    if (payment["status"] != "confirmed" or pledge["status"] not in ("paid", "allocated") or pledge["disbursed_fen"]
            or refund["amount"] != payment["amount_fen"]):
        log.warning("stripe.refund_unbooked", refund=refund["id"], payment=payment["id"])
        return "refunded at Stripe, but the money is no longer held for this pledge: needs a person to look at it"
    await pledges.refund_booked(conn, pledge, None, "refunded at Stripe")
    await conn.execute("update payment_refunds set status = 'sent', stripe_refund_id = $2, sent_at = market_now() "
                       "where payment_id = $1", payment["id"], refund["id"])
    return "refunded at Stripe; booked"


async def _apply(conn: asyncpg.Connection, event: dict[str, Any]) -> str | None:
    """The event's effect on our books; None when it must wait for another event first."""
    obj = event.get("data", {}).get("object", {})
    metadata = obj.get("metadata") or {}
    match event.get("type"):
        case "checkout.session.completed" | "checkout.session.async_payment_succeeded":
            if obj.get("payment_status") != "paid":
                return "not paid yet"
            return await _paid(conn, metadata.get("payment_id"), obj.get("payment_intent"), obj.get("id"))
        case "payment_intent.succeeded":
            return await _paid(conn, metadata.get("payment_id"), obj.get("id"), None)
        case "checkout.session.expired":
            return await _expired(conn, metadata.get("payment_id"))
        case "refund.created" | "refund.updated" if obj.get("status") == "succeeded":
            return await _refunded(conn, obj)
        case _:
            return "nothing to do"


async def record_event(pool: asyncpg.Pool, event: dict[str, Any], source: str) -> str:
    """Apply one event from Stripe, once, in a transaction of its own. Returns what it did."""
    async with pool.acquire() as conn, conn.transaction():
        return await apply_event(conn, event, source)


async def apply_event(conn: asyncpg.Connection, event: dict[str, Any], source: str) -> str:
    """Record the event and apply its effect, in the caller's transaction; once per event id."""
    await ledger.serialise(conn)
    created = datetime.fromtimestamp(int(event.get("created", 0)), UTC)
    fresh = await conn.fetchval(
        "insert into stripe_events (id, type, created, payload, source, applied) values ($1, $2, $3, $4, $5, false) "
        "on conflict (id) do nothing returning true", event["id"], str(event.get("type", "")), created, event,
        source)
    if not fresh:
        return "already recorded"
    outcome = await _apply(conn, event)
    if outcome is None:
        await conn.execute("update stripe_events set outcome = 'waiting for the payment it refunds' "
                           "where id = $1", event["id"])
        return "waiting for the payment it refunds"
    await conn.execute("update stripe_events set applied = true, outcome = $2 where id = $1", event["id"],
                       outcome)
    await _apply_waiting(conn)
    return outcome


async def _apply_waiting(conn: asyncpg.Connection) -> None:
    """Apply the events that were waiting, now that another has been applied."""
    progress = True
    while progress:
        progress = False
        for waiting in await conn.fetch("select id, payload from stripe_events where not applied order by created, id"):
            outcome = await _apply(conn, waiting["payload"])
            if outcome is not None:
                await conn.execute("update stripe_events set applied = true, outcome = $2 where id = $1",
                                   waiting["id"], outcome)
                progress = True


async def send_refunds(pool: asyncpg.Pool, gateway: PaymentGateway) -> int:
    """Send the refunds Stripe does not have yet; returns how many were sent. One that fails stays
    pending, with the error, for the next run."""
    if not gateway.online:
        return 0
    sent, after = 0, 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "select r.*, y.stripe_payment_intent from payment_refunds r join payments y on y.id = r.payment_id "
                "where r.status = 'pending' and r.id > $1 order by r.id limit 1 for update of r skip locked", after)
            if row is None:
                return sent
            after = row["id"]
            try:
                refund_id = await gateway.refund(row["id"], row["stripe_payment_intent"], row["amount_fen"])
            except Unavailable as exc:
                await conn.execute("update payment_refunds set attempts = attempts + 1, last_error = $2 where id = $1",
                                   row["id"], exc.text()[:500])
                continue
            await conn.execute("update payment_refunds set status = 'sent', stripe_refund_id = $2, sent_at = market_now(), "
                               "attempts = attempts + 1 where id = $1", row["id"], refund_id)
            sent += 1


async def check_payment(pool: asyncpg.Pool, gateway: PaymentGateway, identity: Identity, payment_id: int) -> str:
    """Ask Stripe how an online payment stands (the funder's "I have paid" button), and apply it."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow("select y.*, p.funder_id from payments y join pledges p on p.id = y.pledge_id "
                                  "where y.id = $1", payment_id)
    if row is None or not (identity.acts_for_verified and identity.org_id == row["funder_id"]):
        raise NotFound()
    if row["method"] != "stripe" or not row["stripe_session_id"] or row["status"] != "pending":
        return row["status"]
    session = await gateway.session(row["stripe_session_id"])
    async with pool.acquire() as conn, conn.transaction():
        await ledger.serialise(conn)
        return await _apply_session(conn, payment_id, session)


async def reconcile(pool: asyncpg.Pool, gateway: PaymentGateway, since: datetime) -> list[tuple[dict[str, Any], str]]:
    """Every Stripe event since `since`, oldest first, with what became of it: already recorded, or
    applied now (one the webhook missed). Then sends refunds still pending."""
    report = []
    for event in await gateway.events_since(since):
        async with pool.acquire() as conn:
            known = await conn.fetchrow("select applied, outcome from stripe_events where id = $1", event["id"])
        if known is not None:
            report.append((event, f"recorded: {known['outcome']}"))
        else:
            report.append((event, f"repaired: {await record_event(pool, event, 'reconcile')}"))
    await send_refunds(pool, gateway)
    return report
