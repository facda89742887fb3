import pytest

from market.core.errors import Conflict, Forbidden
from market.procurement.calls import questions
from tests.conftest import act_as, api_headers, post_form
from tests.factories import who


async def _ask(pool, identity, call_id, text="服务对象是否包括半失能老人？"):
    async with pool.acquire() as conn, conn.transaction():
        return await questions.ask(conn, identity, call_id, text)


async def test_the_asker_is_hidden_from_everyone_but_the_platform(client, pool, world, open_call):
    settings = client.app.state.settings
    await _ask(pool, await who(pool, settings, world, "provider_admin"), open_call)
    for name in (None, "buyer_admin", "other_provider_admin", "provider_staff"):
        await act_as(client, pool, settings, world[name].user_id if name else None)
        listed = (await client.get(f"/api/calls/{open_call}/questions")).json()
        assert listed[0]["asked_by_organisation"] is None, name
        page = (await client.get(f"/calls/{open_call}")).text
        section = page.split('<section id="questions">')[1].split("</section>")[0]
        assert "服务对象是否包括半失能老人" in section and "测试provider" not in section, name
    await act_as(client, pool, settings, world["platform_admin"].user_id)
    assert (await client.get(f"/api/calls/{open_call}/questions")).json()[0]["asked_by_organisation"] == "测试provider"


async def test_the_buyer_answers_once_and_everyone_sees_it(client, pool, world, open_call):
    settings = client.app.state.settings
    question_id = await _ask(pool, await who(pool, settings, world, "provider_admin"), open_call)
    await act_as(client, pool, settings, world["buyer_staff"].user_id)
    r = await post_form(client, f"/questions/{question_id}/answer", {"answer": "包括，半失能老人也是服务对象。"})
    assert r.status_code == 303
    r = await client.post(f"/api/questions/{question_id}/answer", headers=api_headers(client), json={"answer": "改答案"})
    assert r.status_code == 409
    client.cookies.delete("market_session")
    (q,) = (await client.get(f"/api/calls/{open_call}/questions")).json()
    assert q["answer"] == "包括，半失能老人也是服务对象。"


async def test_only_the_calls_buyer_answers(pool, settings, world, open_call):
    question_id = await _ask(pool, await who(pool, settings, world, "provider_admin"), open_call)
    for name in ("other_provider_admin", "funder_admin"):
        async with pool.acquire() as conn, conn.transaction():
            with pytest.raises(Forbidden):
                await questions.answer(conn, await who(pool, settings, world, name), question_id, "我来回答")


async def test_questions_close_before_the_deadline(pool, settings, world, open_call):
    provider = await who(pool, settings, world, "provider_admin")
    await pool.execute("update calls set questions_close_at = now() - interval '1 minute' where id = $1", open_call)
    with pytest.raises(Conflict):
        await _ask(pool, provider, open_call)
    assert await pool.fetchval("select count(*) from call_questions") == 0


async def test_only_verified_social_organisations_ask(client, pool, world, open_call):
    settings = client.app.state.settings
    for name in ("buyer_admin", "funder_admin", "pending_admin"):
        with pytest.raises(Forbidden):
            await _ask(pool, await who(pool, settings, world, name), open_call)
    await act_as(client, pool, settings, world["provider_staff"].user_id)
    r = await post_form(client, f"/calls/{open_call}/questions", {"question": "服务时间是否可以调整？"})
    assert r.status_code == 303
    r = await post_form(client, f"/calls/{open_call}/questions", {"question": "短"})
    assert r.status_code == 400
    assert await pool.fetchval("select count(*) from call_questions") == 1
