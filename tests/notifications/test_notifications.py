import asyncio
import html
from datetime import date, timedelta
from email.header import decode_header, make_header

import pytest

from market.app import load_settings
from market.notifications import services as notifications
from market.procurement.awards import services as awards
from market.procurement.bids import services as bids
from market.procurement.calls import questions
from market.procurement.calls import services as calls
from tests.conftest import act_as, api_headers, post_form
from market.core import clock
from market.dashboard import queries as dashboard_sql
from market.places.services import insert_jurisdiction
from tests.factories import bid_input, call_input, do, make_org, make_person, make_project, travel, who
from tests.smtp import SmtpServer


async def kinds(pool, user_id):
    return [r["kind"] for r in await pool.fetch("select kind from notifications where user_id = $1 order by id", user_id)]


async def test_a_published_call_reaches_the_providers_who_may_bid(pool, settings, world, project):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        call_id = await calls.create_call(conn, bureau, call_input(project))
        await calls.publish_call(conn, bureau, call_id)
        await calls.publish_call(conn, bureau, call_id)  # again: nothing new
    # the call is for social service agencies: "provider" is one, "other_provider" a social group
    assert await kinds(pool, world["provider_admin"].user_id) == ["call_opened"]
    assert await kinds(pool, world["provider_staff"].user_id) == ["call_opened"]
    assert await kinds(pool, world["other_provider_admin"].user_id) == []
    assert await kinds(pool, world["resident"].user_id) == []


async def test_the_asker_hears_the_answer_and_the_inbox_works(client, pool, world, open_call):
    settings = client.app.state.settings
    provider = await who(pool, settings, world, "provider_admin")
    question = await do(pool, questions.ask, provider, open_call, "是否可以分期交付？")
    await do(pool, questions.answer, await who(pool, settings, world, "buyer_admin"), question, "可以。")
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    page = (await client.get("/dashboard")).text
    assert 'class="badge count">2<' in page  # call opened, question answered
    inbox = (await client.get("/api/inbox/")).json()
    items = inbox["items"]
    assert inbox["total"] == 2 and inbox["first"] == 0 and inbox["next_cursor"] is None
    assert items[0]["link"] == f"/calls/{open_call}#questions"
    assert "东坡路社区上门助浴服务采购" in items[0]["text"]
    assert [i["organisation_id"] for i in items] == [world.orgs["provider"]] * 2  # asked for it; may bid as it
    # a link checker's HEAD goes where GET would and leaves the notice unread; GET marks it read
    unread = "select read_at is null from notifications where id = $1"
    r = await client.head(f"/inbox/{items[0]['id']}")
    assert r.status_code == 303 and r.headers["location"] == f"/calls/{open_call}#questions"
    assert await pool.fetchval(unread, items[0]["id"]) is True
    r = await client.get(f"/inbox/{items[0]['id']}")
    assert r.status_code == 303 and r.headers["location"] == f"/calls/{open_call}#questions"
    assert await pool.fetchval(unread, items[0]["id"]) is False
    # another person's notification cannot be marked read through its id
    await act_as(client, pool, settings, world["other_provider_admin"].user_id)
    r = await client.post(f"/api/inbox/{items[1]['id']}/read", headers=api_headers(client))
    assert r.status_code == 204
    assert await pool.fetchval("select read_at from notifications where id = $1", items[1]["id"]) is None
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    await post_form(client, "/inbox/read")
    assert await notifications.unread(pool, world["provider_admin"].user_id) == 0


async def test_the_inbox_pages_every_notice_once_while_more_arrive_and_lists_the_unread(client, pool, settings, world):
    """The inbox was paged by offset: a notice arriving between two pages pushed the last of one page
    onto the next, shown twice. It is now paged on the notices' ids, and lists the unread alone when
    asked."""
    user = world["resident"].user_id
    add = "insert into notifications (user_id, kind, params, link) values ($1, 'contract_to_sign', $2, '/inbox')"
    await pool.executemany(add, [(user, {"title": f"第{n}号"}) for n in range(120)])
    await pool.execute("update notifications set read_at = now() where user_id = $1 and id % 3 = 0", user)
    await act_as(client, pool, settings, user)
    seen: list[int] = []
    cursor, arrived = None, 0
    while True:
        page = (await client.get("/api/inbox/", params={"cursor": cursor} if cursor else {})).json()
        seen += [i["id"] for i in page["items"]]
        await pool.execute(add, user, {"title": f"新{arrived}"})  # one arrives while the person reads
        arrived += 1
        if not (cursor := page["next_cursor"]):
            break
    before = await pool.fetch("select id from notifications where user_id = $1 and params->>'title' like '第%' "
                              "order by id desc", user)
    assert seen == [r["id"] for r in before]  # each once, newest first, none of those that arrived
    unread = (await client.get("/api/inbox/?unread=true")).json()
    assert unread["total"] == await notifications.unread(pool, user) == 80 + arrived
    assert all(i["read_at"] is None for i in unread["items"]) and len(unread["items"]) == 50
    for lang, words in (("zh_Hans", ("全部", "未读", "全部标为已读")), ("en", ("All", "Unread", "Mark all read"))):
        page = (await client.get(f"/inbox?unread=true&lang={lang}")).text
        assert all(w in page for w in words), [w for w in words if w not in page]
        assert 'href="/inbox?unread=true" aria-current="page"' in page
    marked = await post_form(client, "/inbox/read", {"unread": "true"})  # from the unread list: back to it
    assert marked.headers["location"] == "/inbox?unread=true&done=inbox_read"
    page = (await client.get(marked.headers["location"] + "&lang=zh_Hans")).text
    assert "消息都已读过。" in page and "全部标为已读" not in page and "全部消息已标为已读。" in page


async def test_deadline_reminders_once_to_those_taking_part(pool, settings, world, open_call):
    await do(pool, questions.ask, await who(pool, settings, world, "provider_admin"), open_call, "请问服务地点在哪里？")
    await pool.execute("update calls set deadline_at = now() + interval '30 hours', "
                       "questions_close_at = now() + interval '1 hour' where id = $1", open_call)
    assert await calls.queue_deadline_reminders(pool) == 2  # the asker's admin and staff
    assert await calls.queue_deadline_reminders(pool) == 0  # already reminded: nothing tried again
    assert (await kinds(pool, world["provider_admin"].user_id)).count("deadline_soon") == 1
    assert (await kinds(pool, world["provider_staff"].user_id)).count("deadline_soon") == 1
    assert "deadline_soon" not in await kinds(pool, world["other_provider_admin"].user_id)
    assert {r["organisation_id"] for r in await pool.fetch(
        "select organisation_id from notifications where kind = 'deadline_soon'")} == {world.orgs["provider"]}


async def test_deadline_reminders_reach_bidders_once_and_only_for_calls_closing_soon(pool, settings, world, open_call):
    await do(pool, bids.submit, await who(pool, settings, world, "provider_admin"), open_call, bid_input())
    await pool.execute("update calls set deadline_at = now() + interval '50 hours', "
                       "questions_close_at = now() + interval '1 hour' where id = $1", open_call)
    assert await calls.queue_deadline_reminders(pool) == 0  # not within 48 hours yet
    await pool.execute("update calls set deadline_at = now() + interval '47 hours' where id = $1", open_call)
    assert await calls.queue_deadline_reminders(pool) == 2
    assert await calls.queue_deadline_reminders(pool) == 0
    for bidder in ("provider_admin", "provider_staff"):
        assert (await kinds(pool, world[bidder].user_id)).count("deadline_soon") == 1
    assert "deadline_soon" not in await kinds(pool, world["other_provider_admin"].user_id)


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


async def test_the_outbox_emails_each_notification_once_in_the_recipients_language(pool, world, open_call, smtp,
                                                                                  tmp_path):
    await pool.execute("update users set locale = 'en' where id = $1", world["provider_staff"].user_id)
    settings = load_settings({"MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": "n" * 40,
                              "MARKET_MAIL_BACKEND": "smtp", "MARKET_SMTP_HOST": "127.0.0.1",
                              "MARKET_SMTP_PORT": str(smtp.port), "MARKET_BASE_URL": "https://market.example.cn"})
    from market.mail.services import mailer_from_settings
    mailer = mailer_from_settings(settings)
    pending = await pool.fetchval("select count(*) from notifications where email_status = 'pending'")
    # two processes drain the outbox at once
    sent = await asyncio.gather(notifications.send_pending(pool, mailer, settings),
                                notifications.send_pending(pool, mailer, settings))
    assert sum(sent) == pending == len(smtp.inbox.messages) == 2
    by_recipient = {m["To"]: m for m in smtp.inbox.messages}
    english = by_recipient[world["provider_staff"].email]
    assert "A call you may bid on is open" in str(make_header(decode_header(english["Subject"])))
    assert f"https://market.example.cn/calls/{open_call}" in smtp.inbox.body(smtp.inbox.messages.index(english))
    # which organisation it is for, in the reader's language
    assert "For Test provider." in smtp.inbox.body(smtp.inbox.messages.index(english))
    chinese = by_recipient[world["provider_admin"].email]
    assert "此消息发给测试provider。" in smtp.inbox.body(smtp.inbox.messages.index(chinese))
    assert await notifications.send_pending(pool, mailer, settings) == 0


async def test_award_and_objection_notify_the_other_side(pool, settings, world, scored):
    await pool.execute("delete from notifications")
    await do(pool, awards.award, await who(pool, settings, world, "buyer_admin"), scored)
    assert await kinds(pool, world["other_provider_admin"].user_id) == ["call_awarded"]
    await do(pool, awards.object_to, await who(pool, settings, world, "other_provider_admin"), scored,
              "请说明评分依据，谢谢。")
    assert "objection_raised" in await kinds(pool, world["buyer_staff"].user_id)


async def test_a_notice_names_a_bilingual_record_in_the_readers_language(client, pool, world, project, smtp, tmp_path):
    settings = client.app.state.settings
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        call_id = await calls.create_call(conn, bureau, call_input(project, title_en="Home bathing on Dongpo Road"))
        await calls.publish_call(conn, bureau, call_id)
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    english = (await client.get("/api/inbox/?lang=en")).json()["items"][0]["text"]
    chinese = (await client.get("/api/inbox/?lang=zh_Hans")).json()["items"][0]["text"]
    assert "Home bathing on Dongpo Road" in english and "东坡路" not in english
    assert "东坡路社区上门助浴服务采购" in chinese
    # By email, in each recipient's own language.
    await pool.execute("update users set locale = 'en' where id = $1", world["provider_staff"].user_id)
    mail = load_settings({"MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": "n" * 40, "MARKET_MAIL_BACKEND": "smtp",
                          "MARKET_SMTP_HOST": "127.0.0.1", "MARKET_SMTP_PORT": str(smtp.port)})
    from market.mail.services import mailer_from_settings
    await notifications.send_pending(pool, mailer_from_settings(mail), mail)
    subjects = {m["To"]: str(make_header(decode_header(m["Subject"]))) for m in smtp.inbox.messages}
    assert "Home bathing on Dongpo Road" in subjects[world["provider_staff"].email]
    assert "东坡路社区上门助浴服务采购" in subjects[world["provider_admin"].email]


async def test_a_notice_for_another_of_my_organisations_leads_to_the_switch_first(client, pool, world):
    """Someone who works for a bureau and a social organisation is told of the social organisation's
    contract while acting for the bureau: the inbox says whom each notice is for, and opening that one
    offers the switch, set to that organisation and coming back to the notice, rather than a page that
    refuses them (it once did, and with four organisations they had to guess which)."""
    person, provider, bureau = world["buyer_admin"], world.orgs["provider"], world.orgs["bureau"]
    await pool.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                       person.user_id, provider)
    async with pool.acquire() as conn, conn.transaction():
        for org, link in ((provider, "/contracts/999"), (bureau, "/contracts/998")):
            await notifications.notify(conn, await notifications.members_of(conn, [org]), "contract_to_sign", link,
                                       title="东坡路社区助浴", title_en="Dongpo Road bathing")
    names = await pool.fetchrow("select name_zh, name_en from organisations where id = $1", provider)
    await act_as(client, pool, client.app.state.settings, person.user_id, bureau)
    for lang, name, shown in (("en", names["name_en"] or names["name_zh"], "for {}"), ("zh_Hans", names["name_zh"], "发给{}")):
        client.cookies.set("market_lang", lang)
        ours, theirs = (await client.get("/api/inbox/")).json()["items"]
        assert (theirs["organisation_id"], theirs["organisation_name"]) == (provider, name)
        assert ours["organisation_id"] == bureau
        assert html.escape(shown.format(name)) in (await client.get("/inbox")).text
    unread = "select read_at is null from notifications where id = $1"
    r = await client.get(f"/inbox/{theirs['id']}")
    assert r.status_code == 303
    assert r.headers["location"] == f"/account?for={provider}&next=/inbox/{theirs['id']}#act-as"
    assert await pool.fetchval(unread, theirs["id"]) is True
    account = (await client.get(r.headers["location"])).text
    assert "您打开的内容属于" in account and html.escape(names["name_zh"]) in account
    assert f'<option value="{provider}" selected>' in account
    assert f'name="next" value="/inbox/{theirs["id"]}"' in account
    switched = await post_form(client, "/account/act-as", {"organisation_id": provider, "next": f"/inbox/{theirs['id']}"})
    assert switched.headers["location"] == f"/inbox/{theirs['id']}"
    r = await client.get(switched.headers["location"])
    assert r.headers["location"] == "/contracts/999" and await pool.fetchval(unread, theirs["id"]) is False
    # the bureau's notice now asks for the way back; once the person has left the social organisation,
    # its notice opens where it points, as every notice did
    assert (await client.get(f"/inbox/{ours['id']}")).headers["location"].startswith(f"/account?for={bureau}&")
    await post_form(client, "/account/act-as", {"organisation_id": bureau})
    await pool.execute("delete from memberships where user_id = $1 and organisation_id = $2", person.user_id, provider)
    assert (await client.get(f"/inbox/{theirs['id']}")).headers["location"] == "/contracts/999"
    assert (await client.get(f"/inbox/{ours['id']}")).headers["location"] == "/contracts/998"
    # the account page names no organisation it was not asked for, nor one the person is not in
    for query in ("", f"?for={provider}", "?for=x"):
        assert "您打开的内容属于" not in (await client.get(f"/account{query}")).text


async def test_someone_reached_through_two_organisations_is_told_once_for_the_first(pool, world):
    person, provider, bureau = world["buyer_admin"], world.orgs["provider"], world.orgs["bureau"]
    await pool.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                       person.user_id, provider)
    async with pool.acquire() as conn, conn.transaction():
        people = await notifications.members_of(conn, [provider, bureau])
        told = await notifications.notify(conn, [*people, person.user_id], "contract_to_sign", "/contracts/1", title="x")
    assert [r.organisation_id for r in people] == sorted((r.organisation_id for r in people),
                                                         key=[provider, bureau].index)
    rows = await pool.fetch("select user_id, organisation_id from notifications where link = '/contracts/1'")
    assert told == len(rows) == len({r.user_id for r in people})
    assert {r["user_id"]: r["organisation_id"] for r in rows}[person.user_id] == provider


async def test_a_call_opens_to_exactly_the_providers_its_rules_let_bid(pool, settings, world, published, signed):
    """"A call you may bid on is open" went to every provider of the call's types and rating in the
    whole city, whatever its district, years or bars: on a city thousands of notices and emails a call,
    most to providers whose bid the call then refuses. It now reaches the providers the bid form takes,
    each as one of its organisation's people; their workbenches list it by the same rules (a barred
    provider's once listed it, and the form refused the bid)."""
    today = clock.today()
    item = await pool.fetchval("select e.code from catalogue_entries e where e.id = $1", published["01.01.02"])
    async with pool.acquire() as conn, conn.transaction():
        elsewhere = await insert_jurisdiction(conn, parent_id=None, level="district", code="330105",
                                              name_zh="拱墅区", name_en="Gongshu")
        for serial, (key, subtype, where, extra) in enumerate((
                ("near", "social_service_agency", world.community, {"rating": 4, "registered": date(2018, 1, 1)}),
                ("far", "social_service_agency", elsewhere, {"rating": 5, "registered": date(2010, 1, 1)}),
                ("low", "social_service_agency", world.street, {"rating": 2, "registered": date(2010, 1, 1)}),
                ("young", "social_service_agency", world.street, {"rating": 4, "registered": today - timedelta(days=400)}),
                ("barred", "social_service_agency", world.street, {"rating": 4, "registered": date(2010, 1, 1)}),
                ("group", "social_group", world.street, {"rating": 5, "registered": date(2010, 1, 1)})), start=40):
            await make_org(conn, world, key, "provider", subtype, serial, where, **extra)
            await make_person(conn, world, f"{key}-staff", key, "staff")
        await conn.execute("""insert into provider_standing (organisation_id, contract_id, stage, catalogue_owner_id,
                                  item_code, grade, decided_at, barred_until)
                              values ($1, $2, 'midterm', $3, $4, 'C', now() - interval '1 day', $5)""",
                           world.orgs["barred"], signed, world.orgs["bureau"], item, today + timedelta(days=30))
    bureau = await who(pool, settings, world, "buyer_admin")
    for cross, title in ((False, "区内助浴"), (True, "全市助浴")):
        project = await make_project(pool, settings, world, published, title)
        async with pool.acquire() as conn, conn.transaction():
            call_id = await calls.create_call(conn, bureau, call_input(project, title_zh=title, min_rating=3, min_years=3, budget_ceiling_fen=90_000_00,
                                                                        cross_district=cross))
            await calls.publish_call(conn, bureau, call_id)
            call = await calls.call_row(conn, call_id)
            may_bid = {org for key, org in world.orgs.items()
                       if not await bids.eligibility_problems(conn, org, call)}
            # the providers' workbenches list it to bid on by the same rules
            listing = {org for org in world.orgs.values()
                       if f"/calls/{call_id}" in {r["link"] for r in await conn.fetch(
                           dashboard_sql.CALLS_TO_BID, 50, org, clock.now(), today)}}
        assert listing == may_bid
        told = await pool.fetch("select user_id, organisation_id from notifications where kind = 'call_opened' "
                                "and link = $1", f"/calls/{call_id}")
        assert {r["organisation_id"] for r in told} == may_bid
        assert may_bid == {world.orgs[k] for k in ("provider", "near", *(("far",) if cross else ()))}
        members = await pool.fetch("select user_id from memberships where organisation_id = any($1) "
                                   "and role in ('admin', 'staff')", list(may_bid))
        assert sorted(r["user_id"] for r in told) == sorted(r["user_id"] for r in members)



def _smtp_settings(smtp, tmp_path):
    return load_settings({"MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": "n" * 40,
                          "MARKET_MAIL_BACKEND": "smtp", "MARKET_SMTP_HOST": "127.0.0.1",
                          "MARKET_SMTP_PORT": str(smtp.port), "MARKET_BASE_URL": "https://market.example.cn"})


async def test_a_daily_digest_sends_a_days_notices_in_one_email_once(client, pool, settings, world, open_call,
                                                                      smtp, tmp_path):
    """A social organisation's staff are told of every call they may bid on (2,000 a year on the generated
    city), each an email. Whoever chooses one email a day gets the day's notices together, once the
    oldest has waited a day, and never twice however many processes send; a choice changed sends the
    waiting notices the new way."""
    from market.mail.services import mailer_from_settings
    mail = _smtp_settings(smtp, tmp_path)
    mailer = mailer_from_settings(mail)
    await notifications.send_pending(pool, mailer, mail)  # the call's own notices, as they came
    staff = world["provider_staff"]
    await act_as(client, pool, settings, staff.user_id)
    r = await post_form(client, "/account/email-notices", {"email_notices": "daily"})
    assert r.status_code == 303 and r.headers["location"] == "/account?notice=email_saved#email"
    await pool.execute("update users set locale = 'en' where id = $1", staff.user_id)
    before = len(smtp.inbox.messages)
    for text in ("是否可以分期交付？", "服务地点在哪里？"):
        question = await do(pool, questions.ask, await who(pool, settings, world, "provider_staff"), open_call, text)
        await do(pool, questions.answer, await who(pool, settings, world, "buyer_admin"), question, "可以。")
    assert await notifications.send_pending(pool, mailer, mail) == 0
    assert await asyncio.gather(*[notifications.send_digests(pool, mailer, mail) for _ in range(2)]) == [0, 0]
    await travel(pool, days=1, minutes=1)
    assert sorted(await asyncio.gather(*[notifications.send_digests(pool, mailer, mail) for _ in range(2)])) == [0, 1]
    assert await notifications.send_digests(pool, mailer, mail) == 0
    assert len(smtp.inbox.messages) == before + 1
    digest = smtp.inbox.messages[-1]
    assert digest["To"] == staff.email
    assert str(make_header(decode_header(digest["Subject"]))) == "2 notices on the Public Service Market"
    body = smtp.inbox.body(-1)
    assert body.count("Your question on") == 2 and f"https://market.example.cn/calls/{open_call}#questions" in body
    assert "For Test provider." in body and "https://market.example.cn/account#email" in body
    # a reminder that bids close within 48 hours does not wait a day for the digest: it goes at once
    await pool.execute("update calls set deadline_at = market_now() + interval '30 hours', "
                       "questions_close_at = market_now() + interval '1 hour' where id = $1", open_call)
    assert await calls.queue_deadline_reminders(pool) == 2  # the asker's admin (each as it comes) and staff
    assert await notifications.send_pending(pool, mailer, mail) == 2
    reminded = [i for i, m in enumerate(smtp.inbox.messages) if i > before and m["To"] == staff.email]
    assert len(reminded) == 1 and "close within 48 hours" in smtp.inbox.body(reminded[0])
    # a notice waiting for the digest goes out at once once the person asks for each as it comes
    question = await do(pool, questions.ask, await who(pool, settings, world, "provider_staff"), open_call, "第三个问题？")
    await do(pool, questions.answer, await who(pool, settings, world, "buyer_admin"), question, "好的。")
    await act_as(client, pool, settings, staff.user_id)
    assert (await client.put("/api/account/email-notices", json={"email_notices": "each"},
                             headers=api_headers(client))).status_code == 204
    assert await notifications.send_pending(pool, mailer, mail) == 1
    assert (await client.get("/api/account")).json()["email_notices"] == "each"


async def test_no_email_for_whoever_chose_none_and_a_strange_choice_is_refused_next_to_the_field(
        client, pool, settings, world, open_call):
    admin = world["provider_admin"]
    await act_as(client, pool, settings, admin.user_id)
    for lang, message in (("en", "Email me my notices"), ("zh_Hans", "通过邮件接收消息")):
        client.cookies.set("market_lang", lang)
        r = await post_form(client, "/account/email-notices", {"email_notices": "hourly"})
        assert r.status_code == 400 and 'id="e-email_notices"' in r.text and message in r.text
    assert (await client.get("/api/account")).json()["email_notices"] == "each"
    unsent = "select count(*) from notifications where user_id = $1 and email_status = $2"
    assert await pool.fetchval(unsent, admin.user_id, "pending") == 1  # the call's notice
    await post_form(client, "/account/email-notices", {"email_notices": "none"})
    page = (await client.get("/account?notice=email_saved")).text
    assert "已保存" in page and 'value="none" checked' in page
    assert await pool.fetchval(unsent, admin.user_id, "pending") == 0
    question = await do(pool, questions.ask, await who(pool, settings, world, "provider_admin"), open_call, "何时开标？")
    await do(pool, questions.answer, await who(pool, settings, world, "buyer_admin"), question, "截止后。")
    assert await pool.fetchval(unsent, admin.user_id, "skipped") == 2
    # a notice skipped is not sent later because the person asks for email again
    await post_form(client, "/account/email-notices", {"email_notices": "each"})
    assert await pool.fetchval(unsent, admin.user_id, "pending") == 0


async def test_a_notice_writes_its_days_as_the_pages_do(client, pool, world):
    """A due date is kept in a notice's parameters as ISO 8601; the inbox wrote "2026-12-08" where every
    page says "Dec 8, 2026" or "2026年12月8日"."""
    async with pool.acquire() as conn, conn.transaction():
        await notifications.notify(conn, [world["provider_admin"].user_id], "rectification_due", "/rectification/1",
                                   id=1, due="2026-12-08")
    await act_as(client, pool, client.app.state.settings, world["provider_admin"].user_id)
    english = (await client.get("/api/inbox?lang=en")).json()["items"][0]["text"]
    chinese = (await client.get("/api/inbox?lang=zh_Hans")).json()["items"][0]["text"]
    assert "Dec 8, 2026" in english and "2026年12月8日" in chinese
    assert "2026-12-08" not in english + chinese
