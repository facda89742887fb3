"""The demo district, modelled on Hangzhou's Shangcheng district (seed 001): streets and communities,
the civil-affairs bureau and street offices, social organisations, enterprises, evaluators, residents.

Idempotent: it runs in one transaction and does nothing the second time but list the log-ins.
"""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from market.accounts import services as accounts
from market.accounts.services import (
    check_password_strength,
    hash_password,
    normalise_email,
)
from market.audit import services as audit
from market.audit.models import Verb
from market.catalogue import services as catalogue
from market.catalogue.models import NewVersion
from market.complaints import demo as complaints_demo
from market.core import clock
from market.core.access import Identity
from market.core.clock import on_day
from market.core.errors import Invalid, InvalidFields
from market.core.settings import Settings
from market.delivery import services as delivery
from market.delivery.reports import services as reports
from market.delivery.reports.models import ReportInput, ReturnInput, SpendingInput
from market.delivery.reports.models import TargetInput as Achieved
from market.evaluation import services as engine
from market.delivery import ending, rounds
from market.delivery.models import EndInput, RectifyInput
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators import tree as indicator_tree
from market.evaluation.indicators.models import NewSystemVersion as IndicatorDraft
from market.evaluation.indicators.models import Stage
from market.evaluation.models import AddMember, Declaration, ScoreInput
from market.buyers import demo as buyers_demo
from market.funding import demo as funding_demo
from market.funding.pledges import services as pledges
from market.funding.pledges.models import OfflinePaymentInput, PledgeInput
from market.matching import demo as fairs_demo
from market.rectification import demo as rectification_demo
from market.organisations import credit_code
from market.organisations.services import insert_organisation
from market.places.services import add_jurisdiction
from market.procurement.contracts import services as contracts
from market.procurement.awards import batches, panels
from market.procurement.awards import services as awards
from market.procurement.bids import services as bids
from market.procurement.bids.models import BidInput, BudgetLine, TargetInput
from market.procurement.calls import services as calls
from market.procurement.calls.models import CallInput, CriterionInput
from market.procurement.needs import services as needs
from market.surveys import demo as surveys_demo
from market.procurement.needs.models import Decision, NeedInput, ProjectInput, Urgency

DEMO_PASSWORD = "market-demo-2026"
DOMAIN = "demo.market"
DISTRICT = ("330102", "上城区", "Shangcheng District")
STREETS = [
    ("hubin", "湖滨街道", "Hubin Street", ["东坡路社区", "青年路社区", "岳王路社区"]),
    ("qingbo", "清波街道", "Qingbo Street", ["清波门社区", "柳翠井巷社区", "劳动路社区"]),
    ("xiaoying", "小营街道", "Xiaoying Street", ["小营巷社区", "大学路社区", "葵巷社区", "梅花碑社区"]),
    ("wangjiang", "望江街道", "Wangjiang Street", ["近江社区", "婺江社区", "望江家园社区"]),
    ("ziyang", "紫阳街道", "Ziyang Street", ["上羊市街社区", "十五奎巷社区", "新工社区"]),
    ("nanxing", "南星街道", "Nanxing Street", ["馒头山社区", "海月社区", "江城社区"]),
]
COMMUNITY_EN = {
    "东坡路社区": "Dongpo Road", "青年路社区": "Qingnian Road", "岳王路社区": "Yuewang Road",
    "清波门社区": "Qingbomen", "柳翠井巷社区": "Liucuijingxiang", "劳动路社区": "Laodong Road",
    "小营巷社区": "Xiaoyingxiang", "大学路社区": "Daxue Road", "葵巷社区": "Kuixiang", "梅花碑社区": "Meihuabei",
    "近江社区": "Jinjiang", "婺江社区": "Wujiang", "望江家园社区": "Wangjiang Jiayuan",
    "上羊市街社区": "Shangyangshi Street", "十五奎巷社区": "Shiwukuixiang", "新工社区": "Xingong",
    "馒头山社区": "Mantoushan", "海月社区": "Haiyue", "江城社区": "Jiangcheng",
}

# (name, English name, registration type, rating, year registered, street key, what they do)
Provider = tuple[str, str, str, int | None, int, str, str]
PROVIDERS: list[Provider] = [
    ("上城区阳光老年服务中心", "Sunshine Elderly Services Centre", "social_service_agency", 5, 2009, "hubin", "居家养老、助餐助浴、老年人精神慰藉"),
    ("上城区湖滨社区发展促进会", "Hubin Community Development Association", "social_group", 4, 2012, "hubin", "社区营造、居民议事、邻里互助"),
    ("上城区青苗青少年事务服务社", "Qingmiao Youth Affairs Service", "social_service_agency", 4, 2013, "qingbo", "青少年课后托管、心理健康、社区矫正帮教"),
    ("上城区助残康复服务中心", "Disability Rehabilitation Service Centre", "social_service_agency", 5, 2010, "xiaoying", "残疾人康复训练、辅助就业、家庭支持"),
    ("上城区邻里守望志愿者协会", "Neighbourhood Watch Volunteers Association", "social_group", 3, 2014, "xiaoying", "志愿服务、平安巡防、应急互助"),
    ("上城区善缘社会工作服务社", "Shanyuan Social Work Service", "social_service_agency", 4, 2011, "wangjiang", "专业社工、个案管理、困难家庭救助"),
    ("上城区乐龄文化艺术团", "Golden Age Arts Troupe", "social_group", 2, 2016, "ziyang", "老年文体活动、社区文化节"),
    ("上城区慈航公益基金会", "Cihang Charity Foundation", "foundation", 4, 2015, "nanxing", "公益创投资助、社区服务基金"),
    ("上城区社会组织发展基金会", "Shangcheng Social Organisation Development Foundation", "foundation", 5, 2013, "hubin", "社会组织孵化、We创客计划、好邻居基金"),
    ("上城区家庭综合服务中心", "Family Integrated Services Centre", "social_service_agency", 4, 2012, "qingbo", "婚姻家庭辅导、亲子教育、家庭暴力预防"),
    ("上城区暖心助餐服务社", "Warm Heart Meal Service", "social_service_agency", 3, 2017, "ziyang", "老年食堂、送餐上门"),
    ("上城区心理健康促进会", "Mental Health Promotion Association", "social_group", 3, 2015, "wangjiang", "心理咨询、危机干预、心理健康科普"),
    ("上城区残疾人托养服务中心", "Disabled Persons Day Care Centre", "social_service_agency", 4, 2014, "nanxing", "残疾人日间照料、托养"),
    ("上城区红枫义工联合会", "Red Maple Volunteers Federation", "social_group", 3, 2011, "xiaoying", "义工招募培训、志愿服务项目运营"),
    ("上城区书香社区阅读推广中心", "Community Reading Promotion Centre", "social_service_agency", 2, 2018, "hubin", "社区阅读、亲子共读"),
    ("上城区法律援助服务社", "Legal Aid Service", "social_service_agency", 4, 2013, "qingbo", "法律咨询、人民调解、普法宣传"),
    ("上城区流动人口服务中心", "Migrant Residents Service Centre", "social_service_agency", 3, 2016, "wangjiang", "新市民融入、子女教育支持"),
    ("上城区社区营造研究会", "Community Building Research Society", "social_group", 3, 2017, "ziyang", "社区规划、参与式预算、议事协商"),
    ("上城区困境儿童关爱中心", "Children in Difficulty Care Centre", "social_service_agency", 4, 2014, "nanxing", "困境儿童监护支持、学业辅导"),
    ("上城区失独家庭互助会", "Bereaved Parents Mutual Aid Association", "social_group", 2, 2018, "hubin", "失独家庭陪伴、哀伤辅导"),
    ("上城区适老化改造服务中心", "Age-Friendly Home Adaptation Centre", "social_service_agency", 3, 2019, "xiaoying", "居家适老化改造评估与施工监理"),
    ("上城区环保志愿者协会", "Environmental Volunteers Association", "social_group", 3, 2013, "qingbo", "垃圾分类、低碳社区"),
    ("上城区禁毒社会工作站", "Drug Prevention Social Work Station", "social_service_agency", 4, 2012, "wangjiang", "禁毒宣传、社区康复"),
    ("上城区社区教育促进会", "Community Education Association", "social_group", 3, 2015, "ziyang", "社区学校、老年大学、技能培训"),
    ("上城区认知症照护服务中心", "Dementia Care Centre", "social_service_agency", 4, 2020, "nanxing", "认知症筛查、照护者支持"),
    ("上城区退役军人服务协会", "Veterans Service Association", "social_group", 3, 2019, "hubin", "退役军人帮扶、拥军优属"),
    ("上城区社会工作者协会", "Social Workers Association", "social_group", 5, 2009, "xiaoying", "社工行业支持、督导培训"),
    ("上城区安宁疗护关怀中心", "Hospice Care Centre", "social_service_agency", 3, 2021, "qingbo", "临终关怀、家属支持"),
    ("上城区公益创投孵化园", "Venture Philanthropy Incubator", "social_service_agency", 4, 2013, "wangjiang", "公益项目孵化、能力建设"),
    ("上城区平安调解服务社", "Peaceful Mediation Service", "social_service_agency", 3, 2016, "ziyang", "邻里纠纷调解、物业矛盾化解"),
]
# Two more that have registered and wait for the platform to verify them.
PENDING_PROVIDERS: list[Provider] = [
    ("上城区小橘灯儿童服务社", "Little Orange Lamp Children's Service", "social_service_agency", None, 2024, "nanxing", "社区儿童之家运营"),
    ("上城区银龄互助会", "Silver Age Mutual Aid Association", "social_group", None, 2025, "hubin", "低龄老人服务高龄老人"),
]
ENTERPRISES = [
    ("杭州湖滨银泰商业管理有限公司", "Hubin Intime Commercial Management", "hubin"),
    ("浙江清河坊文化旅游发展有限公司", "Qinghefang Culture & Tourism", "qingbo"),
    ("杭州望江数字科技有限公司", "Wangjiang Digital Technology", "wangjiang"),
    ("杭州紫阳老字号食品有限公司", "Ziyang Heritage Foods", "ziyang"),
    ("浙江南星建设集团有限公司", "Nanxing Construction Group", "nanxing"),
    ("杭州小营医药连锁有限公司", "Xiaoying Pharmacy Chain", "xiaoying"),
    ("杭州钱江银行上城支行", "Qianjiang Bank Shangcheng Branch", "hubin"),
    ("杭州吴山物业服务有限公司", "Wushan Property Services", "qingbo"),
    ("浙江之江保险代理有限公司", "Zhijiang Insurance Agency", "wangjiang"),
    ("杭州西湖文创有限公司", "West Lake Creative Industries", "hubin"),
]
RESIDENTS = [("王阿姨", "resident1", "东坡路社区"), ("李大伯", "resident2", "清波门社区"),
             ("陈女士", "resident3", "小营巷社区"), ("张先生", "resident4", "近江社区"),
             ("刘奶奶", "resident5", "馒头山社区")]


def _code(prefix: str, serial: int) -> str:
    """A well-formed demo credit code: valid check digits, division 330102, recognisable serial."""
    return credit_code.make(prefix, DISTRICT[0], f"MA{serial:06d}")


async def create_platform_admin(conn: asyncpg.Connection, email: str, name: str, password: str) -> int:
    """The platform organisation (created once) and an administrator of it."""
    email = normalise_email(email)
    try:
        check_password_strength(password, email)
    except Invalid as exc:
        raise InvalidFields([exc]) from None
    district = await conn.fetchval("select id from jurisdictions where level = 'district' order by id limit 1")
    if district is None:
        raise Invalid("There is no district yet: import the jurisdiction tree first (market jurisdictions import).")
    org_id = await _organisation(conn, kind="platform", subtype="platform", name_zh="公益服务市场平台",
                                 name_en="Public Service Market Platform", code=_code("12", 1), place=district)
    return await _user(conn, email, name, hash_password(password), org_id, "admin")


async def _district(conn: asyncpg.Connection) -> int:
    existing = await conn.fetchval("select id from jurisdictions where code = $1", DISTRICT[0])
    if existing:
        return existing
    return await add_jurisdiction(conn, parent_id=None, level="district", code=DISTRICT[0], name_zh=DISTRICT[1],
                                  name_en=DISTRICT[2])


async def _organisation(conn: asyncpg.Connection, *, kind: str, subtype: str, name_zh: str, name_en: str,
                        code: str | None, place: int, rating: int | None = None, registered: date | None = None,
                        description: str = "", status: str = "verified") -> int:
    existing = (await conn.fetchval("select id from organisations where credit_code = $1", code) if code else
                await conn.fetchval("select id from organisations where name_zh = $1 and credit_code is null", name_zh))
    if existing:
        return existing
    org_id = await insert_organisation(
        conn, kind=kind, subtype=subtype, name_zh=name_zh, name_en=name_en, credit_code=code, jurisdiction_id=place,
        rating=rating, registration_date=registered, description=description, contact_name="",
        contact_phone=f"0571-8700{zlib.crc32(name_zh.encode()) % 10000:04d}", contact_email="",
        address="" if subtype in ("individual", "expert") else "浙江省杭州市上城区",
        status=status,
    )
    # None only for a credit code that is taken, and one that is was found above.
    assert org_id is not None
    await audit.record(conn, verb=Verb.ORGANISATION_REGISTER, object_type="organisation", object_id=org_id,
                       organisation=org_id, after={"kind": kind, "subtype": subtype, "name_zh": name_zh,
                                                   "credit_code": code, "status": status})
    return org_id


async def _user(conn: asyncpg.Connection, email: str, name: str, password_hash: str, org_id: int | None,
                role: str | None, community: int | None = None) -> int:
    user_id = await conn.fetchval("select id from users where email = $1", email)
    if user_id is None:
        user_id = await accounts.insert_user(conn, email=email, display_name=name, password_hash=password_hash,
                                                     community_id=community, locale="zh_Hans")
        await audit.record(conn, verb=Verb.USER_SIGN_UP, object_type="user", object_id=user_id,
                           after={"email": email, "display_name": name})
    if org_id is not None and role is not None and not await accounts.membership(conn, user_id=user_id,
                                                                                  organisation_id=org_id):
        await accounts.insert_membership(conn, user_id=user_id, organisation_id=org_id, role=role)
        await audit.record(conn, verb=Verb.MEMBERSHIP_ADD, object_type="membership", object_id=f"{org_id}:{user_id}",
                           organisation=org_id, after={"user_id": user_id, "role": role})
    return user_id


async def _catalogue(conn: asyncpg.Connection, bureau: int, admin: int) -> None:
    """The bureau's purchasing catalogue: 2025 (since replaced), 2026 in force, and a 2027 draft."""
    if await conn.fetchval("select count(*) from catalogue_versions where buyer_id = $1", bureau):
        return
    who = Identity(user_id=admin, email=f"bureau@{DOMAIN}", display_name="周科长", locale="zh_Hans", community_id=None,
                   session_hash="", org_id=bureau, org_kind="buyer", org_status="verified", role="admin")
    data = (Path(__file__).parent / "catalogue" / "demo_catalogue.csv").read_bytes()
    versions = {}
    for year in (2025, 2026):
        versions[year] = await catalogue.create_version(conn, who, NewVersion(
            year=year, title_zh=f"上城区政府购买社会组织服务指导性目录（{year}年）",
            title_en=f"Shangcheng District guiding catalogue for purchasing services from social organisations ({year})"))
        await catalogue.import_file(conn, who, versions[year], data)
        await catalogue.change_status(conn, who, versions[year], "publish")
    await catalogue.create_version(conn, who, NewVersion(
        year=2027, title_zh="上城区政府购买社会组织服务指导性目录（2027年，征求意见稿）",
        title_en="Shangcheng District guiding catalogue (2027, consultation draft)", copy_from=versions[2026]))


async def _indicator_systems(conn: asyncpg.Connection, admin: int) -> None:
    """The platform's default indicator systems for mid-term and final evaluations, published: the
    five parts Chinese districts' third-party evaluations weigh (see demo_*.csv beside the code)."""
    if await conn.fetchval("select count(*) from indicator_versions where owner_id is null"):
        return
    platform = await conn.fetchval("select id from organisations where credit_code = $1", _code("12", 1))
    who = _acting(admin, platform, "platform")
    titles: dict[Stage, tuple[str, str]] = {
        "midterm": ("政府购买服务项目中期评估指标体系", "Mid-term evaluation indicators for purchased services"),
        "final": ("政府购买服务项目末期评估指标体系", "Final evaluation indicators for purchased services")}
    for stage, (title_zh, title_en) in titles.items():
        data = (Path(__file__).parent / "evaluation" / "indicators" / f"demo_{stage}.csv").read_bytes()
        version = await indicators.create_version(conn, who, IndicatorDraft(stage=stage, title_zh=title_zh,
                                                                             title_en=title_en))
        await indicators.import_file(conn, who, version, data)
        await indicators.change_status(conn, who, version, "publish")


# (resident, community, title, description, beneficiaries, how many, urgency)
NEEDS: list[tuple[str, str, str, str, str, int, Urgency]] = [
    ("resident1", "东坡路社区", "独居老人午饭没着落", "社区里有不少80岁以上独居老人，子女不在身边，中午常常凑合吃点剩饭，希望社区能提供助餐或送餐。",
     "80岁以上独居老人", 46, "high"),
    ("resident2", "清波门社区", "老人吃饭难，希望有老年食堂", "清波门一带老小区多，老年人做饭不方便，附近没有价格合适的老年食堂。", "辖区老年人", 120, "high"),
    ("resident3", "小营巷社区", "放学后孩子没人看", "双职工家庭的孩子下午三点半放学后没人照看，希望社区开设课后托管和作业辅导。", "小学生及其家庭", 60, "normal"),
    ("resident4", "近江社区", "卧床老人洗澡难", "失能卧床的老人在家洗澡很困难，家属搬不动，希望有上门助浴服务。", "失能卧床老人", 18, "urgent"),
    ("resident5", "馒头山社区", "楼道堆物多，邻里矛盾多", "老旧小区楼道堆物、停车占道引发不少邻里纠纷，希望有人来调解并组织居民议事。", "全体居民", 900, "normal"),
    ("resident1", "东坡路社区", "残疾人白天没地方去", "辖区智力残疾和精神残疾人员白天在家无人照看，家属无法工作，希望有日间照料场所。", "残疾人及其家属", 25, "high"),
    ("resident3", "小营巷社区", "老人不会用智能手机", "很多老人不会用手机挂号、扫码、视频，希望有志愿者教老人用智能手机。", "60岁以上老年人", 200, "low"),
]


def _org_of(who: Identity) -> int:
    """The organisation a demo identity acts for: _acting always gives one."""
    assert who.org_id is not None
    return who.org_id


def _acting(user_id: int, org_id: int, kind: str = "buyer") -> Identity:
    """Demo staff acting for their organisation without a session."""
    return Identity(user_id=user_id, email="", display_name="", locale="zh_Hans", community_id=None, session_hash="",
                    org_id=org_id, org_kind=kind, org_status="verified", role="admin")


async def _needs_and_projects(conn: asyncpg.Connection, communities: dict[str, int], people: dict[str, int],
                              bureau: int, bureau_admin: int, office: tuple[int, int]) -> None:
    """Needs raised by residents and supported by neighbours; two made projects, one declined."""
    if await conn.fetchval("select count(*) from needs"):
        return

    def resident(local: str, community: str | None = None) -> Identity:
        return Identity(user_id=people[local], email=f"{local}@{DOMAIN}", display_name=local, locale="zh_Hans",
                        community_id=communities.get(community or ""), session_hash="")
    ids = []
    for local, community, title, description, who, count, urgency in NEEDS:
        ids.append(await needs.raise_need(conn, resident(local), NeedInput(
            title=title, description=description, community_id=communities[community], beneficiaries=who,
            beneficiary_count=count, urgency=urgency)))
    for need_id, supporters in zip(ids, ([2, 3, 4, 5], [1, 3, 4], [1, 2], [1, 2, 3, 5], [2, 3], [2, 4, 5], [1])):
        for n in supporters:
            await needs.support(conn, resident(f"resident{n}"), need_id)
    bureau_staff = _acting(bureau_admin, bureau)
    district = await conn.fetchval("select jurisdiction_id from organisations where id = $1", bureau)
    meals = await conn.fetchval("select e.id from catalogue_entries e join catalogue_versions v on v.id = e.version_id "
                                "where v.buyer_id = $1 and v.status = 'published' and e.code = '01.01.01'", bureau)
    await needs.create_project(conn, bureau_staff, ProjectInput(
        title_zh="湖滨、清波片区老年助餐服务", title_en="Meals for older people in Hubin and Qingbo",
        description="在东坡路、清波门社区设立助餐点，为高龄、独居老人提供午餐堂食和送餐上门服务，为期一年。",
        catalogue_entry_id=meals, budget_fen=36_000_000, budget_line="2026年福利彩票公益金",
        jurisdiction_id=district, need_ids=ids[:2]))
    street_staff = _acting(*office)
    home_care = await conn.fetchval("select e.id from catalogue_entries e join catalogue_versions v on v.id = e.version_id "
                                    "where v.buyer_id = $1 and v.status = 'published' and e.code = '01.01.02'", bureau)
    await needs.create_project(conn, street_staff, ProjectInput(
        title_zh="近江社区失能老人上门助浴", title_en=TITLES_EN["近江社区失能老人上门助浴"], description="为近江社区失能卧床老人提供每月两次上门助浴和生活照料服务。",
        catalogue_entry_id=home_care, budget_fen=4_320_000, budget_line="望江街道2026年民生实事资金",
        jurisdiction_id=communities["近江社区"], need_ids=[ids[3]]))
    await needs.change_need(conn, bureau_staff, ids[6], "decline", Decision(
        reason="该需求已纳入小营街道老年大学“智能手机课堂”，无需另行立项，欢迎报名。"))


# The demo's projects and calls in English too, as a bureau that publishes in both languages gives them
# (an English reader of the demo would otherwise meet every title in Chinese). A call made for a project
# is "<project>项目采购" / "<project>: procurement".
TITLES_EN = {
    "近江社区失能老人上门助浴": "Home bathing for bedridden older people, Jinjiang community",
    "望江街道社会工作站运营": "Running the Wangjiang Street social work station",
    "南星街道独居老人探访关爱": "Visits and care for older people living alone, Nanxing Street",
    "近江社区青少年课后托管": "After-school care for young people, Jinjiang community",
    "清波街道邻里互助睦邻点建设": "Neighbourhood mutual-aid points, Qingbo Street",
    "紫阳街道社区议事协商能力提升": "Community deliberation skills, Ziyang Street",
    "南星街道困境家庭帮扶服务": "Support for families in difficulty, Nanxing Street",
    "湖滨街道独居老人精神慰藉服务": "Companionship for older people living alone, Hubin Street",
    "四季青街道青少年课后托管服务": "After-school care for young people, Sijiqing Street",
    "彭埠街道社区融合助残服务": "Community inclusion for people with disabilities, Pengbu Street",
    "紫阳街道社区老年人健康管理服务": "Health management for older people, Ziyang Street",
    "2026年上城区公益创投（社区治理类）": "Shangcheng charity ventures 2026: community governance",
    "2026年公益创投社区治理类项目常年征集": "Charity ventures 2026, community governance: proposals all year",
    "残疾人康复辅具适配服务": "Fitting assistive devices for people with disabilities",
    "残疾人康复辅具适配服务采购": "Fitting assistive devices for people with disabilities: procurement",
    "小营街道社会工作站运营": "Running the Xiaoying Street social work station",
    "小营街道社会工作站运营服务采购": "Running the Xiaoying Street social work station: procurement",
    "困境儿童个案管理服务": "Case management for children in difficulty",
    "困境儿童个案管理服务采购": "Case management for children in difficulty: procurement",
    "湖滨、清波片区老年助餐服务采购": "Meals for older people in Hubin and Qingbo: procurement",
    "近江社区失能老人上门助浴服务采购": "Home bathing for bedridden older people, Jinjiang community: procurement",
}


def _criteria() -> list[CriterionInput]:
    return [CriterionInput(name_zh="项目设计与可行性", name_en="Design and feasibility", weight=35, min_score=60),
            CriterionInput(name_zh="组织能力与团队", name_en="Organisation and team", weight=25),
            CriterionInput(name_zh="预期成效", name_en="Expected outcomes", weight=20),
            CriterionInput(name_zh="价格", name_en="Price", weight=20, is_price=True)]


def _bid(amount: int, plan: str) -> BidInput:
    return BidInput(amount_fen=amount, objectives=f"{plan}，服务对象满意度不低于95%。",
                    activities=f"{plan}。第一季度完成需求评估与人员培训，第二至四季度全面实施并每月报告。",
                    team="项目主管1名、持证社工2名、护理员及志愿者若干",
                    budget_lines=[BudgetLine(item="人员费用", amount_fen=amount * 6 // 10),
                                  BudgetLine(item="服务物资与餐费补贴", amount_fen=amount * 3 // 10),
                                  BudgetLine(item="管理与评估费用", amount_fen=amount - amount * 6 // 10 - amount * 3 // 10)],
                    indicators=[TargetInput(name="服务人次", target="12000"), TargetInput(name="服务对象满意度", target="95%")])


async def _score_panel(conn: asyncpg.Connection, bureau: Identity, panel_id: int, evaluators: tuple[str, str],
                       scores: dict[int, tuple[int, int, int]]) -> None:
    """Seat the two evaluators (the first chairs), and record their scores and the consensus."""
    chair_email, member_email = evaluators
    await engine.add_member(conn, bureau, panel_id, AddMember(email=chair_email, role="chair"))
    await engine.add_member(conn, bureau, panel_id, AddMember(email=member_email))
    await engine.start_scoring(conn, bureau, panel_id)
    people = [await _acting_user(conn, email) for email in evaluators]
    for candidate in await engine.candidates_of(conn, panel_id):
        for person in people:
            await engine.declare(conn, person, panel_id, Declaration(candidate_id=candidate.candidate_id, conflicted=False))
            for position, score in zip((1, 2, 3), scores[candidate.organisation_id], strict=True):
                await engine.score(conn, person, panel_id, ScoreInput(candidate_id=candidate.candidate_id,
                                                                      position=position, score=score, note="材料完整"))
        for position, score in zip((1, 2, 3), scores[candidate.organisation_id], strict=True):
            await engine.record_consensus(conn, people[0], panel_id, ScoreInput(
                candidate_id=candidate.candidate_id, position=position, score=score, note="评审小组合议"))


def _answer(leaf: Any, level: float, shift: int) -> ScoreInput:
    """What an evaluator who finds delivery at `level` (0–1) gives a leaf; `shift` points lower on a
    scale, so two evaluators differ a little."""
    if leaf.method == "scale":
        return ScoreInput(candidate_id=1, position=1, score=max(0, round(level * 5) - shift) * 20)
    if leaf.method == "yesno":
        return ScoreInput(candidate_id=1, position=1, score=100 if level >= 0.5 else 0)
    if leaf.target is not None:
        return ScoreInput(candidate_id=1, position=1, score=None, achieved=float(Decimal(str(level)) * leaf.target))
    return ScoreInput(candidate_id=1, position=1, score=round(level * 100, 2))


async def _score_leaves(conn: asyncpg.Connection, person: Identity, panel_id: int, level: float, note: str,
                        shift: int = 0) -> None:
    """One evaluator declares no conflict and scores every indicator of the panel's system."""
    system = await engine.system_of(conn, await conn.fetchrow("select * from panels where id = $1", panel_id))
    assert system is not None
    leaves = {leaf.path: leaf for leaf in indicator_tree.leaves(system.nodes)}
    (candidate,) = await engine.candidates_of(conn, panel_id)
    await engine.declare(conn, person, panel_id, Declaration(candidate_id=candidate.candidate_id, conflicted=False))
    for c in await engine.criteria_of(conn, panel_id):
        answer = _answer(leaves[c.indicator_path or ""], level, shift if c.position % 3 == 0 else 0)
        await engine.score(conn, person, panel_id, msgspec.structs.replace(
            answer, candidate_id=candidate.candidate_id, position=c.position, note=note))


async def _score_round(conn: asyncpg.Connection, bureau: Identity, contract_id: int, stage: str, level: float,
                       today: datetime, day: float, rectification_days: int = rounds.RECTIFICATION_DAYS) -> None:
    """The bureau opens the stage's evaluation; the agency's expert chairs and the independent expert
    sits beside them; both score every indicator and submit, the chair records the consensus, and the
    bureau decides it."""
    panel_id = await rounds.open_round(conn, bureau, contract_id, stage)
    await engine.add_member(conn, bureau, panel_id, AddMember(email=f"evaluator.expert1@{DOMAIN}", role="chair"))
    await engine.add_member(conn, bureau, panel_id, AddMember(email=f"expert@{DOMAIN}"))
    await engine.start_scoring(conn, bureau, panel_id)
    chair, member = (await _acting_user(conn, f"evaluator.expert1@{DOMAIN}"),
                     await _acting_user(conn, f"expert@{DOMAIN}"))
    await _score_leaves(conn, chair, panel_id, level, "查阅服务台账、财务凭证，入户回访服务对象")
    await _score_leaves(conn, member, panel_id, level, "现场查看活动开展情况", shift=1)
    for person in (chair, member):
        await engine.submit(conn, person, panel_id)
    await _on(conn, today, day + 1)
    for score in await engine.member_scores(conn, panel_id):
        if score.user_id == chair.user_id:
            await engine.record_consensus(conn, chair, panel_id, ScoreInput(
                candidate_id=score.candidate_id, position=score.position, score=score.score, note="评估小组合议"))
    await rounds.decide_round(conn, bureau, contract_id, stage, rectification_days)


async def _on(conn: asyncpg.Connection, start: datetime, days: float) -> None:
    await on_day(conn, start, days)


async def _evaluated(conn: asyncpg.Connection, bureau: Identity, ngos: dict[int, Identity], project: Any, call: Any,
                     evaluators: tuple[str, str], title: str, code: str, budget: int, start: datetime,
                     objection: bool = True, bidders: tuple[int, int] = (6, 10),
                     service: tuple[date, date] | None = None) -> int:
    """A call published at `start` (for `service`, the demo's year unless said), bid for by two
    providers, scored by a panel after its 21-day deadline and awarded the day after to the first:
    its notice runs from there, with one objection by the second answered if asked for."""
    winner, runner_up = ngos[bidders[0]], ngos[bidders[1]]
    await _on(conn, start, 0)
    project_id = await project(title, code, budget, f"{title}，为期一年。")
    call_id = await calls.create_call(conn, bureau, call(project_id, f"{title}项目采购", budget,
                                                         service=service or (date(2027, 1, 1), date(2027, 12, 31))))
    await calls.publish_call(conn, bureau, call_id)
    await _on(conn, start, 5)
    await bids.submit(conn, winner, call_id, _bid(budget * 95 // 100, f"{title}：派驻专业社工团队"))
    await _on(conn, start, 9)
    await bids.submit(conn, runner_up, call_id, _bid(budget * 90 // 100, f"{title}：以家庭为中心开展服务"))
    await _on(conn, start, 21.5)
    panel_id = await panels.form_panel(conn, bureau, call_id)
    await _score_panel(conn, bureau, panel_id, evaluators, {_org_of(winner): (85, 80, 82), _org_of(runner_up): (78, 75, 80)})
    await _on(conn, start, 22)
    await awards.award(conn, bureau, call_id)
    if objection:
        await _on(conn, start, 22.5)
        raised = await awards.object_to(conn, runner_up, call_id, "我方报价更低，请说明价格分的计算方法。")
        await _on(conn, start, 23)
        await awards.answer_objection(conn, bureau, raised, "reject",
                                      "价格分按“最低报价÷本报价×100”计算，已在评分办法中公布；综合得分排序无误。")
    return call_id


async def _failed_midterms(conn: asyncpg.Connection, bureau: Identity, ngos: dict[int, Identity], project: Any,
                           call: Any, evaluators: tuple[str, str], today: datetime) -> list[int]:
    """Two contracts whose service began 52 days ago, their first payment made, and whose mid-term
    evaluation failed last week: the bureau gave the first a month to put it right. Returns both, for
    a funder to back and the bureau to end the second (see _end_with_money_back)."""
    contract_ids = []
    # The second's findings were given five days to put right: late before it is ended (see rectification/demo.py).
    for n, (title, level, days) in enumerate((("南星街道独居老人探访关爱", 0.5, 30), ("近江社区青少年课后托管", 0.35, 5))):
        start = today - timedelta(days=88 - 2 * n)
        service = ((today - timedelta(days=52)).date(), (today + timedelta(days=30)).date())
        call_id = await _evaluated(conn, bureau, ngos, project, call, evaluators, title, "05.01.01", 6_000_000, start,
                                   objection=False, service=service)
        await _on(conn, today, -54)
        contract_id = await contracts.generate(conn, bureau, call_id)
        await contracts.sign(conn, bureau, contract_id)
        await contracts.sign(conn, ngos[6], contract_id)
        await _on(conn, today, -50)
        await delivery.accept_milestone(conn, bureau, contract_id, 1)
        due = await conn.fetchval("select due_date from contract_milestones where contract_id = $1 and position = 2",
                                  contract_id)
        await _report(conn, bureau, ngos[6], contract_id, due, "accepted", today)
        await _on(conn, today, -8)
        await _score_round(conn, bureau, contract_id, "midterm", level, today, -8, days)
        contract_ids.append(contract_id)
    await _on(conn, today, -4)
    await ending.rectify(conn, bureau, contract_ids[0], RectifyInput(
        rectify_by=(today + timedelta(days=26)).date(),
        note="探访记录不完整、入户频次未达合同约定：补齐探访台账与签到表，每周入户不少于两次。"))
    return contract_ids


async def _end_with_money_back(conn: asyncpg.Connection, bureau: Identity, funder: Identity,
                               contract_ids: list[int], today: datetime) -> None:
    """A funder backs both failing contracts' projects; the bureau then ends the second contract, and
    the funder's money for it, none of it paid out, goes back to it. (The first one's money stays,
    for the bureau to decide on when its rectification is due.)"""
    for n, contract_id in enumerate(contract_ids):
        await _on(conn, today, -3)
        project_id = await conn.fetchval("select c.project_id from contracts k join calls c on c.id = k.call_id "
                                         "where k.id = $1", contract_id)
        pledge_id = await pledges.create(conn, funder, PledgeInput(
            target_type="project", target_id=project_id, amount_fen=(1_000_000, 3_000_000)[n],
            note=("支持独居老人探访", "支持青少年课后托管")[n]))
        payment_id = await pledges.record_offline(conn, funder, pledge_id, OfflinePaymentInput(
            bank_reference=f"ABC-DEMO-{contract_id:04d}", paid_on=clock.today()))
        await pledges.confirm_payment(conn, bureau, payment_id)
    await _on(conn, today, -2)
    await ending.end(conn, bureau, contract_ids[1], EndInput(
        reason="中期评估不合格（C级）：托管点未按约定开放，服务对象满意度不足五成，经约谈仍无改善，终止合同。"))


async def _acting_user(conn: asyncpg.Connection, email: str) -> Identity:
    """A demo user acting for the organisation they belong to."""
    row = await conn.fetchrow("select m.user_id, m.organisation_id, m.role, o.kind from memberships m "
                              "join users u on u.id = m.user_id join organisations o on o.id = m.organisation_id "
                              "where u.email = $1", email)
    return Identity(user_id=row["user_id"], email=email, display_name="", locale="zh_Hans", community_id=None,
                    session_hash="", org_id=row["organisation_id"], org_kind=row["kind"], org_status="verified",
                    role=row["role"])


async def _calls(conn: asyncpg.Connection, bureau: Identity, street: Identity, district: int,
                 ngos: dict[int, Identity], evaluators: tuple[str, str], today: datetime) -> list[int] | None:
    """Calls in every state, so a newcomer can click through, each told at its time: open, draft, open
    all year with a decided batch, past its deadline with bids, under notice, an award ready for its
    contract, a contract the bureau has signed, two in delivery whose mid-term evaluation failed,
    failed and cancelled. Returns the failing contract the bureau is to end, on a first load."""
    if await conn.fetchval("select count(*) from calls"):
        return None

    async def item(code: str) -> int:
        return await conn.fetchval("select e.id from catalogue_entries e join catalogue_versions v on v.id = e.version_id"
                                   " where v.buyer_id = $1 and v.status = 'published' and e.code = $2",
                                   bureau.org_id, code)

    async def project(title: str, code: str, budget: int, description: str) -> int:
        return await needs.create_project(conn, bureau, ProjectInput(
            title_zh=title, title_en=TITLES_EN[title], description=description, catalogue_entry_id=await item(code),
            budget_fen=budget,
            budget_line="2026年区级政府购买服务资金", jurisdiction_id=district))

    def call(project_id: int, title: str, budget: int, procedure: str = "open_competition", days: int | None = 21,
             service: tuple[date, date] = (date(2027, 1, 1), date(2027, 12, 31))) -> CallInput:
        now = clock.now().replace(minute=0, second=0, microsecond=0)
        english = TITLES_EN.get(title) or f"{TITLES_EN[title.removesuffix('项目采购')]}: procurement"
        return CallInput(project_id=project_id, procedure_type=procedure, title_zh=title, title_en=english,
                         description=f"{title}。欢迎符合条件的社会组织投标，详见评分办法。", budget_ceiling_fen=budget,
                         service_start=service[0], service_end=service[1], service_place="上城区",
                         deadline_at=now + timedelta(days=days) if days is not None else None,
                         criteria=_criteria())

    # Awarded 53 days ago; its notice is long over, the contract prepared and signed by the bureau (the
    # provider, ngo06, has not signed yet).
    done = await _evaluated(conn, bureau, ngos, project, call, evaluators, "望江街道社会工作站运营", "08.01.01",
                            26_000_000, today - timedelta(days=75))
    await _on(conn, today, -40)
    contract_id = await contracts.generate(conn, bureau, done)
    await _on(conn, today, -39)
    await contracts.sign(conn, bureau, contract_id)
    failing = await _failed_midterms(conn, bureau, ngos, project, call, evaluators, today)
    # Awarded 38 days ago, notice over: the bureau may prepare its contract now.
    await _evaluated(conn, bureau, ngos, project, call, evaluators, "清波街道邻里互助睦邻点建设", "05.01.01",
                     6_000_000, today - timedelta(days=60), objection=False)

    # The all-year round: its first batch decided (every proposal above the minimum funded), one more
    # proposal waiting, sealed, for the next batch.
    await _on(conn, today, -45)
    venture = await project("2026年上城区公益创投（社区治理类）", "05.01.01", 2_000_000_00,
                            "常年受理社区议事协商、社区营造类公益创投项目申报，单个项目资助不超过8万元。")
    rolling = await calls.create_call(conn, bureau, call(venture, "2026年公益创投社区治理类项目常年征集", 8_000_000,
                                                         procedure="venture_round", days=None))
    await calls.publish_call(conn, bureau, rolling)
    await _on(conn, today, -40)
    await bids.submit(conn, ngos[6], rolling, _bid(7_800_000, "社区议事厅：培育居民议事骨干，每月开展协商议事"))
    await bids.submit(conn, ngos[10], rolling, _bid(6_500_000, "楼道微更新：居民自治改造老旧楼道公共空间"))
    await _on(conn, today, -30)
    number = await batches.cut_off(conn, bureau, rolling)
    batch_id = await conn.fetchval("select id from call_batches where call_id = $1 and number = $2", rolling, number)
    batch_panel = await engine.panel_for(conn, "batch", batch_id)
    assert batch_panel is not None  # made with the batch, by cut_off
    await _score_panel(conn, bureau, batch_panel, evaluators,
                       {_org_of(ngos[6]): (82, 80, 85), _org_of(ngos[10]): (76, 78, 80)})
    await _on(conn, today, -29)
    await batches.decide(conn, bureau, rolling, number)
    await _on(conn, today, -3)
    await bids.submit(conn, ngos[1], rolling, _bid(5_000_000, "邻里互助会：组织低龄老人结对帮扶高龄老人"))

    # One bid where open competition needs two: the bureau declared the call failed after its deadline.
    await _on(conn, today, -30)
    disabled = await project("残疾人康复辅具适配服务", "02.01.01", 9_000_000, "为辖区持证残疾人提供康复辅具评估与适配。")
    failed = await calls.create_call(conn, bureau, call(disabled, "残疾人康复辅具适配服务采购", 9_000_000))
    await calls.publish_call(conn, bureau, failed)
    await _on(conn, today, -25)
    await bids.submit(conn, ngos[6], failed, _bid(8_600_000, "为持证残疾人上门评估并适配康复辅具"))
    await _on(conn, today, -8)
    await panels.declare_failed(conn, bureau, failed)

    # Under notice now, with an objection answered.
    await _evaluated(conn, bureau, ngos, project, call, evaluators, "紫阳街道社区议事协商能力提升", "05.01.01", 8_000_000,
                     today - timedelta(days=24))

    # Past its deadline with two bids: the bureau's next step is to form the panel.
    await _on(conn, today, -23)
    station = await project("小营街道社会工作站运营", "08.01.01", 28_000_000, "委托专业社会工作机构运营小营街道社会工作站一年。")
    closed = await calls.create_call(conn, bureau, call(station, "小营街道社会工作站运营服务采购", 28_000_000))
    await calls.publish_call(conn, bureau, closed)
    await _on(conn, today, -20)
    await bids.submit(conn, ngos[6], closed, _bid(27_200_000, "派驻4名持证社工运营小营街道社工站"))
    await bids.submit(conn, ngos[10], closed, _bid(26_500_000, "以家庭为中心运营社工站，开展个案与小组服务"))

    await _on(conn, today, -12)
    children = await project("困境儿童个案管理服务", "03.01.01", 12_000_000, "为全区困境儿童提供个案管理服务。")
    cancelled = await calls.create_call(conn, bureau, call(children, "困境儿童个案管理服务采购", 12_000_000))
    await calls.publish_call(conn, bureau, cancelled)
    await _on(conn, today, -10)
    await calls.cancel_call(conn, bureau, cancelled, "项目并入市级困境儿童关爱项目统一实施，本次采购取消。")

    # Open now, one bid in; and a street office's draft.
    await _on(conn, today, -5)
    meals = await conn.fetchval("select id from projects where title_zh like '%助餐%' order by id limit 1")
    open_call = await calls.create_call(conn, bureau, call(meals, "湖滨、清波片区老年助餐服务采购", 36_000_000))
    await calls.publish_call(conn, bureau, open_call)
    await _on(conn, today, -2)
    await bids.submit(conn, ngos[1], open_call, _bid(34_500_000, "在东坡路、清波门社区设两个助餐点，日均供餐120份"))
    await _on(conn, today, 0)
    bathing = await conn.fetchval("select id from projects where title_zh like '%助浴%' order by id limit 1")
    await calls.create_call(conn, street, call(bathing, "近江社区失能老人上门助浴服务采购", 4_320_000, days=30))
    await _delivery(conn, bureau, ngos, project, call, evaluators, today)
    return failing


# Contracts in delivery (provider, title, catalogue item, budget, the mid-term report's due date in days
# from today, what has happened to the report): each report at another step of its life.
DELIVERY = [
    (1, "南星街道困境家庭帮扶服务", "05.01.01", 9_600_000, 5, "draft"),
    (6, "湖滨街道独居老人精神慰藉服务", "08.01.01", 12_000_000, 3, "submitted"),
    (10, "四季青街道青少年课后托管服务", "05.01.01", 8_800_000, -5, "returned"),
    (1, "彭埠街道社区融合助残服务", "05.01.01", 7_200_000, -18, "passed"),
    (6, "紫阳街道社区老年人健康管理服务", "05.01.01", 8_400_000, -14, "scoring"),
]


async def _delivery(conn: asyncpg.Connection, bureau: Identity, ngos: dict[int, Identity], project: Any, call: Any,
                    evaluators: tuple[str, str], today: datetime) -> None:
    """Short contracts signed by both some seven weeks ago, each first payment made, and their mid-term
    reports: one due within the week with a draft started, one submitted and waiting for the bureau,
    one returned for correction, one accepted."""
    start = today - timedelta(days=85)
    service_start = (start + timedelta(days=37)).date()
    for n, (provider, title, code, budget, due_in, step) in enumerate(DELIVERY):
        due = (today + timedelta(days=due_in)).date()
        service = (service_start, service_start + 2 * (due - service_start))  # the mid-term report halfway
        other = 10 if provider != 10 else 6
        call_id = await _evaluated(conn, bureau, ngos, project, call, evaluators, title, code, budget,
                                   start + timedelta(hours=n), objection=False, bidders=(provider, other),
                                   service=service)
        await _on(conn, start, 35 + n / 10)
        contract_id = await contracts.generate(conn, bureau, call_id)
        await contracts.sign(conn, bureau, contract_id)
        await _on(conn, start, 36 + n / 10)
        await contracts.sign(conn, ngos[provider], contract_id)
        await _on(conn, start, 37.5 + n / 10)
        await delivery.accept_milestone(conn, bureau, contract_id, 1)
        await _report(conn, bureau, ngos[provider], contract_id, due, step, today)


async def _report(conn: asyncpg.Connection, bureau: Identity, provider: Identity, contract_id: int, due: date,
                  step: str, today: datetime) -> None:
    """The mid-term report (milestone 2) taken to `step`, told on the clock around its due date."""
    before = (due - today.date()).days
    await _on(conn, today, min(before - 3, -2))
    paid = await conn.fetchval("select coalesce(sum(amount_fen), 0)::bigint from disbursements "
                               "where contract_id = $1", contract_id)
    written = step != "draft"  # a draft is half written: no satisfaction figure, no narrative yet
    await reports.save(conn, provider, contract_id, 2, ReportInput(
        activities="完成服务对象需求评估与建档；每周开展入户探访与小组活动，组建志愿者队伍两支。",
        narrative="服务按计划推进，服务对象参与积极；个别家庭入户时间难以协调，下半年增加周末服务时段。" if written else "",
        targets=[Achieved(position=1, achieved=6000 if written else 3000, note="含电话回访"),
                 Achieved(position=2, achieved=96 if written else None)],
        spending=[SpendingInput(position=1, spent_fen=paid // 2), SpendingInput(position=2, spent_fen=paid // 5)]))
    if step == "draft":
        return
    await reports.submit(conn, provider, contract_id, 2)
    if step == "returned":
        await _on(conn, today, before - 1)
        await reports.return_report(conn, bureau, contract_id, 2, ReturnInput(
            comment="请补充活动签到表和照片，并按预算科目说明“服务物资与餐费补贴”的支出明细。"))
    elif step in ("accepted", "passed", "scoring"):  # accepted, then (past "accepted") evaluated
        await _on(conn, today, before + 3)
        await reports.accept(conn, bureau, contract_id, 2)
        await _on(conn, today, before + 4)
        if step == "accepted":
            return
        if step == "passed":  # the mid-term passed (B) and its payment made
            await _score_round(conn, bureau, contract_id, "midterm", 0.8, today, before + 4)
            await _on(conn, today, before + 9)
            for position in (2, 3):  # the report milestone, then the payment that waited for the mid-term
                await delivery.accept_milestone(conn, bureau, contract_id, position, early_days=60)
        else:  # handed to the evaluation agency, whose two experts are scoring now
            panel_id = await rounds.open_round(conn, bureau, contract_id, "midterm")
            agency = await conn.fetchval("select id from organisations where kind = 'evaluator' and subtype = 'agency'")
            await engine.assign_agency(conn, bureau, panel_id, agency)
            await engine.assign_balanced(conn, await _acting_user(conn, f"evaluator@{DOMAIN}"), panel_id, 2)
            await engine.start_scoring(conn, bureau, panel_id)
            expert = await _acting_user(conn, f"evaluator.expert1@{DOMAIN}")
            await _score_leaves(conn, expert, panel_id, 0.7, "入户查阅服务台账与签到表")


async def load_demo(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    """Create the demo district if it is not there; return (role, email, organisation) log-ins. The
    story is told on the clock, from three months ago to today, then the clock is back to real time."""
    today = datetime.now(UTC)
    try:
        async with conn.transaction():
            await _on(conn, today, -90)  # the district, its people, catalogue and residents' needs
            logins = await _load(conn, today)
            await clock.set_offset(conn, 0)
    finally:
        clock._set(0)  # whatever happened, this process goes on in real time
    return logins


async def _load(conn: asyncpg.Connection, today: datetime) -> list[tuple[str, str, str]]:
    logins: list[tuple[str, str, str]] = []
    pw = hash_password(DEMO_PASSWORD)  # one hash for every demo account: argon2 is slow on purpose
    district = await _district(conn)
    streets: dict[str, int] = {}
    communities: dict[str, int] = {}
    for key, zh, en, names in STREETS:
        code = f"{DISTRICT[0]}-{key}"
        streets[key] = (await conn.fetchval("select id from jurisdictions where code = $1", code) or
                        await add_jurisdiction(conn, parent_id=district, level="street", code=code,
                                               name_zh=zh, name_en=en))
        for i, name in enumerate(names, 1):
            ccode = f"{code}-{i:02d}"
            communities[name] = (await conn.fetchval("select id from jurisdictions where code = $1", ccode) or
                                 await add_jurisdiction(conn, parent_id=streets[key], level="community", code=ccode,
                                                        name_zh=name, name_en=f"{COMMUNITY_EN[name]} Community"))
            if i == 1:
                for g in (1, 2):
                    gcode = f"{ccode}-g{g}"
                    if not await conn.fetchval("select id from jurisdictions where code = $1", gcode):
                        await add_jurisdiction(conn, parent_id=communities[name], level="grid", code=gcode,
                                               name_zh=f"{name}第{g}网格", name_en=f"{COMMUNITY_EN[name]} Grid {g}")

    def login(role: str, local: str, org_name: str) -> str:
        email = f"{local}@{DOMAIN}"
        logins.append((role, email, org_name))
        return email

    platform_admin = await create_platform_admin(conn, login("platform admin", "admin", "公益服务市场平台"), "平台管理员",
                                                 DEMO_PASSWORD)
    await _indicator_systems(conn, platform_admin)

    bureau = await _organisation(conn, kind="buyer", subtype="bureau", name_zh="上城区民政局",
                                 name_en="Shangcheng District Civil Affairs Bureau", code=_code("11", 2),
                                 place=district, description="负责全区政府购买社会组织服务目录、立项与资金监管。")
    bureau_admin = await _user(conn, login("buyer admin", "bureau", "上城区民政局"), "周科长", pw, bureau, "admin")
    await _catalogue(conn, bureau, bureau_admin)
    await _user(conn, login("buyer staff", "bureau.staff", "上城区民政局"), "吴科员", pw, bureau, "staff")
    await _user(conn, login("buyer finance", "bureau.finance", "上城区民政局"), "郑会计", pw, bureau, "finance")
    offices: dict[str, tuple[int, int]] = {}
    for n, (key, zh, en, names) in enumerate(STREETS, 3):
        office = await _organisation(conn, kind="buyer", subtype="street_office", name_zh=f"{zh}办事处",
                                     name_en=f"{en} Office", code=_code("11", n), place=streets[key])
        offices[key] = (await _user(conn, login("buyer (street)", f"{key}.office", f"{zh}办事处"),
                                    f"{zh}社会事务科", pw, office, "admin"), office)
        community = names[0]
        committee = await _organisation(conn, kind="buyer", subtype="community", name_zh=f"{community}居民委员会",
                                        name_en=f"{COMMUNITY_EN[community]} Residents' Committee",
                                        code=_code("59", 100 + n), place=communities[community])
        await _user(conn, login("buyer (community)", f"{key}.community", f"{community}居民委员会"),
                    f"{community}书记", pw, committee, "admin")

    providers: dict[int, tuple[int, int]] = {}
    for n, (zh, en, reg, rating, year, key, what) in enumerate(PROVIDERS + PENDING_PROVIDERS, 1):
        prefix = {"social_group": "51", "social_service_agency": "52", "foundation": "53"}[reg]
        pending = n > len(PROVIDERS)
        org = await _organisation(conn, kind="provider", subtype=reg, name_zh=zh, name_en=en,
                                  code=_code(prefix, 200 + n), place=streets[key], rating=rating,
                                  registered=date(year, 3 + n % 9, 1 + n % 27), description=what,
                                  status="pending" if pending else "verified")
        role = "provider (pending)" if pending else "provider admin"
        providers[n] = (await _user(conn, login(role, f"ngo{n:02d}", zh), f"{zh.removeprefix('上城区')}负责人", pw,
                                    org, "admin"), org)
        if n == 1:
            await _user(conn, login("provider staff", "ngo01.staff", zh), "社工小林", pw, org, "staff")
            await _user(conn, login("provider finance", "ngo01.finance", zh), "出纳小赵", pw, org, "finance")

    funders: dict[str, Identity] = {}
    for n, (zh, en, key) in enumerate(ENTERPRISES, 1):
        org = await _organisation(conn, kind="funder", subtype="enterprise", name_zh=zh, name_en=en,
                                  code=_code("91", 300 + n), place=streets[key],
                                  description="企业社会责任：社区公益项目资助、员工志愿服务。")
        funders[f"csr{n:02d}"] = _acting(await _user(
            conn, login("funder (enterprise)", f"csr{n:02d}", zh),
            f"{zh.removeprefix('杭州').removeprefix('浙江')}CSR专员", pw, org, "admin"), org, kind="funder")
        if n == 1:
            await _user(conn, login("funder finance", "csr01.finance", zh), "财务小钱", pw, org, "finance")
    fund = await _organisation(conn, kind="funder", subtype="foundation", name_zh="杭州市上城区慈善总会",
                               name_en="Shangcheng District Charity Federation", code=_code("53", 400),
                               place=district, description="社区服务基金、公益创投配捐。")
    funders["charity"] = _acting(await _user(conn, login("funder (foundation)", "charity", "杭州市上城区慈善总会"),
                                             "慈善总会秘书长", pw, fund, "admin"), fund, kind="funder")
    donor = await _organisation(conn, kind="funder", subtype="individual", name_zh="爱心人士 何先生",
                                name_en="Mr He (private donor)", code=None, place=district)
    funders["donor"] = _acting(await _user(conn, login("funder (individual)", "donor", "爱心人士 何先生"), "何先生", pw,
                                           donor, "admin"), donor, kind="funder")

    agency = await _organisation(conn, kind="evaluator", subtype="agency", name_zh="杭州明鉴社会组织评估中心",
                                 name_en="Mingjian Social Organisation Evaluation Centre", code=_code("52", 500),
                                 place=district, description="第三方评估：项目评审、中期与末期评估。")
    await _user(conn, login("evaluator admin", "evaluator", "杭州明鉴社会组织评估中心"), "评估中心主任", pw, agency, "admin")
    await _user(conn, login("evaluator", "evaluator.expert1", "杭州明鉴社会组织评估中心"), "评估专家 孙老师", pw,
                agency, "evaluator")
    await _user(conn, login("evaluator", "evaluator.expert2", "杭州明鉴社会组织评估中心"), "评估专家 李老师", pw,
                agency, "evaluator")
    expert = await _organisation(conn, kind="evaluator", subtype="expert", name_zh="社会工作专家 钱教授",
                                 name_en="Prof. Qian (social work expert)", code=None, place=district)
    await _user(conn, login("evaluator (expert)", "expert", "社会工作专家 钱教授"), "钱教授", pw, expert, "evaluator")

    residents = {}
    for name, local, community in RESIDENTS:
        residents[local] = await _user(conn, login("resident", local, community), name, pw, None, None,
                                       communities[community])
    await _needs_and_projects(conn, communities, residents, bureau, bureau_admin, offices["wangjiang"])
    failing = await _calls(conn, _acting(bureau_admin, bureau), _acting(*offices["wangjiang"]), district,
                 {n: _acting(*providers[n], kind="provider") for n in (1, 6, 10)},
                 (f"evaluator.expert1@{DOMAIN}", f"expert@{DOMAIN}"), today)
    await funding_demo.load(conn, bureau=_acting(bureau_admin, bureau), funders=funders,
                            base_url=Settings().base_url, today=today)
    await fairs_demo.load(conn, bureau=_acting(bureau_admin, bureau), funders=funders, today=today)
    if failing is not None:
        await _end_with_money_back(conn, _acting(bureau_admin, bureau), funders["csr09"], failing, today)
        await rectification_demo.load(conn, bureau=_acting(bureau_admin, bureau),
                                      provider=_acting(*providers[6], kind="provider"), today=today)
    await complaints_demo.load(conn, settings=Settings(), residents_domain=DOMAIN, today=today)
    await buyers_demo.load(conn, person=lambda local: _acting_user(conn, f"{local}@{DOMAIN}"), score_round=_score_round,
                           today=today)
    await surveys_demo.load(conn, today=today)
    return logins
