"""Defects found by walking the product in a browser (issue 11): dates a person would refuse, errors
that say where, dead ends, language, and confirmation of irreversible steps."""

from __future__ import annotations

import ast
import base64
import html
import re
import zlib
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

import market
from market.app import DOMAINS
from market.core.domain import merged
from market.core.errors import InvalidFields
from market.funding.funds import services as pools
from market.matching.fairs import services as fairs
from market.organisations.services import insert_organisation
from market.procurement.calls import services as calls
from tests.conftest import act_as, post_form
from tests.factories import call_input, live_fair, make_pledge, who
from tests.world import code


async def _as(client, pool, world, name, **query):
    await act_as(client, pool, client.app.state.settings, world[name].user_id if name else None)


def pdf_text(pdf: bytes) -> str:
    """The text a PDF of ours shows: reportlab writes each line as a string of UCS-2 characters in the
    built-in Chinese font, which text extractors without Adobe's language packs cannot read."""
    lines = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        try:
            stream = zlib.decompress(stream)
        except zlib.error:
            stream = zlib.decompress(base64.a85decode(stream.strip(), adobe=True))  # ASCII85, then Flate
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", stream, re.DOTALL):
            raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit()
                         else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m.group(1), m.group(1)), literal)
            lines.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(lines)


def error_links_resolve(html: str) -> list[str]:
    """Every link of the errors summary to a field whose input is not on the page."""
    summary = html.split('id="errors"', 1)[1].split("</div>", 1)[0] if 'id="errors"' in html else ""
    return [f for f in re.findall(r'href="#(f-[^"]+)"', summary) if f'id="{f}"' not in html]


# 1. Dates a person would refuse


async def test_a_call_whose_service_period_is_over_is_refused(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(InvalidFields) as exc:
        async with pool.acquire() as conn, conn.transaction():
            await calls.create_call(conn, bureau, call_input(project, service_start=date(2020, 1, 1),
                                                             service_end=date(2020, 12, 31)))
    assert "service_end" in exc.value.field_errors()
    assert await pool.fetchval("select count(*) from calls") == 0


async def test_a_transfer_dated_long_ago_is_refused_next_to_its_date(client, pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "project", project, 1_000_00)
    await _as(client, pool, world, "funder_admin")
    r = await post_form(client, f"/pledges/{pledge}/transfer?lang=en",
                        {"bank_reference": "ICBC-1", "paid_on": "1999-11-20"})
    assert r.status_code == 400 and 'id="e-paid_on"' in r.text and "check the date" in r.text
    assert await pool.fetchval("select count(*) from payments") == 0
    recent = (date.today() - timedelta(days=30)).isoformat()
    r = await post_form(client, f"/pledges/{pledge}/transfer", {"bank_reference": "ICBC-1", "paid_on": recent})
    assert r.status_code == 303


async def test_a_past_all_or_nothing_deadline_is_refused_at_the_review_step(client, pool, world, project):
    await _as(client, pool, world, "funder_admin")
    r = await post_form(client, "/pledges?lang=en", {
        "target_type": "project", "target_id": project, "amount_yuan": "100", "condition_target_yuan": "1000",
        "condition_deadline": "2020-01-01", "step": "preview"})
    assert r.status_code == 400 and 'id="e-condition_deadline"' in r.text and "in the future" in r.text
    assert not error_links_resolve(r.text)


# 2. Errors that say where


@pytest.mark.parametrize("who_, url, data", [
    ("buyer_admin", "/projects/{project}/calls/new", {"procedure_type": "open_competition"}),
    ("buyer_admin", "/projects/{project}/calls/new", {"budget_ceiling_yuan": "x", "criteria-0-name_zh": "设计"}),
    ("provider_admin", "/calls/{call}/bid", {}),
    ("provider_admin", "/calls/{call}/bid", {"amount_yuan": "x", "line-0-yuan": "y"}),
    ("funder_admin", "/pledges", {"target_type": "project", "target_id": "{project}", "amount_yuan": "-1"}),
    ("funder_admin", "/funds/new", {}),
    ("funder_admin", "/resources/new", {}),
    ("resident", "/needs/new", {}),
    ("buyer_admin", "/projects/new", {}),
    ("resident", "/organisations/new", {}),
    ("buyer_admin", "/fairs", {}),
])
async def test_every_error_links_to_a_field_on_the_page(client, pool, world, project, open_call, who_, url, data):
    await _as(client, pool, world, who_)
    fill = {"project": project, "call": open_call}
    r = await post_form(client, url.format(**fill), {k: v.format(**fill) for k, v in data.items()})
    assert r.status_code in (400, 409) and 'id="errors"' in r.text, r.text[:500]
    assert not error_links_resolve(r.text)


async def test_a_bid_without_budget_lines_or_targets_says_which_row(client, pool, world, open_call):
    await _as(client, pool, world, "provider_admin")
    form = {"objectives": "为失能老人提供上门助浴服务。", "activities": "每月两次上门助浴，全年24次。",
            "team": "社工2名、护理员4名", "amount_yuan": "1000"}
    r = await post_form(client, f"/calls/{open_call}/bid?lang=en", form)
    assert r.status_code == 400 and "Add at least one budget line" in r.text and "not valid" not in r.text
    r = await post_form(client, f"/calls/{open_call}/bid?lang=en", {
        **form, "line-0-item": "人员", "line-0-yuan": "600", "line-1-yuan": "400",
        "indicator-0-name": "服务人次", "indicator-0-target": "480", "indicator-1-name": "满意度"})
    assert r.status_code == 400
    assert "Budget line 2: name the item" in r.text and "Outcome indicator 2: enter your target" in r.text
    assert 'href="#f-line-1-item"' in r.text and 'href="#f-indicator-1-target"' in r.text
    assert not error_links_resolve(r.text)
    # Its only indicator half-filled: that row is named, not "this value is not valid" with no field.
    r = await post_form(client, f"/calls/{open_call}/bid?lang=en", {
        **form, "line-0-item": "人员", "line-0-yuan": "1000", "indicator-0-name": "服务人次"})
    assert r.status_code == 400 and "Outcome indicator 1: enter your target" in r.text
    assert "not valid" not in r.text and "Give at least" not in r.text
    assert not error_links_resolve(r.text)
    assert await pool.fetchval("select count(*) from bids") == 0


async def test_too_large_an_upload_says_the_limit_and_the_way_back(client, pool, world):
    await _as(client, pool, world, "provider_admin")
    limit = client.app.state.settings.max_upload_bytes
    back = "http://testserver.local/dashboard?lang=en"
    r = await post_form(client, "/files?lang=en", files={"file": ("big.pdf", b"%PDF" + b"0" * (limit + 2 * 1024 * 1024),
                                                                  "application/pdf")},
                        headers={"referer": back})
    assert r.status_code == 413 and "at most 20 MB" in r.text
    assert 'href="/dashboard?lang=en"' in r.text
    r = await post_form(client, "/files?lang=en", files={"file": ("big.pdf", b"%PDF" + b"0" * (limit + 2 * 1024 * 1024),
                                                                  "application/pdf")},
                        headers={"referer": "https://elsewhere.example/x"})
    assert r.status_code == 413 and "elsewhere" not in r.text


async def test_a_text_too_long_is_refused_next_to_its_field_not_cut(client, pool, world):
    await _as(client, pool, world, "resident")
    form = await client.get("/needs/new?lang=en")
    assert "At most 4,000 characters." in form.text
    assert not re.search(r"<textarea[^>]*\smaxlength=", form.text)  # a browser would cut a paste silently
    long = "长" * 10_000
    r = await post_form(client, "/needs/new?lang=en", {"title": "楼道照明维修", "description": long,
                                                        "community_id": world.community, "beneficiaries": "居民"})
    assert r.status_code == 400 and 'id="e-description"' in r.text and "at most 4000 characters" in r.text
    assert long in r.text
    assert await pool.fetchval("select count(*) from needs") == 0


# 3. Dead ends and losses; 5. confirmation and success messages


def _done_codes() -> dict[str, str]:
    """Every `done` code a step of the product sends, as a pattern, with where it is sent."""
    found: dict[str, str] = {}
    for path in sorted(Path(market.__file__).parent.rglob("*.py")):
        found.update(_done_codes_of(path))
    return found


def _done_codes_of(path: Path) -> dict[str, str]:
    """A module's: the second argument of each `done(...)` call (a literal; the values of the module's
    mapping it indexes; or, when it is a parameter of a function around it, what the module's calls of
    that function pass, `f"survey_{action}"` standing for the codes it can make), and every `done=` in a
    string."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mappings = {target.id: [v.value for v in node.value.values if isinstance(v, ast.Constant)]
                for node in tree.body if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                for target in node.targets if isinstance(target, ast.Name)}
    found: dict[str, str] = {}
    passed: dict[str, int] = {}  # function → position of the parameter it sends as its code

    def visit(node: ast.AST, around: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            around = [*around, node]
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "done" and len(node.args) == 2:
            code = node.args[1]
            if isinstance(code, ast.Constant):
                found[code.value] = where
            elif isinstance(code, ast.Subscript) and getattr(code.value, "id", None) in mappings:
                found.update((value, where) for value in mappings[code.value.id])
            elif isinstance(code, ast.IfExp) and all(isinstance(b, ast.Constant) for b in (code.body, code.orelse)):
                found.update((branch.value, where) for branch in (code.body, code.orelse))
            else:
                owner = next((f for f in reversed(around) if isinstance(code, ast.Name)
                              and code.id in [a.arg for a in f.args.args]), None)
                assert owner is not None and isinstance(code, ast.Name), f"{where}: which code?"
                passed[owner.name] = [a.arg for a in owner.args.args].index(code.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update((value, where) for value in re.findall(r"[?&]done=([a-z_]+)", node.value))
        for child in ast.iter_child_nodes(node):
            visit(child, around)

    visit(tree, [])
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in passed:
            code = node.args[passed[node.func.id]]
            assert isinstance(code, ast.Constant | ast.JoinedStr), f"{path.name}:{node.lineno}: which code?"
            parts = code.values if isinstance(code, ast.JoinedStr) else [code]
            pattern = "".join(re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z_]+" for part in parts)
            found[pattern] = f"{path.name}:{node.lineno}"
    return found


def test_every_success_a_step_reports_has_its_message():
    """A step that lands with `?done=code` says so only if some domain declares the code's message: a
    code without one (a typo, a message forgotten) would land silently."""
    codes = _done_codes()
    assert {"need_raised", "call_published", "pledge_made", "awarded", "survey_codes"} <= set(codes)
    messages = merged(DOMAINS, "done_messages")
    assert not {code: where for code, where in codes.items()
                if not any(re.fullmatch(code, declared) for declared in messages)}


async def _step_asks_then_says_done(client, url, step, code, sentence):
    """A step's form without its box ticked does nothing and says so by the box; ticked, it lands on a
    page that says it worked."""
    refused = await post_form(client, url + "?lang=en")
    assert refused.status_code == 400, refused.text[:800]
    assert f'id="e-confirmed-{step}"' in refused.text and f'id="f-confirmed-{step}"' in refused.text
    assert not error_links_resolve(refused.text)
    r = await post_form(client, url, {f"confirmed-{step}": "yes"})
    assert r.status_code == 303 and f"done={code}" in r.headers["location"], r.text[:800]
    landing = await client.get(r.headers["location"].split("#")[0] + "&lang=en")
    assert sentence in landing.text


async def test_awarding_asks_first_and_then_says_so(client, pool, world, scored):
    await _as(client, pool, world, "buyer_admin")
    assert 'name="confirmed-award"' in (await client.get(f"/calls/{scored}")).text
    refused = await post_form(client, f"/calls/{scored}/award")
    assert refused.status_code == 400 and await pool.fetchval("select count(*) from awards") == 0
    await _step_asks_then_says_done(client, f"/calls/{scored}/award", "award", "awarded", "The call is awarded.")
    assert await pool.fetchval("select count(*) from awards") == 1


async def test_signing_asks_first_and_then_says_so(client, pool, world, contract_id):
    await _as(client, pool, world, "provider_admin")
    await _step_asks_then_says_done(client, f"/contracts/{contract_id}/sign", "sign", "signed",
                                    "You have signed the contract")
    assert await pool.fetchval("select status from contracts") == "provider_signed"


async def test_verifying_an_organisation_asks_first_and_then_says_so(client, pool, world):
    await _as(client, pool, world, "platform_admin")
    org = world.orgs["pending_provider"]
    await _step_asks_then_says_done(client, f"/admin/organisations/{org}/verify", "verify", "verified",
                                    "The organisation is verified")
    assert await pool.fetchval("select status from organisations where id = $1", org) == "verified"


async def test_closing_a_fair_asks_first_and_then_says_so(client, pool, settings, world, project):
    fair = await live_fair(pool, settings, world, project)
    await _as(client, pool, world, "buyer_admin")
    await _step_asks_then_says_done(client, f"/fairs/{fair}/actions/close", "close", "fair_closed",
                                    "The fair is closed")
    assert await pool.fetchval("select status from fairs where id = $1", fair) == "closed"


async def test_withdrawing_a_bid_asks_first_and_the_form_keeps_what_it_said(client, pool, world, open_call):
    await _as(client, pool, world, "provider_admin")
    form = {"objectives": "为失能老人提供上门助浴服务。", "activities": "每月两次上门助浴，全年24次。",
            "team": "社工2名、护理员4名", "amount_yuan": "1000", "line-0-item": "人员", "line-0-yuan": "1000",
            "indicator-0-name": "服务人次", "indicator-0-target": "480"}
    r = await post_form(client, f"/calls/{open_call}/bid", form)
    assert r.status_code == 303 and "done=bid_submitted" in r.headers["location"]
    page = (await client.get(f"/calls/{open_call}/bid")).text
    # The withdrawal is its own section below the form, not a button under "submit".
    assert page.index('id="withdraw"') > page.index("</form>")
    await _step_asks_then_says_done(client, f"/calls/{open_call}/bid/withdraw", "withdraw", "bid_withdrawn",
                                    "Your bid is withdrawn")
    assert await pool.fetchval("select status from bids") == "withdrawn"
    page = (await client.get(f"/calls/{open_call}/bid")).text
    assert "为失能老人提供上门助浴服务。" in page and 'value="人员"' in page and 'value="480"' in page


async def test_a_contract_is_linked_only_for_those_who_may_read_it(client, pool, world, contract_id):
    call_id = await pool.fetchval("select call_id from contracts where id = $1", contract_id)
    for name in (None, "other_provider_admin", "funder_admin"):
        await _as(client, pool, world, name)
        assert f"/contracts/{contract_id}" not in (await client.get(f"/calls/{call_id}")).text, name
    for name in ("buyer_admin", "provider_admin", "platform_admin"):
        await _as(client, pool, world, name)
        assert f"/contracts/{contract_id}" in (await client.get(f"/calls/{call_id}")).text, name


# 4. Language


async def test_an_unknown_address_answers_in_the_readers_language(client):
    assert "There is no such page." in (await client.get("/no/such/page?lang=en")).text
    client.cookies.set("market_lang", "en")
    r = await client.get("/nothing-here")
    assert r.status_code == 404 and "There is no such page." in r.text and 'lang="en"' in r.text


@pytest.mark.parametrize("who_, url", [("resident", "/needs/new"), ("buyer_admin", "/projects/new"),
                                       ("funder_admin", "/resources/new"), (None, "/catalogue")])
async def test_hints_on_english_pages_are_english(client, pool, world, who_, url):
    await _as(client, pool, world, who_)
    html = (await client.get(url + "?lang=en")).text
    hints = re.findall(r'class="hint"[^>]*>([^<]*)<', html) + re.findall(r'placeholder="([^"]*)"', html)
    assert hints and not [h for h in hints if re.search(r"[\u4e00-\u9fff]", h)]


async def test_milestones_and_the_contract_pdf_speak_both_languages(client, pool, world, contract_id):
    await _as(client, pool, world, "buyer_admin")
    page = (await client.get(f"/contracts/{contract_id}?lang=en")).text
    assert "First payment, on signing" in page and "合同签订后首期拨付" not in page
    assert "合同签订后首期拨付" in (await client.get(f"/contracts/{contract_id}?lang=zh_Hans")).text
    await post_form(client, f"/contracts/{contract_id}/sign", {"confirmed-sign": "yes"})
    signed_at = await pool.fetchval("select buyer_signed_at from contracts")
    pdf = (await client.get(f"/contracts/{contract_id}/pdf")).content
    text = " ".join(pdf_text(pdf).split())
    assert "合同签订后首期拨付 First payment, on signing" in text
    assert "拨付 payment" in text and "交付 delivery" in text and "UTC" not in text
    local = signed_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{local:%Y-%m-%d %H:%M} (Asia/Shanghai)" in text


async def test_an_organisations_public_files_are_on_its_public_page(client, pool, world):
    await _as(client, pool, world, "provider_admin")
    for name, visibility in (("年报2025.pdf", "public"), ("登记证书.pdf", "private")):
        r = await post_form(client, "/files", {"visibility": visibility},
                            files={"file": (name, b"%PDF-1.4\n%%EOF\n", "application/pdf")})
        assert r.status_code == 303, r.text[:500]
    await _as(client, pool, world, None)
    page = (await client.get(f"/organisations/{world.orgs['provider']}")).text
    assert "年报2025.pdf" in page and "登记证书.pdf" not in page


async def test_a_closed_fairs_board_says_closed_and_its_stream_carries_the_status(client, pool, settings, world,
                                                                                  project):
    fair = await live_fair(pool, settings, world, project)
    board = (await client.get(f"/fairs/{fair}/board?lang=en")).text
    assert '"closed": "closed"' in board and '"live": "live"' in board  # for the script to name the status
    await _as(client, pool, world, "buyer_admin")
    await post_form(client, f"/fairs/{fair}/actions/close", {"confirmed-close": "yes"})
    await _as(client, pool, world, None)
    board = (await client.get(f"/fairs/{fair}/board?lang=en")).text
    status = re.search(r"<span[^>]*data-status[^>]*>([^<]*)<", board).group(1)
    assert status == "closed" and "final figures" in board
    # What the event stream sends, first and after every change (a test client cannot end a stream).
    async with pool.acquire() as conn:
        assert msgspec.json.decode(fairs.board_json(await fairs.board(conn, fair)))["status"] == "closed"


async def test_a_matching_preview_of_nothing_says_why(client, pool, settings, world, pool_setup):
    s = pool_setup
    fund, (one, _) = s["fund"], s["projects"]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("update funds set min_gift_fen = 100_00 where id = $1", fund)
        assert [p.reason for p in await pools.preview(conn, one, s["foundation"].org_id, 500_00)] == ["owner"]
        assert [p.reason for p in await pools.preview(conn, one, s["donor"].org_id, 50_00)] == ["below_minimum"]
        assert [p.reason for p in await pools.preview(conn, one, s["donor"].org_id, 500_00)] == [None]
    await _as(client, pool, world, "funder_admin")
    r = await post_form(client, "/pledges?lang=en", {"target_type": "project", "target_id": one, "amount_yuan": "50",
                                                     "step": "preview"})
    assert "adds no matching from Community matching pool: below the minimum gift." in r.text
    await pool.execute("update funds set closes_at = now() - interval '1 minute', opens_at = now() - interval '2 days' "
                       "where id = $1", fund)
    r = await post_form(client, "/pledges?lang=en", {"target_type": "project", "target_id": one, "amount_yuan": "500",
                                                     "step": "preview"})
    assert "adds no matching from Community matching pool: the round's window has ended." in r.text


async def test_a_long_list_of_organisations_pages_and_says_how_many(client, pool, world):
    async with pool.acquire() as conn, conn.transaction():
        for n in range(52):  # with the world's five verified ones: 57
            await insert_organisation(
                conn, kind="funder", subtype="enterprise", name_zh=f"测试机构{n:02d}", name_en=f"Org {n:02d}",
                credit_code=code("91", 100 + n), jurisdiction_id=world.district, rating=None,
                registration_date=None, description="", contact_name="", contact_phone="", contact_email="",
                address="", status="verified")
    first = (await client.get("/organisations?lang=en")).text
    assert "1–50 of 57" in first and 'rel="next"' in first and 'rel="prev"' not in first
    nxt = re.search(r'href="([^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = (await client.get("/organisations" + nxt)).text
    assert "51–57 of 57" in second and 'rel="prev"' in second and 'rel="next"' not in second
    assert second.count('<a href="/organisations/') == 7
    kind = (await client.get("/organisations?kind=buyer&lang=en")).text
    assert "1–1 of 1" in kind and 'rel="next"' not in kind



@pytest.mark.parametrize("url", ["/projects", "/calls"])
async def test_public_lists_say_how_many_there_are(client, world, open_call, url):
    assert "1–1 of 1" in (await client.get(url + "?lang=en")).text
    # A link to a page that was altered is a bad request that says so, not a server error.
    r = await client.get(url + "?lang=en&cursor=WzAsMCxbMV1d")
    assert r.status_code == 400 and "start from the first page" in r.text


async def test_the_transfer_page_shows_the_payees_bank_account(client, pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "project", project, 1_000_00)
    await _as(client, pool, world, "funder_admin")
    unbanked = (await client.get(f"/pledges/{pledge}?lang=en")).text
    assert "Test bureau has not given its bank account yet, and has been told" in unbanked  # the payee, named
    await _as(client, pool, world, "buyer_admin")
    org = world.orgs["bureau"]
    form = (await client.get(f"/organisations/{org}/edit")).text
    data = {k: v.replace("&#34;", '"') for k, v in re.findall(r'<input id="f-(\w+)" name="\1" type="text" value="([^"]*)"', form)}
    data.update(kind="buyer", subtype="bureau", jurisdiction_id=world.district, bank_account_name="上城区民政局",
                bank_name="中国工商银行杭州湖滨支行", bank_account_number="1202 0212 0990 0012 345")
    r = await post_form(client, f"/organisations/{org}/edit", data)
    assert r.status_code == 303, r.text[:1500]
    bad = await post_form(client, f"/organisations/{org}/edit?lang=en", {**data, "bank_account_number": "abc"})
    assert bad.status_code == 400 and 'id="e-bank_account_number"' in bad.text
    await _as(client, pool, world, "funder_admin")
    page = (await client.get(f"/pledges/{pledge}?lang=en")).text
    assert "中国工商银行杭州湖滨支行" in page and "1202 0212 0990 0012 345" in page


async def test_the_inbox_and_the_audit_trail_page(client, pool, world):
    user = world["resident"].user_id
    await pool.executemany("insert into notifications (user_id, kind, params, link) values ($1, 'contract_to_sign', "
                           "$2, '/inbox')", [(user, {"title": f"第{n}号"}) for n in range(55)])
    await _as(client, pool, world, "resident")
    inbox = (await client.get("/inbox?lang=en")).text
    assert "1–50 of 55" in inbox and 'rel="next"' in inbox
    following = re.search(r'href="(\?[^"]*cursor=[^"]*)" rel="next"', inbox)
    assert following and "51–55 of 55" in (await client.get("/inbox" + html.unescape(following[1]))).text
    await _as(client, pool, world, "platform_admin")
    events = await pool.fetchval("select count(*) from audit_events")
    trail = (await client.get("/admin/audit?lang=en")).text
    assert f"of {events}" in trail


async def test_funds_fairs_and_the_transfer_queue_say_how_many(client, pool, settings, world, pool_setup):
    await live_fair(pool, settings, world, pool_setup["projects"][0])
    pledge = await make_pledge(pool, settings, world, "project", pool_setup["projects"][0], 1_000_00)
    await _as(client, pool, world, "funder_admin")
    await post_form(client, f"/pledges/{pledge}/transfer", {"bank_reference": "ICBC-1", "paid_on": date.today().isoformat()})
    for url in ("/funds", "/fairs"):
        assert "1–1 of 1" in (await client.get(url + "?lang=en")).text, url
    await _as(client, pool, world, "buyer_admin")
    assert "1–1 of 1" in (await client.get("/payments?lang=en")).text
