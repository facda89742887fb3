"""The whole path through HTTP, as each role walks it: a resident's need becomes a signed contract.
At each step it checks what each role can and cannot see. Only the clock is moved by hand."""

from datetime import datetime, timedelta

from tests.conftest import act_as, csrf, landed
from tests.factories import pass_deadline

SECRET = "投标内容机密-WHOLE-PATH"


async def test_from_a_residents_need_to_a_signed_contract(client, pool, world, published):
    settings = client.app.state.settings

    async def as_(name):
        await act_as(client, pool, settings, world[name].user_id if name else None)

    async def post(url, data=None, expect=303):
        r = await client.post(url, data={"_csrf_token": csrf(client), **(data or {})})
        assert r.status_code == expect, (url, r.status_code, r.text[:1500])
        return r

    async def seen(url):
        return (await client.get(url)).text

    # 1. a resident raises a need
    await as_("resident")
    r = await post("/needs/new", {"title": "独居老人午餐没人做", "community_id": world.community, "urgency": "high",
                                  "description": "小区里很多独居老人中午吃不上热饭，希望有助餐送餐服务。",
                                  "beneficiaries": "80岁以上独居老人"})
    assert "需求已提交。居民可以支持它" in await seen(r.headers["location"])
    need_id = int(landed(r, "need_raised").rsplit("/", 1)[1])
    await as_("provider_staff")
    supported = await post(f"/needs/{need_id}/support")
    assert "您已支持这条需求。" in await seen(supported.headers["location"])

    # 2. the bureau approves it as a project
    await as_("buyer_admin")
    r = await client.post("/projects/new", data={
        "_csrf_token": csrf(client), "need_ids": [str(need_id)], "title_zh": "东坡路社区老年助餐",
        "description": "为辖区独居老人提供午餐助餐和送餐服务。", "jurisdiction_id": str(world.street),
        "catalogue_entry_id": str(published["01.01.01"]), "budget_yuan": "150000", "budget_line": "2026年福彩公益金"})
    assert r.status_code == 303, r.text[:1500]
    project_id = int(landed(r, "project_created").rsplit("/", 1)[1])
    await as_("resident")
    assert "已立项" in await seen(f"/needs/{need_id}")

    # 3. and publishes a call
    await as_("buyer_admin")
    deadline = (datetime.now() + timedelta(days=12)).strftime("%Y-%m-%dT%H:%M")
    r = await post(f"/projects/{project_id}/calls/new", {
        "procedure_type": "open_competition", "title_zh": "东坡路社区老年助餐服务采购",
        "description": "征集社会组织为辖区老人提供助餐服务。", "budget_ceiling_yuan": "150000",
        "service_start": "2027-01-01", "service_end": "2027-12-31", "service_place": "东坡路社区",
        "deadline_at": deadline, "criteria-0-name_zh": "项目设计", "criteria-0-weight": "50",
        "criteria-0-min_score": "60", "criteria-1-name_zh": "团队能力", "criteria-1-weight": "30",
        "criteria-2-name_zh": "价格", "criteria-2-weight": "20", "criteria-2-is_price": "on"})
    call_url = landed(r, "call_drafted")
    await as_(None)
    assert (await client.get(call_url)).status_code == 404  # a draft is the buyer's
    await as_("buyer_admin")
    await post(call_url + "/publish")
    await as_(None)
    assert "东坡路社区老年助餐服务采购" in await seen("/calls")

    # 4. two providers ask and bid
    await as_("other_provider_admin")
    await post(call_url + "/questions", {"question": "是否需要自备送餐车辆？"})
    await as_("buyer_staff")
    question_id = await pool.fetchval("select id from call_questions")
    await post(f"/questions/{question_id}/answer", {"answer": "需要，相关费用可列入预算。"})
    for name, amount, text in (("provider_admin", "140000", SECRET), ("other_provider_admin", "120000", "我方方案")):
        await as_(name)
        await post(call_url + "/bid", {
            "objectives": f"为独居老人提供助餐服务。{text}", "activities": "设两个助餐点，每日供餐并送餐上门。",
            "team": "项目主管一名、厨师两名、送餐员三名", "amount_yuan": amount, "line-0-item": "人员",
            "line-0-yuan": str(int(amount) - 20000), "line-1-item": "物资", "line-1-yuan": "20000",
            "indicator-0-name": "服务人次", "indicator-0-target": "10000"})
    for name in (None, "buyer_admin", "other_provider_admin", "platform_admin", "evaluator"):
        await as_(name)
        for url in (call_url, "/api" + call_url + "/bids", call_url + "/bids", "/admin/audit"):
            assert SECRET not in await seen(url), (name, url)
    await as_("provider_staff")
    assert SECRET in await seen("/api" + call_url + "/bids")

    # the deadline passes
    call_id = int(call_url.rsplit("/", 1)[1])
    await pass_deadline(pool, call_id)

    # 5. the panel scores
    await as_("buyer_admin")
    assert SECRET in await seen(call_url + "/bids")
    panel_url = landed(await post(call_url + "/panel"), "panel_formed")
    await post(panel_url + "/members", {"email": world["evaluator"].email, "role": "chair"})
    await post(panel_url + "/members", {"email": world["buyer_staff"].email, "role": "member"})
    await post(panel_url + "/start")
    candidates = {r["label"]: r["candidate_id"] for r in await pool.fetch("select label, candidate_id from panel_candidates")}
    scores = {"测试provider": (85, 80), "测试other_provider": (70, 75)}
    for name in ("evaluator", "buyer_staff"):
        await as_(name)
        for label, candidate in candidates.items():
            await post(panel_url + "/declarations", {"candidate_id": candidate, "conflicted": "no"})
            await post(panel_url + "/scores", {"candidate_id": candidate, **{
                f"score-{candidate}-{position}": score for position, score in zip((1, 2), scores[label])}})
    await as_("evaluator")
    for label, candidate in candidates.items():
        for position, score in zip((1, 2), scores[label]):
            r = await post(panel_url + "/consensus", {"candidate_id": candidate, "position": position, "score": score})
            assert landed(r, "consensus_saved") == panel_url
            assert r.headers["location"].endswith(f"#consensus-{candidate}-{position}")
    await as_("other_provider_admin")
    assert (await client.get(panel_url)).status_code == 404

    # 6. award, notice and an objection
    await as_("buyer_admin")
    await post(call_url + "/award", {"confirmed-award": "yes"})
    await as_(None)
    page = await seen(call_url)
    assert "测试provider" in page and "¥140,000.00" in page
    await as_("other_provider_admin")
    await post(call_url + "/objections", {"text": "我方报价更低，请说明评分依据。"})
    await as_("buyer_admin")
    objection_id = await pool.fetchval("select id from objections")
    await post(f"/objections/{objection_id}/reject", {"answer": "评分依据已公布，综合得分排序无误。"})
    await as_(None)
    assert "评分依据已公布" in await seen(call_url)

    # 7. the notice ends; the contract is prepared and signed by both
    await pool.execute("update calls set notice_ends_at = now() - interval '1 second' where id = $1", call_id)
    await as_("buyer_admin")
    contract_url = landed(await post(call_url + "/contract"), "contract_generated")
    await as_(None)
    assert (await client.get(contract_url)).status_code == 404  # not public until signed
    for name in ("provider_admin", "buyer_admin"):
        await as_(name)
        await post(contract_url + "/sign", {"confirmed-sign": "yes"})
    await as_(None)
    contract = await seen(contract_url)
    assert "测试provider" in contract and "¥140,000.00" in contract
    assert (await client.get(contract_url + "/pdf")).content.startswith(b"%PDF")
    verbs = [r["verb"] for r in await pool.fetch("select verb from audit_events order by id")]
    for verb in ("need.raise", "project.create", "call.publish", "question.answer", "bid.submit", "panel.consensus",
                 "call.award", "objection.reject", "contract.create", "contract.sign"):
        assert verb in verbs, verb
