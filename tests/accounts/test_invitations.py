"""An organisation's administrator adds a colleague who has no account yet: the colleague is emailed an
invitation, joins from its link with an account made there (or one made meanwhile), and the link then
works no more; asking again, withdrawing it or letting it expire ends it too. Only the organisation's
own administrators invite or withdraw."""

import re

import pytest

from tests.conftest import act_as, api_headers, landed, post_form

NEWCOMER = "colleague@people.test"


async def invite(client, pool, world, smtp, email=NEWCOMER, role="staff") -> str:
    """The provider's administrator adds an address with no account; the path of the link emailed to it."""
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    smtp.inbox.messages.clear()
    r = await post_form(client, f"/organisations/{world.orgs['provider']}/members", {"email": email, "role": role})
    assert landed(r, "member_invited") == f"/organisations/{world.orgs['provider']}/members"
    (message,) = smtp.inbox.messages
    assert message["To"] == email
    return re.search(r"https://market\.example\.cn(/invitations/\S+)", smtp.inbox.body()).group(1)


async def members(client, world) -> dict:
    return (await client.get(f"/api/organisations/{world.orgs['provider']}/members")).json()


async def test_a_colleague_with_no_account_joins_from_the_emailed_link(client, pool, world, smtp):
    link = await invite(client, pool, world, smtp, role="finance")
    async with pool.acquire() as conn:
        name = await conn.fetchval("select name_zh from organisations where id = $1", world.orgs["provider"])
    assert name in smtp.inbox.body()  # the email says which organisation asks, in the inviter's language
    (pending,) = (await members(client, world))["invitations"]
    assert pending["email"] == NEWCOMER and pending["role"] == "finance"
    page = await client.get(f"/organisations/{world.orgs['provider']}/members")
    assert NEWCOMER in page.text and f"/invitations/{pending['id']}/withdraw" in page.text

    await act_as(client, pool, client.app.state.settings, None)
    shown = await client.get(link)
    assert shown.status_code == 200 and NEWCOMER in shown.text
    async with pool.acquire() as conn:
        accounts_before = await conn.fetchval("select count(*) from users")
    r = await post_form(client, link, {"display_name": "新同事", "password": "short"})
    assert r.status_code == 400 and 'id="e-password"' in r.text
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from users") == accounts_before
    # The address is the invitation's: a form naming another is refused, not obeyed.
    r = await post_form(client, link, {"display_name": "新同事", "password": "a long pass phrase", "email": "x@y.test"})
    assert r.status_code == 400

    r = await post_form(client, link, {"display_name": "新同事", "password": "a long pass phrase"})
    assert landed(r, "joined") == "/dashboard"
    me = (await client.get("/api/me")).json()
    assert me["email"] == NEWCOMER and me["organisation_id"] == world.orgs["provider"] and me["role"] == "finance"

    assert (await client.get(link)).status_code == 410
    r = await post_form(client, link, {"display_name": "又一个", "password": "another pass phrase"})
    assert r.status_code == 410
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    listed = await members(client, world)
    assert listed["invitations"] == []
    assert [m["role"] for m in listed["members"] if m["email"] == NEWCOMER] == ["finance"]


async def test_someone_who_made_an_account_meanwhile_logs_in_and_joins(client, pool, world, smtp):
    link = await invite(client, pool, world, smtp)
    await act_as(client, pool, client.app.state.settings, None)
    r = await post_form(client, "/signup", {"display_name": "先注册的", "email": NEWCOMER, "password": "a long pass phrase"})
    assert r.status_code == 303
    page = await client.get(link)
    assert f'action="{link}/accept"' in page.text and f'action="{link}"' not in page.text
    r = await post_form(client, f"{link}/accept")
    assert landed(r, "joined") == "/dashboard"
    me = (await client.get("/api/me")).json()
    assert me["organisation_id"] == world.orgs["provider"] and me["role"] == "staff"
    assert (await post_form(client, f"{link}/accept")).status_code == 410


async def test_a_link_ends_when_asked_again_withdrawn_or_expired(client, pool, world, smtp):
    first = await invite(client, pool, world, smtp)
    second = await invite(client, pool, world, smtp, role="admin")
    assert (await client.get(first)).status_code == 410
    (pending,) = (await members(client, world))["invitations"]
    assert pending["role"] == "admin"

    r = await post_form(client, f"/organisations/{world.orgs['provider']}/invitations/{pending['id']}/withdraw")
    landed(r, "invitation_withdrawn")
    assert (await members(client, world))["invitations"] == []
    assert (await client.get(second)).status_code == 410
    r = await post_form(client, f"/organisations/{world.orgs['provider']}/invitations/{pending['id']}/withdraw")
    assert r.status_code == 404

    third = await invite(client, pool, world, smtp)
    async with pool.acquire() as conn:
        await conn.execute("update invitations set expires_at = market_now() - interval '1 minute' where ended_at is null")
    await act_as(client, pool, client.app.state.settings, None)
    assert (await client.get(third)).status_code == 410
    r = await post_form(client, third, {"display_name": "迟到的", "password": "a long pass phrase"})
    assert r.status_code == 410
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from users where email = $1", NEWCOMER) == 0


async def test_an_address_with_an_account_is_added_at_once(client, pool, world, smtp):
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    r = await post_form(client, f"/organisations/{world.orgs['provider']}/members",
                        {"email": world["resident"].email, "role": "staff"})
    landed(r, "member_added")
    assert smtp.inbox.messages == []
    assert world["resident"].email in [m["email"] for m in (await members(client, world))["members"]]
    r = await client.post(f"/api/organisations/{world.orgs['provider']}/invitations", headers=api_headers(client),
                          json={"email": world["funder_admin"].email, "role": "staff"})
    assert r.status_code == 409 and smtp.inbox.messages == []


@pytest.mark.parametrize("who", ["provider_staff", "other_provider_admin"])
async def test_only_the_organisations_administrators_invite_or_withdraw(client, pool, world, smtp, who):
    await invite(client, pool, world, smtp)
    (pending,) = (await members(client, world))["invitations"]
    await act_as(client, pool, client.app.state.settings, world[who].user_id)
    org = world.orgs["provider"]
    expected = 403 if who == "provider_staff" else 404
    for url, kw in [
        (f"/organisations/{org}/members", {"data": {"email": "someone.else@people.test", "role": "admin"}}),
        (f"/organisations/{org}/invitations/{pending['id']}/withdraw", {"data": {}}),
        (f"/api/organisations/{org}/invitations", {"json": {"email": "someone.else@people.test", "role": "admin"}}),
        (f"/api/organisations/{org}/invitations/{pending['id']}/withdraw", {"json": {}}),
    ]:
        if "data" in kw:
            kw = {"data": {"_csrf_token": client.cookies.get("market_csrf"), **kw["data"]}}
        r = await client.post(url, headers=api_headers(client), **kw)
        assert r.status_code == expected, (url, r.status_code)
    async with pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from invitations") == 1
        assert await conn.fetchval("select count(*) from invitations where ended_at is null") == 1
    assert len(smtp.inbox.messages) == 1


async def test_an_organisation_not_verified_yet_emails_no_one(client, pool, world, smtp):
    """Anyone may register an organisation under any name: before the platform has checked it, it adds
    people who have an account, and invites no one."""
    org = world.orgs["pending_provider"]
    await act_as(client, pool, client.app.state.settings, world["pending_admin"].user_id, org)
    r = await post_form(client, f"/organisations/{org}/members", {"email": NEWCOMER, "role": "staff"})
    assert r.status_code == 403 and 'id="e-email"' in r.text
    r = await client.post(f"/api/organisations/{org}/invitations", headers=api_headers(client),
                          json={"email": NEWCOMER, "role": "staff"})
    assert r.status_code == 403
    assert smtp.inbox.messages == [] and await pool.fetchval("select count(*) from invitations") == 0
    r = await post_form(client, f"/organisations/{org}/members", {"email": world["resident"].email, "role": "staff"})
    landed(r, "member_added")
