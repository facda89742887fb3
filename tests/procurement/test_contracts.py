import pytest

from market.core.errors import Conflict, Forbidden, InvalidFields, NotFound
from market.procurement.awards import services as awards
from market.procurement.calls.views import call_view
from market.procurement.contracts import services as contracts
from market.procurement.contracts.services import MilestoneInput, Milestones
from tests.conftest import act_as, api_headers
from tests.factories import do, end_notice, who


async def test_the_contract_waits_for_the_notice_and_the_objections(pool, settings, world, awarded):
    buyer = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(Conflict):
        await do(pool, contracts.generate, buyer, awarded)
    objection = await do(pool, awards.object_to, await who(pool, settings, world, "other_provider_admin"), awarded,
                          "请说明评分依据，谢谢。")
    await end_notice(pool, awarded)
    with pytest.raises(Conflict):
        await do(pool, contracts.generate, buyer, awarded)
    await do(pool, awards.answer_objection, buyer, objection, "reject", "评分依据已公布，排序无误。")
    contract_id = await do(pool, contracts.generate, buyer, awarded)
    contract = await do(pool, contracts.get, buyer, contract_id)
    assert contract.provider_name == "测试provider" and contract.amount_fen == 100_000_00
    assert sum(m.payment_percent or 0 for m in contract.milestones) == 100
    with pytest.raises(Conflict):
        await do(pool, contracts.generate, buyer, awarded)


def milestones(*percents):
    from datetime import date
    return Milestones(milestones=[MilestoneInput(kind="payment", title=f"第{i}期", due_date=date(2027, i, 1),
                                                 payment_percent=p) for i, p in enumerate(percents, start=1)])


async def test_milestone_payments_add_up_to_100(pool, settings, world, contract_id):
    buyer = await who(pool, settings, world, "buyer_admin")
    with pytest.raises(InvalidFields):
        await do(pool, contracts.set_milestones, buyer, contract_id, milestones(50, 30))
    await do(pool, contracts.set_milestones, buyer, contract_id, milestones(50, 50))
    with pytest.raises(Forbidden):
        await do(pool, contracts.set_milestones, await who(pool, settings, world, "provider_admin"), contract_id,
                  milestones(100))


@pytest.mark.parametrize("source", contracts.CONTRACT_STATUSES)
@pytest.mark.parametrize("side", ["buyer", "provider"])
async def test_every_signing_step_allowed_or_refused(pool, settings, world, contract_id, source, side):
    await pool.execute("update contracts set status = $2 where id = $1", contract_id, source)
    signer = await who(pool, settings, world, "buyer_staff" if side == "buyer" else "provider_admin")
    transition = contracts.CONTRACT.find(f"sign_as_{side}", source)
    target = transition and transition.target
    if target is None:
        with pytest.raises(Conflict):
            await do(pool, contracts.sign, signer, contract_id)
    else:
        assert await do(pool, contracts.sign, signer, contract_id) == target
    assert await pool.fetchval("select status from contracts where id = $1", contract_id) == (target or source)


async def test_both_sign_then_it_is_public_and_frozen(client, pool, world, contract_id):
    settings = client.app.state.settings
    outsider = await who(pool, settings, world, "other_provider_admin")
    with pytest.raises(NotFound):
        await do(pool, contracts.get, outsider, contract_id)
    with pytest.raises(Forbidden):
        await do(pool, contracts.sign, outsider, contract_id)
    await act_as(client, pool, settings, world["other_provider_admin"].user_id)
    assert (await client.get(f"/contracts/{contract_id}")).status_code == 404  # not public before both sign
    assert (await client.get(f"/api/contracts/{contract_id}")).status_code == 404
    await act_as(client, pool, settings, world["provider_admin"].user_id)
    view = (await client.get(f"/api/contracts/{contract_id}")).json()
    assert view["side"] == "provider" and view["can_sign"] is True and view["status"] == "draft"
    assert (await client.post(f"/api/contracts/{contract_id}/sign", headers=api_headers(client))).json() == {
        "status": "provider_signed"}
    await act_as(client, pool, settings, world["buyer_admin"].user_id)
    assert (await client.post(f"/api/contracts/{contract_id}/sign", headers=api_headers(client))).json() == {
        "status": "signed"}
    signers = await pool.fetch("select actor_user_id from audit_events where verb = 'contract.sign' order by id")
    assert [r["actor_user_id"] for r in signers] == [world["provider_admin"].user_id, world["buyer_admin"].user_id]
    client.cookies.delete("market_session")
    page = await client.get(f"/contracts/{contract_id}")
    assert page.status_code == 200 and "测试provider" in page.text
    view = (await client.get(f"/api/contracts/{contract_id}")).json()  # the page's twin, public once signed
    assert view["provider_name"] == "测试provider" and view["side"] is None and not view["can_sign"]
    with pytest.raises(Conflict):
        await do(pool, contracts.set_milestones, await who(pool, settings, world, "buyer_admin"), contract_id,
                  milestones(100))


async def test_the_contract_pdf_carries_a_chinese_font(client, pool, world, contract_id):
    await act_as(client, pool, client.app.state.settings, world["buyer_admin"].user_id)
    r = await client.get(f"/contracts/{contract_id}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and b"STSong-Light" in r.content


async def test_a_calls_page_links_its_contract_to_the_parties_and_once_signed_to_everyone(pool, settings, world,
                                                                                           awarded, contract_id):
    seen = {}
    for status in ("draft", "signed"):
        await pool.execute("update contracts set status = $2 where id = $1", contract_id, status)
        for name in (None, "buyer_admin", "provider_admin", "other_provider_admin"):
            reader = await who(pool, settings, world, name) if name else None
            seen[status, name] = (await do(pool, call_view, reader, awarded)).contract_id
    assert seen["draft", "buyer_admin"] == seen["draft", "provider_admin"] == contract_id
    assert seen["draft", None] is None and seen["draft", "other_provider_admin"] is None
    assert {seen["signed", name] for name in (None, "buyer_admin", "other_provider_admin")} == {contract_id}
