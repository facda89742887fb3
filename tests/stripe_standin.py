"""A local stand-in for the parts of the Stripe API our payments code uses.

Tests point the real `stripe` library at it (base address `api_base`) rather than mocking our code. It speaks
Stripe's wire format: form-encoded bodies in bracket notation, JSON answers, Bearer auth, idempotency keys and
Stripe-shaped error bodies. Test controls, called directly on the instance, play the customer (`complete`,
`expire`), inject failures (`fail_with`, `delay`) and sign webhook payloads as Stripe does (`sign`, `webhook`).

Tests get a fresh instance from the `stripe_api` fixture (list this module in `pytest_plugins`).
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import hmac
import json
import operator
import re
import secrets
import select
import socket
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

Json = dict[str, Any]

API_VERSION = "2024-06-20"
DEFAULT_WEBHOOK_SECRET = "whsec_test_standin"
SESSION_LIFETIME = 24 * 60 * 60  # Stripe's default Checkout Session expiry
PAYMENT_METHOD_TYPES = ("alipay", "card", "wechat_pay")
WECHAT_PAY_CLIENTS = ("android", "ios", "web")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
EVENTS_PAGE_LIMIT = 100

_ID_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ID_ALPHABET) for _ in range(24))}"


class _Refusal(Exception):
    """An answer in Stripe's error shape: {"error": {"type", "message", "param"?, "code"?}}."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error: Json = {"type": type, "message": message}
        if param is not None:
            self.error["param"] = param
        if code is not None:
            self.error["code"] = code


def _missing(param: str) -> _Refusal:
    return _Refusal(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def _no_such(kind: str, object_id: str, param: str, status: int = 400) -> _Refusal:
    return _Refusal(status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


def _allow_only(params: Json, allowed: set[str], within: str | None = None) -> None:
    # Stripe refuses parameters it does not know. The stand-in also refuses the ones it does not model, so a test
    # cannot pass while a parameter our code relies on is silently ignored.
    for name in params:
        if name not in allowed:
            param = f"{within}[{name}]" if within else name
            raise _Refusal(400, f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def _object(value: Any, param: str) -> Json:
    """A nested-object param; absent (or "", Stripe's way to unset) reads as empty."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _Refusal(400, f"Invalid object: {param}", param=param)
    return value


def _integer(value: Any, param: str, minimum: int | None = None) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise _Refusal(400, f"Invalid integer: {value}", param=param, code="parameter_invalid_integer")
    number = int(value)
    if minimum is not None and number < minimum:
        raise _Refusal(400, f"This value must be greater than or equal to {minimum}.", param=param,
                       code="parameter_invalid_integer")
    return number


def _one_of(value: Any, choices: tuple[str, ...], param: str) -> str:
    if value not in choices:
        raise _Refusal(400, f"Invalid {param}: must be one of {', '.join(choices)}", param=param,
                       code="parameter_invalid_string")
    return value


def _string_map(value: Any, param: str) -> dict[str, str]:
    mapping = _object(value, param)
    if not all(isinstance(v, str) for v in mapping.values()):
        raise _Refusal(400, f"Invalid object: {param} must map keys to strings", param=param)
    return dict(mapping)


def parse_params(pairs: list[tuple[str, str]]) -> Json:
    """Rebuild Stripe's bracket notation into nested values: `a[b][0][c]=v` gives {"a": {"b": [{"c": "v"}]}}.

    Values stay strings, as on the wire. On a conflicting key the later pair wins."""
    root: Json = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        *parents, leaf = [head, *re.findall(r"\[([^\]]*)\]", key[len(head):])]
        node = root
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return _listify(root)


def _listify(node: Any, name: str | None = None) -> Any:
    """Turn objects keyed 0..n-1 into lists, except metadata: a free-form map whose keys may well be digits."""
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value, key) for key, value in node.items()}
    if name != "metadata" and items and list(items) == [str(i) for i in range(len(items))]:
        return list(items.values())
    return items


@dataclass
class ReceivedRequest:
    """One API request as the stand-in received it, kept in `StripeStandin.requests` for assertions."""

    id: str  # the Request-Id answered, like Stripe's req_...
    method: str
    path: str
    params: Json  # nested, parsed from the query string (GET) or the form body (POST)
    idempotency_key: str | None
    status: int | None = None  # HTTP status answered; None while pending, or when the client gave up waiting
    replayed: bool = False  # answered from the idempotency record, creating nothing


@dataclass
class _IdempotentResult:
    method: str
    path: str
    params: Json
    status: int
    body: bytes


class _Server(ThreadingHTTPServer):
    def __init__(self, standin: StripeStandin) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)  # port 0: the OS picks a free one
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as clients keep pooled connections to the real API

    def do_GET(self) -> None:
        self.server.standin._serve(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests inspect `StripeStandin.requests` instead."""

    def client_gone(self) -> bool:
        """Whether the client closed the connection, e.g. after timing out: readable, yet nothing to read."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


# An endpoint takes the request and the ids captured from its path, and answers (HTTP status, object).
Endpoint = Callable[..., tuple[int, Json]]


class StripeStandin:
    """A local HTTP stand-in of the Stripe API, run in a daemon thread.

    State, all cleared by `reset()`:
      objects   every object created, by id (sessions, payment intents, charges, refunds, events)
      created   how many objects of each kind were created, e.g. created["checkout.session"]
      events    all events, oldest first
      requests  every API request received, as `ReceivedRequest`
    """

    def __init__(self) -> None:
        # One lock guards all state; as a Condition it also lets `wait_idle` wait for requests in flight.
        self._lock = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self._routes: list[tuple[str, re.Pattern[str], Endpoint]] = [
            ("POST", re.compile(r"/v1/checkout/sessions"), self._create_checkout_session),
            ("GET", re.compile(r"/v1/checkout/sessions/([^/]+)"), self._retriever("checkout.session")),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/events"), self._list_events),
            ("GET", re.compile(r"/v1/events/([^/]+)"), self._retriever("event")),
        ]
        self.reset()

    # --- lifecycle ---

    def start(self) -> None:
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="stripe-standin", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            raise RuntimeError("the Stripe stand-in is not running")
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    @property
    def api_base(self) -> str:
        if self._server is None:
            raise RuntimeError("the Stripe stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.objects: dict[str, Json] = {}
            self.created: Counter[str] = Counter()
            self.events: list[Json] = []
            self.requests: list[ReceivedRequest] = []
            self.webhook_secret = DEFAULT_WEBHOOK_SECRET
            self._idempotent: dict[str, _IdempotentResult] = {}
            self._payment_intent_metadata: dict[str, dict[str, str]] = {}  # by session id
            self._failures: list[int] = []  # one HTTP status per upcoming request
            self._delays: list[float] = []  # one delay per upcoming request
            self._clock = 0

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no request is being handled, e.g. until a delayed request whose client gave up is dropped."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._in_flight == 0, timeout):
                raise TimeoutError(f"{self._in_flight} request(s) still in flight after {timeout}s")

    # --- test controls ---

    def fail_with(self, status: int = 500, times: int = 1) -> None:
        """The next `times` requests answer `status` with an `api_error` body, having done nothing."""
        with self._lock:
            self._failures.extend([status] * times)

    def delay(self, seconds: float, times: int = 1) -> None:
        """The next `times` requests wait `seconds` before being handled. One whose client gave up meanwhile is
        dropped without effect, as if it had never reached Stripe."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def complete(self, session_id: str) -> list[Json]:
        """The customer pays an open Checkout Session. Returns the new events."""
        with self._lock:
            session = self._open_session(session_id)
            intent_id, charge_id = _new_id("pi"), _new_id("ch")
            intent = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "created": self._tick(),
                "currency": session["currency"],
                "latest_charge": charge_id,
                "livemode": False,
                "metadata": self._payment_intent_metadata.get(session_id) or dict(session["metadata"]),
                "payment_method_types": list(session["payment_method_types"]),
                "status": "succeeded",
            }
            charge = {
                "id": charge_id,
                "object": "charge",
                "amount": intent["amount"],
                "amount_refunded": 0,
                "created": self._tick(),
                "currency": intent["currency"],
                "livemode": False,
                "paid": True,
                "payment_intent": intent_id,
                "refunded": False,
                "status": "succeeded",
            }
            self._store(intent)
            self._store(charge)
            # Stripe hands out a session's URL only while it is open.
            session.update(status="complete", payment_status="paid", payment_intent=intent_id, url=None)
            return [self._emit("checkout.session.completed", session), self._emit("payment_intent.succeeded", intent)]

    def expire(self, session_id: str) -> list[Json]:
        """An open Checkout Session expires. Returns the new events."""
        with self._lock:
            session = self._open_session(session_id)
            session.update(status="expired", url=None)
            return [self._emit("checkout.session.expired", session)]

    @staticmethod
    def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
        """A `Stripe-Signature` header value for `payload`, made as Stripe makes it."""
        if timestamp is None:
            timestamp = int(time.time())
        digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def webhook(self, event: Json) -> tuple[bytes, str]:
        """The body and `Stripe-Signature` header with which Stripe would deliver `event` to a webhook endpoint.

        Signed at the current time, not at the event's `created`: receivers check the signature's age against
        their own clock."""
        payload = json.dumps(event).encode()
        return payload, self.sign(payload, self.webhook_secret)

    # --- state helpers (called with the lock held) ---

    def _tick(self) -> int:
        # Every `created` is unique and increasing, so the order of objects and events is deterministic even
        # within one second; the clock never falls behind real time.
        self._clock = max(self._clock + 1, int(time.time()))
        return self._clock

    def _store(self, obj: Json) -> None:
        self.objects[obj["id"]] = obj
        self.created[obj["object"]] += 1

    def _find(self, kind: str, object_id: str, param: str, status: int = 400) -> Json:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise _no_such(kind, object_id, param, status)
        return obj

    def _open_session(self, session_id: str) -> Json:
        session = self.objects.get(session_id)
        if session is None or session["object"] != "checkout.session":
            raise KeyError(f"no checkout session {session_id}")
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}, not open")
        return session

    def _emit(self, type: str, obj: Json, previous_attributes: Json | None = None,
              request: ReceivedRequest | None = None) -> Json:
        """Record an event holding a snapshot of `obj`. `request` is the API request that caused it, if any."""
        data: Json = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self._tick(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {
                "id": request.id if request else None,
                "idempotency_key": request.idempotency_key if request else None,
            },
            "type": type,
        }
        self._store(event)
        self.events.append(event)
        return event

    # --- HTTP ---

    def _serve(self, http: _Handler) -> None:
        with self._lock:
            self._in_flight += 1
        try:
            self._answer(http)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()

    def _answer(self, http: _Handler) -> None:
        url = urlsplit(http.path)
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0)).decode()
        request = ReceivedRequest(
            id=_new_id("req"),
            method=http.command,
            path=url.path,
            params=parse_params(parse_qsl(url.query if http.command == "GET" else body, keep_blank_values=True)),
            idempotency_key=http.headers.get("Idempotency-Key"),
        )
        with self._lock:
            self.requests.append(request)
            delay = self._delays.pop(0) if self._delays else None
            failure = self._failures.pop(0) if self._failures else None
        if delay is not None:
            time.sleep(delay)
            if http.client_gone():
                http.close_connection = True
                return
        # Injected failures stand for requests that never reached the API proper: nothing is created, and no
        # idempotency result is stored, so a retry with the same key creates exactly once.
        if failure is not None:
            error = {"type": "api_error", "message": "An error occurred with our connection to Stripe. (stand-in)"}
            self._reply(http, request, failure, json.dumps({"error": error}).encode())
            return
        status, payload, replayed = self._execute(request, http.headers.get("Authorization"))
        request.replayed = replayed
        self._reply(http, request, status, payload)

    def _execute(self, request: ReceivedRequest, authorization: str | None) -> tuple[int, bytes, bool]:
        key = request.idempotency_key if request.method == "POST" else None
        with self._lock:
            try:
                self._authenticate(authorization)
                if key is not None and key in self._idempotent:
                    stored = self._idempotent[key]
                    if (stored.method, stored.path, stored.params) != (request.method, request.path, request.params):
                        raise _Refusal(400, (
                            "Keys for idempotent requests can only be used with the same parameters they were first "
                            f"used with. Try using a key other than '{key}' if you meant to execute a different "
                            "request."), type="idempotency_error")
                    return stored.status, stored.body, True
                handler, ids = self._route(request)
                status, obj = handler(request, *ids)
            except _Refusal as refusal:
                return refusal.status, json.dumps({"error": refusal.error}).encode(), False
            payload = json.dumps(obj).encode()
            # Like Stripe, keep only results of requests that passed validation; all refusals here are such
            # failures, so a corrected request may reuse its key.
            if key is not None:
                self._idempotent[key] = _IdempotentResult(request.method, request.path, request.params, status,
                                                          payload)
            return status, payload, False

    @staticmethod
    def _authenticate(authorization: str | None) -> None:
        scheme, _, api_key = (authorization or "").partition(" ")
        if scheme != "Bearer" or not api_key:
            raise _Refusal(401, "You did not provide an API key. You need to provide your API key in the "
                                "Authorization header, using Bearer auth "
                                "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
        if not api_key.startswith("sk_test_"):
            raise _Refusal(401, f"Invalid API Key provided: {api_key[:8]}***")

    def _route(self, request: ReceivedRequest) -> tuple[Endpoint, tuple[str, ...]]:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                return handler, match.groups()
        raise _Refusal(404, f"Unrecognized request URL ({request.method}: {request.path}).")

    @staticmethod
    def _reply(http: _Handler, request: ReceivedRequest, status: int, payload: bytes) -> None:
        request.status = status
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(payload)))
        http.send_header("Request-Id", request.id)
        if request.method == "POST" and request.idempotency_key:
            http.send_header("Idempotency-Key", request.idempotency_key)
        if request.replayed:
            http.send_header("Idempotent-Replayed", "true")
        http.end_headers()
        http.wfile.write(payload)

    # --- endpoints (called with the lock held) ---

    def _retriever(self, kind: str) -> Callable[[ReceivedRequest, str], tuple[int, Json]]:
        def retrieve(request: ReceivedRequest, object_id: str) -> tuple[int, Json]:
            _allow_only(request.params, set())
            return 200, self._find(kind, object_id, param="id", status=404)

        return retrieve

    def _create_checkout_session(self, request: ReceivedRequest) -> tuple[int, Json]:
        params = request.params
        _allow_only(params, {"cancel_url", "client_reference_id", "customer_email", "line_items", "locale", "metadata",
                             "mode", "payment_intent_data", "payment_method_options", "payment_method_types",
                             "success_url"})
        if "mode" not in params:
            raise _missing("mode")
        _one_of(params["mode"], ("payment",), "mode")  # the only mode modelled

        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise _missing("line_items")
        currencies: set[str] = set()
        total = 0
        for index, item in enumerate(items):
            currency, amount = self._line_item(item, f"line_items[{index}]")
            currencies.add(currency)
            total += amount
        if len(currencies) > 1:
            raise _Refusal(400, "All line items must have the same currency.", param="line_items")

        types = params.get("payment_method_types", ["card"])
        if not isinstance(types, list) or not types:
            raise _Refusal(400, "Invalid array", param="payment_method_types")
        for index, method in enumerate(types):
            _one_of(method, PAYMENT_METHOD_TYPES, f"payment_method_types[{index}]")
        options = _object(params.get("payment_method_options"), "payment_method_options")
        if "wechat_pay" in types:
            # Stripe refuses wechat_pay in Checkout without naming the client the QR code is shown on.
            client = _object(options.get("wechat_pay"), "payment_method_options[wechat_pay]").get("client")
            if client is None:
                raise _missing("payment_method_options[wechat_pay][client]")
            _one_of(client, WECHAT_PAY_CLIENTS, "payment_method_options[wechat_pay][client]")
        intent_data = _object(params.get("payment_intent_data"), "payment_intent_data")
        _allow_only(intent_data, {"metadata"}, within="payment_intent_data")

        created = self._tick()
        session_id = _new_id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": created,
            "currency": currencies.pop(),
            "customer_email": params.get("customer_email"),
            "expires_at": created + SESSION_LIFETIME,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": _string_map(params.get("metadata"), "metadata"),
            "mode": "payment",
            "payment_intent": None,
            "payment_method_options": options,
            "payment_method_types": types,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"{self.api_base}/pay/{session_id}",
        }
        # Stripe does not echo payment_intent_data; it shapes the PaymentIntent made when the customer pays.
        intent_metadata = _string_map(intent_data.get("metadata"), "payment_intent_data[metadata]")
        if intent_metadata:
            self._payment_intent_metadata[session_id] = intent_metadata
        self._store(session)
        return 200, session

    @staticmethod
    def _line_item(item: Any, param: str) -> tuple[str, int]:
        """(currency, amount) of one line item, which must carry its price inline (the stand-in keeps no Prices)."""
        item = _object(item, param)
        if "price" in item:
            raise _no_such("price", item["price"], f"{param}[price]")
        if "price_data" not in item:
            raise _missing(f"{param}[price_data]")
        price = _object(item["price_data"], f"{param}[price_data]")
        currency = price.get("currency")
        if not currency or not isinstance(currency, str):
            raise _missing(f"{param}[price_data][currency]")
        if "unit_amount" not in price:
            raise _missing(f"{param}[price_data][unit_amount]")
        unit_amount = _integer(price["unit_amount"], f"{param}[price_data][unit_amount]", minimum=1)
        if not _object(price.get("product_data"), f"{param}[price_data][product_data]").get("name"):
            raise _missing(f"{param}[price_data][product_data][name]")
        if "quantity" not in item:
            raise _missing(f"{param}[quantity]")
        quantity = _integer(item["quantity"], f"{param}[quantity]", minimum=1)
        return currency.lower(), unit_amount * quantity

    def _create_refund(self, request: ReceivedRequest) -> tuple[int, Json]:
        params = request.params
        _allow_only(params, {"amount", "metadata", "payment_intent", "reason"})
        if "payment_intent" not in params:
            raise _missing("payment_intent")
        intent = self._find("payment_intent", params["payment_intent"], param="payment_intent")
        charge = self.objects[intent["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise _Refusal(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
        amount = _integer(params["amount"], "amount", minimum=1) if "amount" in params else remaining
        if amount > remaining:
            raise _Refusal(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                           param="amount")
        reason = _one_of(params["reason"], REFUND_REASONS, "reason") if "reason" in params else None
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": self._tick(),
            "currency": charge["currency"],
            "metadata": _string_map(params.get("metadata"), "metadata"),
            "payment_intent": intent["id"],
            "reason": reason,
            "status": "succeeded",
        }
        self._store(refund)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge, previous_attributes=previous, request=request)
        self._emit("refund.created", refund, request=request)
        return 200, refund

    def _list_events(self, request: ReceivedRequest) -> tuple[int, Json]:
        params = request.params
        _allow_only(params, {"created", "limit", "starting_after", "type"})
        limit = _integer(params.get("limit", "10"), "limit", minimum=1)
        if limit > EVENTS_PAGE_LIMIT:
            raise _Refusal(400, f"This value must be less than or equal to {EVENTS_PAGE_LIMIT}.", param="limit")
        bounds = self._created_bounds(params.get("created"))
        if "starting_after" in params:
            cursor = self._find("event", params["starting_after"], param="starting_after")
            bounds.append((operator.lt, cursor["created"]))  # newest first: "after" is older
        wanted = params.get("type", "*")  # Stripe allows a * wildcard, as in "charge.*"
        matching = [event for event in reversed(self.events)
                    if fnmatch.fnmatchcase(event["type"], wanted)
                    and all(test(event["created"], limit) for test, limit in bounds)]
        return 200, {"object": "list", "data": matching[:limit], "has_more": len(matching) > limit,
                     "url": "/v1/events"}

    @staticmethod
    def _created_bounds(created: Any) -> list[tuple[Callable[[int, int], bool], int]]:
        """(comparison, timestamp) pairs an object's `created` must pass for the `created` filter: an exact
        timestamp or a range of gt, gte, lt and lte."""
        if created is None:
            return []
        if not isinstance(created, dict):
            return [(operator.eq, _integer(created, "created"))]
        comparisons = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
        _allow_only(created, set(comparisons), within="created")
        return [(comparisons[op], _integer(raw, f"created[{op}]")) for op, raw in created.items()]


@pytest.fixture(scope="session")
def stripe_standin_server() -> Iterator[StripeStandin]:
    """One stand-in server for the whole session; tests use `stripe_api`, which resets it."""
    standin = StripeStandin()
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def stripe_api(stripe_standin_server: StripeStandin) -> Iterator[StripeStandin]:
    """The running Stripe stand-in, with all state cleared."""
    stripe_standin_server.reset()
    yield stripe_standin_server
