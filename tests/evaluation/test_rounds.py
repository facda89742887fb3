"""Delivery evaluation rounds on the panel engine: handing a panel to an agency, which seats its
least-loaded experts; people who belong to the provider or declared a conflict with it are never
seated; members submit their scores and only then see the others'; review and site-visit notes."""

import pytest

from market.core import clock
from market.core.errors import Conflict, Forbidden, InvalidFields
from market.evaluation import services as engine
from market.evaluation.models import AddMember, Candidate, Criterion, Declaration, NoteInput, ScoreInput
from market.evaluation.views import panel_view
from tests.conftest import act_as, csrf, landed
from market.storage import images
from market.storage.services import storage_from_settings
from tests.factories import do, identity_for_user, make_org, make_person, photo_with_gps, who

CRITERIA = [Criterion(1, "服务交付", "Delivery", 60, None, False), Criterion(2, "财务管理", "Finance", 40, None, False)]


@pytest.fixture
async def midterm(pool, settings, world, signed):
    """A mid-term panel of the signed contract, being formed by the bureau."""
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        provider = await conn.fetchval("select provider_id from contracts where id = $1", signed)
        return await engine.create_panel(conn, bureau, subject_type="midterm", subject_id=signed, criteria=CRITERIA,
                                         candidates=[Candidate(signed, provider, "测试provider", None, clock.now())])


@pytest.fixture
async def agency(pool, settings, world):
    """The evaluation agency's admin and three experts, named by how busy they are."""
    async with pool.acquire() as conn, conn.transaction():
        people = {name: await make_person(conn, world, name, "evaluator", role)
                  for name, role in (("agency_admin", "admin"), ("busy", "evaluator"), ("idle", "evaluator"),
                                     ("some", "evaluator"))}
        # Open panels elsewhere: busy sits on two, some on one, idle on none.
        for n, name in enumerate(("busy", "busy", "some")):
            panel = await conn.fetchval(
                "insert into panels (subject_type, subject_id, owner_id, created_by, status) "
                "values ('final', $1, $2, $3, 'scoring') returning id",
                900_000 + n, world.orgs["bureau"], world["buyer_admin"].user_id)
            await conn.execute("insert into panel_members (panel_id, user_id, role) values ($1, $2, 'member')",
                               panel, people[name])
    return people


async def as_user(pool, settings, world, uid):
    return await identity_for_user(pool, settings, uid, world.orgs["evaluator"])


async def test_the_owner_hands_the_panel_to_an_agency_which_is_told(pool, settings, world, midterm, agency):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn:
        expert = await make_org(conn, world, "expert", "evaluator", "expert", 81, world.district)
    for not_an_agency in (world.orgs["provider"], expert):  # an expert on their own seats nobody else
        with pytest.raises(InvalidFields) as refused:
            await do(pool, engine.assign_agency, bureau, midterm, not_an_agency)
        assert refused.value.errors[0].field == "agency_id"
    assert [a.id for a in await do(pool, engine.agencies)] == [world.orgs["evaluator"]]
    with pytest.raises(Forbidden):
        await do(pool, engine.assign_agency, await who(pool, settings, world, "provider_admin"), midterm,
                 world.orgs["evaluator"])
    await do(pool, engine.assign_agency, bureau, midterm, world.orgs["evaluator"])
    told = await pool.fetchval("select count(*) from notifications where user_id = $1 and kind = 'panel_agency_assigned'",
                               agency["agency_admin"])
    assert told == 1
    assert await pool.fetchval("select agency_id from panels where id = $1", midterm) == world.orgs["evaluator"]


async def test_the_agency_seats_its_least_loaded_experts_and_the_first_chairs(pool, settings, world, midterm, agency):
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, engine.assign_agency, bureau, midterm, world.orgs["evaluator"])
    admin = await as_user(pool, settings, world, agency["agency_admin"])
    loads = {e.display_name: e.load for e in await do(pool, engine.experts, midterm)}
    assert loads["busy"] == 2 and loads["some"] == 1 and loads["idle"] == 0
    seated = await do(pool, engine.assign_balanced, admin, midterm, 2)
    roles = {m.display_name: m.role for m in await do(pool, engine.members_of, midterm)}
    # The least loaded are seated; the world's own evaluator (no open panel) ties with idle and came first.
    assert "busy" not in roles and len(seated) == 2
    assert sorted(roles.values()) == ["chair", "member"]
    assert roles.get("idle") is not None or roles.get("evaluator") is not None
    # The experts of an agency only: the bureau does not assign the agency's people by count.
    with pytest.raises(Forbidden):
        await do(pool, engine.assign_balanced, bureau, midterm, 1)
    with pytest.raises(InvalidFields):
        await do(pool, engine.assign_balanced, admin, midterm, 10)


async def test_nobody_of_the_provider_or_who_declared_a_conflict_with_it_is_seated(pool, settings, world, midterm,
                                                                                    agency):
    bureau = await who(pool, settings, world, "buyer_admin")
    async with pool.acquire() as conn, conn.transaction():
        # idle also works for the provider; some declared a conflict with its bid on the call's panel.
        await conn.execute("insert into memberships (user_id, organisation_id, role) values ($1, $2, 'staff')",
                           agency["idle"], world.orgs["provider"])
        call_panel = await conn.fetchval("select id from panels where subject_type = 'call'")
        bid = await conn.fetchval("select candidate_id from panel_candidates where panel_id = $1 and organisation_id = $2",
                                  call_panel, world.orgs["provider"])
        await conn.execute("insert into panel_members (panel_id, user_id, role) values ($1, $2, 'member')",
                           call_panel, agency["some"])
        await conn.execute("insert into panel_declarations (panel_id, user_id, candidate_id, conflicted) "
                           "values ($1, $2, $3, true)", call_panel, agency["some"], bid)
    for name in ("idle", "some"):
        with pytest.raises(InvalidFields) as refused:
            await do(pool, engine.add_member, bureau, midterm, AddMember(email=f"{name}@people.test"))
        assert refused.value.errors[0].field == "email"
    await do(pool, engine.assign_agency, bureau, midterm, world.orgs["evaluator"])
    excluded = {e.display_name: e.excluded for e in await do(pool, engine.experts, midterm)}
    assert excluded["idle"] and excluded["some"] and excluded["busy"] is None
    admin = await as_user(pool, settings, world, agency["agency_admin"])
    await do(pool, engine.assign_balanced, admin, midterm, 2)
    seated = {m.display_name for m in await do(pool, engine.members_of, midterm)}
    assert seated == {"evaluator", "busy"}

    async def statements() -> int:  # the agency's page lists every expert: in the same statements for forty
        sent: list[str] = []
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: sent.append(record.query))
            await engine.experts(conn, midterm)
        return len(sent)
    few = await statements()
    async with pool.acquire() as conn:
        for n in range(40):
            await make_person(conn, world, f"expert{n}", "evaluator", "evaluator")
    assert await statements() == few


async def test_a_member_of_a_delivery_panel_is_told_to_read_the_providers_reports(client, pool, settings, world,
                                                                                   midterm):
    # A delivery panel scores what a contract delivered: its members read reports, not bids.
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, engine.add_member, bureau, midterm, AddMember(email=world["evaluator"].email, role="chair"))
    assert await pool.fetchval("select kind from notifications where user_id = $1 and link = $2",
                               world["evaluator"].user_id, f"/panels/{midterm}") == "delivery_panel_member_added"
    await act_as(client, pool, settings, world["evaluator"].user_id)
    told = (await client.get("/api/inbox/?lang=en")).json()["items"][0]["text"]
    assert "read the provider's reports" in told and "bids" not in told
    page = (await client.get(f"/panels/{midterm}?lang=en")).text
    assert "Read the provider's reports" in page and "Read the bids you score" not in page


async def scoring_panel(pool, settings, world, midterm, agency):
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, engine.add_member, bureau, midterm, AddMember(email=world["evaluator"].email, role="chair"))
    await do(pool, engine.add_member, bureau, midterm, AddMember(email="idle@people.test"))
    await do(pool, engine.add_member, bureau, midterm, AddMember(email="busy@people.test"))
    await do(pool, engine.start_scoring, bureau, midterm)
    return [await as_user(pool, settings, world, agency[name]) for name in ("idle", "busy")]


async def score_all(pool, person, panel_id, contract, scores):
    await do(pool, engine.declare, person, panel_id, Declaration(candidate_id=contract, conflicted=False))
    for position, score in scores.items():
        await do(pool, engine.score, person, panel_id, ScoreInput(candidate_id=contract, position=position, score=score))


async def test_members_see_the_others_scores_only_after_submitting_their_own(pool, settings, world, signed, midterm,
                                                                              agency):
    idle, busy = await scoring_panel(pool, settings, world, midterm, agency)
    with pytest.raises(Conflict):  # nothing scored yet
        await do(pool, engine.submit, idle, midterm)
    await score_all(pool, idle, midterm, signed, {1: 80, 2: None})
    await score_all(pool, busy, midterm, signed, {1: 60, 2: 70})
    assert (await do(pool, panel_view, idle, midterm)).panel.member_scores == []
    await do(pool, engine.submit, idle, midterm)
    shown = (await do(pool, panel_view, idle, midterm)).panel.member_scores
    assert {(s.display_name, s.position, s.score) for s in shown} >= {("busy", 1, 60.0), ("busy", 2, 70.0)}
    # busy has not submitted: still sees only their own
    assert (await do(pool, panel_view, busy, midterm)).panel.member_scores == []
    with pytest.raises(Conflict):  # submitted scores stand
        await do(pool, engine.score, idle, midterm, ScoreInput(candidate_id=signed, position=1, score=10))
    with pytest.raises(Conflict):
        await do(pool, engine.submit, idle, midterm)
    assert await pool.fetchval("select count(*) from audit_events where verb = 'panel.submit'") == 1


async def test_notes_are_written_by_members_and_read_by_the_owner(pool, settings, world, signed, midterm, agency):
    idle, _ = await scoring_panel(pool, settings, world, midterm, agency)
    await do(pool, engine.write_note, idle, midterm,
             NoteInput(candidate_id=signed, kind="site", body="走访了两个服务点，签到表齐全。"))
    with pytest.raises(Forbidden):
        await do(pool, engine.write_note, await who(pool, settings, world, "provider_admin"), midterm,
                 NoteInput(candidate_id=signed, kind="document", body="我方自评"))
    owner_view = await do(pool, panel_view, await who(pool, settings, world, "buyer_admin"), midterm)
    assert [(n.display_name, n.kind) for n in owner_view.panel.notes] == [("idle", "site")]


async def test_the_agency_admin_assigns_from_the_panel_page(client, pool, settings, world, midterm, agency):
    bureau = await who(pool, settings, world, "buyer_admin")
    await do(pool, engine.assign_agency, bureau, midterm, world.orgs["evaluator"])
    await act_as(client, pool, settings, agency["agency_admin"], world.orgs["evaluator"])
    page = await client.get(f"/panels/{midterm}")
    assert page.status_code == 200 and "busy" in page.text and f'action="/panels/{midterm}/assign"' in page.text
    sent = await client.post(f"/panels/{midterm}/assign", data={"count": "9", "_csrf_token": csrf(client)})
    assert sent.status_code == 400 and "experts can sit on this panel" in sent.text
    assert await pool.fetchval("select count(*) from panel_members where panel_id = $1", midterm) == 0
    sent = await client.post(f"/panels/{midterm}/assign", data={"count": "2", "_csrf_token": csrf(client)})
    assert sent.status_code in (302, 303)
    assert await pool.fetchval("select count(*) from panel_members where panel_id = $1", midterm) == 2


async def test_a_site_visit_note_carries_photos_without_their_location(client, pool, settings, world, signed, midterm,
                                                                      agency):
    """A member writes a site-visit note with a photo from the panel page; the photo is kept private,
    without where it was taken, and the owner reads it through a link made out to them. A file that is
    not a photo is refused next to its field, and the note is not written either."""
    idle, _ = await scoring_panel(pool, settings, world, midterm, agency)
    await act_as(client, pool, settings, idle.user_id, idle.org_id)
    note = {"_csrf_token": csrf(client), "candidate_id": str(signed), "kind": "site", "body": "走访服务点，现场拍照。"}
    refused = await client.post(f"/panels/{midterm}/notes", data=note,
                                files={"photos": ("台账.pdf", b"%PDF-1.4 not a photo", "application/pdf")})
    assert refused.status_code == 400 and 'id="photos-' in refused.text
    # the note's words are kept in its form, and the file is asked for again (no page can give it back)
    assert f'required>{note["body"]}</textarea>' in refused.text and 'id="again-photos"' in refused.text
    assert await pool.fetchval("select count(*) from panel_notes") == 0
    sent = await client.post(f"/panels/{midterm}/notes", data=note,
                             files={"photos": ("现场.jpg", photo_with_gps(), "image/jpeg")})
    assert landed(sent, "note_saved") == f"/panels/{midterm}" and sent.headers["location"].endswith("#notes")
    kept = await pool.fetchrow("select f.* from panel_note_photos p join files f on f.id = p.file_id")
    assert kept["visibility"] == "private" and kept["organisation_id"] == world.orgs["evaluator"]
    assert not images.has_location(storage_from_settings(settings).get(kept["storage_key"]))

    buyer = world["buyer_admin"]
    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    (shown,) = (await client.get(f"/api/panels/{midterm}")).json()["panel"]["notes"]
    (photo,) = shown["photos"]
    assert photo["filename"] == "现场.jpg" and (await client.get(photo["link"])).status_code == 200
    assert f'<img src="/files/{photo["file_id"]}/content?' in (await client.get(f"/panels/{midterm}")).text
    provider = world["provider_admin"]
    await act_as(client, pool, settings, provider.user_id, provider.org_id)
    assert (await client.get(photo["link"])).status_code in (403, 404)  # made out to the buyer alone
