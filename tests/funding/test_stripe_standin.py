"""The Stripe stand-in, driven through the real `stripe` library: the contract our payments code relies on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import httpx
import pytest
import stripe

if TYPE_CHECKING:  # at run time the plugin below imports it, so that pytest can rewrite its asserts
    from tests.stripe_standin import StripeStandin


# stripe's HTTPXClient hands httpx the encoded form as `data=`, which httpx 0.28 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")

API_KEY = "sk_test_standin"


def stripe_client(standin: StripeStandin, http_client: stripe.HTTPClient,
                  api_key: str = API_KEY) -> stripe.StripeClient:
    # Without http_client, StripeClient builds clients with an 80 s timeout; retries off so each call is one request.
    return stripe.StripeClient(api_key, base_addresses={"api": standin.api_base}, http_client=http_client,
                               max_network_retries=0)


@pytest.fixture
async def http_clients() -> AsyncIterator[Callable[[float], stripe.HTTPXClient]]:
    """Opens stripe HTTP clients with a timeout in seconds, closing them after the test."""
    opened: list[stripe.HTTPXClient] = []

    def open_client(timeout: float) -> stripe.HTTPXClient:
        # allow_sync_methods: one HTTPXClient then serves both StripeClient's sync and *_async methods.
        opened.append(stripe.HTTPXClient(timeout=timeout, allow_sync_methods=True))
        return opened[-1]

    yield open_client
    for http_client in opened:
        http_client.close()
        await http_client.close_async()


@pytest.fixture
def client(stripe_api: StripeStandin, http_clients: Callable[[float], stripe.HTTPXClient]) -> stripe.StripeClient:
    return stripe_client(stripe_api, http_clients(5.0))


def session_params(**overrides: object) -> dict:
    params = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "CNY", "unit_amount": 2500, "product_data": {"name": "Pledge"}}, "quantity": 2},
            {"price_data": {"currency": "cny", "unit_amount": 100, "product_data": {"name": "Handling"}},
             "quantity": 1},
        ],
        "payment_method_types": ["card", "alipay", "wechat_pay"],
        "payment_method_options": {"wechat_pay": {"client": "web"}},
        "client_reference_id": "pledge-7",
        "metadata": {"pledge_id": 7},
        "payment_intent_data": {"metadata": {"pledge_id": 7, "purpose": "pledge"}},
        "success_url": "https://market.test/pledges/7/paid",
        "cancel_url": "https://market.test/pledges/7",
    }
    return {**params, **overrides}


def paid_session(client: stripe.StripeClient, standin: StripeStandin) -> stripe.checkout.Session:
    session = client.v1.checkout.sessions.create(session_params())
    standin.complete(session.id)
    return client.v1.checkout.sessions.retrieve(session.id)


def test_creates_and_retrieves_a_checkout_session(stripe_api: StripeStandin, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7-checkout"})

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.mode, session.status, session.payment_status) == ("payment", "open", "unpaid")
    assert (session.amount_total, session.currency) == (5100, "cny")
    assert session.payment_method_types == ["card", "alipay", "wechat_pay"]
    assert session.client_reference_id == "pledge-7"
    assert session.metadata.to_dict() == {"pledge_id": "7"}  # Stripe metadata values are strings
    assert session.payment_intent is None
    assert session.url == f"{stripe_api.api_base}/pay/{session.id}"
    assert session.success_url == "https://market.test/pledges/7/paid"
    assert session.livemode is False
    assert session.last_response.idempotency_key == "pledge-7-checkout"

    # The library's form encoding arrived intact, bracket notation and all.
    [request] = stripe_api.requests
    assert (request.method, request.path, request.idempotency_key) == ("POST", "/v1/checkout/sessions",
                                                                       "pledge-7-checkout")
    assert request.params["line_items"][0] == {
        "price_data": {"currency": "CNY", "unit_amount": "2500", "product_data": {"name": "Pledge"}}, "quantity": "2"}
    assert request.params["payment_method_options"] == {"wechat_pay": {"client": "web"}}

    fetched = client.v1.checkout.sessions.retrieve(session.id)
    assert fetched.to_dict() == session.to_dict()


async def test_async_methods_reach_the_stand_in(client: stripe.StripeClient) -> None:
    session = await client.v1.checkout.sessions.create_async(session_params())
    fetched = await client.v1.checkout.sessions.retrieve_async(session.id)
    assert fetched.id == session.id


def test_a_replayed_idempotency_key_returns_the_first_result(stripe_api: StripeStandin,
                                                             client: stripe.StripeClient) -> None:
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    again = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert stripe_api.created["checkout.session"] == 1
    assert [r.replayed for r in stripe_api.requests] == [False, True]


def test_a_key_reused_with_other_parameters_is_refused(stripe_api: StripeStandin,
                                                       client: stripe.StripeClient) -> None:
    client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    with pytest.raises(stripe.IdempotencyError) as refused:
        client.v1.checkout.sessions.create(session_params(client_reference_id="pledge-8"),
                                           {"idempotency_key": "pledge-7"})

    assert refused.value.http_status == 400
    assert refused.value.error.type == "idempotency_error"
    assert stripe_api.created["checkout.session"] == 1


@pytest.mark.parametrize(("overrides", "param"), [
    ({"line_items": [{"price_data": {"unit_amount": 100, "product_data": {"name": "Pledge"}}, "quantity": 1}]},
     "line_items[0][price_data][currency]"),
    ({"line_items": [{"price_data": {"currency": "cny", "unit_amount": 0, "product_data": {"name": "Pledge"}},
                      "quantity": 1}]},
     "line_items[0][price_data][unit_amount]"),
    ({"line_items": [{"price_data": {"currency": "cny", "unit_amount": "1.5", "product_data": {"name": "Pledge"}},
                      "quantity": 1}]},
     "line_items[0][price_data][unit_amount]"),
    ({"payment_method_options": None}, "payment_method_options[wechat_pay][client]"),
    ({"payment_method_types": ["card", "cash"]}, "payment_method_types[1]"),
    ({"shipping_options": [{"shipping_rate": "shr_1"}]}, "shipping_options"),
])
def test_invalid_sessions_are_refused_with_the_param(stripe_api: StripeStandin, client: stripe.StripeClient,
                                                     overrides: dict, param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(session_params(**overrides), {"idempotency_key": "bad"})

    assert (refused.value.http_status, refused.value.param) == (400, param)
    assert stripe_api.created["checkout.session"] == 0
    # Refusals keep no idempotency result, so the corrected request may reuse the key.
    assert client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "bad"}).status == "open"


def test_an_unknown_session_is_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_unknown")

    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_requests_need_a_test_secret_key(stripe_api: StripeStandin,
                                         http_clients: Callable[[float], stripe.HTTPXClient]) -> None:
    live = stripe_client(stripe_api, http_clients(5.0), api_key="sk_live_real")
    with pytest.raises(stripe.AuthenticationError):
        live.v1.checkout.sessions.create(session_params())

    response = httpx.post(f"{stripe_api.api_base}/v1/checkout/sessions", data={"mode": "payment"})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert stripe_api.created["checkout.session"] == 0


def test_completion_pays_the_session_and_emits_events(stripe_api: StripeStandin,
                                                      client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    completed, succeeded = stripe_api.complete(session.id)

    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    assert paid.payment_intent.startswith("pi_")
    assert (completed["type"], completed["data"]["object"]["id"]) == ("checkout.session.completed", session.id)
    intent = succeeded["data"]["object"]
    assert succeeded["type"] == "payment_intent.succeeded"
    assert (intent["id"], intent["amount"], intent["currency"], intent["status"]) == (
        paid.payment_intent, 5100, "cny", "succeeded")
    assert intent["metadata"] == {"pledge_id": "7", "purpose": "pledge"}  # from payment_intent_data[metadata]
    assert stripe_api.events == [completed, succeeded]
    assert completed["created"] < succeeded["created"]


def test_events_are_listed_newest_first_page_by_page(stripe_api: StripeStandin, client: stripe.StripeClient) -> None:
    earlier = client.v1.checkout.sessions.create(session_params())
    stripe_api.expire(earlier.id)
    session = client.v1.checkout.sessions.create(session_params())
    stripe_api.complete(session.id)
    since = {"gt": session.created}  # leaves out the expiry, which came before

    first = client.v1.events.list({"created": since, "limit": 1})
    assert [e.type for e in first.data] == ["payment_intent.succeeded"]
    assert first.has_more is True
    second = client.v1.events.list({"created": since, "limit": 1, "starting_after": first.data[0].id})
    assert [e.type for e in second.data] == ["checkout.session.completed"]
    assert second.has_more is False
    assert second.data[0].data.object.id == session.id

    everything = client.v1.events.list({"limit": 1}).auto_paging_iter()
    assert [e.type for e in everything] == ["payment_intent.succeeded", "checkout.session.completed",
                                            "checkout.session.expired"]
    expired = client.v1.events.list({"type": "checkout.session.expired"})
    assert [e.data.object.id for e in expired.data] == [earlier.id]
    assert client.v1.events.retrieve(first.data[0].id).type == "payment_intent.succeeded"
    with pytest.raises(stripe.InvalidRequestError) as too_many:
        client.v1.events.list({"limit": 101})
    assert too_many.value.param == "limit"


def test_refunds_partially_then_fully_never_beyond(stripe_api: StripeStandin, client: stripe.StripeClient) -> None:
    intent = paid_session(client, stripe_api).payment_intent

    partial = client.v1.refunds.create({"payment_intent": intent, "amount": 1000, "metadata": {"pledge_id": 7}},
                                       {"idempotency_key": "refund-7-1"})
    assert (partial.object, partial.amount, partial.currency, partial.status) == ("refund", 1000, "cny", "succeeded")
    assert partial.id.startswith("re_")
    assert (partial.payment_intent, partial.metadata.to_dict()) == (intent, {"pledge_id": "7"})

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"payment_intent": intent, "amount": 4101})
    assert too_much.value.param == "amount"

    rest = client.v1.refunds.create({"payment_intent": intent})
    assert rest.amount == 4100

    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create({"payment_intent": intent, "amount": 1})
    assert again.value.code == "charge_already_refunded"
    assert stripe_api.created["refund"] == 2

    refunded = [e for e in stripe_api.events if e["type"] == "charge.refunded"]
    charges = [e["data"]["object"] for e in refunded]
    assert [(c["payment_intent"], c["amount"], c["amount_refunded"], c["refunded"]) for c in charges] == [
        (intent, 5100, 1000, False), (intent, 5100, 5100, True)]
    assert refunded[0]["request"]["idempotency_key"] == "refund-7-1"
    created = [e["data"]["object"]["id"] for e in stripe_api.events if e["type"] == "refund.created"]
    assert created == [partial.id, rest.id]


def test_a_server_error_creates_nothing(stripe_api: StripeStandin, client: stripe.StripeClient) -> None:
    stripe_api.fail_with(500, times=1)
    with pytest.raises(stripe.APIError) as failed:
        client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    assert failed.value.http_status == 500
    assert stripe_api.created["checkout.session"] == 0

    session = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    replay = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    assert replay.id == session.id
    assert stripe_api.created["checkout.session"] == 1


def test_a_timed_out_request_creates_nothing(stripe_api: StripeStandin, client: stripe.StripeClient,
                                             http_clients: Callable[[float], stripe.HTTPXClient]) -> None:
    impatient = stripe_client(stripe_api, http_clients(0.2))
    stripe_api.delay(1.0, times=1)
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    stripe_api.wait_idle()  # the delayed request has woken and found its client gone
    assert stripe_api.created["checkout.session"] == 0
    assert stripe_api.requests[0].status is None

    session = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    assert session.status == "open"
    assert stripe_api.created["checkout.session"] == 1


def test_a_slow_answer_within_the_timeout_still_counts(stripe_api: StripeStandin,
                                                       client: stripe.StripeClient) -> None:
    stripe_api.delay(0.1, times=1)
    client.v1.checkout.sessions.create(session_params())
    assert stripe_api.created["checkout.session"] == 1


def test_webhook_signatures_verify_with_the_library(stripe_api: StripeStandin, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    completed, _ = stripe_api.complete(session.id)

    payload, signature = stripe_api.webhook(completed)
    event = stripe.Webhook.construct_event(payload, signature, stripe_api.webhook_secret)
    assert (event.id, event.type, event.data.object.id) == (completed["id"], "checkout.session.completed", session.id)

    tampered = json.dumps({**completed, "type": "checkout.session.expired"}).encode()
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, signature, stripe_api.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_someone_else")


def test_signatures_match_the_librarys_own(stripe_api: StripeStandin) -> None:
    payload = b'{"id": "evt_1", "object": "event"}'
    ours = stripe_api.sign(payload, "whsec_x", timestamp=1_700_000_000)
    theirs = stripe.WebhookSignature.generate_signature_header(payload.decode(), "whsec_x", timestamp=1_700_000_000)
    assert ours == theirs


def test_reset_forgets_everything(stripe_api: StripeStandin, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"})
    stripe_api.complete(session.id)
    stripe_api.fail_with(500, times=3)
    stripe_api.reset()

    assert (stripe_api.objects, stripe_api.events, stripe_api.requests) == ({}, [], [])
    assert not stripe_api.created
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)
    assert client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "pledge-7"}).id != session.id
