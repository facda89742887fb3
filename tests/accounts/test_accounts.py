import asyncio
import re
from email.header import decode_header, make_header
from urllib.parse import urlencode

import pytest

from tests.conftest import act_as, api_headers, post_form
from tests.world import PASSWORD


async def login(client, email, password, next_=""):
    return await post_form(client, "/login", {"email": email, "password": password, "next": next_})


async def test_sign_up_logs_in_as_a_resident(client, world, pool):
    r = await post_form(client, "/signup", {"display_name": "新居民", "email": "New.Person@Example.cn",
                                            "password": "a long pass phrase", "community_id": world.community})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    assert "market_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    page = await client.get("/dashboard")
    assert 'data-dashboard="resident"' in page.text
    async with pool.acquire() as conn:
        row = await conn.fetchrow("select email, password_hash from users where email = 'new.person@example.cn'")
    assert row["password_hash"].startswith("$argon2id$")


@pytest.mark.parametrize("form,field", [
    ({"display_name": "x", "email": "not-an-email", "password": "a long pass phrase"}, "email"),
    ({"display_name": "x", "email": "a@b.cn", "password": "short"}, "password"),
    ({"display_name": "x", "email": "a@b.cn", "password": "aaaaaaaaaaaaaa"}, "password"),
    ({"display_name": "x" * 101, "email": "a@b.cn", "password": "a long pass phrase"}, "display_name"),
    ({"email": "a@b.cn", "password": "a long pass phrase"}, "display_name"),
])
async def test_bad_sign_up_is_refused_and_writes_nothing(client, pool, form, field):
    r = await post_form(client, "/signup", form)
    assert r.status_code == 400
    assert f'id="e-{field}"' in r.text
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from users") == 0
        assert await conn.fetchval("select count(*) from audit_events") == 0


async def test_duplicate_email_is_refused(client, world):
    r = await post_form(client, "/signup", {"display_name": "x", "email": world["resident"].email.upper(),
                                            "password": "a long pass phrase"})
    assert r.status_code == 400 and "e-email" in r.text


async def test_errors_are_in_chinese_by_default_and_english_on_request(client):
    r = await post_form(client, "/signup", {"display_name": "x", "email": "nope", "password": "a long pass phrase"})
    assert 'lang="zh-Hans"' in r.text
    client.cookies.set("market_lang", "en")
    r = await post_form(client, "/signup", {"display_name": "x", "email": "nope", "password": "a long pass phrase"})
    assert 'lang="en"' in r.text and "Enter an email address" in r.text


async def test_login_and_logout(client, world):
    r = await login(client, world["buyer_admin"].email, PASSWORD, "/organisations")
    assert r.status_code == 303 and r.headers["location"] == "/organisations"
    assert 'data-dashboard="buyer"' in (await client.get("/dashboard")).text
    r = await post_form(client, "/logout")
    assert r.status_code == 303
    assert (await client.get("/dashboard")).status_code == 303  # to the log-in page


async def test_a_session_token_sent_before_log_in_is_never_adopted(client, world):
    planted = "planted-by-someone-else-0123456789abcdef"
    client.cookies.set("market_session", planted)
    r = await login(client, world["buyer_admin"].email, PASSWORD)
    token = r.cookies.get("market_session")
    assert r.status_code == 303 and token and token != planted
    client.cookies.set("market_session", planted)
    assert (await client.get("/api/me")).status_code == 401


async def test_login_never_redirects_off_site(client, world):
    r = await login(client, world["buyer_admin"].email, PASSWORD, "//evil.example/steal")
    assert r.headers["location"] == "/dashboard"


@pytest.mark.parametrize("target", ["/\t/127.0.0.2:8199/", "/\n/evil.example/", "/\r/evil.example/", "/\\evil.example",
                                    "https://evil.example/", "javascript:alert(1)", " //evil.example"])
async def test_next_is_a_same_origin_path(client, world, target):
    """Finding 2: browsers drop tabs and line breaks, so `/<TAB>/host` is `//host`."""
    r = await client.get("/lang/en", params={"next": target})
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = await post_form(client, "/login?" + urlencode({"next": target}),
                        {"email": world["buyer_admin"].email, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"


async def test_next_keeps_a_local_path_with_its_query(client):
    r = await client.get("/lang/en", params={"next": "/needs?q=养老 服务"})
    assert r.headers["location"] == "/needs?q=%E5%85%BB%E8%80%81%20%E6%9C%8D%E5%8A%A1"


async def test_a_language_asked_for_in_the_address_stays_on_the_next_pages(client):
    """A link shared in English: the reader who follows the menu from it goes on reading English."""
    english = await client.get("/needs?lang=en")
    assert english.headers["content-language"] == "en"
    assert "market_lang=en" in english.headers["set-cookie"]
    menu = await client.get("/projects")
    assert menu.headers["content-language"] == "en"
    # Once kept, the address's language is not set again on every page.
    assert "set-cookie" not in (await client.get("/needs?lang=en")).headers
    assert "set-cookie" not in (await client.get("/api/needs?lang=zh_Hans")).headers
    assert (await client.get("/projects")).headers["content-language"] == "en"
    # Back to Chinese from a link, or from the language menu.
    assert (await client.get("/needs?lang=zh_Hans")).headers["content-language"] == "zh-Hans"
    assert (await client.get("/projects")).headers["content-language"] == "zh-Hans"
    # An unknown language in the address changes nothing.
    unknown = await client.get("/needs?lang=xx")
    assert "set-cookie" not in unknown.headers and unknown.headers["content-language"] == "zh-Hans"


async def test_wrong_password_and_unknown_email_get_the_same_answer(client, world):
    a = await login(client, world["buyer_admin"].email, "wrong password!")
    b = await login(client, "nobody@people.test", "wrong password!")
    assert a.status_code == b.status_code == 400
    assert "market_session" not in a.headers.get("set-cookie", "")
    msg = re.compile(r'<div class="alert error".*?</div>', re.DOTALL)
    assert msg.search(a.text).group(0) == msg.search(b.text).group(0)


async def test_lockout_after_repeated_failures(client, world, pool):
    email = world["provider_admin"].email
    for _ in range(2):
        assert (await login(client, email, "wrong password!")).status_code == 400
    r = await login(client, email, "wrong password!")
    assert r.status_code == 400
    # even the right password is refused while locked
    r = await login(client, email, PASSWORD)
    assert r.status_code == 400 and "market_session" not in r.headers.get("set-cookie", "")
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from audit_events where verb = 'user.lock'") == 1
        await conn.execute("update users set locked_until = now() - interval '1 second' where email = $1", email)
    assert (await login(client, email, PASSWORD)).status_code == 303


async def test_parallel_guesses_cannot_pass_or_lift_the_lock(client, world, pool):
    """Finding 1: with one failure to go, 12 wrong passwords and the right one sent at once. The
    account's row is locked per attempt, so the first wrong one locks the account and every later
    attempt, the right one too, finds it locked."""
    email = world["provider_admin"].email
    for _ in range(2):
        await login(client, email, "wrong password!")
    guesses = [client.post("/api/session", json={"email": email, "password": f"wrong guess {i:02d}"},
                           headers=api_headers(client)) for i in range(12)]
    right = client.post("/api/session", json={"email": email, "password": PASSWORD}, headers=api_headers(client))
    answers = await asyncio.gather(*guesses, right)
    assert [r.status_code for r in answers] == [400] * 13
    async with pool.acquire() as conn:
        user = await conn.fetchrow("select failed_logins, locked_until > now() as locked from users where email = $1",
                                   email)
        assert user["locked"]
        assert await conn.fetchval("select count(*) from audit_events where verb = 'user.lock'") == 1


async def test_locked_and_unknown_accounts_get_the_same_answer(client, world, pool):
    email = world["provider_admin"].email
    async with pool.acquire() as conn:
        await conn.execute("update users set locked_until = now() + interval '1 hour' where email = $1", email)
    locked = await client.post("/api/session", json={"email": email, "password": "wrong password!"},
                               headers=api_headers(client))
    unknown = await client.post("/api/session", json={"email": "nobody@people.test", "password": "wrong password!"},
                                headers=api_headers(client))
    wrong = await client.post("/api/session", json={"email": world["buyer_admin"].email, "password": "wrong password!"},
                              headers=api_headers(client))
    assert locked.status_code == unknown.status_code == wrong.status_code == 400
    same = ("title", "detail", "status")
    assert [locked.json()[k] for k in same] == [unknown.json()[k] for k in same] == [wrong.json()[k] for k in same]


async def test_one_address_is_throttled_across_accounts(client, world, pool):
    async with pool.acquire() as conn:
        await conn.executemany("insert into login_failures (address) values ($1)", [("testclient",)] * 30)
    r = await client.post("/api/session", json={"email": world["buyer_admin"].email, "password": PASSWORD},
                          headers=api_headers(client))
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 15 * 60
    assert "market_session" not in r.headers.get("set-cookie", "")
    async with pool.acquire() as conn:
        # the throttle refuses before any account is looked at: nobody's count moves
        assert await conn.fetchval("select sum(failed_logins) from users") == 0
        await conn.execute("update login_failures set failed_at = now() - interval '16 minutes'")
    r = await client.post("/api/session", json={"email": world["buyer_admin"].email, "password": PASSWORD},
                          headers=api_headers(client))
    assert r.status_code == 201


async def test_success_resets_the_failure_count(client, world):
    email = world["provider_admin"].email
    for _ in range(2):
        await login(client, email, "wrong password!")
    assert (await login(client, email, PASSWORD)).status_code == 303
    for _ in range(2):
        assert (await login(client, email, "wrong password!")).status_code == 400


async def test_forms_without_csrf_token_are_refused(client, world, pool):
    r = await client.post("/login", data={"email": world["buyer_admin"].email, "password": PASSWORD})
    assert r.status_code == 403
    assert "market_session" not in r.headers.get("set-cookie", "")
    r = await client.post("/signup", data={"_csrf_token": "forged", "display_name": "x", "email": "x@y.cn",
                                            "password": "a long pass phrase"})
    assert r.status_code == 403
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    r = await client.post("/api/account/password", json={"current_password": PASSWORD, "new_password": "x" * 20})
    assert r.status_code == 403
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from users where email = 'x@y.cn'") == 0


async def test_password_change_logs_out_other_sessions(client, world, pool):
    settings = client.app.state.settings
    person = world["funder_admin"]
    await act_as(client, pool, settings, person.user_id)
    other = client.cookies.get("market_session")
    await act_as(client, pool, settings, person.user_id)
    r = await post_form(client, "/account/password", {"current_password": "wrong one!", "new_password": "new pass phrase 1"})
    assert r.status_code == 400 and "e-current_password" in r.text
    r = await post_form(client, "/account/password", {"current_password": PASSWORD, "new_password": "new pass phrase 1"})
    assert r.status_code == 303
    assert (await client.get("/api/me")).status_code == 200
    client.cookies.set("market_session", other)
    assert (await client.get("/api/me")).status_code == 401
    client.cookies.delete("market_session")
    assert (await login(client, person.email, "new pass phrase 1")).status_code == 303


async def test_password_reset_by_email(client, world, smtp, pool):
    person = world["evaluator"]
    r = await post_form(client, "/password/forgot", {"email": person.email})
    assert r.status_code == 200
    (msg,) = smtp.inbox.messages
    assert msg["To"] == person.email
    assert "重置" in str(make_header(decode_header(msg["Subject"])))
    link = re.search(r"https://market\.example\.cn(/password/reset/\S+)", smtp.inbox.body()).group(1)
    r = await post_form(client, link, {"new_password": "short"})
    assert r.status_code == 400
    r = await post_form(client, link, {"new_password": "a brand new phrase"})
    assert r.status_code == 303
    client.cookies.delete("market_session")
    assert (await login(client, person.email, "a brand new phrase")).status_code == 303
    # a link works once
    client.cookies.delete("market_session")
    r = await post_form(client, link, {"new_password": "another new phrase"})
    assert r.status_code == 400


async def test_an_older_reset_link_dies_when_a_newer_one_is_used(client, world, smtp):
    """Finding 3: every link still outstanding ends when one is used or the password changes."""
    person = world["evaluator"]
    links = []
    for _ in range(3):
        smtp.inbox.messages.clear()
        await post_form(client, "/password/forgot", {"email": person.email})
        links.append(re.search(r"(/password/reset/\S+)", smtp.inbox.body()).group(1))
    assert (await post_form(client, links[2], {"new_password": "a brand new phrase"})).status_code == 303
    client.cookies.delete("market_session")
    assert (await post_form(client, links[0], {"new_password": "an older link phrase"})).status_code == 400
    # a password changed while logged in ends them too
    smtp.inbox.messages.clear()
    await post_form(client, "/password/forgot", {"email": person.email})
    link = re.search(r"(/password/reset/\S+)", smtp.inbox.body()).group(1)
    await login(client, person.email, "a brand new phrase")
    await post_form(client, "/account/password", {"current_password": "a brand new phrase",
                                                  "new_password": "yet another phrase"})
    client.cookies.delete("market_session")
    assert (await post_form(client, link, {"new_password": "an older link phrase"})).status_code == 400
    assert (await login(client, person.email, "yet another phrase")).status_code == 303


async def test_reset_for_unknown_address_says_the_same_and_sends_nothing(client, smtp):
    r = await post_form(client, "/password/forgot", {"email": "nobody@people.test"})
    assert r.status_code == 200 and 'role="status"' in r.text
    assert smtp.inbox.messages == []


async def test_expired_reset_link_is_refused(client, world, smtp, pool):
    await post_form(client, "/password/forgot", {"email": world["resident"].email})
    link = re.search(r"(/password/reset/\S+)", smtp.inbox.body()).group(1)
    async with pool.acquire() as conn:
        await conn.execute("update password_resets set expires_at = now() - interval '1 minute'")
    r = await post_form(client, link, {"new_password": "a brand new phrase"})
    assert r.status_code == 400


async def test_json_login_and_me(client, world):
    r = await client.post("/api/session", json={"email": world["provider_staff"].email, "password": PASSWORD},
                          headers=api_headers(client))
    assert r.status_code == 201
    me = (await client.get("/api/me")).json()
    assert me["organisation_id"] == world.orgs["provider"] and me["role"] == "staff"
    r = await client.post("/api/session", json={"email": world["provider_staff"].email, "password": "nope nope"},
                          headers=api_headers(client))
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")


async def test_act_as_only_for_own_memberships(client, world, pool):
    person = world["buyer_admin"]
    await act_as(client, pool, client.app.state.settings, person.user_id)
    r = await client.post("/api/account/act-as", json={"organisation_id": world.orgs["provider"]},
                          headers=api_headers(client))
    assert r.status_code == 404
    assert (await client.get("/api/me")).json()["organisation_id"] == world.orgs["bureau"]
    r = await client.post("/api/account/act-as", json={"organisation_id": None}, headers=api_headers(client))
    assert r.status_code == 204
    assert (await client.get("/api/me")).json()["organisation_id"] is None


async def test_the_account_twin_is_the_pages_view(client, pool, world):
    assert (await client.get("/api/account")).status_code == 401
    person = world["buyer_admin"]
    await act_as(client, pool, client.app.state.settings, person.user_id)
    account = (await client.get("/api/account")).json()
    assert account == (await client.get("/api/me")).json()
    assert account["email"] == person.email and account["organisation_id"] == world.orgs["bureau"]
    assert [m["organisation_id"] for m in account["memberships"]] == [world.orgs["bureau"]]


async def test_logging_in_returns_to_the_whole_address_that_asked_for_it(client, world):
    """The link to give to a fund names the fund in its query; after logging in the form is that fund's."""
    r = await client.get("/pledges/new?target_type=fund&target_id=7")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/pledges/new%3Ftarget_type%3Dfund%26target_id%3D7"
    login_page = await client.get(r.headers["location"])
    assert 'value="/pledges/new?target_type=fund&amp;target_id=7"' in login_page.text
    r = await post_form(client, r.headers["location"], {"email": world["funder_admin"].email, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/pledges/new?target_type=fund&target_id=7"


async def test_a_page_for_another_of_my_organisations_offers_the_switch_and_comes_back(client, pool, world):
    """A notice or a link for the organisation a person is not acting for refuses them; the refusal leads to
    the switch, which returns to the page."""
    person = world["buyer_admin"]
    await pool.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                       person.user_id, world.orgs["provider"])
    await act_as(client, pool, client.app.state.settings, person.user_id, world.orgs["bureau"])
    for lang, hint in (("en", "Switch organisation"), ("zh_Hans", "切换组织")):
        client.cookies.set("market_lang", lang)
        refused = await client.get("/calls/999/bid?from=inbox")
        assert refused.status_code == 403 and hint in refused.text
    link = re.search(r'href="(/account\?next=[^"#]+)', refused.text).group(1).replace("&amp;", "&")
    account = await client.get(link)
    assert 'name="next" value="/calls/999/bid?from=inbox"' in account.text.replace("&amp;", "&")
    switched = await post_form(client, "/account/act-as", {"organisation_id": world.orgs["provider"],
                                                           "next": "/calls/999/bid?from=inbox"})
    assert switched.status_code == 303 and switched.headers["location"] == "/calls/999/bid?from=inbox"
    assert (await client.get("/api/me")).json()["organisation_id"] == world.orgs["provider"]
    assert (await client.get("/calls/999/bid")).status_code == 404  # past the gate now: no such call
    plain = await post_form(client, "/account/act-as", {"organisation_id": world.orgs["bureau"]})
    assert plain.headers["location"] == "/dashboard"


async def test_a_page_refused_to_a_person_in_one_organisation_does_not_offer_a_switch(client, pool, world):
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    refused = await client.get("/calls/999/bid?lang=en")
    assert refused.status_code == 403 and "Switch organisation" not in refused.text


async def test_a_person_changes_their_name_and_community(client, pool, world):
    """People move and names get mistyped: the account page changes both, refusing a blank name or a
    place that is not a community next to its field, changing nothing then."""
    person = world["resident"]
    await act_as(client, pool, client.app.state.settings, person.user_id)
    before = (await client.get("/api/me")).json()
    assert before["community_id"] == world.community
    street = await pool.fetchval("select parent_id from jurisdictions where id = $1", world.community)
    other = await pool.fetchval("select id from jurisdictions where level = 'community' and id <> $1 order by id limit 1",
                                world.community)
    r = await post_form(client, "/account/details", {"display_name": "  ", "community_id": other})
    assert r.status_code == 400 and 'id="e-display_name"' in r.text
    r = await post_form(client, "/account/details", {"display_name": "改了名的居民", "community_id": street})
    assert r.status_code == 400 and 'id="e-community_id"' in r.text
    assert (await client.get("/api/me")).json() == before

    r = await post_form(client, "/account/details", {"display_name": "改了名的居民", "community_id": other})
    assert r.status_code == 303 and r.headers["location"] == "/account?notice=details_saved#details"
    me = (await client.get("/api/me")).json()
    assert (me["display_name"], me["community_id"]) == ("改了名的居民", other)
    r = await client.put("/api/account/details", json={"display_name": "又改了名"}, headers=api_headers(client))
    assert r.status_code == 204
    me = (await client.get("/api/me")).json()
    assert (me["display_name"], me["community_id"]) == ("又改了名", None)
    changes = await pool.fetch("select diff from audit_events where verb = 'user.update' and object_id = $1 order by id",
                               str(person.user_id))
    assert len(changes) == 2
