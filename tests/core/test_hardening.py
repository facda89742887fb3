"""What a hostile client sends, refused as a client error, never a server error: numbers no column
holds, amounts no Decimal holds, NUL and invisible-only text, wildcards in search words; and the
database away answered with 503 and Retry-After."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import AsyncTestClient

from market.app import create_app
from market.core.i18n import use_locale
from market.core.money import yuan_to_fen
from market.core.validation import explain_validation
from tests.conftest import act_as, api_headers, post_form

NEED = {"title": "楼道照明维修", "description": "老旧小区楼道灯损坏，夜间出行不便。", "beneficiaries": "老年居民"}


@pytest.mark.parametrize("url", [
    "/api/fairs/9223372036854775808",
    "/api/needs/-9223372036854775809",
    "/api/calls/1/batches/2147483648/objections",
    "/fairs/99999999999999999999999",
    "/static/css/market.css%00.txt",
])
async def test_a_path_no_row_can_have_is_not_found(client, url):
    r = await client.get(url)
    assert r.status_code == 404


async def test_an_integer_query_parameter_beyond_its_column_is_invalid(client, pool, settings, world):
    await act_as(client, pool, settings, world["buyer_admin"].user_id, world.orgs["bureau"])
    r = await client.get("/docking", params={"run": str(2**63)}, headers={"accept": "application/json"})
    assert r.status_code == 400 and "run" in r.json()["errors"]


@pytest.mark.parametrize("text", ["1e27", "1e400", "9" * 29, "-1e27", "1e-400", "NaN", "Infinity"])
def test_yuan_out_of_bounds_is_refused_not_crashed(text):
    with pytest.raises(ValueError):
        yuan_to_fen(text)


@pytest.mark.parametrize("amount", ["1e27", "1e400", "9" * 29])
async def test_a_yuan_form_refuses_an_amount_no_decimal_holds(client, pool, settings, world, amount):
    await act_as(client, pool, settings, world["funder_admin"].user_id, world.orgs["funder"])
    r = await post_form(client, "/resources/new", {"kind": "money", "title": "助老专项资金", "amount_yuan": amount})
    assert r.status_code == 400 and 'id="e-amount_yuan"' in r.text


@pytest.mark.parametrize("field,value", [("title", "楼道照明\x00维修"), ("description", "\x00" * 12),
                                         ("title", "\u200b\u200b\u200b\u200b"), ("beneficiaries", "\u2060\u200d \ufeff")])
async def test_nul_and_invisible_text_are_refused_naming_the_field(client, pool, settings, world, field, value):
    await act_as(client, pool, settings, world["resident"].user_id)
    r = await client.post("/api/needs", json={**NEED, "community_id": world.community, field: value},
                          headers=api_headers(client))
    assert r.status_code == 400 and field in r.json()["errors"]
    r = await post_form(client, "/needs/new", {**NEED, "community_id": world.community, field: value})
    assert r.status_code == 400
    assert await pool.fetchval("select count(*) from needs") == 0


@pytest.mark.parametrize("url", ["/api/needs", "/needs", "/api/organisations", "/organisations", "/api/resources",
                                 "/resources", "/api/catalogue/items", "/catalogue"])
async def test_nul_in_search_words_is_refused(client, url):
    r = await client.get(url, params={"q": "养老\x00"})
    assert r.status_code == 400


async def test_search_words_are_words_not_wildcards(client, world):
    everyone = (await client.get("/api/organisations")).json()["organisations"]
    assert everyone
    # unescaped, `_other_` would match 测试other_provider (any character, then other, then any)
    for wildcard in ("%", "_other_", "\\"):
        assert (await client.get("/api/organisations", params={"q": wildcard})).json()["organisations"] == []


@pytest.fixture
def flaky_database(database: str):
    """A TCP door to the test's PostgreSQL that can be shut and opened again, as when the database
    server stops and comes back. It runs on its own thread and event loop, so it keeps forwarding
    whatever the test's loop is waiting for."""
    socket = next(Path(parse_qs(urlsplit(database).query)["host"][0]).glob(".s.PGSQL.*"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    links: set[asyncio.StreamWriter] = set()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def link(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pg_reader, pg_writer = await asyncio.open_unix_connection(str(socket))
        links.update((writer, pg_writer))
        await asyncio.gather(forward(reader, pg_writer), forward(pg_reader, writer))

    class Door:
        server: asyncio.Server | None = None
        port = 0

        def _run(self, work):
            return asyncio.run_coroutine_threadsafe(work, loop).result(10)

        def open(self) -> None:
            async def start() -> None:
                self.server = await asyncio.start_server(link, "127.0.0.1", self.port)
                self.port = self.server.sockets[0].getsockname()[1]
            self._run(start())

        def shut(self) -> None:
            async def stop() -> None:
                self.server.close()
                for writer in list(links):
                    writer.close()
                links.clear()
                await self.server.wait_closed()
            self._run(stop())

    door = Door()
    door.open()
    door.dsn = f"postgresql://postgres@127.0.0.1:{door.port}/{urlsplit(database).path.lstrip('/')}"
    yield door
    door.shut()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


async def test_database_away_is_503_with_retry_after_and_the_app_recovers(settings, world, flaky_database, pool):
    app = create_app(settings, dsn=flaky_database.dsn)
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        assert (await client.get("/api/needs")).status_code == 200
        flaky_database.shut()
        for url in ("/api/needs", "/needs", "/api/fairs/1"):
            r = await client.get(url)
            assert r.status_code == 503 and int(r.headers["retry-after"]) > 0, (url, r.text)
        assert (await client.get("/api/needs")).headers["content-type"].startswith("application/problem+json")
        await act_as(client, pool, settings, world["resident"].user_id)  # the session is read before routing
        assert (await client.get("/api/me")).status_code == 503
        assert (await client.get("/health")).status_code == 503
        flaky_database.open()
        assert (await client.get("/api/me")).status_code == 200


async def test_the_openapi_document_describes_every_error_answer(client):
    """Finding 6: problem details, 401/403/404/409/429 and 503 are in the document; a richer view of
    the same record is `anyOf`, not a `oneOf` both arms match; 405 says what is allowed."""
    schema = (await client.get("/schema/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("400", "403", "404", "409", "503"):
                assert "application/problem+json" in responses[status]["content"], (method, path, status)
            assert "Retry-After" in responses["503"]["headers"]
    assert "401" in schema["paths"]["/api/me"]["get"]["responses"]
    assert "401" not in schema["paths"]["/api/needs"]["get"]["responses"]
    assert "429" in schema["paths"]["/api/session"]["post"]["responses"]
    assert '"oneOf"' not in json.dumps(schema["paths"])
    r = await client.request("TRACE", "/api/needs")
    assert r.status_code == 405 and "GET" in r.headers["allow"]


@pytest.mark.parametrize("url", ["/needs", "/api/needs?lang=en", "/needs/99999999", "/dashboard", "/no/such/page",
                                 "/static/css/market.css"])
async def test_head_is_answered_as_get_is_without_the_body(client, url):
    # A load balancer's or monitor's check, a link checker: the router refused HEAD (405) wherever no
    # handler declared it. The same status and headers as GET's (a page, JSON, a missing one, the
    # log-in a private page asks for, a file), and no body.
    got, head = await client.get(url), await client.head(url)
    assert head.status_code == got.status_code != 405
    assert head.content == b"" and (got.content or got.status_code == 303)
    for name in ("content-type", "content-length", "content-language", "content-security-policy", "location"):
        assert head.headers.get(name) == got.headers.get(name), name


@pytest.mark.parametrize("method,url,language", [
    ("GET", "/needs", "zh-Hans"), ("GET", "/api/needs?lang=en", "en"), ("GET", "/needs/99999999", "zh-Hans"),
    ("GET", "/api/needs/99999999?lang=en", "en"),
    ("GET", "/no/such/page", "zh-Hans"), ("DELETE", "/needs", "zh-Hans"),  # the router's own answers, 404 and 405
])
async def test_every_answer_names_its_language_and_refuses_framing_sniffing_and_other_origins(client, method, url, language):
    # Pages, their JSON twins and their errors alike; each header once.
    r = await client.request(method, url)
    assert r.headers.get_list("content-language") == [language]
    assert r.headers.get_list("x-frame-options") == ["DENY"]
    assert r.headers.get_list("x-content-type-options") == ["nosniff"]
    assert r.headers.get_list("referrer-policy") == ["same-origin"]
    [policy] = r.headers.get_list("content-security-policy")
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert len(r.headers.get_list("x-request-id")) == 1


def test_a_list_too_short_or_too_long_says_how_many_at_its_field():
    """msgspec's words for a list's length were "This value is not valid." (the bid form showed it
    with no field when its one indicator row was half filled)."""

    with use_locale("zh_Hans"):
        assert explain_validation("Expected `array` of length >= 1 - at `$.criteria`").field_errors() == {
            "criteria": "此处至少填写 1 项。"}
    with use_locale("en"):
        assert explain_validation("Expected `array` of length <= 10 - at `$.criteria`").field_errors() == {
            "criteria": "Give at most 10 here."}
