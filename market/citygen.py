"""A whole generated city in the database (`market demo --city`): 16 districts of unequal size, their
streets and communities, organisations, residents and their needs, projects, calls with bids,
panels, awards, contracts and milestones, funders' resources, funds, fairs, pledges, payments and
the ledger, and what followed signing — providers' reports, mid-term and final evaluations on the
bureaus' indicator systems, the payments that waited for them, rectification, contracts completed or
ended, providers' ratings of their buyers — and residents' answers to their communities' standing
surveys and to the surveys of the projects done for them: the load the city-wide pages, the scorecards and the city-wide rolling docking run are
measured on.

Rows are made in Python from a seeded generator (the same seed and day give the same city) and
loaded with COPY, table by table in the order the foreign keys ask for, with every constraint and
trigger in force: the jurisdiction level check, ledger balances kept by their trigger and each
transaction's balance checked at commit, receipts numbered by the payment trigger. The audit trail
is chained here, in time order, continuing from the last entry already there, so `market audit
verify` holds. Everything happens in one database transaction: a city loads whole or not at all.

Sizes scale together (`scale`); the defaults are issue 16's and 17's figures. 30,000 projects of
which 20,000 wait for a provider (no live call): the other 10,000 have the live call; the remaining
15,000 of the 25,000 calls ended without a provider (failed for too few bids, or cancelled), mostly
on projects that are waiting again.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, UTC
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from market.audit.services import AUDIT_LOCK, GENESIS, entry_hash
from market.buyers.models import RATING_STAGES
from market.catalogue.files import parse_entries
from market.complaints import days as complaint_days
from market.complaints.models import CLOSE_AFTER_DAYS
from market.core.settings import Settings
from market.delivery.ending import RECTIFY_DAYS_AFTER_END
from market.delivery.findings import GENERAL_EVIDENCE, LOW_SHARE, MAX_SCORE
from market.delivery.models import STAGES, StageOutcome, StandingRule
from market.delivery.scorecard import add_months
from market.delivery.services import milestone_amounts
from market.evaluation.indicators import files as indicator_files
from market.evaluation.indicators import scoring as indicator_scoring
from market.evaluation.indicators import tree as indicator_tree
from market.evaluation.models import Candidate as PanelCandidate
from market.evaluation.models import Criterion
from market.evaluation.scoring import rank
from market.funding.pledges.services import CONFIRM_DAYS as PLEDGE_CONFIRM_DAYS
from market.funding.pledges.services import REMIND_DAYS as PLEDGE_REMIND_DAYS
from market.organisations import credit_code
from market.procurement.bids.services import full_years
from market.surveys import services as surveys
from market.surveys import stats as survey_stats
from market.surveys.models import MIN_ANSWERS, SATISFIED
from market.surveys.services import CODE_ALPHABET, COMMUNITY_QUESTIONS, EVIDENCE_OF_IMPROVEMENT

DOMAIN = "city.market"
PASSWORD = "market-city-2026"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Shanghai's sixteen districts: division code, names, and a weight (residents, millions) that
# spreads streets, communities and organisations unequally.
DISTRICTS = [
    ("310101", "黄浦区", "Huangpu", 0.66), ("310104", "徐汇区", "Xuhui", 1.11), ("310105", "长宁区", "Changning", 0.69),
    ("310106", "静安区", "Jing'an", 0.98), ("310107", "普陀区", "Putuo", 1.24), ("310109", "虹口区", "Hongkou", 0.76),
    ("310110", "杨浦区", "Yangpu", 1.24), ("310112", "闵行区", "Minhang", 2.65), ("310113", "宝山区", "Baoshan", 2.24),
    ("310114", "嘉定区", "Jiading", 1.83), ("310115", "浦东新区", "Pudong", 5.68), ("310116", "金山区", "Jinshan", 0.82),
    ("310117", "松江区", "Songjiang", 1.91), ("310118", "青浦区", "Qingpu", 1.27), ("310120", "奉贤区", "Fengxian", 1.14),
    ("310151", "崇明区", "Chongming", 0.64),
]
SYLLABLES = [
    ("东", "Dong"), ("西", "Xi"), ("南", "Nan"), ("北", "Bei"), ("华", "Hua"), ("新", "Xin"), ("安", "An"),
    ("康", "Kang"), ("和", "He"), ("平", "Ping"), ("兴", "Xing"), ("龙", "Long"), ("凤", "Feng"), ("金", "Jin"),
    ("银", "Yin"), ("明", "Ming"), ("光", "Guang"), ("福", "Fu"), ("宁", "Ning"), ("乐", "Le"), ("春", "Chun"),
    ("秋", "Qiu"), ("梅", "Mei"), ("兰", "Lan"), ("竹", "Zhu"), ("松", "Song"), ("桥", "Qiao"), ("江", "Jiang"),
    ("湖", "Hu"), ("山", "Shan"), ("林", "Lin"), ("园", "Yuan"), ("泰", "Tai"), ("嘉", "Jia"), ("瑞", "Rui"),
    ("祥", "Xiang"), ("永", "Yong"), ("丰", "Feng"), ("汇", "Hui"), ("景", "Jing"), ("阳", "Yang"), ("云", "Yun"),
    ("虹", "Hong"), ("月", "Yue"), ("星", "Xing"), ("海", "Hai"), ("静", "Jing"), ("曹", "Cao"), ("徐", "Xu"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉鹏宇浩凯琳晨欣悦"
# What social organisations do: (words in the name, English, the catalogue category they bid in).
FIELDS = [
    ("养老服务中心", "Elderly Care Centre", "01"), ("助餐服务社", "Meal Service", "01"),
    ("助残服务中心", "Disability Support Centre", "02"), ("康复服务社", "Rehabilitation Service", "02"),
    ("青少年事务服务社", "Youth Affairs Service", "03"), ("儿童关爱中心", "Children's Care Centre", "03"),
    ("社会救助服务社", "Social Assistance Service", "04"), ("社区发展促进会", "Community Development Association", "05"),
    ("邻里议事促进会", "Neighbourhood Council Association", "05"), ("文化艺术团", "Arts Troupe", "06"),
    ("阅读推广中心", "Reading Promotion Centre", "06"), ("志愿者协会", "Volunteers Association", "07"),
    ("社会工作服务社", "Social Work Service", "08"), ("心理健康促进会", "Mental Health Association", "08"),
]
SUBTYPE_WORD = {"social_group": ("协会", "51"), "social_service_agency": ("服务社", "52"), "foundation": ("基金会", "53")}
COMPANY = [("科技有限公司", "Technology Co."), ("置业集团", "Property Group"), ("银行支行", "Bank Branch"),
           ("食品有限公司", "Foods Co."), ("医药连锁有限公司", "Pharmacy Chain"), ("物业服务有限公司", "Property Services"),
           ("文化传媒有限公司", "Culture & Media Co."), ("保险代理有限公司", "Insurance Agency")]
# Residents' needs by category: (title, beneficiaries).
NEEDS = {
    "01": [("独居老人午饭没着落", "独居老人"), ("高龄老人上门助浴", "高龄失能老人"), ("老人家里需要适老化改造", "居家老年人"),
           ("社区老年食堂想延长供餐", "社区老年人")],
    "02": [("残疾人日间照料缺场地", "残疾人及家属"), ("孤独症儿童家庭需要喘息服务", "孤独症儿童家庭"),
           ("盲人出行缺少陪同", "视力残疾人")],
    "03": [("双职工家庭孩子放学没人管", "小学生"), ("困境儿童需要学业辅导", "困境儿童"), ("青少年暑期缺少活动", "青少年")],
    "04": [("低保家庭就业帮扶", "低保家庭"), ("困难家庭冬季送温暖", "困难家庭"), ("流浪人员临时救助", "流浪乞讨人员")],
    "05": [("小区停车矛盾需要议事协商", "小区居民"), ("老旧小区加装电梯协调", "老旧小区居民"), ("楼道堆物需要整治", "楼栋居民")],
    "06": [("社区缺少文化活动", "社区居民"), ("想办社区读书会", "社区居民"), ("广场舞噪音需要协调", "社区居民")],
    "07": [("志愿者招募与培训", "社区志愿者"), ("社区应急互助队伍", "社区居民")],
    "08": [("失独家庭需要陪伴", "失独家庭"), ("社区矫正对象帮教", "社区矫正对象"), ("家庭矛盾调解", "困难家庭")],
}
GROUPS = ["older_people", "children", "young_people", "disabled", "low_income", "women", "migrants"]
URGENCY = (["low", "normal", "high", "urgent"], [15, 55, 22, 8])
CRITERIA = [("服务方案", "Service plan", 40, 60, False), ("团队能力", "Team capacity", 25, None, False),
            ("以往业绩", "Track record", 15, None, False), ("报价", "Price", 20, None, True)]
YEAR_DAYS = 365
HORIZON_DAYS = 2 * YEAR_DAYS  # the story covers the past two years
OPEN_LATELY = 0.08  # the share of live calls published within the last five weeks
EXTENDED_SHARE = 0.12  # of open competitions, those whose deadline the buyer moved a week later while open (延期公告)
# The rules a contract's delivery follows here are the product's defaults (grace days for reports, how
# early a milestone is accepted, rectification deadlines and escalation, the standing bar).
RULES = Settings()
TARGET_NAME = "服务人次"  # the bid's one target, reported against
SYSTEM_TITLES = {"midterm": ("政府购买服务项目中期评估指标体系", "mid-term evaluation indicators for purchased services"),
                 "final": ("政府购买服务项目末期评估指标体系", "final evaluation indicators for purchased services")}
# Of the reports due: never filed (the report clock fails their stage, and the provider files nothing
# more), filed after the due date (within the grace period), returned once for correction.
REPORT_NEVER, REPORT_LATE, REPORT_RETURNED = 0.06, 0.12, 0.12
RETURN_COMMENT = "请补充服务对象签到表和活动照片，并核对预算执行数据。"
# How well providers deliver (0-1: the share of an indicator's maximum they tend to earn), mean and spread;
# a tenth are weak.
DELIVERY, WEAK = (0.76, 0.09), (0.5, 0.08)
END_SHARE = 0.25  # a first failed evaluation ends the contract; otherwise it is rectified and evaluated again
# What an owner says it did, by where the finding came from.
FIX_TEXTS = {
    "evaluation": "已按评估意见完成整改：补齐服务台账和签到表，完善相关制度，并附整改前后对比照片。",
    "survey": "已逐一回访提出意见的居民，调整了服务时间和服务流程，附回访记录和改进后的服务记录。",
    "complaint": "已与投诉人沟通并说明处理结果，对相关人员进行了培训，附处理记录和整改前后对比照片。",
}
REJECTION = "佐证材料不完整，请补充整改后的服务记录和照片。"
RATED_SHARE = 0.82  # of the stages due a rating of the buyer, those the provider rated
RATING_COMMENTS = {True: ["需求清晰，沟通顺畅，拨款及时。", "街道支持力度大，协调场地很及时。", "评估公正，反馈具体。"],
                   False: ["拨款较慢，影响项目进度。", "需求多次变更，干预较多。", "评估标准事先说明不够清楚。"]}
SURVEYED_SHARE = 0.45  # of the communities, those whose standing survey has been opened
SURVEYED_PROJECTS = 0.6  # of the contracts in delivery, those whose buyer opens the residents' survey
AGENCY_SHARE = 0.2  # of the evaluators, the agencies (each with a director and experts); the rest independent experts
HANDED_SHARE = 0.35  # of the delivery evaluations, those the buyer hands to an agency, which seats its experts
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
# Complaints: the share of each category (by code, as migration 0038 makes them), the texts residents
# write, and how the organisations answering them reply.
COMPLAINT_SHARES = {"service_quality": 28, "staff_conduct": 9, "safety": 4, "project_management": 9,
                    "community_affairs": 32, "procurement_conduct": 3, "other": 15}
COMPLAINT_BODIES = {
    "service_quality": ["助餐点送来的饭菜经常是凉的，老人吃了不舒服。", "上门服务的时间一再推迟，老人白等了一上午。",
                        "活动内容和宣传的不一样，孩子们参加了几次就不想去了。"],
    "staff_conduct": ["服务人员态度生硬，对老人说话不耐烦。", "志愿者在服务时玩手机，没有按要求陪护。"],
    "safety": ["活动室的电线裸露在外，孩子们在旁边玩很危险。", "助浴设备防滑垫破损，老人差点滑倒。"],
    "project_management": ["项目公示的服务次数和实际开展的对不上，希望核实经费使用。", "服务点长期关门，项目经费去向不明。"],
    "community_affairs": ["小区垃圾分类点无人管理，夏天气味很大。", "楼道堆放杂物，反映多次没有人处理。",
                          "社区活动中心开放时间太短，上班族没法参加。"],
    "procurement_conduct": ["评审专家和中标机构负责人是亲属，评审不公正。", "招标公告发布时间太短，很多机构来不及投标。"],
    "other": ["希望社区增设老年人休息座椅。", "小区路灯坏了很久没人修。"],
}
COMPLAINT_ANSWERS = {True: "经核查情况属实，已责成整改，并将整改结果向投诉人反馈。",
                     False: "经实地核查，未发现所反映的问题，已向投诉人说明情况。"}
COMPLAINT_REOPEN = "问题没有解决，情况依旧。"
REOPEN_SHARES = {1: 0.6, 2: 0.6, 3: 0.15}  # by the complainant's rating of the answer
COMPLAINT_EVIDENCE = "整改措施说明及整改后的照片或记录 / What was put right, with photos or records of it"

# How residents see each of the community questions, against their view of the whole.
QUESTION_SHIFTS = (-0.1, 0.0, -0.25, 0.1, 0.0)
SURVEY_COMMENTS = {True: ["社区工作人员很热情，活动丰富。", "为老服务做得好，希望继续。"],
                   False: ["小区环境卫生有待改善。", "活动太少，希望多组织一些。", "反映的问题迟迟没有回应。"]}


def _of(community: str, text: str) -> str:
    """A title about a community: 徐林社区 and 社区居家养老 make 徐林社区居家养老, not 徐林社区社区居家养老."""
    return community + (text[2:] if community.endswith("社区") and text.startswith("社区") else text)


@dataclass(frozen=True)
class Sizes:
    streets: int
    communities: int
    providers: int
    funders: int
    evaluators: int
    residents: int
    needs: int
    projects: int
    waiting: int
    calls: int
    bids: int
    pledges: int
    resources: int
    funds: int
    fairs: int
    complaints: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        def n(full: int, least: int) -> int:
            return max(least, round(full * scale))
        projects = n(30_000, 30)
        waiting = n(20_000, 20)
        return cls(streets=n(215, 16), communities=n(6_000, 32), providers=n(16_000, 60), funders=n(3_000, 20),
                   evaluators=n(500, 6), residents=n(40_000, 60), needs=n(100_000, 100), projects=projects,
                   waiting=min(waiting, projects - 1), calls=n(25_000, 25), bids=n(50_000, 50), pledges=n(20_000, 20),
                   resources=n(6_000, 10), funds=n(50, 2), fairs=n(40, 2), complaints=n(40_000, 40))


class _Ids:
    """Ids handed out here, after whatever the database holds already; sequences are moved on after."""

    def __init__(self, start: dict[str, int]) -> None:
        self.next = {t: v + 1 for t, v in start.items()}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


SERIAL_TABLES = ["jurisdictions", "organisations", "users", "catalogue_versions", "catalogue_entries",
                 "indicator_versions", "needs", "projects", "calls", "bids", "panels", "awards", "contracts",
                 "delivery_reports", "rectification_items", "complaints", "resources", "funds", "fairs", "pledges", "payments",
                 "ledger_accounts", "ledger_transactions", "ledger_entries", "disbursements", "surveys",
                 "survey_answers", "audit_events"]


def _utc(d: datetime) -> datetime:
    return d.astimezone(UTC)


class City:
    """The rows of one city, made before anything is written."""

    def __init__(self, sizes: Sizes, seed: int, now: datetime, ids: _Ids, password_hash: str) -> None:
        self.s = sizes
        self.r = random.Random(seed)
        self.now = now.replace(microsecond=0)
        self.today = self.now.astimezone(SHANGHAI).date()
        self.ids = ids
        self.pw = password_hash
        self.rows: dict[str, list[Any]] = defaultdict(list)  # each row a tuple, or a list while it may change
        self.events: list[tuple[datetime, int | None, int | None, str, str, str, dict[str, Any]]] = []
        self.complaint_categories: list[Any] = []  # the database's (`generate` reads them)
        self.serial = 0

    # ---- helpers ---------------------------------------------------------------------------------

    def at(self, days_ago: float) -> datetime:
        """A moment `days_ago` before now, in office hours (Shanghai) and whole seconds."""
        moment = self.now - timedelta(days=days_ago)
        local = moment.astimezone(SHANGHAI)
        local = local.replace(hour=9 + self.r.randrange(9), minute=self.r.randrange(60), second=self.r.randrange(60))
        out = _utc(local)
        return out if out <= self.now else self.now - timedelta(minutes=self.r.randrange(1, 600))

    def later(self, start: datetime, lo: float, hi: float) -> datetime:
        """A moment between lo and hi days after start, never after now."""
        moment = start + timedelta(days=self.r.uniform(lo, hi))
        return min(moment.replace(microsecond=0), self.now)

    def recent_days(self) -> float:
        """How long ago something happened: more recently more often (the platform grows)."""
        return HORIZON_DAYS * (1 - math.sqrt(self.r.random())) * 0.97 + 1

    def name(self) -> str:
        return self.r.choice(SURNAMES) + "".join(self.r.choices(GIVEN, k=self.r.choice((1, 2))))

    def place_word(self) -> tuple[str, str]:
        a, b = self.r.sample(SYLLABLES, 2)
        return a[0] + b[0], a[1] + b[1].lower()

    def event(self, at: datetime, actor: int | None, org: int | None, verb: str, object_type: str, object_id: Any,
              diff: dict[str, Any]) -> None:
        self.events.append((at, actor, org, verb, object_type, str(object_id), diff))

    def code(self, prefix: str, division: str) -> str:
        self.serial += 1
        return credit_code.make(prefix, division, f"MC{self.serial:06d}")

    # ---- the tree --------------------------------------------------------------------------------

    def places(self) -> None:
        weights = [d[3] for d in DISTRICTS]
        total = sum(weights)
        street_counts = [max(1, round(self.s.streets * w / total)) for w in weights]
        self.districts: list[dict[str, Any]] = []
        self.streets: list[dict[str, Any]] = []
        self.communities: list[dict[str, Any]] = []
        for (division, zh, en, weight), n_streets in zip(DISTRICTS, street_counts):
            did = self.ids.take("jurisdictions")
            district: dict[str, Any] = {"id": did, "division": division, "zh": zh, "en": en, "weight": weight, "streets": []}
            self.districts.append(district)
            self.rows["jurisdictions"].append((did, None, "district", division, zh, f"{en} District"))
            for s in range(1, n_streets + 1):
                sid = self.ids.take("jurisdictions")
                word, word_en = self.place_word()
                town = division in ("310116", "310118", "310120", "310151") and s % 2 == 0
                street = {"id": sid, "code": f"{division}-s{s:03d}", "district": district, "zh": word + ("镇" if town else "街道"),
                          "en": f"{word_en} {'Town' if town else 'Street'}", "communities": []}
                district["streets"].append(street)
                self.streets.append(street)
                self.rows["jurisdictions"].append((sid, did, "street", street["code"], street["zh"], street["en"]))
        # Communities: each street gets a share by its district's weight, then each community a
        # Zipf-like size (rank^-0.7 within its street, capped), so no community dominates.
        street_weights = [st["district"]["weight"] / len(st["district"]["streets"]) for st in self.streets]
        sw_total = sum(street_weights)
        for st, w in zip(self.streets, street_weights):
            count = max(2, round(self.s.communities * w / sw_total))
            for c in range(1, count + 1):
                cid = self.ids.take("jurisdictions")
                word, word_en = self.place_word()
                village = st["zh"].endswith("镇") and c % 3 == 0
                size = min(3.0, c ** -0.7) * w * self.r.uniform(0.6, 1.4)
                community = {"id": cid, "street": st, "district": st["district"], "size": size,
                             "zh": word + ("村" if village else "社区"),
                             "en": f"{word_en} {'Village' if village else 'Community'}"}
                st["communities"].append(community)
                self.communities.append(community)
                self.rows["jurisdictions"].append((cid, st["id"], "community", f"{st['code']}-c{c:03d}",
                                                   community["zh"], community["en"]))
        self.community_weights = list(self.cum([c["size"] for c in self.communities]))
        self.district_weights = list(self.cum([d["weight"] for d in self.districts]))
        for _i, row in enumerate(self.rows["jurisdictions"]):
            self.event(self.at(HORIZON_DAYS + 30), None, None, "jurisdiction.create", "jurisdiction", row[0],
                       {"code": [None, row[3]]})

    @staticmethod
    def cum(weights: list[float]) -> list[float]:
        out, total = [], 0.0
        for w in weights:
            total += w
            out.append(total)
        return out

    def community(self) -> dict[str, Any]:
        return self.r.choices(self.communities, cum_weights=self.community_weights)[0]

    def district(self) -> dict[str, Any]:
        return self.r.choices(self.districts, cum_weights=self.district_weights)[0]

    # ---- organisations and people ----------------------------------------------------------------

    def user(self, email_local: str, name: str, community: int | None = None, created: datetime | None = None) -> int:
        uid = self.ids.take("users")
        created = created or self.at(HORIZON_DAYS + 20)
        self.rows["users"].append((uid, f"{email_local}@{DOMAIN}", name, self.pw, community, created, created))
        self.event(created, uid, None, "user.sign_up", "user", uid, {"email": [None, f"{email_local}@{DOMAIN}"]})
        return uid

    def member(self, uid: int, org: int, role: str, at: datetime) -> None:
        self.rows["memberships"].append((uid, org, role, at))
        self.event(at, None, org, "membership.add", "membership", f"{org}:{uid}", {"role": [None, role]})

    def organisation(self, *, kind: str, subtype: str, zh: str, en: str, code: str | None, place: int,
                     rating: int | None = None, registered: date | None = None, status: str = "verified",
                     role: str = "admin", created: datetime | None = None) -> dict[str, Any]:
        oid = self.ids.take("organisations")
        created = created or self.at(HORIZON_DAYS + 10 + self.r.random() * 30)
        verified = self.later(created, 0.5, 10) if status == "verified" else None
        self.rows["organisations"].append((
            oid, kind, subtype, zh, en, code, place, rating, registered, "", self.name(),
            f"021-{self.r.randrange(10_000_000, 99_999_999)}", "", "", status, created, verified))
        self.event(created, None, oid, "organisation.register", "organisation", oid,
                   {"kind": [None, kind], "name_zh": [None, zh], "status": [None, "pending"]})
        if verified:
            self.event(verified, self.platform_admin, oid, "organisation.verify", "organisation", oid,
                       {"status": ["pending", "verified"]})
        uid = self.user(f"org{oid}", self.name(), created=created)
        self.member(uid, oid, role, created)
        return {"id": oid, "kind": kind, "subtype": subtype, "zh": zh, "en": en, "place": place, "admin": uid,
                "rating": rating, "registered": registered, "status": status}

    def organisations(self) -> None:
        first = self.districts[0]
        self.platform_admin = None
        self.platform = self.organisation(kind="platform", subtype="platform", zh="上海市公益服务市场平台",
                                          en="Shanghai Public Service Market", code=self.code("11", "310000"),
                                          place=first["id"], created=self.at(HORIZON_DAYS + 60))
        self.platform_admin = self.platform["admin"]
        self.bureaus = {}
        self.street_offices = {}
        for d in self.districts:
            self.bureaus[d["id"]] = self.organisation(
                kind="buyer", subtype="bureau", zh=f"{d['zh']}民政局", en=f"{d['en']} Civil Affairs Bureau",
                code=self.code("11", d["division"]), place=d["id"])
            for st in d["streets"]:
                self.street_offices[st["id"]] = self.organisation(
                    kind="buyer", subtype="street_office", zh=f"{d['zh']}{st['zh']}办事处", en=f"{st['en']} Office",
                    code=self.code("11", d["division"]), place=st["id"])
        self.providers: list[dict[str, Any]] = []
        for _ in range(self.s.providers):
            c = self.community()
            d = c["district"]
            subtype = self.r.choices(["social_service_agency", "social_group", "foundation"], [60, 35, 5])[0]
            field_zh, field_en, category = self.r.choice(FIELDS)
            word, word_en = self.place_word()
            if subtype == "foundation":
                field_zh, field_en = "公益基金会", "Charity Foundation"
            registered = self.today - timedelta(days=self.r.randrange(200, 20 * YEAR_DAYS))
            rating = self.r.choices([None, 1, 2, 3, 4, 5], [35, 4, 12, 27, 16, 6])[0]
            place = c["id"] if self.r.random() < 0.7 else c["street"]["id"]
            org = self.organisation(
                kind="provider", subtype=subtype, zh=f"{d['zh']}{word}{field_zh}",
                en=f"{d['en']} {word_en} {field_en}" if self.r.random() < 0.3 else "",
                code=self.code(SUBTYPE_WORD[subtype][1], d["division"]), place=place, rating=rating,
                registered=registered, status="verified" if self.r.random() < 0.95 else "pending")
            org.update(district=d, community=c, category=category)
            self.providers.append(org)
        self.funders: list[dict[str, Any]] = []
        for _ in range(self.s.funders):
            d = self.district()
            subtype = self.r.choices(["enterprise", "foundation", "individual"], [60, 10, 30])[0]
            word, word_en = self.place_word()
            if subtype == "enterprise":
                kind_zh, kind_en = self.r.choice(COMPANY)
                zh, en, code = f"上海{word}{kind_zh}", f"Shanghai {word_en} {kind_en}", self.code("91", d["division"])
            elif subtype == "foundation":
                zh, en, code = f"上海{word}公益基金会", f"Shanghai {word_en} Charity Foundation", self.code("53", d["division"])
            else:
                zh, en, code = f"{self.name()}（爱心人士）", "", None
            org = self.organisation(kind="funder", subtype=subtype, zh=zh, en=en if self.r.random() < 0.4 else "",
                                    code=code, place=d["id"])
            org["district"] = d
            self.funders.append(org)
        # An agency's account is its director's (an administrator, who seats its experts); its experts
        # have accounts of their own in the evaluator role. An independent expert is their own account.
        self.evaluators: list[dict[str, Any]] = []
        agencies = max(1, round(self.s.evaluators * AGENCY_SHARE))
        for n in range(self.s.evaluators):
            d = self.district()
            agency = n < agencies
            word, word_en = self.place_word()
            org = self.organisation(
                kind="evaluator", subtype="agency" if agency else "expert",
                zh=f"上海{word}社会组织评估中心" if agency else f"{self.name()}（评估专家）",
                en=f"Shanghai {word_en} Evaluation Centre" if agency else "",
                code=self.code("52", d["division"]) if agency else None, place=d["id"],
                role="admin" if agency else "evaluator")
            org["experts"] = [org["admin"]]
            if agency:
                joined = self.later(self.at(HORIZON_DAYS), 0, 20)
                org["experts"] = [self.user(f"org{org['id']}.expert{k}", self.name(), created=joined)
                                  for k in range(1, self.r.randint(4, 9))]
                for uid in org["experts"]:
                    self.member(uid, org["id"], "evaluator", joined)
            self.evaluators.append(org)
        # People who sit on two boards: a buyer's staff on a provider's, a funder's on a provider's —
        # the conflicts of interest and related parties matching must exclude.
        verified = [p for p in self.providers if p["status"] == "verified"]
        buyers = list(self.bureaus.values()) + list(self.street_offices.values())
        for p in self.r.sample(verified, max(1, len(verified) // 100)):
            self.member(self.r.choice(buyers)["admin"], p["id"], "staff", self.later(self.at(HORIZON_DAYS), 0, 30))
        for p in self.r.sample(verified, max(1, len(verified) // 150)):
            self.member(self.r.choice(self.funders)["admin"], p["id"], "staff", self.later(self.at(HORIZON_DAYS), 0, 30))
        self.residents: dict[int, list[int]] = defaultdict(list)
        self.all_residents: list[int] = []
        for i in range(self.s.residents):
            c = self.community()
            uid = self.user(f"resident{i + 1}", self.name(), community=c["id"], created=self.at(self.recent_days() + 5))
            self.residents[c["id"]].append(uid)
            self.all_residents.append(uid)

    # ---- catalogue -------------------------------------------------------------------------------

    def catalogues(self) -> None:
        entries = parse_entries((Path(__file__).parent / "catalogue" / "demo_catalogue.csv").read_bytes())
        self.items: dict[int, list[dict[str, Any]]] = {}
        self.published: list[tuple[int, datetime]] = []
        year = self.today.year
        for d in self.districts:
            bureau = self.bureaus[d["id"]]
            vid = self.ids.take("catalogue_versions")
            created = self.at(HORIZON_DAYS + 5)
            published = self.later(created, 1, 3)
            # Entries go into a draft (a published version refuses them); it is published once they are in.
            self.rows["catalogue_versions"].append((
                vid, bureau["id"], year, 1, f"{d['zh']}政府购买社会组织服务指导性目录（{year}年）",
                f"{d['en']} District guiding catalogue for purchasing services from social organisations ({year})",
                "draft", created, None))
            self.published.append((vid, published))
            self.event(published, bureau["admin"], bureau["id"], "catalogue.publish", "catalogue_version", vid,
                       {"status": ["draft", "published"]})
            items: list[dict[str, Any]] = []
            for position, e in enumerate(entries, start=1):
                eid = self.ids.take("catalogue_entries")
                self.rows["catalogue_entries"].append((
                    eid, vid, e.code, e.level, e.parent_code, e.name_zh, e.name_en, e.description_zh, e.description_en,
                    e.unit_zh, e.unit_en, e.price_min_fen, e.price_max_fen, e.provider_types, e.min_rating,
                    e.min_years, e.scope, [{"name_zh": i.name_zh, "name_en": i.name_en, "unit": i.unit} for i in e.indicators], position))
                if e.level == "item":
                    items.append({"id": eid, "code": e.code, "category": e.code[:2], "zh": e.name_zh, "en": e.name_en,
                                  "types": e.provider_types, "min_rating": e.min_rating, "min_years": e.min_years,
                                  "cross": e.scope == "any"})
            self.items[d["id"]] = items
        self.by_category: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
        for did, items in self.items.items():
            for it in items:
                self.by_category[(did, it["category"])].append(it)

    def indicator_systems(self) -> None:
        """Each bureau keeps its district's mid-term and final indicator systems, published beside its
        catalogue: the five parts third-party evaluations weigh (the platform's template beside the code,
        market/evaluation/indicators/demo_*.csv). The nodes go into a draft (a published version refuses
        them), published once they are in."""
        folder = Path(__file__).parent / "evaluation" / "indicators"
        templates = {stage: indicator_files.parse((folder / f"demo_{stage}.csv").read_bytes()) for stage in STAGES}
        trees = {stage: indicator_tree.build(nodes) for stage, (nodes, _) in templates.items()}
        # A project survey asks the leaves of its system's satisfaction dimension (market/surveys).
        asked = {}
        for stage, (nodes, _) in templates.items():
            by_path = {n.path: n for n in nodes}
            asked[stage] = sum(indicator_tree.asked_of_residents(leaf.path, by_path)
                               for leaf in indicator_tree.leaves(trees[stage]))
        self.systems: dict[tuple[int, str], dict[str, Any]] = {}
        self.systems_published: list[tuple[int, datetime]] = []
        for d in self.districts:
            bureau = self.bureaus[d["id"]]
            for stage, (nodes, bands) in templates.items():
                vid = self.ids.take("indicator_versions")
                created = self.at(HORIZON_DAYS + 4)
                published = self.later(created, 0.5, 2)
                title_zh, title_en = SYSTEM_TITLES[stage]
                self.rows["indicator_versions"].append((
                    vid, bureau["id"], None, stage, 1, f"{d['zh']}{title_zh}", f"{d['en']} District {title_en}",
                    "draft", bands.grade_a_min, bands.grade_b_min, bands.pass_grade, bureau["admin"], created, None))
                for n in nodes:
                    self.rows["indicator_nodes"].append((
                        vid, n.path, n.name_zh, n.name_en, n.weight, n.method, msgspec.to_builtins(n.anchors), n.target,
                        n.target_cap, n.evidence_zh, n.evidence_en, n.na_allowed, n.satisfaction, n.question_zh,
                        n.question_en))
                self.systems_published.append((vid, published))
                self.event(created, bureau["admin"], bureau["id"], "indicators.create", "indicator_version", vid,
                           {"nodes": [None, len(nodes)], "stage": [None, stage], "title_zh": [None, title_zh]})
                self.event(published, bureau["admin"], bureau["id"], "indicators.publish", "indicator_version", vid,
                           {"status": ["draft", "published"]})
                self.systems[(d["id"], stage)] = {"id": vid, "nodes": trees[stage], "bands": bands,
                                                  "leaves": indicator_tree.leaves(trees[stage]),
                                                  "asked": asked[stage]}

    # ---- needs and projects ----------------------------------------------------------------------

    def needs_and_projects(self) -> None:
        s = self.s
        # Projects first: each takes one or two needs of a community; the other needs stay open,
        # are declined or withdrawn.
        self.projects: list[dict[str, Any]] = []
        project_need_count = 0
        for _i in range(s.projects):
            c = self.community()
            d = c["district"]
            category = self.r.choice(list(NEEDS))
            item = self.r.choice(self.by_category[(d["id"], category)])
            created = self.at(self.recent_days() + 3)
            needs = []
            for _ in range(2 if self.r.random() < 0.2 else 1):
                raised = self.later(created - timedelta(days=self.r.uniform(10, 60)), 0, 0)
                needs.append(self.need(c, category, item, raised, "approved", created))
                project_need_count += 1
            by_street = self.r.random() < 0.4
            buyer = self.street_offices[c["street"]["id"]] if by_street else self.bureaus[d["id"]]
            budget = self.r.choice((2, 3, 5, 8, 10, 12, 15, 20, 30, 50)) * 10_000_00 + self.r.randrange(0, 50) * 1_000_00
            pid = self.ids.take("projects")
            # An item named as a project (志愿服务项目) is not made a 项目项目.
            title = _of(c["zh"], item["zh"]) + ("" if item["zh"].endswith("项目") else "项目")
            project = {"id": pid, "buyer": buyer, "community": c, "district": d, "item": item, "created": created,
                       "budget": budget, "title": title, "needs": needs,
                       "target": budget // self.r.choice((2, 3, 4)) if self.r.random() < 0.3 else None}
            self.rows["projects"].append((
                pid, buyer["id"], c["id"], item["id"], title[:100],
                f"{c['en']} {item['en']}"[:200] if self.r.random() < 0.3 else "",
                f"根据{c['zh']}居民需求立项，提供{item['zh']}，服务期一年，按季度报告进展。", budget,
                f"{created.astimezone(SHANGHAI).year}年度社区服务专项资金", "approved", buyer["admin"], created,
                project["target"]))
            for n in needs:
                self.rows["project_needs"].append((pid, n))
            self.event(created, buyer["admin"], buyer["id"], "project.create", "project", pid,
                       {"budget_fen": [None, budget], "needs": [None, needs]})
            self.projects.append(project)
        for _i in range(max(0, s.needs - project_need_count)):
            c = self.community()
            category = self.r.choice(list(NEEDS))
            item = self.r.choice(self.by_category[(c["district"]["id"], category)])
            status = self.r.choices(["open", "declined", "withdrawn"], [45, 35, 20])[0]
            raised = self.at(self.recent_days())
            self.need(c, category, item, raised, status, self.later(raised, 1, 40) if status != "open" else raised)

    def need(self, c: dict[str, Any], category: str, item: dict[str, Any], raised: datetime, status: str,
             updated: datetime) -> int:
        nid = self.ids.take("needs")
        people = self.residents.get(c["id"]) or self.all_residents
        by = self.r.choice(people)
        title, who = self.r.choice(NEEDS[category])
        supporters = min(len(people) - 1, int(self.r.expovariate(1 / 3)))
        backers = [u for u in self.r.sample(people, min(len(people), supporters + 1)) if u != by][:supporters]
        for u in backers:
            at = self.later(raised, 0, 20)
            self.rows["need_supports"].append((nid, u, at))
        reason = {"declined": "已有同类项目覆盖，建议参加现有服务", "withdrawn": ""}.get(status, "")
        self.rows["needs"].append((
            nid, by, None, c["id"], _of(c["zh"], title)[:100],
            f"{c['zh']}居民反映：{title}，希望社区协调专业力量提供{item['zh']}。", who,
            self.r.randrange(5, 300), self.r.choices(*URGENCY)[0], item["id"], status, reason, len(backers),
            raised, max(updated, raised)))
        self.event(raised, by, None, "need.raise", "need", nid, {"status": [None, "open"]})
        return nid

    # ---- calls, bids, panels, awards, contracts --------------------------------------------------

    def eligible(self, project: dict[str, Any]) -> list[dict[str, Any]]:
        item = project["item"]
        # The same rules recur in every district's catalogue: one list per rules (and district, where
        # the rules keep to it).
        key = (None if item["cross"] else project["district"]["id"], tuple(item["types"]), item["min_rating"],
               item["min_years"])
        cached = self._eligible.get(key)
        if cached is not None:
            return cached
        out = []
        for p in self._verified_by_district[project["district"]["id"]] if not item["cross"] else self._verified:
            if p["subtype"] not in item["types"]:
                continue
            if item["min_rating"] and (p["rating"] or 0) < item["min_rating"]:
                continue
            if item["min_years"] and full_years(p["registered"], self.today) < item["min_years"]:
                continue
            out.append(p)
        self._eligible[key] = out
        return out

    def calls(self) -> None:
        s = self.s
        self._verified = [p for p in self.providers if p["status"] == "verified"]
        self._verified_by_district: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for p in self._verified:
            self._verified_by_district[p["district"]["id"]].append(p)
        self._eligible: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self.signed: list[dict[str, Any]] = []  # contracts both parties signed, to deliver
        # The oldest projects are the ones with a call under way; the newest wait.
        by_age = sorted(self.projects, key=lambda p: p["created"])
        live = by_age[:s.projects - s.waiting]
        waiting = by_age[s.projects - s.waiting:]
        ended = s.calls - len(live)
        bids_left = s.bids
        # Calls that ended without a provider, mostly on projects that wait again. A call fails after
        # its deadline, so most are on projects old enough for one to have passed; one too recent for
        # that was cancelled while open, and a city's newest calls are not mostly cancelled ones.
        settled = [p for p in waiting if p["created"] < self.now - timedelta(days=45)] or waiting
        ended_on = [self.r.choice(settled if self.r.random() < 0.9 else waiting)
                    if self.r.random() < 0.8 or not live else self.r.choice(live) for _ in range(max(0, ended))]
        self.experts = [e for e in self.evaluators if e["subtype"] == "expert"] or self.evaluators
        self.agencies = [e for e in self.evaluators if e["subtype"] == "agency" and e["status"] == "verified"]
        self.seated: Counter[int] = Counter()  # the delivery panels each agency expert was seated on
        for project in ended_on:
            start = project.setdefault("free_from", project["created"])
            call = self.call(project, start, "ended")
            project["free_from"] = call["closed_at"]
            bids_left -= call["bids"]
        per_live = max(1.0, bids_left / max(1, len(live)))
        # A month's calls are open at any time (25,000 in two years): the newest live projects' calls
        # went out lately (a project approved a while ago, its call published this month), so the
        # calls list opens on calls a provider can still bid for, as a city's would.
        lately = {project["id"] for project in live[-round(len(live) * OPEN_LATELY):]}
        for project in live:
            start = project.get("free_from", project["created"])
            if project["id"] in lately:
                start = max(start, self.now - timedelta(days=self.r.uniform(2, 36)))
            self.call(project, start, "live", per_live)

    def call(self, project: dict[str, Any], start: datetime, kind: str, per_live: float = 3.0) -> dict[str, Any]:
        cid = self.ids.take("calls")
        buyer = project["buyer"]
        item = project["item"]
        created = self.later(start, 1, 6)
        procedure = self.r.choices(["open_competition", "single_source", "venture_round"], [85, 10, 5])[0]
        if kind == "ended":
            procedure = "open_competition"  # too few bids fails it: it asks for two
        state = "ended"
        if kind == "live":
            state = self.r.choices(["draft", "published"], [3, 97])[0]
        published = self.later(created, 0.5, 3) if state != "draft" else None
        deadline = questions = None
        if published is not None and procedure != "venture_round":
            deadline = published + timedelta(days=self.r.randrange(12, 30))
            questions = deadline - timedelta(days=3)
        eligible = self.eligible(project)
        n_bids = 0
        failed = cancelled = None
        if kind == "ended":
            # An ended call is an open competition (above), published, so it has a deadline.
            assert published is not None and deadline is not None
            if deadline > self.now or self.r.random() < 0.15:
                # Cancelled while open (the project was rethought).
                cancelled = self.later(published, 1, max(1.5, (min(deadline, self.now) - published).days))
                cancelled = min(cancelled, deadline - timedelta(hours=1))
            else:
                n_bids = min(len(eligible), self.r.choice((0, 1, 1, 1)))
                failed = self.later(deadline, 1, 5)
        elif published is not None:
            least = 2 if procedure == "open_competition" else 1
            n_bids = min(len(eligible), max(least, round(self.r.gauss(per_live, 1.2))))
        closed_at = cancelled or failed or created
        extended = None
        if procedure == "open_competition" and deadline is not None and self.r.random() < EXTENDED_SHARE:
            assert published is not None
            extended = published + (deadline - timedelta(days=7) - published) * self.r.uniform(0.3, 0.9)
            if extended > min(cancelled or self.now, self.now):
                extended = None  # the call was cancelled first, or the change is still to come
        revision = 2 if extended else 1
        self.rows["calls"].append([
            cid, project["id"], buyer["id"], procedure, project["title"], "",
            f"为{project['title']}公开征集承接方，服务内容：{item['zh']}。",
            item["id"], project["budget"], None, None, project["community"]["zh"] + "及周边", item["types"],
            item["min_rating"], item["min_years"], item["cross"],
            "该项目为延续性服务，原承接方具有不可替代的专业资质。" if procedure == "single_source" else "",
            buyer["admin"], created, published, questions, deadline, cancelled,
            "项目方案调整，重新发布" if cancelled else "", None, None, failed,
            "有效投标不足两家" if failed else "", revision])
        row = self.rows["calls"][-1]
        if extended:
            assert deadline is not None
            moved = {"deadline_at": [(deadline - timedelta(days=7)).isoformat(), deadline.isoformat()]}
            self.rows["call_revisions"].append((cid, revision, extended, buyer["admin"], moved, deadline))
            self.event(extended, buyer["admin"], buyer["id"], "call.edit", "call", cid, moved)
        # Service starts after the contract that follows the award's notice can be signed.
        begin = (deadline or created + timedelta(days=40)).astimezone(SHANGHAI).date() + timedelta(days=45)
        row[9], row[10] = begin, begin + timedelta(days=self.r.choice((180, 270, 364)))
        for position, (zh, en, weight, min_score, is_price) in enumerate(CRITERIA, start=1):
            self.rows["call_criteria"].append((cid, position, zh, en, weight, min_score, is_price))
        if published:
            self.event(published, buyer["admin"], buyer["id"], "call.publish", "call", cid,
                       {"published_at": [None, published.isoformat()]})
        if cancelled:
            self.event(cancelled, buyer["admin"], buyer["id"], "call.cancel", "call", cid, {"cancelled": [False, True]})
        if failed:
            self.event(failed, buyer["admin"], buyer["id"], "call.fail", "call", cid, {"failed": [False, True]})
        bidders = self.r.sample(eligible, n_bids) if n_bids else []
        bid_rows = []
        last = min(deadline, self.now) if deadline else self.now
        for p in bidders:
            assert published is not None  # a draft has no bids (n_bids)
            bid_id = self.ids.take("bids")
            at = published + (last - published) * self.r.uniform(0.1, 0.95)
            at = at.replace(microsecond=0)
            amount = project["budget"] - self.r.randrange(0, project["budget"] // 5 // 100) * 100
            first = amount * 6 // 10
            target = self.r.randrange(100, 2000)
            lines = [("人员费用", first), ("活动及物料费用", amount - first)]
            self.rows["bids"].append((
                bid_id, cid, p["id"], p["admin"], "submitted", amount,
                f"围绕{item['zh']}，提升服务对象的生活质量与社区参与。", "需求评估、个案服务、小组活动、社区宣传、成效评估。",
                f"项目负责人{self.name()}，社工{self.r.randrange(2, 8)}名，志愿者若干。",
                [{"name": TARGET_NAME, "target": target}], revision, at))
            for position, (line, line_amount) in enumerate(lines, start=1):
                self.rows["bid_budget_lines"].append((bid_id, position, line, line_amount))
            self.event(at, p["admin"], p["id"], "bid.submit", "bid", bid_id, {"amount_fen": [None, amount]})
            if extended and at < extended:  # a bid made before the change stands once its bidder confirms it
                confirmed = extended + (last - extended) * self.r.uniform(0.05, 0.6)
                self.event(confirmed, p["admin"], p["id"], "bid.confirm", "bid", bid_id,
                           {"call_id": [None, cid], "call_revision": [None, revision]})
            bid_rows.append({"id": bid_id, "provider": p, "amount": amount, "at": at, "target": target, "lines": lines})
        call = {"id": cid, "bids": len(bid_rows), "closed_at": closed_at}
        if kind == "live" and deadline is not None and deadline < self.now and bid_rows:
            self.panel(project, row, bid_rows)
        return call

    def panel(self, project: dict[str, Any], call: list[Any], bids: list[dict[str, Any]]) -> None:
        cid, deadline = call[0], call[21]
        buyer = project["buyer"]
        formed = self.later(deadline, 0.2, 3)
        awarded = self.later(formed, 2, 15)
        # A panel whose award is still to come: the most recent deadlines alone. (A tenth of every
        # year's panels once stayed scoring for ever: evaluators' workbenches held panels formed 20 months
        # before.)
        decided = awarded < self.now - timedelta(days=1)
        panel_id = self.ids.take("panels")
        members = self.r.sample(self.experts, min(3, len(self.experts)))
        self.rows["panels"].append((panel_id, "call", cid, buyer["id"], buyer["admin"], formed,
                                    awarded if decided else None, "closed" if decided else "scoring", None, None))
        for position, (zh, en, weight, min_score, is_price) in enumerate(CRITERIA, start=1):
            self.rows["panel_criteria"].append((panel_id, position, zh, en, weight, min_score, is_price, None))
        for k, m in enumerate(members):
            self.rows["panel_members"].append((panel_id, m["admin"], "chair" if k == 0 else "member", formed, None))
        candidates = []
        consensus: dict[int, dict[int, Decimal | None]] = {}
        for b in bids:
            # Named as the product names a panel's candidates: by the organisation, in both languages.
            zh, en = b["provider"]["zh"], b["provider"]["en"]
            self.rows["panel_candidates"].append((panel_id, b["id"], b["provider"]["id"], zh, en, b["amount"], b["at"]))
            candidates.append(PanelCandidate(b["id"], b["provider"]["id"], zh, b["amount"], b["at"], en))
            for m in members:
                self.rows["panel_declarations"].append((panel_id, m["admin"], b["id"], False, "", formed))
            if decided:
                quality = self.r.gauss(78, 9)
                consensus[b["id"]] = {}
                for position, (_, _, _, _, is_price) in enumerate(CRITERIA, start=1):
                    if is_price:
                        continue
                    score = Decimal(max(40, min(100, round(quality + self.r.gauss(0, 5))))).quantize(Decimal("0.01"))
                    consensus[b["id"]][position] = score
                    self.rows["panel_consensus"].append((panel_id, b["id"], position, score, "", members[0]["admin"],
                                                         awarded - timedelta(hours=2)))
        if not decided:
            return
        criteria = [Criterion(p, zh, en, w, m, price) for p, (zh, en, w, m, price) in enumerate(CRITERIA, start=1)]
        ranked = [r for r in rank(criteria, candidates, consensus) if not r.out]
        if not ranked:
            return
        best = next(b for b in bids if b["id"] == ranked[0].candidate_id)
        notice_ends = awarded + timedelta(days=5 if call[3] != "single_source" else 7)
        award_id = self.ids.take("awards")
        self.rows["awards"].append((award_id, cid, best["id"], panel_id, best["amount"], ranked[0].total,
                                    buyer["admin"], awarded, notice_ends))
        call[24], call[25] = awarded, notice_ends
        self.event(awarded, buyer["admin"], buyer["id"], "call.award", "call", cid, {"bid_id": [None, best["id"]]})
        if notice_ends < self.now - timedelta(days=2) and self.r.random() < 0.85:
            self.contract(project, call, award_id, best, notice_ends)

    def contract(self, project: dict[str, Any], call: list[Any], award_id: int, bid: dict[str, Any],
                 notice_ends: datetime) -> None:
        buyer, provider = project["buyer"], bid["provider"]
        kid = self.ids.take("contracts")
        created = self.later(notice_ends, 0.5, 10)
        start, end = call[9], call[10]
        buyer_signed = self.later(created, 0.2, 3)
        provider_signed = self.later(created, 0.2, 4)
        status = self.r.choices(["signed", "buyer_signed", "draft"], [88, 7, 5])[0]
        signed = status == "signed"
        # Signed by both, it keeps the indicator systems in force then (its district bureau's).
        systems = [self.systems[(project["district"]["id"], stage)]["id"] if signed else None for stage in STAGES]
        self.rows["contracts"].append((
            kid, call[0], award_id, buyer["id"], provider["id"], bid["amount"], start, end, status, buyer["admin"],
            created, buyer["admin"] if status != "draft" else None, buyer_signed if status != "draft" else None,
            provider["admin"] if signed else None, provider_signed if signed else None, *systems))
        if signed:
            self.event(max(buyer_signed, provider_signed), provider["admin"], provider["id"], "contract.sign",
                       "contract", kid, {"status": ["buyer_signed", "signed"]})
        half = start + (end - start) / 2
        milestones = [("payment", "合同签订后支付首期款（40%）", start, 40, "none"),
                      ("report", "提交中期报告", half, None, "none"),
                      ("payment", "中期评估合格后支付（30%）", half + timedelta(days=14), 30, "midterm"),
                      ("report", "提交末期报告", end, None, "none"),
                      ("payment", "末期评估合格后支付（30%）", end + timedelta(days=14), 30, "final")]
        rows = []
        for position, (kind, title, due, percent, waits) in enumerate(milestones, start=1):
            # A report milestone reports on the stage its payment waits for: mid-term, then final.
            stage = ("midterm" if position < len(milestones) / 2 else "final") if kind == "report" else None
            rows.append([kid, position, kind, title, due, percent, None, None, waits, stage])
        self.rows["contract_milestones"].extend(rows)
        if signed:
            # Its delivery is told once the city's money is in place (`delivery`): an ended contract
            # gives its funders' pledges back.
            self.signed.append({"id": kid, "project": project, "call": call, "bid": bid, "buyer": buyer,
                                "provider": provider, "buyer_signed": buyer_signed,
                                "signed": max(buyer_signed, provider_signed), "milestones": rows,
                                "paid": [], "delivery": None, "results": {}})

    # ---- money -----------------------------------------------------------------------------------

    def account(self, key: str, kind: str, org: int | None = None, fund: int | None = None,
                project: int | None = None) -> int:
        found = self.accounts.get(key)
        if found is None:
            found = self.ids.take("ledger_accounts")
            self.accounts[key] = found
            self.rows["ledger_accounts"].append((found, key, kind, org, fund, project, "CNY",
                                                 kind in ("funder", "government")))
        return found

    def post(self, at: datetime, kind: str, legs: list[tuple[int, int]], *, pledge: int | None = None,
             project: int | None = None, actor: int | None = None, memo: str = "") -> list[Any]:
        """A balanced transaction, numbered when all are sorted by time (money arrives before it leaves)."""
        assert sum(a for _, a in legs) == 0
        tx = [None, kind, memo, pledge, project, actor, at, legs]
        self.transactions.append(tx)
        return tx

    def disburse(self, project: dict[str, Any], contract: int, position: int, amount: int, provider: dict[str, Any],
                 at: datetime, signed: datetime) -> None:
        """A milestone's payment as `ledger.disbursements.pay_milestone` makes it: first from the funders'
        money allocated to the project by then, oldest pledge first, then from the buyer's budget line."""
        buyer = project["buyer"]
        shares = []
        left = amount
        for i in self.allocated_to[project["id"]]:
            p = self.rows["pledges"][i]
            unspent = p[7] - self.pledge_paid[i]
            if left and p[8] == "allocated" and p[12] <= at and unspent:
                shares.append((i, min(left, unspent)))
                left -= shares[-1][1]
        from_pledges = amount - left
        legs = [(self.account(f"provider:{provider['id']}", "provider", org=provider["id"]), amount)]
        if from_pledges:
            legs.append((self.account(f"project:{project['id']}", "project", project=project["id"]), -from_pledges))
        line = f"budget_line:{buyer['id']}:{self.project_line(project)}"
        if left and project["id"] not in self.appropriated:
            self.appropriated.add(project["id"])
            self.post(min(signed, at), "appropriation", [
                (self.account(f"government:{buyer['id']}", "government", org=buyer["id"]), -project["budget"]),
                (self.account(line, "budget_line", org=buyer["id"]), project["budget"])],
                project=project["id"], actor=buyer["admin"], memo=self.project_line(project))
        if left:
            legs.append((self.account(line, "budget_line", org=buyer["id"]), -left))
        tx = self.post(at, "disbursement", legs, project=project["id"], actor=buyer["admin"],
                       memo=f"合同{contract}第{position}期")
        for i, share in shares:
            p = self.rows["pledges"][i]
            self.pledge_paid[i] += share
            self.disbursements.append((contract, position, tx, p[0], "pledges", share, at))
            if self.pledge_paid[i] == p[7]:
                self.rows["pledges"][i] = (*p[:8], "disbursed", *p[9:12], at, *p[13:])
                self.event(at, None, p[1], "pledge.disburse", "pledge", p[0],
                           {"action": "disburse", "status": ["allocated", "disbursed"]})
        if left:
            self.disbursements.append((contract, position, tx, None, "budget_line", left, at))

    def project_line(self, project: dict[str, Any]) -> str:
        return f"{project['created'].astimezone(SHANGHAI).year}年度社区服务专项资金"

    def money(self) -> None:
        self.accounts: dict[str, int] = {}
        self.transactions: list[list[Any]] = []
        self.disbursements: list[tuple[Any, ...]] = []
        self.appropriated: set[int] = set()

    def resources(self) -> None:
        verified = [f for f in self.funders if f["status"] == "verified"]
        categories = list(NEEDS)
        for _i in range(self.s.resources):
            f = self.r.choice(verified)
            rid = self.ids.take("resources")
            kind = self.r.choices(["money", "goods", "venue", "volunteer_hours"], [65, 15, 10, 10])[0]
            created = self.at(self.recent_days())
            until = None
            if self.r.random() < 0.3:
                until = created.astimezone(SHANGHAI).date() + timedelta(days=self.r.randrange(90, 540))
            places = []
            if self.r.random() < 0.5:
                d = f["district"]
                places = [d["id"]] if self.r.random() < 0.6 else [self.r.choice(d["streets"])["id"]]
            cats = self.r.sample(categories, self.r.choice((0, 1, 1, 2)))
            amount = self.r.choice((5, 10, 20, 30, 50, 100, 200)) * 10_000_00 if kind == "money" else None
            title = {"money": "公益资金", "goods": "爱心物资", "venue": "活动场地", "volunteer_hours": "员工志愿服务"}[kind]
            withdrawn = self.later(created, 10, 200) if self.r.random() < 0.05 else None
            self.rows["resources"].append((
                rid, f["id"], kind, f"{f['zh'][:40]}{title}", f"{f['zh']}提供{title}，支持社区公益项目。", amount,
                "" if kind == "money" else "若干", created.astimezone(SHANGHAI).date(), until, cats, places,
                self.r.sample(GROUPS, self.r.choice((0, 0, 1, 2))), "需提交项目执行报告", self.r.random() < 0.1,
                f["admin"], created, withdrawn))
            self.event(created, f["admin"], f["id"], "resource.create", "resource", rid, {"kind": [None, kind]})

    def funds(self) -> None:
        owners = [f for f in self.funders if f["subtype"] == "foundation" and f["status"] == "verified"]
        owners = owners or list(self.bureaus.values())
        self.fund_list: list[dict[str, Any]] = []
        for _i in range(self.s.funds):
            owner = self.r.choice(owners)
            fid = self.ids.take("funds")
            created = self.at(self.recent_days() + 30)
            word, word_en = self.place_word()
            ratio = self.r.random() < 0.2
            opens = self.later(created, 1, 10) if ratio else None
            closes = opens + timedelta(days=self.r.randrange(30, 180)) if opens is not None else None
            self.rows["funds"].append((
                fid, owner["id"], f"{word}社区伙伴基金", f"{word_en} Community Partners Fund", "支持社区公益项目的专项基金。",
                "ratio" if ratio else "none", 1 if ratio else None, 1 if ratio else None, 100_00 if ratio else 0,
                5_000_00 if ratio else None, 50_000_00 if ratio else None, owner["admin"], created, opens, closes,
                created))
            self.fund_list.append({"id": fid, "owner": owner, "created": created})

    def pledges(self) -> None:
        verified = [f for f in self.funders if f["status"] == "verified"]
        fairs_share = self.fairs()
        # Giving is heavy-tailed: the k-th funder gives as often as the first over k, so the largest
        # foundations make hundreds or thousands of pledges, then companies, most donors a few.
        givers = sorted(verified, key=lambda f: ("foundation", "enterprise", "individual").index(f["subtype"]))
        weights = list(itertools.accumulate(1 / (k + 1) for k in range(len(givers))))
        for _i in range(max(0, self.s.pledges - fairs_share)):
            funder = self.r.choices(givers, cum_weights=weights)[0]
            if self.r.random() < 0.08 and self.fund_list:
                fund = self.r.choice(self.fund_list)
                self.pledge(funder, None, fund, self.later(fund["created"], 1, 300))
            else:
                project = self.r.choice(self.projects)
                self.pledge(funder, project, None, self.later(project["created"], 1, 120))

    def pledge(self, funder: dict[str, Any], project: dict[str, Any] | None, fund: dict[str, Any] | None,
               created: datetime, status: str | None = None, note: str = "") -> int:
        pid = self.ids.take("pledges")
        amount = self.r.choice((1, 2, 5, 10, 20, 50, 100)) * 1_000_00
        if project is not None:
            receiver, fund_id = project["buyer"], None
        else:
            assert fund is not None  # a pledge is to a project or, without one, to a fund
            receiver, fund_id = fund["owner"], fund["id"]
        status = status or self.r.choices(["pledged", "awaiting_payment", "paid", "allocated", "cancelled"],
                                          [15, 10, 25, 40, 10])[0]
        if fund is not None and status == "allocated":
            status = "paid"
        pay_at = self.later(created, 1, 20)
        confirm_at = self.later(pay_at, 0.5, 5)
        if status in ("paid", "allocated") and confirm_at >= self.now:
            status = "pledged"
        # A transfer waits for the receiver's word only until it is confirmed: a few days, not a year.
        if status == "awaiting_payment":
            status = "pledged" if pay_at >= self.now else "paid" if confirm_at < self.now else status
        allocated_to = project["id"] if project is not None and status == "allocated" else None
        # Paid by its date or lapsed, as the pledges' clock (pledges.lapse_due) has it: reminded a week
        # before, lapsed the morning after.
        pay_by = self.local_day(created) + timedelta(days=RULES.pledge_pay_days)
        today = self.local_day(self.now)
        reminded = pay_by - timedelta(days=PLEDGE_REMIND_DAYS)
        reminded_on = max(reminded, self.local_day(created) + timedelta(days=1)) if status == "pledged" \
            and reminded <= today else None
        after = pay_by + timedelta(days=1)
        lapsed = min(datetime(after.year, after.month, after.day, 0, 5, tzinfo=SHANGHAI).astimezone(UTC), self.now) \
            if status == "pledged" and pay_by < today else None
        self.rows["pledges"].append((
            pid, funder["id"], funder["admin"], "project" if project else "fund", project["id"] if project else None,
            None, fund_id, amount, "cancelled" if lapsed else status, allocated_to,
            note, created, confirm_at if status in ("paid", "allocated") else lapsed or created,
            pay_by, reminded_on))
        self.event(created, funder["admin"], funder["id"], "pledge.create", "pledge", pid, {"amount_fen": [None, amount]})
        if lapsed:
            self.event(lapsed, None, funder["id"], "pledge.lapse", "pledge", pid,
                       {"status": ["pledged", "cancelled"], "action": "lapse"})
        if status in ("awaiting_payment", "paid", "allocated"):
            pay_id = self.ids.take("payments")
            confirmed = status != "awaiting_payment"
            # Still to confirm CONFIRM_DAYS after it was recorded, the receiver was reminded (pledges.lapse_due).
            overdue = self.local_day(pay_at) + timedelta(days=PLEDGE_CONFIRM_DAYS)
            self.rows["payments"].append((
                pay_id, pid, "offline", amount, "confirmed" if confirmed else "pending", f"CITY{pay_id:08d}",
                pay_at.astimezone(SHANGHAI).date(), funder["admin"], pay_at, receiver["admin"] if confirmed else None,
                confirm_at if confirmed else None, overdue if not confirmed and overdue <= self.local_day(self.now)
                else None))
            if confirmed:
                self.event(confirm_at, receiver["admin"], receiver["id"], "payment.confirm", "payment", pay_id,
                           {"status": ["pending", "confirmed"]})
                into = (self.account(f"escrow:{project['id']}", "escrow", project=project["id"]) if project
                        else self.account(f"fund:{fund_id}", "fund", fund=fund_id))
                self.post(confirm_at, "payment", [
                    (self.account(f"funder:{funder['id']}", "funder", org=funder["id"]), -amount), (into, amount)],
                    pledge=pid, project=project["id"] if project else None, actor=receiver["admin"])
                if allocated_to is not None:
                    self.post(confirm_at, "allocation", [
                        (into, -amount),
                        (self.account(f"project:{allocated_to}", "project", project=allocated_to), amount)],
                        pledge=pid, project=allocated_to, actor=receiver["admin"])
        return pid

    def fairs(self) -> int:
        """Charity fairs held over the two years, all closed: their paddles became pledges."""
        count = 0
        verified = [f for f in self.funders if f["status"] == "verified"]
        for i in range(self.s.fairs):
            d = self.district()
            bureau = self.bureaus[d["id"]]
            fid = self.ids.take("fairs")
            starts = self.at(self.r.uniform(20, HORIZON_DAYS - 60))
            ends = starts + timedelta(hours=3)
            self.rows["fairs"].append((
                fid, bureau["id"], f"{d['zh']}公益项目相亲会（第{i + 1}场）", f"{d['en']} charity matchmaking fair {i + 1}",
                f"{d['zh']}社区服务中心", "需求方、资源方和承接方现场对接。", starts, ends, "closed", None, bureau["admin"],
                starts - timedelta(days=20), ends + timedelta(hours=1)))
            candidates = [p for p in self.projects if p["district"] is d and p["created"] < starts]
            items = self.r.sample(candidates, min(len(candidates), self.r.randrange(5, 15)))
            funders = self.r.sample(verified, min(len(verified), self.r.randrange(8, 30)))
            for f in funders:
                self.rows["fair_funders"].append((fid, f["id"], f["admin"], starts - timedelta(days=3)))
            for position, project in enumerate(items, start=1):
                self.rows["fair_items"].append((fid, position, project["id"], None, project["budget"] // 2, False,
                                                "项目现场路演"))
                for f in self.r.sample(funders, min(len(funders), self.r.randrange(0, 4))):
                    raised = starts + (ends - starts) * self.r.uniform(0.1, 0.9)
                    raised = raised.replace(microsecond=0)
                    pledge_id = self.pledge(f, project, None, raised, status=self.r.choice(("allocated", "paid")),
                                            note=f"公益项目相亲会现场举牌（第{i + 1}场）")
                    amount = self.rows["pledges"][-1][7]
                    token = _uuid(self.r)
                    self.rows["fair_raises"].append((token, fid, project["id"], f["id"], f["admin"], amount, "confirmed",
                                                     pledge_id, 0, raised, raised + timedelta(seconds=30)))
                    count += 1
        return count

    # ---- delivery after signing ------------------------------------------------------------------

    def on(self, day: date) -> datetime:
        """A moment in office hours on a day (Shanghai), in whole seconds."""
        return datetime(day.year, day.month, day.day, 9 + self.r.randrange(9), self.r.randrange(60),
                        self.r.randrange(60), tzinfo=SHANGHAI).astimezone(UTC)

    @staticmethod
    def midnight(day: date) -> datetime:
        """Where a day begins in Shanghai: when the clocks, which read the local date, first see it."""
        return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)

    def then(self, start: datetime, lo: float, hi: float) -> datetime:
        """A moment between lo and hi days after start — perhaps after now: the story stops there."""
        return (start + timedelta(days=self.r.uniform(lo, hi))).replace(microsecond=0)

    def trait(self, org: dict[str, Any], name: str, draw: Callable[[], float]) -> float:
        """How an organisation does things (a provider delivers well, a buyer pays slowly), drawn once."""
        if name not in org:
            org[name] = draw()
        value: float = org[name]
        return value

    def pay_days(self, buyer: dict[str, Any]) -> float:
        """How long a buyer takes to pay once it may, on average: most a few days, some weeks."""
        return self.trait(buyer, "pay_days", lambda: self.r.choice((3, 3, 3, 5, 8, 14, 30)))

    def delivery(self) -> None:
        """What happened after signing: each signed contract's delivery (`deliver`) and its provider's
        ratings of the buyer (`rate_buyer`), then the communities' standing surveys."""
        self.bar = StandingRule(grade=RULES.standing_bar_grade, months=RULES.standing_bar_months)
        self.street_of = {st["id"]: st for st in self.streets}
        self.returns: list[tuple[Any, ...]] = []
        self.allocated_to: dict[int, list[int]] = defaultdict(list)  # project → its allocated pledges' rows
        self.pledge_paid: dict[int, int] = defaultdict(int)  # a pledge's row → what it has paid providers
        for i, p in enumerate(self.rows["pledges"]):
            if p[8] == "allocated":
                self.allocated_to[p[9]].append(i)
        self.survey_tokens: set[str] = set()
        self.project_surveys: list[tuple[int, int]] = []  # (survey, system): their questions are the system's
        for k in self.signed:
            self.deliver(k)
            self.settle(k)
            self.rate_buyer(k)
            self.project_survey(k)
        self.rows["pledges"] = [(*p, self.pledge_paid[i]) for i, p in enumerate(self.rows["pledges"])]
        self.community_surveys()

    def deliver(self, k: dict[str, Any]) -> None:
        """A signed contract's delivery as the product's rules run it (market/delivery): milestones accepted
        in their order, from RULES.milestone_early_days before they are due; the provider's report on each
        stage (`report`); the stage's evaluation once its report is accepted, the final after the mid-term
        (`evaluate`); a payment waiting for an evaluation once it has passed; the last milestone accepted
        completes the contract. Everything stops where it reaches now (or the contract was ended)."""
        # Most providers deliver well; a tenth are weak, and fail their evaluations more often than not.
        quality = self.trait(k["provider"], "quality", lambda: self.r.gauss(*WEAK) if self.r.random() < 0.1
                             else self.r.gauss(*DELIVERY))
        k["level"] = quality + self.r.gauss(0, 0.05)
        first = k["milestones"][0][4]
        if first > self.today - timedelta(days=10):
            return
        day = first - timedelta(days=self.r.randrange(RULES.milestone_early_days))
        paid = min(max(self.midnight(day) + timedelta(hours=10), k["signed"] + timedelta(hours=1)),
                   self.now - timedelta(hours=1))
        self.accept(k, 1, paid)
        middle = self.report(k, 2)
        passed = self.evaluate(k, "midterm", middle) if middle else None
        last = self.accept_in_turn(k, [(2, middle), (3, passed)], paid)
        final = self.report(k, 4)
        done = self.evaluate(k, "final", max(final, passed)) if final and passed else None
        last = self.accept_in_turn(k, [(4, final), (5, done)], last)
        if last is not None and all(m[6] is not None for m in k["milestones"]):
            self.move(k, last, "contract.complete", {"status": ["in_delivery", "completed"]}, "completed")

    def until(self, k: dict[str, Any]) -> datetime:
        """Nothing more happens to a contract after now, or after it was ended."""
        return min(self.now, k.get("ended") or self.now)

    def accept_in_turn(self, k: dict[str, Any], steps: list[tuple[int, datetime | None]],
                       last: datetime | None) -> datetime | None:
        """Accept these milestones in their order, each once it is ready (its report accepted, its
        evaluation passed) and not long before it is due, after the one before it: a payment as soon as
        the buyer gets to it (some buyers are slow). The last accepted, or None once one is not."""
        for position, ready in steps:
            if last is None or ready is None:
                return None
            row = k["milestones"][position - 1]
            wait = self.r.expovariate(1 / self.pay_days(k["buyer"])) if row[2] == "payment" else self.r.uniform(0, 2)
            early = row[4] - timedelta(days=self.r.randrange(RULES.milestone_early_days))
            opens = max(self.then(ready, 0.1, 1), self.on(early))
            at = max(opens + timedelta(days=wait), last + timedelta(minutes=self.r.randrange(5, 600)))
            at = at.replace(microsecond=0)
            if at > self.until(k):
                return None
            self.accept(k, position, at)
            last = at
        return last

    def accept(self, k: dict[str, Any], position: int, at: datetime) -> None:
        """The buyer accepts a milestone (market/delivery/services.py); a payment milestone pays its share
        (the last one what rounding left) through the ledger."""
        row, buyer = k["milestones"][position - 1], k["buyer"]
        row[6], row[7] = at, buyer["admin"]
        amount = 0
        if row[2] == "payment":
            percents = {m[1]: m[5] for m in k["milestones"] if m[2] == "payment"}
            amount = milestone_amounts(k["bid"]["amount"], percents)[position]
            self.disburse(k["project"], k["id"], position, amount, k["provider"], at, k["buyer_signed"])
            k["paid"].append((at, amount))
        self.event(at, buyer["admin"], buyer["id"], "contract.milestone_accept", "contract", k["id"],
                   {"paid_fen": [None, amount], "position": [None, position]})

    def paid_by(self, k: dict[str, Any], at: datetime) -> int:
        return sum(amount for when, amount in k["paid"] if when <= at)

    def report(self, k: dict[str, Any], position: int) -> datetime | None:
        """The provider's report on a stage (market/delivery/reports): drafted from the winning bid's target
        and budget lines, submitted on time or a little late (within the grace period), sometimes returned
        with comments and corrected, and accepted by the buyer. When it was accepted, or None: not yet, or
        never — a provider that lets one go unfiled files nothing more, and the report clock records the
        stage failed once the grace period is over."""
        if k.get("silent"):
            return None
        due = k["milestones"][position - 1][4]
        draw = self.r.random()
        if draw < REPORT_NEVER:
            k["silent"] = True
            return None
        late = draw < REPORT_NEVER + REPORT_LATE
        submitted = self.on(due + timedelta(days=self.r.randint(1, RULES.report_grace_days - 1)) if late
                            else due - timedelta(days=self.r.randrange(12)))
        started = max(k["signed"] + timedelta(hours=1), self.then(submitted, -10, -1))
        submitted = max(submitted, started + timedelta(hours=2))
        until = self.until(k)
        if started > until:
            return None
        provider, buyer = k["provider"], k["buyer"]
        returned: datetime | None = None
        resubmitted: datetime | None = None
        if self.r.random() < REPORT_RETURNED:
            returned = self.then(submitted, 1, 6)
            resubmitted = self.then(returned, 1, 7)
            accepted = self.then(resubmitted, 0.5, 5)
        else:
            accepted = self.then(submitted, 0.5, 8)
        moments = {"submitted": submitted, "returned": returned, "resubmitted": resubmitted, "accepted": accepted}
        status = "draft"
        for name in ("submitted", "returned", "resubmitted", "accepted"):
            moment = moments[name]
            if moment is not None and moment <= until:
                status = name
            elif moment is not None:
                break
        rid = self.ids.take("delivery_reports")
        filed = status != "draft"
        self.rows["delivery_reports"].append((
            rid, k["id"], position, status, filed and submitted.astimezone(SHANGHAI).date() > due, started,
            submitted if filed else None, accepted if status == "accepted" else None,
            buyer["admin"] if status == "accepted" else None))
        stage = k["milestones"][position - 1][9]
        edited = max(started, submitted - timedelta(minutes=self.r.randrange(5, 240))) if filed else started
        self.report_version(k, rid, 1, stage, edited, submitted if filed else None,
                            returned if returned is not None and returned <= until else None)
        self.event(started, provider["admin"], provider["id"], "report.save", "delivery_report", rid,
                   {"version": [None, 1]})
        where = {"contract_id": [None, k["id"]], "position": [None, position]}
        if filed:
            self.event(submitted, provider["admin"], provider["id"], "report.submit", "delivery_report", rid,
                       {**where, "status": ["draft", "submitted"]})
        if returned is not None and returned <= until:
            self.event(returned, buyer["admin"], buyer["id"], "report.return", "delivery_report", rid,
                       {"comment": [None, RETURN_COMMENT], "status": ["submitted", "returned"]})
        if returned is not None and resubmitted is not None and resubmitted <= until:
            edited = max(resubmitted - timedelta(hours=self.r.uniform(0.5, 20)),
                         returned + timedelta(minutes=10)).replace(microsecond=0)
            self.report_version(k, rid, 2, stage, edited, resubmitted, None)
            self.event(edited, provider["admin"], provider["id"], "report.save", "delivery_report", rid,
                       {"version": [None, 2]})
            self.event(resubmitted, provider["admin"], provider["id"], "report.resubmit", "delivery_report", rid,
                       {**where, "status": ["returned", "resubmitted"]})
        if status == "accepted":
            self.event(accepted, buyer["admin"], buyer["id"], "report.accept", "delivery_report", rid,
                       {"status": ["resubmitted" if returned else "submitted", "accepted"]})
            return accepted
        return None

    def report_version(self, k: dict[str, Any], rid: int, version: int, stage: str, edited: datetime,
                       submitted: datetime | None, returned: datetime | None) -> None:
        """A version of a report as the provider wrote it: what was done, the bid's target and how far it was
        reached, and spending by budget line, never more than had been paid under the contract by then."""
        provider, buyer, bid = k["provider"], k["buyer"], k["bid"]
        item = k["project"]["item"]["zh"]
        share = self.r.uniform(0.35, 0.6) if stage == "midterm" else self.r.uniform(0.8, 1.1)
        reached = share * k["level"] / DELIVERY[0]  # of the target, by a provider as good as most
        self.rows["report_versions"].append((
            rid, version, f"开展{item}服务：个案服务{self.r.randrange(10, 80)}人，小组活动{self.r.randrange(4, 30)}场，"
                          f"社区宣传{self.r.randrange(2, 12)}次。",
            "项目按计划推进，服务对象反馈良好；" + ("下一阶段将扩大服务覆盖面。" if stage == "midterm" else "项目目标基本达成。"),
            provider["admin"], edited, provider["admin"] if submitted else None, submitted,
            buyer["admin"] if returned else None, returned, RETURN_COMMENT if returned else ""))
        self.rows["report_targets"].append((rid, version, 1, TARGET_NAME, str(bid["target"]),
                                            Decimal(max(0, round(bid["target"] * reached))), ""))
        spent = round(self.paid_by(k, submitted or edited) * self.r.uniform(0.55, 0.98))
        for position, (line, budget) in enumerate(bid["lines"], start=1):
            share = min(budget, spent * 6 // 10 if position == 1 else spent)
            spent -= share
            self.rows["report_spending"].append((rid, version, position, line, budget, share))

    def evaluate(self, k: dict[str, Any], stage: str, ready: datetime) -> datetime | None:
        """The stage's evaluation (market/delivery/rounds.py), opened once its report was accepted (`ready`):
        a panel (`delivery_panel`). A failure stops the payments that wait for it; the buyer then sets a
        rectification deadline and orders a new evaluation after it, or ends the contract — as it does
        when the new one fails too (market/delivery/ending.py). When the stage passed, or None."""
        opened = self.then(ready, 1, 8)
        level = k["level"]
        for again in (False, True):
            if opened > self.until(k):
                return None
            closed, passed = self.delivery_panel(k, stage, opened, level)
            if closed is None or passed:
                return closed
            decided = self.then(closed, 1, 10)
            if decided > self.now:
                return None  # the buyer has still to decide what the failure leads to
            if again or self.r.random() < END_SHARE:
                self.end(k, stage, decided)
                return None
            by = self.local_day(decided) + timedelta(days=self.r.randint(21, 45))
            by = min(by, k["call"][10] + timedelta(days=RECTIFY_DAYS_AFTER_END))
            note = "请按评估发现的问题完成整改，补齐服务台账和佐证材料。"
            self.move(k, decided, "contract.rectify", {"note": [None, note], "rectify_by": [None, by.isoformat()],
                                                       "stage": [None, stage], "status": ["in_delivery", "rectifying"]},
                      "rectifying", decided_stage=stage, rectify_by=by, rectify_note=note)
            opened = max(self.on(by + timedelta(days=self.r.randrange(8))), decided + timedelta(days=1))
            if opened > self.now:
                return None
            self.move(k, opened, "contract.reevaluate",
                      {"stage": [None, stage], "status": ["rectifying", "in_delivery"]}, "in_delivery")
            level = min(0.98, level + self.r.uniform(0.12, 0.3))
        return None

    def move(self, k: dict[str, Any], at: datetime, verb: str, diff: dict[str, Any], status: str,
             **changes: Any) -> None:
        """The contract's delivery moves on (the `delivery` machine of market/delivery/ending.py)."""
        row = k["delivery"] or {"decided_stage": None, "rectify_by": None, "rectify_note": "", "ended_reason": "",
                                "ended_at": None, "ended_by": None}
        k["delivery"] = {**row, **changes, "status": status, "updated_at": at}
        self.event(at, k["buyer"]["admin"], k["buyer"]["id"], verb, "delivery", k["id"], diff)

    @staticmethod
    def local_day(at: datetime) -> date:
        return at.astimezone(SHANGHAI).date()

    def delivery_panel(self, k: dict[str, Any], stage: str, opened: datetime,
                       level: float) -> tuple[datetime | None, bool]:
        """A panel on the evaluation engine whose subject is the contract's stage and whose one candidate
        is the provider: the buyer seats two or three experts (none belongs to the provider), or hands the
        panel to an agency, which seats its least-loaded experts some days later; the first chairs; each declares no conflict, scores every leaf of the contract's indicator system and
        submits; the chair records the consensus; the buyer decides it, and the grade bands say whether it
        passed. Its findings become rectification items. When it closed (None while it is still open)."""
        system = self.systems[(k["project"]["district"]["id"], stage)]
        buyer, provider = k["buyer"], k["provider"]
        pid = self.ids.take("panels")
        size = 3 if self.r.random() < 0.3 else 2
        agency = self.r.choice(self.agencies) if self.agencies and self.r.random() < HANDED_SHARE else None
        handed_to = None
        if agency is None:
            members = [e["admin"] for e in self.r.sample(self.experts, min(len(self.experts), size))]
            added = self.then(opened, 0, 2)
        else:
            handed = self.then(opened, 0, 1)
            handed_to = agency if handed <= self.now else None
            members = sorted(agency["experts"], key=lambda u: (self.seated[u], self.r.random()))[:size]
            self.seated.update(members)
            added = self.then(handed, 0.5, 5)
        started = self.then(added, 0.1, 1.5)
        submitted = [self.then(started, 1, 7) for _ in members]
        recorded = self.then(max(submitted), 0.5, 3)
        closed = self.then(recorded, 0.1, 2)
        done = closed <= self.until(k)
        status = "closed" if done else "scoring" if started <= self.now else "forming"
        self.rows["panels"].append((pid, stage, k["id"], buyer["id"], buyer["admin"], opened, closed if done else None,
                                    status, system["id"], handed_to["id"] if handed_to else None))
        self.event(opened, buyer["admin"], buyer["id"], "panel.create", "panel", pid,
                   {"candidates": [None, 1], "subject_id": [None, k["id"]], "subject_type": [None, stage]})
        for position, leaf in enumerate(system["leaves"], start=1):
            self.rows["panel_criteria"].append((pid, position, leaf.name_zh, leaf.name_en, leaf.weight, None, False,
                                                leaf.path))
        self.rows["panel_candidates"].append((pid, k["id"], provider["id"], provider["zh"], provider["en"], None,
                                              opened))
        if handed_to:
            self.event(handed, buyer["admin"], buyer["id"], "panel.agency", "panel", pid,
                       {"agency_id": [None, handed_to["id"]]})
        if added > self.now:
            return None, False
        # Who seats the members and starts the scoring: the buyer, or the agency it handed the panel to.
        former = handed_to or buyer
        for n, (m, at) in enumerate(zip(members, submitted)):
            role = "chair" if n == 0 else "member"
            self.rows["panel_members"].append((pid, m, role, added, at if done else None))
            self.event(added, former["admin"], former["id"], "panel.member_add", "panel", pid,
                       {"role": [None, role], "user_id": [None, m]})
        if started > self.now:
            return None, False
        self.event(started, former["admin"], None, "panel.start", "panel", pid, {"status": ["forming", "scoring"]})
        for m, at in zip(members, submitted):
            declared = min(self.then(started, 0, 0.5), at - timedelta(hours=1))
            if declared <= self.now:
                self.rows["panel_declarations"].append((pid, m, k["id"], False, "", declared))
        if not done:
            return None, False
        chair = members[0]
        consensus: dict[str, Decimal | None] = {}
        low = []
        for position, leaf in enumerate(system["leaves"], start=1):
            given, agreed = self.leaf_scores(leaf, level, len(members))
            for m, at, score in zip(members, submitted, given):
                self.rows["panel_scores"].append((pid, m, k["id"], position, score, "",
                                                  at - timedelta(minutes=self.r.randrange(5, 600))))
            self.rows["panel_consensus"].append((pid, k["id"], position, agreed, "评估小组合议", chair, recorded))
            consensus[leaf.path] = agreed
            if agreed is not None and agreed < LOW_SHARE * MAX_SCORE:
                low.append((position, leaf, agreed))
        for m, at in zip(members, submitted):
            self.event(at, m, None, "panel.submit", "panel", pid, {})
        self.event(closed, buyer["admin"], None, "panel.close", "panel", pid, {"status": ["scoring", "closed"]})
        total = indicator_scoring.total(system["nodes"], consensus)
        grade = indicator_scoring.grade(system["bands"], total)
        passed = indicator_scoring.passed(system["bands"], total)
        outcome = "passed" if passed else "failed"
        # Kept as it was decided (market/delivery/scorecard.py): a re-evaluation supersedes, never changes it.
        self.rows["delivery_results"].append((k["id"], stage, closed, outcome, total, grade, "", pid))
        k["results"][stage] = StageOutcome(stage=stage, outcome=outcome, total=total, grade=grade, decided_at=closed,
                                           panel_id=pid)
        k.setdefault("first_closed", {}).setdefault(stage, closed)
        if not passed:
            k.setdefault("failed", []).append(closed)
        self.findings(k, stage, pid, closed, low, passed, total, grade)
        return closed, passed

    def leaf_scores(self, leaf: Any, level: float, members: int) -> tuple[list[Decimal | None], Decimal | None]:
        """What each member gives a leaf of a provider delivering at `level` (0-1), and the consensus the
        chair records, each by the leaf's method: a point of the anchored scale (members differ by a point
        or so, the chair takes their mean); yes or no, and what was achieved, as the records show, alike."""
        if leaf.na_allowed and self.r.random() < 0.05:
            return [None] * members, None
        found = min(1.0, max(0.0, self.r.gauss(level, 0.06)))
        if leaf.method == "scale":
            points = [min(5, max(0, round(found * 5 + self.r.gauss(0, 0.35)))) for _ in range(members)]
            agreed = indicator_scoring.scale_score(min(5, max(0, round(sum(points) / members))))
            return [indicator_scoring.scale_score(p) for p in points], agreed
        if leaf.method == "yesno":
            score = indicator_scoring.yesno_score(self.r.random() < min(0.995, 0.45 + 0.7 * found))
        elif leaf.target is not None:
            achieved = Decimal(str(round(float(leaf.target) * min(1.1, found + 0.2), 1)))
            score = indicator_scoring.target_score(achieved, leaf.target, leaf.target_cap)
        else:  # the target is the bid's: the score is the share reached
            score = indicator_scoring.rounded(Decimal(str(min(1.0, found + 0.15) * 100)))
        return [score] * members, score

    def findings(self, k: dict[str, Any], stage: str, panel_id: int, closed: datetime,
                 low: list[tuple[int, Any, Decimal]], passed: bool, total: Decimal | None, grade: str | None) -> None:
        """What a decided evaluation finds (market/delivery/findings.py): an item per indicator whose consensus
        is below 60 % of its maximum, or one for a failed total, due RULES.rectification_days later."""
        title_zh = k["call"][4]
        title_en = k["call"][5] or title_zh
        stage_zh, stage_en = {"midterm": ("中期评估", "mid-term evaluation"), "final": ("末期评估", "final evaluation")}[stage]
        due = self.local_day(closed) + timedelta(days=RULES.rectification_days)
        source = ("evaluation", panel_id, f"/contracts/{k['id']}#evaluations")
        for position, leaf, score in low:
            said = f"{score.normalize():f}"
            self.rectification_item(
                source, k["provider"], k["buyer"], f"criterion-{position}", closed, due,
                f"{title_zh}（{stage_zh}）：“{leaf.name_zh}”共识得分 {said}，低于满分的 60%。",
                f"{title_en} ({stage_en}): “{leaf.name_en or leaf.name_zh}” scored {said} by consensus, below 60% "
                f"of its maximum.", leaf.evidence_zh or leaf.evidence_en or GENERAL_EVIDENCE)
        if not low and not passed:
            self.rectification_item(
                source, k["provider"], k["buyer"], "total", closed, due, f"{title_zh}（{stage_zh}）未通过：总分 {total}，等级 {grade or '—'}。",
                f"{title_en} ({stage_en}) failed: total {total}, grade {grade or '—'}.", GENERAL_EVIDENCE)

    def rectification_item(self, source: tuple[str, int, str], owner: dict[str, Any], buyer: dict[str, Any],
                           key: str, raised: datetime, due: date, finding_zh: str, finding_en: str,
                           evidence: str) -> None:
        """A finding's rectification item (market/rectification), from its source (kind, id, link): the
        organisation that owns it submits a fix, the buyer verifies it or sends it back once in a while;
        most are put right in time, some late, a few not at all. The rectification clock's reminder and
        escalations of an item put right since are written as they happened; those of an item still open
        are the clock's to make when it runs."""
        kind, source_id, link = source
        iid = self.ids.take("rectification_items")
        self.event(raised, None, buyer["id"], "rectification.raise", "rectification_item", iid,
                   {"due": [None, due.isoformat()], "key": [None, key], "owner_id": [None, owner["id"]],
                    "source": [None, kind], "source_id": [None, source_id], "status": [None, "open"]})
        status, submitted, verified, version = "open", None, None, 0
        open_from = [raised]  # when it was open: from being raised, and from a rejected fix
        fixed: list[datetime] = []
        neglected = self.r.random() < 0.08
        while not neglected:
            # Most are put right within the month they are given; some take longer.
            fix = self.then(open_from[-1], *((2, 14) if version else (3, 21) if self.r.random() < 0.85 else (18, 50)))
            if fix > self.now:
                break
            version += 1
            status, submitted = "fix_submitted", fix
            fixed.append(fix)
            self.rows["rectification_fixes"].append((iid, version, FIX_TEXTS[kind], owner["admin"], fix))
            self.event(fix, owner["admin"], owner["id"], "rectification.submit", "rectification_item", iid,
                       {"status": ["open", "fix_submitted"], "version": [None, version]})
            decided = self.then(fix, 1, 10)
            if decided > self.now:
                break
            if version == 1 and self.r.random() < 0.1:
                status = "open"
                open_from.append(decided)
                self.rows["rectification_rejections"].append((iid, version, REJECTION, buyer["admin"], decided))
                self.event(decided, buyer["admin"], buyer["id"], "rectification.reject", "rectification_item", iid,
                           {"reason": [None, REJECTION], "status": ["fix_submitted", "open"]})
                continue
            status, verified = "verified", decided
            self.event(decided, buyer["admin"], buyer["id"], "rectification.verify", "rectification_item", iid,
                       {"status": ["fix_submitted", "verified"]})
            break
        level = 0
        if verified is not None:
            reminder = self.midnight(due - timedelta(days=3))
            if any(start <= reminder < end for start, end in zip(open_from, fixed)):
                self.rows["rectification_escalations"].append((iid, 0, owner["id"], reminder))
            for level_now, day, told in ((1, due + timedelta(days=1), buyer["id"]),
                                         (2, due + timedelta(days=RULES.rectification_escalate_days + 1),
                                          (self.overseer_of(buyer) or {}).get("id"))):
                at = self.midnight(day) + timedelta(seconds=self.r.randrange(30, 90))
                if verified < at:
                    break
                self.rows["rectification_escalations"].append((iid, level_now, told, at))
                self.event(at, None, told, "rectification.escalate", "rectification_item", iid,
                           {"escalation_level": [level, level_now], "notified_org_id": [None, told]})
                level = level_now
        self.rows["rectification_items"].append((
            iid, kind, source_id, key, owner["id"], buyer["id"], finding_zh, finding_en, evidence, link, due, status,
            level, raised, submitted, verified,
            buyer["admin"] if verified else None))

    def end(self, k: dict[str, Any], stage: str, at: datetime) -> None:
        """The buyer ends the contract after a failed evaluation (market/delivery/ending.py): the funders'
        pledges allocated to its project go back to them, and what was not paid of the rest stays in the
        budget line."""
        project, buyer = k["project"], k["buyer"]
        paid = sum(amount for _, amount in k["paid"])
        returned = 0
        for i in self.allocated_to[project["id"]]:
            p = self.rows["pledges"][i]
            # What it has not paid the provider goes back (ledger.returns): the pledge is refunded, what
            # had reached the provider staying in its disbursed_fen.
            unspent = p[7] - self.pledge_paid[i]
            if p[8] != "allocated" or p[12] >= at or not unspent:
                continue
            self.rows["pledges"][i] = (*p[:8], "refunded", *p[9:12], at, *p[13:])
            tx = self.post(at, "refund", [(self.account(f"project:{project['id']}", "project", project=project["id"]),
                                           -unspent), (self.account(f"funder:{p[1]}", "funder", org=p[1]), unspent)],
                           pledge=p[0], project=project["id"], actor=buyer["admin"], memo=f"contract #{k['id']} ended")
            self.returns.append((k["id"], "pledge_to_funder", tx, p[0], p[1], None, unspent))
            self.event(at, buyer["admin"], p[1], "pledge.refund", "pledge", p[0],
                       {"action": [None, "refund"], "status": ["allocated", "refunded"]})
            returned += unspent
        kept = max(0, k["bid"]["amount"] - paid - returned)
        if kept:
            self.returns.append((k["id"], "budget_kept", None, None, None, None, kept))
        reason = "中期评估不合格且未能按期整改，终止合同。" if stage == "midterm" else "末期评估不合格，终止合同。"
        source = (k["delivery"] or {}).get("status", "in_delivery")
        self.move(k, at, "contract.end", {"budget_kept_fen": [None, kept], "paid_fen": [None, paid],
                                          "reason": [None, reason], "returned_fen": [None, returned],
                                          "stage": [None, stage], "status": [source, "ended"]},
                  "ended", decided_stage=stage, ended_reason=reason, ended_at=at, ended_by=buyer["admin"])
        k["ended"] = at

    def settle(self, k: dict[str, Any]) -> None:
        """The contract's delivery row, and the bars its current results set on the provider's standing
        (market/delivery/scorecard.py: an evaluation graded C bars it from the item for a year)."""
        if k["delivery"] is not None:
            d = k["delivery"]
            self.rows["contract_delivery"].append((k["id"], d["status"], d["decided_stage"], d["rectify_by"],
                                                   d["rectify_note"], d["ended_reason"], d["ended_at"], d["ended_by"],
                                                   d["updated_at"]))
        project = k["project"]
        for stage, outcome in k["results"].items():
            if self.bar.bars(outcome):
                assert outcome.decided_at is not None
                self.rows["provider_standing"].append((
                    k["provider"]["id"], k["id"], stage, self.bureaus[project["district"]["id"]]["id"],
                    project["item"]["code"], outcome.grade, "", outcome.decided_at,
                    add_months(self.local_day(outcome.decided_at), self.bar.months)))

    def rate_buyer(self, k: dict[str, Any]) -> None:
        """The provider rates the buyer (market/buyers/ratings.py) on each stage once it is due — the
        mid-term once its first panel closed, the end once the contract ended or completed or its service
        period is over — most of the time, soon after. Buyers differ (some are clearer, pay sooner,
        interfere less), and a provider that failed an evaluation finds it less fair."""
        buyer, provider = k["buyer"], k["provider"]
        end = k["call"][10]
        finished = k["delivery"]["updated_at"] if k["delivery"] and k["delivery"]["status"] in ("ended", "completed") \
            else None
        over = self.midnight(end + timedelta(days=1)) if end < self.today else None
        due = {"midterm": k.get("first_closed", {}).get("midterm"),
               "final": min((m for m in (finished, over) if m is not None), default=None)}
        regard = self.trait(buyer, "regard", lambda: self.r.gauss(3.9, 0.45))
        pay_days = self.pay_days(buyer)

        def score(centre: float) -> int:
            return min(5, max(1, round(centre + self.r.gauss(0, 0.5))))
        for stage in RATING_STAGES:
            since = due[stage]
            if since is None or self.r.random() >= RATED_SHARE:
                continue
            rated = self.then(since, 0.2, 1 + self.r.expovariate(1 / 12))
            if rated > self.now:
                continue
            view = regard + self.r.gauss(0, 0.35)
            failed = any(at <= rated for at in k.get("failed", []))
            scores = [score(view), score(5.2 - pay_days / 8), score(view), score(view + 0.3),
                      score(view - (1.2 if failed else 0))]
            comment = self.r.choice(RATING_COMMENTS[sum(scores) >= 18]) if self.r.random() < 0.3 else ""
            self.rows["buyer_ratings"].append((k["id"], stage, buyer["id"], provider["id"], *scores, comment,
                                               provider["admin"], rated))
            self.event(rated, provider["admin"], provider["id"], "buyer.rate", "contract", k["id"],
                       {"stage": [None, stage]})

    def community_surveys(self) -> None:
        """The standing surveys of a share of the communities (market/surveys), kept by their street offices
        (the nearest buyer at or above them): opened when the office first listed its surveys, with the
        questions the product asks of a community, and answered on a 1-5 scale by residents with the
        one-time codes of the slips the office printed in batches, each code once. Satisfaction varies by
        district, street and community; a few residents leave a comment, which the office publishes or
        hides."""
        mood = {place["id"]: self.r.gauss(0, spread) for places, spread in ((self.districts, 0.2), (self.streets, 0.15))
                for place in places}
        for c in self.communities:
            if self.r.random() >= SURVEYED_SHARE:
                continue
            keeper = self.street_offices[c["street"]["id"]]
            sid = self.ids.take("surveys")
            opened = self.at(self.recent_days())
            self.rows["surveys"].append((sid, "community", None, c["id"], self.survey_token(), "open", None, False, None,
                                         opened, opened, None))
            for position, (zh, en) in enumerate(COMMUNITY_QUESTIONS, start=1):
                self.rows["survey_questions"].append((sid, position, zh, en, None))
            age = (self.now - opened).days
            # Most communities have some 10 to 45 answers, a survey opened lately fewer.
            wanted = round(math.exp(self.r.gauss(math.log(22), 0.55)) * min(1.0, (age + 60) / 300))
            centre = 4.25 + mood[c["district"]["id"]] + mood[c["street"]["id"]] + self.r.gauss(0, 0.3)
            self.slips(sid, keeper, opened, self.now, wanted, centre, QUESTION_SHIFTS)

    def survey_token(self) -> str:
        token = "".join(self.r.choices(TOKEN_ALPHABET, k=12))
        while token in self.survey_tokens:
            token = "".join(self.r.choices(TOKEN_ALPHABET, k=12))
        self.survey_tokens.add(token)
        return token

    def slips(self, sid: int, keeper: dict[str, Any], opened: datetime, until: datetime, wanted: int, centre: float,
              shifts: Sequence[float]) -> list[float]:
        """The one-time codes a survey's keeper prints in batches while it is open (until `until`), about
        `wanted` of them answered, each code once, within a month of its batch. Each answer's mean score."""
        span = (until - opened).total_seconds() / 86400
        batches = 1 + wanted // 30
        codes: set[str] = set()
        means = []
        for batch, made in enumerate(sorted(self.then(opened, 0, span * 0.95) for _ in range(batches)), start=1):
            answers = wanted // batches + (batch <= wanted % batches)
            count = answers + self.r.randrange(answers // 3 + 3)
            self.event(made, keeper["admin"], keeper["id"], "survey.codes", "survey", sid,
                       {"batch": [None, batch], "count": [None, count]})
            for n in range(count):
                code = "".join(self.r.choices(CODE_ALPHABET, k=8))
                while code in codes:
                    code = "".join(self.r.choices(CODE_ALPHABET, k=8))
                codes.add(code)
                answered = self.then(made, 0.01, 30) if n < answers else None
                if answered is not None and answered > until:
                    answered = None
                self.rows["survey_codes"].append((sid, code, batch, made, answered))
                if answered is not None:
                    means.append(self.survey_answer(sid, keeper, code, answered, centre, shifts))
        return means

    def project_survey(self, k: dict[str, Any]) -> None:
        """The residents' survey of a contracted project (market/surveys), which most buyers open a few weeks
        into its delivery, with the questions of its final indicator system's satisfaction part, and close
        once it is completed or ended: judged then against the threshold, one below it is a finding the
        provider puts right (`rectification_item`). Residents served by a weak provider are less satisfied."""
        begun = k["milestones"][0][6]
        if begun is None or self.r.random() >= SURVEYED_PROJECTS:
            return
        opened = self.then(begun, 7, 60)
        delivery = k["delivery"] or {}
        finished = delivery.get("ended_at") or (delivery["updated_at"] if delivery.get("status") == "completed" else None)
        # A survey is opened while its contract is in delivery.
        if opened >= self.now or (finished is not None and opened >= finished):
            return
        buyer, system = k["buyer"], self.systems[(k["project"]["district"]["id"], "final")]
        closed = self.then(finished, 0.5, 12) if finished else None
        closed = closed if closed is not None and closed <= self.now else None
        sid = self.ids.take("surveys")
        self.project_surveys.append((sid, system["id"]))
        self.event(opened, buyer["admin"], buyer["id"], "survey.open", "survey", sid, {"status": ["draft", "open"]})
        wanted = round(math.exp(self.r.gauss(math.log(14), 0.5)))
        until = closed or self.now
        wanted = round(wanted * min(1.0, ((until - opened).days + 30) / 150))
        centre = 3.7 + 1.5 * k["level"] + self.r.gauss(0, 0.15)
        means = self.slips(sid, buyer, opened, until, wanted, centre, [(0.0, -0.1)[n % 2] for n in range(system["asked"])])
        below = False
        if closed is not None:
            figure = survey_stats.figure(means) if len(means) >= MIN_ANSWERS else None
            below = figure is not None and figure.satisfied_percent < RULES.survey_threshold_percent
            self.event(closed, buyer["admin"], buyer["id"], "survey.close", "survey", sid,
                       {"below_threshold": [None, below], "status": ["open", "closed"]})
            if below:
                assert figure is not None
                title_zh, title_en = k["call"][4], k["call"][5] or k["call"][4]
                percent, threshold = figure.satisfied_percent, RULES.survey_threshold_percent
                day = self.local_day(closed)
                self.rectification_item(
                    ("survey", sid, f"/surveys/{sid}"), k["provider"], buyer, f"closed-{day.isoformat()}", closed,
                    day + timedelta(days=RULES.rectification_days),
                    f"“{title_zh}”居民满意度调查：{len(means)}位居民中满意的占{percent}%，低于{threshold}%的标准。",
                    f"Resident satisfaction survey of “{title_en}”: {percent}% of {len(means)} residents satisfied, "
                    f"below the threshold of {threshold}%.", EVIDENCE_OF_IMPROVEMENT)
        self.rows["surveys"].append((sid, "project", k["id"], None, self.survey_token(),
                                     "closed" if closed else "open", system["id"], below,
                                     RULES.survey_threshold_percent if closed else None,
                                     opened - timedelta(hours=self.r.uniform(0.1, 48)), opened, closed))

    def survey_answer(self, sid: int, keeper: dict[str, Any], code: str, answered: datetime, centre: float,
                      shifts: Sequence[float]) -> float:
        aid = self.ids.take("survey_answers")
        view = centre + self.r.gauss(0, 0.55)
        scores = [min(5, max(1, round(view + shift + self.r.gauss(0, 0.45)))) for shift in shifts]
        comment, status = "", "none"
        if self.r.random() < 0.12:
            comment = self.r.choice(SURVEY_COMMENTS[sum(scores) / len(scores) >= SATISFIED])
            status = "pending"
            moderated = self.then(answered, 1, 10)
            if moderated <= self.now:
                status = "published" if self.r.random() < 0.7 else "hidden"
                verb = {"published": "survey_text.publish", "hidden": "survey_text.hide"}[status]
                self.event(moderated, keeper["admin"], keeper["id"], verb, "survey_text", aid,
                           {"status": ["pending", status], "survey_id": [None, sid]})
        self.rows["survey_answers"].append((aid, sid, code, None, answered, comment, status, sum(scores),
                                            len(scores)))
        for position, score in enumerate(scores, start=1):
            self.rows["survey_scores"].append((aid, position, score))
        return sum(scores) / len(scores)

    # ---- complaints ------------------------------------------------------------------------------

    def complaints(self) -> None:
        """Complaints (market/complaints) as the product dispatches and its complaint clock handles them:
        about a contract's service (to its provider) or its project (to its buyer), lodged while the work
        goes on and more often against weak providers; about a community's affairs (to the street office,
        the nearest buyer above it) or the district's procurement (to its bureau). Each goes as far as now
        lets it (`complaint`); the clock's escalations and closings are written as it made them, so it has
        nothing left to do on the city's first morning but what falls due then."""
        categories = {c["code"]: c for c in self.complaint_categories}
        codes = [code for code in COMPLAINT_SHARES if code in categories]
        weights = [COMPLAINT_SHARES[code] for code in codes]
        underway = [k for k in self.signed if k["signed"] < self.now - timedelta(days=2)]
        # A weak provider is complained of four times as often (its `level`, drawn in `deliver`).
        contract_weights = list(self.cum([4.0 if k["level"] < 0.6 else 1.0 for k in underway]))
        lodging = [p for p in self.providers if p["status"] == "verified"]
        for _ in range(self.s.complaints):
            category = categories[self.r.choices(codes, weights)[0]]
            k = None
            if category["responsible"] in ("provider", "buyer") and underway:
                k = self.r.choices(underway, cum_weights=contract_weights)[0]
                end = self.midnight(k["call"][10] + timedelta(days=1))
                lodged = self.then(k["signed"], 1, max(2.0, (min(end, self.now) - k["signed"]).days))
                if lodged >= self.now:
                    lodged = (self.now - timedelta(hours=self.r.uniform(1, 48))).replace(microsecond=0)
                community = k["project"]["community"]
                responsible = k["provider"] if category["responsible"] == "provider" else k["buyer"]
            else:
                community = self.community()
                lodged = self.at(self.recent_days())
                responsible = self.bureaus[community["district"]["id"]] if category["responsible"] == "district" \
                    else self.street_offices[community["street"]["id"]]
            by = self.r.choices(["resident", "ngo", "buyer"], [85, 10, 5])[0]
            self.complaint(category, community, k, responsible, lodged, by, lodging)

    def overseer_of(self, org: dict[str, Any]) -> dict[str, Any] | None:
        """organisations.services.overseer_of: a provider's street office (the nearest buyer at or above its
        place), a street office's bureau, none above a bureau."""
        if org["kind"] == "provider":
            return self.street_offices[org["community"]["street"]["id"]]
        street = self.street_of.get(org["place"])
        return self.bureaus[street["district"]["id"]] if street else None

    def complaint(self, category: Any, community: dict[str, Any], k: dict[str, Any] | None,
                  responsible: dict[str, Any], lodged: datetime, by: str, lodging: list[dict[str, Any]]) -> None:
        """One complaint's life: acknowledged and answered at the pace of the organisation responsible, the
        clock escalating it each morning after a deadline passed with something owed, up to two levels; the
        answer upheld (a rectification item, as `complaints.answer` raises) or not; rated by most
        complainants, who may reopen it once when unhappy, else closed by the clock a week after the answer."""
        cid = self.ids.take("complaints")
        kind, answer_days = category["day_kind"], category["answer_days"]
        lodged_on = self.local_day(lodged)
        acknowledge_by = complaint_days.add_days(lodged_on, category["acknowledge_days"], kind)
        answer_by = complaint_days.add_days(lodged_on, answer_days, kind)
        # Days an organisation takes, against its limits: most are prompt, a tenth always slow.
        pace = self.trait(responsible, "complaint_pace",
                          lambda: math.exp(self.r.gauss(-0.4, 0.45)) * (2.2 if self.r.random() < 0.1 else 1.0))
        c: dict[str, Any] = {"status": "dispatched", "due": acknowledge_by, "level": 0, "holder": responsible,
                             "acknowledged": None, "answered": None, "upheld": None, "rating": None, "closed": None,
                             "reopened": None, "reason": "", "found": False}
        user = org = None
        if by == "resident":
            people = self.residents.get(community["id"])
            user = self.r.choice(people) if people and self.r.random() < 0.4 else None
        else:
            complainant = self.r.choice(lodging) if by == "ngo" else self.street_offices[community["street"]["id"]]
            user, org = complainant["admin"], complainant["id"]
        self.event(lodged, user, responsible["id"], "complaint.lodge", "complaint", cid,
                   {"status": [None, "dispatched"], "category": [None, category["code"]],
                    "responsible_id": [None, responsible["id"]], "acknowledge_by": [None, acknowledge_by.isoformat()],
                    "answer_by": [None, answer_by.isoformat()]})

        def move(at: datetime, verb: str, actor: int | None, status: str, **diff: Any) -> None:
            self.event(at, actor, responsible["id"], verb, "complaint", cid,
                       {"status": [c["status"], status], **{key: [None, value] for key, value in diff.items()}})
            c["status"] = status

        def escalate_until(moment: datetime) -> None:
            """The clock's mornings before `moment` (and now) on which the deadline had passed."""
            while c["level"] < 2:
                at = self.midnight(c["due"] + timedelta(days=1)) + timedelta(seconds=self.r.randrange(30, 90))
                if at >= min(moment, self.now):
                    return
                above = self.overseer_of(c["holder"]) if c["holder"] else None
                c["level"] += 1
                self.rows["complaint_escalations"].append((cid, c["level"], above["id"] if above else None, c["due"], at))
                was, c["due"] = c["due"], complaint_days.add_days(self.local_day(at), answer_days, kind)
                self.event(at, None, responsible["id"], "complaint.escalate", "complaint", cid,
                           {"escalation_level": [c["level"] - 1, c["level"]], "due_on": [was.isoformat(), c["due"].isoformat()],
                            "escalated_to": [None, above["id"] if above else None]})
                c["holder"] = above

        def answer(start: datetime, limit_days: int) -> bool:
            """Acknowledged (or answered at once) and answered, as far as now goes; whether it was answered."""
            if c["status"] != "reopened" and self.r.random() < 0.7:
                acknowledged = self.then(start, 0.02, pace * category["acknowledge_days"] * 0.8 + 0.05)
                escalate_until(acknowledged)
                if acknowledged > self.now:
                    return False
                move(acknowledged, "complaint.acknowledge", responsible["admin"], "acknowledged")
                c["acknowledged"], c["due"] = c["acknowledged"] or acknowledged, answer_by
                start = acknowledged
            answered = self.then(start, 0.1, pace * limit_days * 1.2 + 0.2)
            escalate_until(answered)
            if answered > self.now:
                return False
            upheld = self.r.random() < 0.45
            move(answered, "complaint.answer", responsible["admin"], "answered", upheld=upheld)
            c["acknowledged"] = c["acknowledged"] or answered
            c["answered"], c["upheld"] = answered, upheld
            if upheld and not c["found"]:  # one finding a complaint, as `rectification.raise_item` keeps
                self.complaint_finding(cid, category, k, responsible, answered)
                c["found"] = True
            return True

        def rate_or_close() -> None:
            answered = c["answered"]
            late = self.local_day(answered) > answer_by
            rated = self.then(answered, 0.05, 6.5) if self.r.random() < 0.6 else None
            if rated is None or rated > self.now:
                closed = answered + timedelta(days=CLOSE_AFTER_DAYS, seconds=self.r.randrange(30, 600))
                if closed <= self.now:
                    move(closed, "complaint.close", None, "closed")
                    c["closed"] = closed
                return
            # Most complainants are satisfied (Shangcheng: 94-99 %), less so when not upheld or answered late.
            centre = 4.2 + (0.4 if c["upheld"] else 0) - (1.0 if late else 0)
            c["rating"] = min(5, max(1, round(centre + self.r.gauss(0, 0.7))))
            move(rated, "complaint.rate", user, "closed", rating=c["rating"])
            c["closed"] = rated
            # An unhappy complainant mostly takes the one chance to reopen; a lukewarm one now and then.
            if c["reopened"] is None and self.r.random() < REOPEN_SHARES.get(c["rating"], 0):
                reopened = self.then(rated, 0.1, 5)
                if reopened <= self.now:
                    c["reopened"], c["closed"], c["reason"] = reopened, None, COMPLAINT_REOPEN
                    c["due"] = complaint_days.add_days(self.local_day(reopened), answer_days, kind)
                    move(reopened, "complaint.reopen", user, "reopened", due_on=c["due"].isoformat())
                    if answer(reopened, answer_days):
                        rate_or_close()

        if answer(lodged, answer_days):
            rate_or_close()
        text = self.r.choice(COMPLAINT_BODIES[category["code"]])
        token = f"{self.r.getrandbits(256):064x}"  # as a tracking link's hash: nobody holds its link
        self.rows["complaints"].append((
            cid, category["id"], community["id"], "", k["project"]["id"] if k else None,
            k["provider"]["id"] if k else None, text, by, user, org, self.name() if by == "resident" else "",
            f"139{self.r.randrange(10**8):08d}" if by == "resident" else "", token, responsible["id"], c["status"],
            c["level"], acknowledge_by, answer_by, c["due"], lodged, c["acknowledged"], c["answered"],
            COMPLAINT_ANSWERS[c["upheld"]] if c["answered"] else "", c["upheld"],
            responsible["id"] if c["answered"] else None, c["closed"], c["rating"], c["reopened"], c["reason"],
            lodged_on, self.local_day(c["answered"]) if c["answered"] else None))

    def complaint_finding(self, cid: int, category: Any, k: dict[str, Any] | None, fixer: dict[str, Any],
                          answered: datetime) -> None:
        """An upheld complaint's rectification item (complaints.finding_of): put right by the organisation
        responsible, verified by the project's buyer, else the buyer above it, else the platform."""
        verifier = k["buyer"] if k and k["buyer"]["id"] != fixer["id"] else self.overseer_of(fixer) or self.platform
        due = self.local_day(answered) + timedelta(days=RULES.rectification_days)
        self.rectification_item(
            ("complaint", cid, f"/complaints/{cid}"), fixer, verifier, "upheld", answered, due,
            f"投诉 #{cid}（{category['name_zh']}）经核实成立：{COMPLAINT_ANSWERS[True]}",
            f"Complaint #{cid} ({category['name_en']}) was upheld: {COMPLAINT_ANSWERS[True]}", COMPLAINT_EVIDENCE)

    # ---- the whole city --------------------------------------------------------------------------

    def make(self) -> None:
        self.places()
        self.organisations()
        self.catalogues()
        self.indicator_systems()
        self.needs_and_projects()
        self.money()
        self.calls()  # contracts are made with their calls
        self.resources()
        self.funds()
        self.pledges()
        self.delivery()  # after the pledges: an ended contract gives its funders' money back
        self.complaints()  # about contracts in delivery, among others


def _uuid(r: random.Random) -> Any:
    import uuid
    return uuid.UUID(int=r.getrandbits(128), version=4)


# Columns of each table as the rows above hold them, in load order.
COLUMNS: dict[str, list[str]] = {
    "jurisdictions": ["id", "parent_id", "level", "code", "name_zh", "name_en"],
    "organisations": ["id", "kind", "subtype", "name_zh", "name_en", "credit_code", "jurisdiction_id", "rating",
                      "registration_date", "description", "contact_name", "contact_phone", "contact_email", "address",
                      "status", "created_at", "verified_at"],
    "users": ["id", "email", "display_name", "password_hash", "community_id", "created_at", "password_changed_at"],
    "memberships": ["user_id", "organisation_id", "role", "created_at"],
    "catalogue_versions": ["id", "buyer_id", "year", "revision", "title_zh", "title_en", "status", "created_at",
                           "published_at"],
    "catalogue_entries": ["id", "version_id", "code", "level", "parent_code", "name_zh", "name_en", "description_zh",
                          "description_en", "unit_zh", "unit_en", "price_min_fen", "price_max_fen", "provider_types",
                          "min_rating", "min_years", "scope", "indicators", "position"],
    "indicator_versions": ["id", "owner_id", "applies_to", "stage", "revision", "title_zh", "title_en", "status",
                           "grade_a_min", "grade_b_min", "pass_grade", "created_by", "created_at", "published_at"],
    "indicator_nodes": ["version_id", "path", "name_zh", "name_en", "weight", "method", "anchors", "target",
                        "target_cap", "evidence_zh", "evidence_en", "na_allowed", "satisfaction", "question_zh",
                        "question_en"],
    "needs": ["id", "raised_by", "raised_for", "community_id", "title", "description", "beneficiaries",
              "beneficiary_count", "urgency", "suggested_entry_id", "status", "status_reason", "supporters",
              "created_at", "updated_at"],
    "need_supports": ["need_id", "user_id", "created_at"],
    "projects": ["id", "buyer_id", "jurisdiction_id", "catalogue_entry_id", "title_zh", "title_en", "description",
                 "budget_fen", "budget_line", "status", "created_by", "created_at", "funding_target_fen"],
    "project_needs": ["project_id", "need_id"],
    "calls": ["id", "project_id", "buyer_id", "procedure_type", "title_zh", "title_en", "description",
              "catalogue_entry_id", "budget_ceiling_fen", "service_start", "service_end", "service_place",
              "provider_types", "min_rating", "min_years", "cross_district", "justification", "created_by",
              "created_at", "published_at", "questions_close_at", "deadline_at", "cancelled_at", "cancel_reason",
              "awarded_at", "notice_ends_at", "failed_at", "fail_reason", "revision"],
    "call_revisions": ["call_id", "revision", "changed_at", "changed_by", "changes", "deadline_moved_to"],
    "call_criteria": ["call_id", "position", "name_zh", "name_en", "weight", "min_score", "is_price"],
    "bids": ["id", "call_id", "provider_id", "submitted_by", "status", "amount_fen", "objectives", "activities", "team",
             "indicators", "call_revision", "submitted_at"],
    "bid_budget_lines": ["bid_id", "position", "item", "amount_fen"],
    "panels": ["id", "subject_type", "subject_id", "owner_id", "created_by", "created_at", "closed_at", "status",
               "indicator_version_id", "agency_id"],
    "panel_criteria": ["panel_id", "position", "name_zh", "name_en", "weight", "min_score", "is_price",
                       "indicator_path"],
    "panel_members": ["panel_id", "user_id", "role", "added_at", "submitted_at"],
    "panel_candidates": ["panel_id", "candidate_id", "organisation_id", "label", "label_en", "price_fen", "submitted_at"],
    "panel_declarations": ["panel_id", "user_id", "candidate_id", "conflicted", "note", "declared_at"],
    "panel_scores": ["panel_id", "user_id", "candidate_id", "position", "score", "note", "scored_at"],
    "panel_consensus": ["panel_id", "candidate_id", "position", "score", "note", "recorded_by", "recorded_at"],
    "awards": ["id", "call_id", "bid_id", "panel_id", "amount_fen", "total", "awarded_by", "awarded_at",
               "notice_ends_at"],
    "contracts": ["id", "call_id", "award_id", "buyer_id", "provider_id", "amount_fen", "service_start", "service_end",
                  "status", "created_by", "created_at", "buyer_signed_by", "buyer_signed_at", "provider_signed_by",
                  "provider_signed_at", "midterm_system_id", "final_system_id"],
    "contract_milestones": ["contract_id", "position", "kind", "title", "due_date", "payment_percent", "accepted_at",
                            "accepted_by", "waits_for", "stage"],
    "delivery_reports": ["id", "contract_id", "position", "status", "late", "created_at", "submitted_at", "accepted_at",
                         "accepted_by"],
    "report_versions": ["report_id", "version", "activities", "narrative", "edited_by", "edited_at", "submitted_by",
                        "submitted_at", "returned_by", "returned_at", "comment"],
    "report_targets": ["report_id", "version", "position", "name", "target", "achieved", "note"],
    "report_spending": ["report_id", "version", "position", "item", "budget_fen", "spent_fen"],
    "contract_delivery": ["contract_id", "status", "decided_stage", "rectify_by", "rectify_note", "ended_reason",
                          "ended_at", "ended_by", "updated_at"],
    "delivery_results": ["contract_id", "stage", "decided_at", "outcome", "total", "grade", "reason", "panel_id"],
    "provider_standing": ["organisation_id", "contract_id", "stage", "catalogue_owner_id", "item_code", "grade",
                          "reason", "decided_at", "barred_until"],
    "buyer_ratings": ["contract_id", "stage", "buyer_id", "provider_id", "clarity", "payment", "support",
                      "interference", "fairness", "comment", "rated_by", "rated_at"],
    "rectification_items": ["id", "source", "source_id", "key", "owner_id", "buyer_id", "finding_zh", "finding_en",
                            "evidence_required", "source_link", "due", "status", "escalation_level", "created_at",
                            "submitted_at", "verified_at", "verified_by"],
    "rectification_fixes": ["item_id", "version", "text", "submitted_by", "submitted_at"],
    "rectification_rejections": ["item_id", "version", "reason", "rejected_by", "rejected_at"],
    "rectification_escalations": ["item_id", "level", "notified_org_id", "at"],
    "resources": ["id", "funder_id", "kind", "title", "description", "amount_fen", "quantity", "available_from",
                  "available_until", "categories", "jurisdiction_ids", "beneficiary_groups", "conditions", "private",
                  "created_by", "created_at", "withdrawn_at"],
    "funds": ["id", "owner_id", "name_zh", "name_en", "description", "matching", "ratio_num", "ratio_den",
              "min_gift_fen", "per_donor_cap_fen", "per_project_cap_fen", "created_by", "created_at", "opens_at",
              "closes_at", "updated_at"],
    "fairs": ["id", "organiser_id", "title_zh", "title_en", "place", "description", "starts_at", "ends_at", "status",
              "on_stage", "created_by", "created_at", "closed_at"],
    "fair_items": ["fair_id", "position", "project_id", "provider_id", "target_fen", "all_or_nothing", "pitch"],
    "fair_funders": ["fair_id", "funder_id", "registered_by", "registered_at"],
    "pledges": ["id", "funder_id", "pledged_by", "target_type", "project_id", "need_id", "fund_id", "amount_fen",
                "status", "allocated_project_id", "note", "created_at", "updated_at", "pay_by", "pay_reminded_on",
                "disbursed_fen"],
    "fair_raises": ["token", "fair_id", "project_id", "funder_id", "raised_by", "amount_fen", "status", "pledge_id",
                    "match_fen", "created_at", "confirmed_at"],
    "payments": ["id", "pledge_id", "method", "amount_fen", "status", "bank_reference", "paid_on", "recorded_by",
                 "recorded_at", "decided_by", "decided_at", "reminded_on"],
    "ledger_accounts": ["id", "key", "kind", "organisation_id", "fund_id", "project_id", "currency", "allow_negative"],
    "ledger_transactions": ["id", "kind", "memo", "pledge_id", "project_id", "created_by", "created_at"],
    "ledger_entries": ["id", "transaction_id", "account_id", "currency", "amount_fen"],
    "disbursements": ["id", "contract_id", "position", "transaction_id", "pledge_id", "source", "amount_fen",
                      "created_at"],
    "contract_returns": ["contract_id", "kind", "transaction_id", "pledge_id", "funder_id", "fund_id", "amount_fen"],
    "surveys": ["id", "kind", "contract_id", "community_id", "token", "status", "system_id", "below_threshold",
                "threshold_percent", "created_at", "opened_at", "closed_at"],
    "survey_questions": ["survey_id", "position", "text_zh", "text_en", "node_path"],
    "survey_codes": ["survey_id", "code", "batch", "created_at", "spent_at"],
    "survey_answers": ["id", "survey_id", "code", "phone_hash", "answered_at", "comment", "comment_status",
                       "score_total", "score_count"],
    "survey_scores": ["answer_id", "position", "score"],
    "complaints": ["id", "category_id", "community_id", "address", "project_id", "provider_id", "body", "lodged_by_kind",
                   "user_id", "complainant_org_id", "contact_name", "contact_phone", "tracking_hash", "responsible_id",
                   "status", "escalation_level", "acknowledge_by", "answer_by", "due_on", "lodged_at", "acknowledged_at",
                   "answered_at", "answer", "upheld", "answered_by_org", "closed_at", "rating", "reopened_at",
                   "reopen_reason", "lodged_on", "answered_on"],
    "complaint_escalations": ["complaint_id", "level", "organisation_id", "due_was", "escalated_at"],
    "audit_events": ["id", "at", "actor_user_id", "organisation_id", "verb", "object_type", "object_id", "diff",
                     "prev_hash", "hash"],
}


def _finish_ledger(city: City) -> None:
    """Number the transactions in time order (so no account that must stay positive is drawn on
    before it is paid into) and write their entries, the money coming in first."""
    city.transactions.sort(key=lambda t: (t[6], {"appropriation": 0, "payment": 1, "allocation": 2}.get(t[1], 3)))
    for tx in city.transactions:
        tx[0] = city.ids.take("ledger_transactions")
        city.rows["ledger_transactions"].append(tuple(tx[:7]))
        for account, amount in sorted(tx[7], key=lambda leg: -leg[1]):
            city.rows["ledger_entries"].append((city.ids.take("ledger_entries"), tx[0], account, "CNY", amount))
    for contract, position, tx, pledge, source, amount, at in city.disbursements:
        city.rows["disbursements"].append((city.ids.take("disbursements"), contract, position, tx[0], pledge, source,
                                           amount, at))
    for contract, kind, tx, pledge, funder, fund, amount in city.returns:
        city.rows["contract_returns"].append((contract, kind, tx[0] if tx else None, pledge, funder, fund, amount))
    # Receipts are numbered by the database as payments are confirmed: load them in that order.
    city.rows["payments"].sort(key=lambda p: (p[10] or p[8], p[0]))


def _chain(city: City, prev: str) -> None:
    """The audit trail's entries for everything above, in time order, each hashing the one before."""
    city.events.sort(key=lambda e: e[0])
    for at, actor, org, verb, object_type, object_id, diff in city.events:
        at = _utc(at)
        digest = entry_hash(prev, at, actor, org, verb, object_type, object_id, diff)
        city.rows["audit_events"].append((city.ids.take("audit_events"), at, actor, org, verb, object_type, object_id,
                                          diff, prev, digest))
        prev = digest


LOAD_ORDER = list(COLUMNS)


async def generate(conn: asyncpg.Connection, *, scale: float = 1.0, seed: int = 1, now: datetime | None = None,
                   say: Callable[[str], None] = print) -> dict[str, tuple[int, float]]:
    """Make a city and load it in one transaction. Returns {table: (rows, seconds)}; "(generate)"
    is the time spent making the rows in Python."""
    from market.core import clock
    from market.accounts.services import hash_password

    if await conn.fetchval("select 1 from users where email like $1 limit 1", f"%@{DOMAIN}"):
        raise RuntimeError("a generated city is loaded in this database already")
    timings: dict[str, tuple[int, float]] = {}
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", AUDIT_LOCK)
        starts = {t: await conn.fetchval(f"select coalesce(max(id), 0) from {t}") for t in SERIAL_TABLES}
        prev = await conn.fetchval("select hash from audit_events order by id desc limit 1") or GENESIS
        started = time.perf_counter()
        city = City(Sizes.at(scale), seed, now or clock.now(), _Ids(starts), hash_password(PASSWORD))
        city.complaint_categories = list(await conn.fetch(
            "select id, code, name_zh, name_en, responsible, acknowledge_days, answer_days, day_kind "
            "from complaint_categories where active order by position"))
        city.make()
        _finish_ledger(city)
        _chain(city, prev)
        timings["(generate)"] = (sum(len(v) for v in city.rows.values()), time.perf_counter() - started)
        say(f"{'(generate rows in Python)':<22} {timings['(generate)'][0]:>9} rows {timings['(generate)'][1]:8.1f} s")
        # COPY speaks PostgreSQL's binary format, and jsonb's is a version byte before the text.
        await conn.set_type_codec("jsonb", schema="pg_catalog", format="binary",
                                  encoder=lambda v: b"\x01" + json.dumps(v, ensure_ascii=False).encode(),
                                  decoder=lambda b: json.loads(b[1:]))
        for table in LOAD_ORDER:
            rows = city.rows.get(table, [])
            started = time.perf_counter()
            if rows:
                await conn.copy_records_to_table(table, records=[tuple(r) for r in rows], columns=COLUMNS[table])
            if table == "catalogue_entries":
                await conn.executemany("update catalogue_versions set status = 'published', published_at = $2 "
                                       "where id = $1", city.published)
            if table == "survey_questions":  # the project surveys' own, as the product asks them
                await surveys.add_questions(conn, city.project_surveys)
            if table == "indicator_nodes":
                await conn.executemany("update indicator_versions set status = 'published', published_at = $2 "
                                       "where id = $1", city.systems_published)
            timings[table] = (len(rows), time.perf_counter() - started)
            say(f"{table:<22} {len(rows):>9} rows {timings[table][1]:8.1f} s")
        for table in SERIAL_TABLES:
            await conn.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(select greatest(max(id), 1) from {table}))")
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        started = time.perf_counter()
    # The ledger's balance check runs as each transaction's entries commit.
    timings["(commit)"] = (0, time.perf_counter() - started)
    say(f"{'(commit: ledger checks)':<22} {'':>9}      {timings['(commit)'][1]:8.1f} s")
    await conn.execute("analyze")
    return timings
