"""A whole generated city in the database (`market demo --city`): 16 districts of unequal size, their
streets and communities, organisations, residents and their needs, projects, calls with bids,
panels, awards, contracts and milestones, funders' resources, funds, fairs, pledges, payments and
the ledger — the load the city-wide pages and the city-wide rolling docking run are measured on.

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

import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, UTC
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from market.audit.services import AUDIT_LOCK, GENESIS, entry_hash
from market.catalogue.files import parse_entries
from market.evaluation.models import Candidate as PanelCandidate
from market.evaluation.models import Criterion
from market.evaluation.scoring import rank
from market.organisations import credit_code
from market.procurement.bids.services import full_years

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

    @classmethod
    def at(cls, scale: float) -> Sizes:
        def n(full: int, least: int) -> int:
            return max(least, round(full * scale))
        projects = n(30_000, 30)
        waiting = n(20_000, 20)
        return cls(streets=n(215, 16), communities=n(6_000, 32), providers=n(16_000, 60), funders=n(3_000, 20),
                   evaluators=n(500, 6), residents=n(40_000, 60), needs=n(100_000, 100), projects=projects,
                   waiting=min(waiting, projects - 1), calls=n(25_000, 25), bids=n(50_000, 50), pledges=n(20_000, 20),
                   resources=n(6_000, 10), funds=n(50, 2), fairs=n(40, 2))


class _Ids:
    """Ids handed out here, after whatever the database holds already; sequences are moved on after."""

    def __init__(self, start: dict[str, int]) -> None:
        self.next = {t: v + 1 for t, v in start.items()}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


SERIAL_TABLES = ["jurisdictions", "organisations", "users", "catalogue_versions", "catalogue_entries", "needs",
                 "projects", "calls", "bids", "panels", "awards", "contracts", "resources", "funds", "fairs",
                 "pledges", "payments", "ledger_accounts", "ledger_transactions", "ledger_entries", "disbursements",
                 "audit_events"]


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
        self.rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.events: list[tuple[datetime, int | None, int | None, str, str, str, dict[str, Any]]] = []
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
            district = {"id": did, "division": division, "zh": zh, "en": en, "weight": weight, "streets": []}
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
        self.evaluators: list[dict[str, Any]] = []
        for _ in range(self.s.evaluators):
            d = self.district()
            agency = self.r.random() < 0.2
            word, word_en = self.place_word()
            org = self.organisation(
                kind="evaluator", subtype="agency" if agency else "expert",
                zh=f"上海{word}社会组织评估中心" if agency else f"{self.name()}（评估专家）",
                en=f"Shanghai {word_en} Evaluation Centre" if agency else "",
                code=self.code("52", d["division"]) if agency else None, place=d["id"], role="evaluator")
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
            items = []
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
            title = f"{c['zh']}{item['zh']}项目"
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
            nid, by, None, c["id"], f"{c['zh']}{title}"[:100],
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
        self.rows["calls"].append([
            cid, project["id"], buyer["id"], procedure, project["title"], "",
            f"为{project['title']}公开征集承接方，服务内容：{item['zh']}。",
            item["id"], project["budget"], None, None, project["community"]["zh"] + "及周边", item["types"],
            item["min_rating"], item["min_years"], item["cross"],
            "该项目为延续性服务，原承接方具有不可替代的专业资质。" if procedure == "single_source" else "",
            buyer["admin"], created, published, questions, deadline, cancelled,
            "项目方案调整，重新发布" if cancelled else "", None, None, failed,
            "有效投标不足两家" if failed else ""])
        row = self.rows["calls"][-1]
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
            bid_id = self.ids.take("bids")
            at = published + (last - published) * self.r.uniform(0.1, 0.95)
            at = at.replace(microsecond=0)
            amount = project["budget"] - self.r.randrange(0, project["budget"] // 5 // 100) * 100
            first = amount * 6 // 10
            self.rows["bids"].append((
                bid_id, cid, p["id"], p["admin"], "submitted", amount,
                f"围绕{item['zh']}，提升服务对象的生活质量与社区参与。", "需求评估、个案服务、小组活动、社区宣传、成效评估。",
                f"项目负责人{self.name()}，社工{self.r.randrange(2, 8)}名，志愿者若干。",
                [{"name": "服务人次", "target": self.r.randrange(100, 2000)}], 1, at))
            self.rows["bid_budget_lines"].append((bid_id, 1, "人员费用", first))
            self.rows["bid_budget_lines"].append((bid_id, 2, "活动及物料费用", amount - first))
            self.event(at, p["admin"], p["id"], "bid.submit", "bid", bid_id, {"amount_fen": [None, amount]})
            bid_rows.append({"id": bid_id, "provider": p, "amount": amount, "at": at})
        call = {"id": cid, "bids": len(bid_rows), "closed_at": closed_at}
        if kind == "live" and deadline is not None and deadline < self.now and bid_rows:
            self.panel(project, row, bid_rows)
        return call

    def panel(self, project: dict[str, Any], call: list[Any], bids: list[dict[str, Any]]) -> None:
        cid, deadline = call[0], call[21]
        buyer = project["buyer"]
        formed = self.later(deadline, 0.2, 3)
        awarded = self.later(formed, 2, 15)
        # A panel whose award is still to come: the most recent deadlines.
        decided = awarded < self.now - timedelta(days=1) and self.r.random() < 0.9
        panel_id = self.ids.take("panels")
        members = self.r.sample(self.experts, min(3, len(self.experts)))
        self.rows["panels"].append((panel_id, "call", cid, buyer["id"], buyer["admin"], formed,
                                    awarded if decided else None, "closed" if decided else "scoring"))
        for position, (zh, en, weight, min_score, is_price) in enumerate(CRITERIA, start=1):
            self.rows["panel_criteria"].append((panel_id, position, zh, en, weight, min_score, is_price))
        for k, m in enumerate(members):
            self.rows["panel_members"].append((panel_id, m["admin"], "chair" if k == 0 else "member", formed))
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
        self.rows["contracts"].append((
            kid, call[0], award_id, buyer["id"], provider["id"], bid["amount"], start, end, status, buyer["admin"],
            created, buyer["admin"] if status != "draft" else None, buyer_signed if status != "draft" else None,
            provider["admin"] if signed else None, provider_signed if signed else None))
        if signed:
            self.event(max(buyer_signed, provider_signed), provider["admin"], provider["id"], "contract.sign",
                       "contract", kid, {"status": ["buyer_signed", "signed"]})
        half = start + (end - start) / 2
        milestones = [("payment", "合同签订后支付首期款（40%）", start, 40, "none"),
                      ("report", "提交中期报告", half, None, "none"),
                      ("payment", "中期评估合格后支付（30%）", half + timedelta(days=14), 30, "midterm"),
                      ("report", "提交末期报告", end, None, "none"),
                      ("payment", "末期评估合格后支付（30%）", end + timedelta(days=14), 30, "final")]
        accepted_before = True
        for position, (kind, title, due, percent, waits) in enumerate(milestones, start=1):
            accepted = None
            # Accepted in order while due (the evaluation-gated payments are left waiting); a tenth
            # of reports come in late — what fit scoring counts against a provider.
            if signed and accepted_before and waits == "none" and due <= self.today - timedelta(days=10):
                late = kind == "report" and self.r.random() < 0.1
                day = due + timedelta(days=self.r.randrange(8, 30) if late else -self.r.randrange(0, 7))
                accepted = max(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI).astimezone(UTC),
                               provider_signed + timedelta(hours=1))
                accepted = min(accepted, self.now - timedelta(hours=1))
            accepted_before = accepted is not None
            # A report milestone reports on the stage its payment waits for: mid-term, then final.
            stage = ("midterm" if position < len(milestones) / 2 else "final") if kind == "report" else None
            self.rows["contract_milestones"].append((kid, position, kind, title, due, percent, accepted,
                                                     buyer["admin"] if accepted else None, waits, stage))
            if accepted and kind == "payment":
                self.disburse(project, kid, position, bid["amount"] * percent // 100, provider, accepted,
                              buyer_signed)

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
        buyer = project["buyer"]
        line = f"budget_line:{buyer['id']}:{self.project_line(project)}"
        if project["id"] not in self.appropriated:
            self.appropriated.add(project["id"])
            self.post(min(signed, at), "appropriation", [
                (self.account(f"government:{buyer['id']}", "government", org=buyer["id"]), -project["budget"]),
                (self.account(line, "budget_line", org=buyer["id"]), project["budget"])],
                project=project["id"], actor=buyer["admin"], memo=self.project_line(project))
        tx = self.post(at, "disbursement", [
            (self.account(line, "budget_line", org=buyer["id"]), -amount),
            (self.account(f"provider:{provider['id']}", "provider", org=provider["id"]), amount)],
            project=project["id"], actor=buyer["admin"], memo=f"合同{contract}第{position}期")
        self.disbursements.append((contract, position, tx, None, "budget_line", amount, at))

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
        self.fund_list = []
        for _i in range(self.s.funds):
            owner = self.r.choice(owners)
            fid = self.ids.take("funds")
            created = self.at(self.recent_days() + 30)
            word, word_en = self.place_word()
            ratio = self.r.random() < 0.2
            opens = self.later(created, 1, 10) if ratio else None
            closes = opens + timedelta(days=self.r.randrange(30, 180)) if ratio else None
            self.rows["funds"].append((
                fid, owner["id"], f"{word}社区伙伴基金", f"{word_en} Community Partners Fund", "支持社区公益项目的专项基金。",
                "ratio" if ratio else "none", 1 if ratio else None, 1 if ratio else None, 100_00 if ratio else 0,
                5_000_00 if ratio else None, 50_000_00 if ratio else None, owner["admin"], created, opens, closes,
                created))
            self.fund_list.append({"id": fid, "owner": owner, "created": created})

    def pledges(self) -> None:
        verified = [f for f in self.funders if f["status"] == "verified"]
        fairs_share = self.fairs()
        for _i in range(max(0, self.s.pledges - fairs_share)):
            funder = self.r.choice(verified)
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
        receiver = project["buyer"] if project else fund["owner"]
        status = status or self.r.choices(["pledged", "awaiting_payment", "paid", "allocated", "cancelled"],
                                          [15, 10, 25, 40, 10])[0]
        if fund is not None and status == "allocated":
            status = "paid"
        pay_at = self.later(created, 1, 20)
        confirm_at = self.later(pay_at, 0.5, 5)
        if status in ("paid", "allocated", "awaiting_payment") and confirm_at >= self.now:
            status = "pledged"
        self.rows["pledges"].append((
            pid, funder["id"], funder["admin"], "project" if project else "fund", project["id"] if project else None,
            None, fund["id"] if fund else None, amount, status, project["id"] if status == "allocated" else None,
            note, created, confirm_at if status in ("paid", "allocated") else created))
        self.event(created, funder["admin"], funder["id"], "pledge.create", "pledge", pid, {"amount_fen": [None, amount]})
        if status in ("awaiting_payment", "paid", "allocated"):
            pay_id = self.ids.take("payments")
            confirmed = status != "awaiting_payment"
            self.rows["payments"].append((
                pay_id, pid, "offline", amount, "confirmed" if confirmed else "pending", f"CITY{pay_id:08d}",
                pay_at.astimezone(SHANGHAI).date(), funder["admin"], pay_at, receiver["admin"] if confirmed else None,
                confirm_at if confirmed else None))
            if confirmed:
                self.event(confirm_at, receiver["admin"], receiver["id"], "payment.confirm", "payment", pay_id,
                           {"status": ["pending", "confirmed"]})
                into = (self.account(f"escrow:{project['id']}", "escrow", project=project["id"]) if project
                        else self.account(f"fund:{fund['id']}", "fund", fund=fund["id"]))
                self.post(confirm_at, "payment", [
                    (self.account(f"funder:{funder['id']}", "funder", org=funder["id"]), -amount), (into, amount)],
                    pledge=pid, project=project["id"] if project else None, actor=receiver["admin"])
                if status == "allocated":
                    self.post(confirm_at, "allocation", [
                        (into, -amount),
                        (self.account(f"project:{project['id']}", "project", project=project["id"]), amount)],
                        pledge=pid, project=project["id"], actor=receiver["admin"])
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

    # ---- the whole city --------------------------------------------------------------------------

    def make(self) -> None:
        self.places()
        self.organisations()
        self.catalogues()
        self.needs_and_projects()
        self.money()  # contracts are made with their calls, and pay their first milestones
        self.calls()
        self.resources()
        self.funds()
        self.pledges()


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
              "awarded_at", "notice_ends_at", "failed_at", "fail_reason"],
    "call_criteria": ["call_id", "position", "name_zh", "name_en", "weight", "min_score", "is_price"],
    "bids": ["id", "call_id", "provider_id", "submitted_by", "status", "amount_fen", "objectives", "activities", "team",
             "indicators", "call_revision", "submitted_at"],
    "bid_budget_lines": ["bid_id", "position", "item", "amount_fen"],
    "panels": ["id", "subject_type", "subject_id", "owner_id", "created_by", "created_at", "closed_at", "status"],
    "panel_criteria": ["panel_id", "position", "name_zh", "name_en", "weight", "min_score", "is_price"],
    "panel_members": ["panel_id", "user_id", "role", "added_at"],
    "panel_candidates": ["panel_id", "candidate_id", "organisation_id", "label", "label_en", "price_fen", "submitted_at"],
    "panel_declarations": ["panel_id", "user_id", "candidate_id", "conflicted", "note", "declared_at"],
    "panel_consensus": ["panel_id", "candidate_id", "position", "score", "note", "recorded_by", "recorded_at"],
    "awards": ["id", "call_id", "bid_id", "panel_id", "amount_fen", "total", "awarded_by", "awarded_at",
               "notice_ends_at"],
    "contracts": ["id", "call_id", "award_id", "buyer_id", "provider_id", "amount_fen", "service_start", "service_end",
                  "status", "created_by", "created_at", "buyer_signed_by", "buyer_signed_at", "provider_signed_by",
                  "provider_signed_at"],
    "contract_milestones": ["contract_id", "position", "kind", "title", "due_date", "payment_percent", "accepted_at",
                            "accepted_by", "waits_for", "stage"],
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
                "status", "allocated_project_id", "note", "created_at", "updated_at"],
    "fair_raises": ["token", "fair_id", "project_id", "funder_id", "raised_by", "amount_fen", "status", "pledge_id",
                    "match_fen", "created_at", "confirmed_at"],
    "payments": ["id", "pledge_id", "method", "amount_fen", "status", "bank_reference", "paid_on", "recorded_by",
                 "recorded_at", "decided_by", "decided_at"],
    "ledger_accounts": ["id", "key", "kind", "organisation_id", "fund_id", "project_id", "currency", "allow_negative"],
    "ledger_transactions": ["id", "kind", "memo", "pledge_id", "project_id", "created_by", "created_at"],
    "ledger_entries": ["id", "transaction_id", "account_id", "currency", "amount_fen"],
    "disbursements": ["id", "contract_id", "position", "transaction_id", "pledge_id", "source", "amount_fen",
                      "created_at"],
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
