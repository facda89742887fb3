"""Every route, table-driven: who may use it, and what bad input gets back."""

from __future__ import annotations

import typing
import uuid

import msgspec
import pytest
from litestar.routes import HTTPRoute

from market.app import create_app
from market.core.access import Access
from tests.conftest import act_as, api_headers, csrf

# Who makes the request: (persona in tests/world.py or None for anonymous).
PERSONAS = [None, "resident", "pending_admin", "provider_staff", "provider_admin", "buyer_admin", "buyer_staff",
            "funder_admin", "evaluator", "platform_admin"]


def http_handlers(app):
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                yield route.path, method, handler


def fill(path: str, world) -> str:
    values = {"org_id": world.orgs["provider"], "user_id": world["provider_admin"].user_id,
              "file_id": uuid.uuid4(), "token": "x" * 20, "code": "en", "action": "verify",
              "file_path": "css/market.css", "version_id": 1, "entry_id": 1, "fmt": "csv", "need_id": 1,
              "project_id": 1, "call_id": 1, "question_id": 1, "bid_id": 1, "panel_id": 1, "step": "scores", "objection_id": 1, "contract_id": 1,
              "notification_id": 1, "number": 1, "award_id": 1,
              "pledge_id": 1, "payment_id": 1, "position": 1, "resource_id": 1, "fund_id": 1, "fair_id": 1,
              "raise_id": uuid.uuid4(), "run_id": 1, "item_id": 1,
              "survey_id": 1, "answer_id": 1, "complaint_id": 1, "category_id": 1,
              "jurisdiction_id": 1, "candidate_id": 1, "invitation_id": 1}
    for name, value in values.items():
        for kind in ("int", "str", "uuid", "path"):
            path = path.replace(f"{{{name}:{kind}}}", str(value))
    return path


@pytest.fixture(scope="module")
def routes():
    from market.core.settings import load_settings
    app = create_app(load_settings({"MARKET_SECRET_KEY": "r" * 40, "DATABASE_URL": "postgresql://unused/x"}))
    return list(http_handlers(app))


def test_every_route_declares_who_may_use_it(routes):
    undeclared = [(p, m) for p, m, h in routes if not isinstance(h.opt.get("access"), Access)]
    assert undeclared == []


def test_openapi_covers_every_json_route(routes):
    from market.core.settings import load_settings
    app = create_app(load_settings({"MARKET_SECRET_KEY": "r" * 40, "DATABASE_URL": "postgresql://unused/x"}))
    documented = {(path, method.upper()) for path, item in app.openapi_schema.paths.items()
                  for method in ("get", "post", "put", "patch", "delete") if getattr(item, method)}
    json_routes = {(p.replace(":int", "").replace(":uuid", "").replace(":str", "").rstrip("/") or "/", m)
                   for p, m, h in routes if p.startswith("/api/") or p == "/health"}
    documented = {(p.rstrip("/"), m) for p, m in documented}
    assert json_routes - documented == set()
    # and no page for people clutters the API description
    assert not [p for p, _ in documented if not (p.startswith("/api/") or p == "/health")]


async def _request(client, method, url, json_route):
    headers = api_headers(client)
    if method == "GET":
        return await client.get(url, headers=headers)
    if json_route:
        return await client.request(method, url, json={}, headers=headers)
    return await client.request(method, url, data={"_csrf_token": csrf(client)}, headers=headers)


async def test_every_route_refuses_the_people_who_must_not_use_it(client, pool, world, routes):
    """For every route and every persona its access rule excludes, the server refuses: 401 (or the
    log-in page) for anonymous people, 403 for the others, and the handler never runs."""
    settings = client.app.state.settings
    identities = {}
    for name in PERSONAS:
        if name is None:
            identities[None] = None
            continue
        person = world[name]
        await act_as(client, pool, settings, person.user_id)
        from market.accounts import services as accounts
        async with pool.acquire() as conn:
            identities[name] = (await accounts.identity_for(conn, client.cookies.get("market_session")),
                                client.cookies.get("market_session"))
    checked = 0
    before = await pool.fetchval("select count(*) from audit_events")
    for path, method, handler in routes:
        access: Access = handler.opt["access"]
        url = fill(path, world)
        json_route = path.startswith("/api/")
        for name in PERSONAS:
            identity, token = identities[name] if name else (None, None)
            if access.allows(identity):
                continue
            client.cookies.delete("market_session")
            if token:
                client.cookies.set("market_session", token)
            r = await _request(client, method, url, json_route)
            if name is None and not json_route:
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path, name)
            else:
                assert r.status_code == (401 if name is None else 403), (method, path, name, r.status_code)
            checked += 1
    assert checked > 50
    # refusals changed nothing (sessions were created above, before counting)
    assert await pool.fetchval("select count(*) from audit_events") == before


async def test_allowed_people_get_past_the_guard(client, pool, world, routes):
    settings = client.app.state.settings
    for path, method, handler in routes:
        if method != "GET" or "{" in path or path.startswith("/static"):
            continue
        access: Access = handler.opt["access"]
        for name in ("platform_admin", "buyer_admin", "resident"):
            await act_as(client, pool, settings, world[name].user_id)
            from market.accounts import services as accounts
            async with pool.acquire() as conn:
                identity = await accounts.identity_for(conn, client.cookies.get("market_session"))
            if access.allows(identity):
                r = await client.get(path)
                assert r.status_code == 200, (path, name, r.status_code)


# ---- bad input over every JSON route ----------------------------------------------------------

BODY_PERSONA = {"/api/admin": "platform_admin", "/api/organisations/{org_id:int}": "provider_admin"}


def _persona_for(path: str) -> str:
    for prefix, name in BODY_PERSONA.items():
        if path.startswith(prefix):
            return name
    return "resident"


def _sample(t: msgspec.inspect.Type):
    if isinstance(t, msgspec.inspect.StrType):
        return "测试" if (t.min_length or 0) <= 2 else "测试" * t.min_length
    if isinstance(t, msgspec.inspect.IntType):
        return t.ge if t.ge is not None else 1
    if isinstance(t, msgspec.inspect.LiteralType):
        return t.values[0]
    if isinstance(t, msgspec.inspect.DateType):
        return "2020-01-01"
    if isinstance(t, msgspec.inspect.UnionType):
        return _sample(next(x for x in t.types if not isinstance(x, msgspec.inspect.NoneType)))
    return None


def _bad_values(t: msgspec.inspect.Type):
    """Wrong types, over-long strings, unknown enum values, out-of-range numbers."""
    inner = t
    if isinstance(t, msgspec.inspect.UnionType):
        inner = next(x for x in t.types if not isinstance(x, msgspec.inspect.NoneType))
    yield {"wrong": True}
    yield [1, 2]
    if isinstance(inner, msgspec.inspect.StrType):
        yield "长" * ((inner.max_length or 10_000) + 1)
        yield 12345
    if isinstance(inner, msgspec.inspect.IntType):
        yield "twelve"
        yield 2**70
        yield -(2**70)
        yield 1.5
    if isinstance(inner, msgspec.inspect.LiteralType):
        yield "no_such_value"
    if isinstance(inner, msgspec.inspect.DateType):
        yield "2020-13-45"
        yield "昨天"


def _body_struct(handler):
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    annotation = data.annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return None  # multipart upload, checked separately
    return annotation if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) else None


async def test_bad_input_to_every_json_route_gets_a_4xx_with_a_message(client, pool, world, routes):
    settings = client.app.state.settings
    tried = 0
    for path, method, handler in routes:
        struct = _body_struct(handler)
        if not path.startswith("/api/") or method not in ("POST", "PUT", "PATCH") or struct is None:
            continue
        person = world[_persona_for(path)]
        await act_as(client, pool, settings, person.user_id)
        url = fill(path, world)
        info = msgspec.inspect.type_info(struct)
        valid = {f.name: _sample(f.type) for f in info.fields}
        payloads: list[tuple[str, object]] = [
            ("malformed", b"{not json"), ("array", b"[]"), ("string", b'"x"'), ("empty", b""),
            ("unknown field", msgspec.json.encode({**valid, "is_admin": True})),
        ]
        for f in info.fields:
            for bad in _bad_values(f.type):
                payloads.append((f"{f.name}={str(bad)[:20]}", msgspec.json.encode({**valid, f.name: bad})))
            if f.required:
                payloads.append((f"without {f.name}", msgspec.json.encode({k: v for k, v in valid.items() if k != f.name})))
        for label, body in payloads:
            r = await client.request(method, url, content=body,
                                     headers={**api_headers(client), "content-type": "application/json"})
            assert 400 <= r.status_code < 500, (method, path, label, r.status_code, r.text[:300])
            problem = r.json()
            assert problem.get("detail"), (method, path, label, problem)
            tried += 1
    assert tried > 100


async def test_bad_query_parameters_get_a_4xx(client):
    for url in ("/api/organisations?limit=abc", "/api/organisations?limit=100000", "/api/organisations?kind=bank",
                "/api/organisations?cursor=not-a-cursor", "/api/organisations?q=" + "x" * 500):
        r = await client.get(url)
        assert r.status_code == 400, url
        assert r.json()["detail"]


async def test_html_form_with_bad_types_gets_the_form_back_not_a_500(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["resident"].user_id)
    r = await client.post("/organisations/new", data={"_csrf_token": csrf(client), "kind": "provider",
                                                      "subtype": "social_group", "name_zh": "某组织",
                                                      "jurisdiction_id": "abc", "registration_date": "someday"})
    assert r.status_code == 400 and "has-error" in r.text


async def test_health_reports_a_database_outage_as_503(app_settings):
    from litestar.testing import AsyncTestClient
    app = create_app(app_settings, dsn="postgresql://nobody@127.0.0.1:1/none")
    app.on_startup.clear()

    async def unreachable_pool(app):
        import asyncpg
        app.state.pool = asyncpg.create_pool("postgresql://nobody@127.0.0.1:1/none", min_size=0)
        await app.state.pool

    app.on_startup.append(unreachable_pool)
    async with AsyncTestClient(app) as c:
        r = await c.get("/health")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"


async def test_health_ok_and_request_id_echoed(client):
    r = await client.get("/health", headers={"x-request-id": "abc-123"})
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
    assert r.headers["x-request-id"] == "abc-123"


async def test_unknown_api_path_is_json_and_unknown_page_is_html(client):
    r = await client.get("/api/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert 'lang="zh-Hans"' in r.text


async def test_upload_route_refuses_what_is_not_a_file_upload(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    for kw in ({"content": b"{not json", "headers": {"content-type": "application/json"}},
               {"json": {"file": "not a file"}},
               {"data": {"file": "just text"}},
               {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}}):
        headers = {**api_headers(client), **kw.pop("headers", {})}
        r = await client.post("/api/files/", headers=headers, **kw)
        assert 400 <= r.status_code < 500, (kw, r.status_code, r.text[:200])
        assert r.json()["detail"]
    assert await pool.fetchval("select count(*) from files") == 0
