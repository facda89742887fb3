"""The demo's providers rating their buyers, told on the clock over two years so the scorecards have a
trend: Wangjiang street office bought from three providers last year (single-source contracts from
March to December); each was paid its first tranche (one of them late), filed its mid-term report,
passed its mid-term evaluation and rated the office, was paid its second tranche, and at the end,
this January, filed its final report, passed its final evaluation, rated the office again and was
paid the rest. This year Jinjiang community's residents' committee bought from two providers, who
rated it after their mid-terms: too few raters to show, so its card and its ratings page say "not
enough data". Everything goes through the same services as real use (the ledger balances).

The main demo lends its way to act as a demo person and to score a delivery evaluation (market.demo);
the clock is back at `today` afterwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import asyncpg

from market.buyers import ratings
from market.buyers.models import RatingInput
from market.core.access import Identity
from market.core.clock import on_day
from market.delivery import services as delivery
from market.delivery.reports import services as reports
from market.delivery.reports.models import ReportInput, SpendingInput
from market.delivery.reports.models import TargetInput as Achieved
from market.evaluation import services as engine
from market.evaluation.models import AddMember, Declaration, ScoreInput
from market.procurement.awards import panels
from market.procurement.awards import services as awards
from market.procurement.bids import services as bids
from market.procurement.bids.models import BidInput, BudgetLine, TargetInput
from market.procurement.calls import services as calls
from market.procurement.calls.models import CallInput, CriterionInput
from market.procurement.contracts import services as contracts
from market.procurement.needs import services as needs
from market.procurement.needs.models import ProjectInput

Person = Callable[[str], Awaitable[Identity]]
# (conn, buyer, contract, stage, level 0-1, the story's today, days from it): a decided evaluation.
ScoreRound = Callable[[asyncpg.Connection, Identity, int, str, float, datetime, float], Awaitable[None]]

# Last year's contracts of the street office: (provider, title, days its first payment was late,
# ratings after the mid-term and at the end, in CRITERIA order, and a comment).
STREET = [
    ("ngo04", "望江街道残疾人居家康复服务", 0, (5, 4, 4, 5, 4), (5, 5, 4, 5, 5), "需求说明清楚，街道社工全程对接。"),
    ("ngo16", "望江街道居民法律服务进社区", 45, (4, 2, 3, 4, 4), (4, 3, 4, 4, 4), "首笔款项拖了一个半月才到账。"),
    ("ngo23", "望江街道青少年禁毒宣传教育", 3, (4, 4, 3, 3, 4), (4, 4, 4, 4, 5), "中期检查时临时增加了活动要求。"),
]
# This year's contracts of the community committee: two raters only.
COMMUNITY = [
    ("ngo12", "近江社区心理健康服务站运营", (3, 4, 4, 4, 3), "评估前没有说明打分标准。"),
    ("ngo17", "近江社区新市民融入服务", (4, 4, 5, 4, 4), ""),
]


# Their titles in English too (the project's; its call is "<title>采购" / "<title>: procurement").
TITLES_EN = {
    "望江街道残疾人居家康复服务": "Home rehabilitation for people with disabilities, Wangjiang Street",
    "望江街道居民法律服务进社区": "Legal advice for residents, Wangjiang Street",
    "望江街道青少年禁毒宣传教育": "Drug education for young people, Wangjiang Street",
    "近江社区心理健康服务站运营": "Running the mental health station, Jinjiang community",
    "近江社区新市民融入服务": "Helping newcomers settle in, Jinjiang community",
}


def _rating(stage: str, scores: tuple[int, int, int, int, int], comment: str) -> RatingInput:
    clarity, payment, support, interference, fairness = scores
    return RatingInput(stage=stage, clarity=clarity, payment=payment, support=support, interference=interference,
                       fairness=fairness, comment=comment)


def _bid(amount: int, title: str) -> BidInput:
    return BidInput(amount_fen=amount, objectives=f"{title}：服务对象满意度不低于95%。",
                    activities=f"{title}：第一季度建档评估，其后每月开展服务并按月报告。",
                    team="项目主管1名、持证社工2名、志愿者若干",
                    budget_lines=[BudgetLine(item="人员费用", amount_fen=amount * 7 // 10),
                                  BudgetLine(item="活动与物资", amount_fen=amount - amount * 7 // 10)],
                    indicators=[TargetInput(name="服务人次", target="3000"),
                                TargetInput(name="服务对象满意度", target="95%")])


class _Story:
    def __init__(self, conn: asyncpg.Connection, person: Person, score_round: ScoreRound, today: datetime) -> None:
        self.conn, self.person, self.score_round, self.today = conn, person, score_round, today

    def day(self, when: date) -> float:
        """Days from the story's today to 10 o'clock (Beijing) on `when`."""
        return (datetime(when.year, when.month, when.day, 2, tzinfo=UTC) - self.today).total_seconds() / 86400

    async def on(self, when: date) -> None:
        await on_day(self.conn, self.today, self.day(when))

    async def contract(self, buyer: Identity, provider: Identity, title: str, service: tuple[date, date]) -> int:
        """A single-source call for `service`, published in January, its one bid scored and awarded,
        the contract signed by both in February."""
        conn, year = self.conn, service[0].year
        await self.on(date(year, 1, 12))
        place = await conn.fetchval("select jurisdiction_id from organisations where id = $1", buyer.org_id)
        item = await conn.fetchval(
            "select e.id from catalogue_entries e join catalogue_versions v on v.id = e.version_id "
            "where v.status = 'published' and e.code = '05.01.01' order by v.year desc limit 1")
        project = await needs.create_project(conn, buyer, ProjectInput(
            title_zh=title, title_en=TITLES_EN[title], description=f"{title}，为期十个月。", catalogue_entry_id=item,
            budget_fen=6_000_000,
            budget_line=f"望江街道{year}年民生实事资金", jurisdiction_id=place))
        call_id = await calls.create_call(conn, buyer, CallInput(
            project_id=project, procedure_type="single_source", title_zh=f"{title}采购",
            title_en=f"{TITLES_EN[title]}: procurement", budget_ceiling_fen=6_000_000,
            description=f"{title}。该机构长期在辖区开展同类服务，拟单一来源采购。", service_start=service[0],
            service_end=service[1], service_place="上城区望江街道",
            justification="该机构是辖区内唯一具备同类服务经验和场地的社会组织，已连续三年承接相关服务。",
            deadline_at=datetime(year, 1, 26, 2, tzinfo=UTC),
            criteria=[CriterionInput(name_zh="服务方案与能力", weight=100, min_score=60)]))
        await calls.publish_call(conn, buyer, call_id)
        await self.on(date(year, 1, 15))
        await bids.submit(conn, provider, call_id, _bid(5_800_000, title))
        await self.on(date(year, 1, 27))
        panel_id = await panels.form_panel(conn, buyer, call_id)
        await engine.add_member(conn, buyer, panel_id, AddMember(email="evaluator.expert1@demo.market", role="chair"))
        await engine.start_scoring(conn, buyer, panel_id)
        chair = await self.person("evaluator.expert1")
        (candidate,) = await engine.candidates_of(conn, panel_id)
        await engine.declare(conn, chair, panel_id, Declaration(candidate_id=candidate.candidate_id, conflicted=False))
        score = ScoreInput(candidate_id=candidate.candidate_id, position=1, score=84, note="方案可行，团队稳定")
        await engine.score(conn, chair, panel_id, score)
        await engine.record_consensus(conn, chair, panel_id, score)
        await awards.award(conn, buyer, call_id)
        await self.on(date(year, 2, 10))
        contract_id = await contracts.generate(conn, buyer, call_id)
        await contracts.sign(conn, buyer, contract_id)
        await contracts.sign(conn, provider, contract_id)
        return contract_id

    async def milestone(self, who: Identity, contract_id: int, position: int, late_days: int = 0) -> None:
        """The buyer accepts a milestone `late_days` after its due date (a payment pays the provider)."""
        due = await self.conn.fetchval("select due_date from contract_milestones where contract_id = $1 "
                                       "and position = $2", contract_id, position)
        await self.on(due + timedelta(days=late_days))
        await delivery.accept_milestone(self.conn, who, contract_id, position)

    async def report(self, buyer: Identity, provider: Identity, contract_id: int, position: int) -> None:
        """The provider files the report two days before it is due; the buyer accepts it on the day."""
        conn = self.conn
        due = await conn.fetchval("select due_date from contract_milestones where contract_id = $1 "
                                  "and position = $2", contract_id, position)
        await self.on(due - timedelta(days=2))
        await reports.save(conn, provider, contract_id, position, ReportInput(
            activities="完成服务对象建档与需求评估，每月开展入户服务和小组活动。",
            narrative="服务按计划推进，服务对象反馈良好；部分活动因场地调整顺延一周。",
            targets=[Achieved(position=1, achieved=1600), Achieved(position=2, achieved=96)],
            spending=[SpendingInput(position=1, spent_fen=1_500_000), SpendingInput(position=2, spent_fen=600_000)]))
        await reports.submit(conn, provider, contract_id, position)
        await self.on(due)
        await reports.accept(conn, buyer, contract_id, position)
        await delivery.accept_milestone(conn, buyer, contract_id, position)


async def load(conn: asyncpg.Connection, *, person: Person, score_round: ScoreRound, today: datetime) -> None:
    """Two years of contracts rated by their providers; the clock stands at `today` again afterwards."""
    if await conn.fetchval("select count(*) from buyer_ratings"):
        return
    story = _Story(conn, person, score_round, today)
    office, committee = await person("wangjiang.office"), await person("wangjiang.community")
    last = today.year - 1
    for local, title, late, midterm, final, comment in STREET:
        provider = await person(local)
        contract_id = await story.contract(office, provider, title, (date(last, 3, 1), date(last, 12, 31)))
        await story.milestone(office, contract_id, 1, late)  # the first tranche
        await story.report(office, provider, contract_id, 2)  # the mid-term report
        await score_round(conn, office, contract_id, "midterm", 0.8, today, story.day(date(last, 8, 5)))
        await story.on(date(last, 8, 10))
        await ratings.rate(conn, provider, contract_id, _rating("midterm", midterm, comment))
        await story.milestone(office, contract_id, 3)  # the tranche that waited for the mid-term
        await story.milestone(office, contract_id, 4)  # delivered
        await story.report(office, provider, contract_id, 5)  # the final report, in January
        await score_round(conn, office, contract_id, "final", 0.85, today, story.day(date(today.year, 1, 16)))
        await story.milestone(office, contract_id, 6, -7)  # the last tranche: the contract is completed
        await ratings.rate(conn, provider, contract_id, _rating("final", final, ""))
    for local, title, scores, comment in COMMUNITY:
        provider = await person(local)
        contract_id = await story.contract(committee, provider, title, (date(today.year, 3, 1),
                                                                        date(today.year, 12, 31)))
        await story.milestone(committee, contract_id, 1)
        await story.report(committee, provider, contract_id, 2)
        await score_round(conn, committee, contract_id, "midterm", 0.75, today,
                          story.day(date(today.year, 8, 5)))
        await story.on(date(today.year, 8, 12))
        await ratings.rate(conn, provider, contract_id, _rating("midterm", scores, comment))
        await story.milestone(committee, contract_id, 3, 2)
    await on_day(conn, today, 0)
