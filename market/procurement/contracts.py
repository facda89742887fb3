"""Contracts (合同格式): generated from the standard template once the award's notice period is over
and every objection is answered; milestones for delivery, reports and payments whose percentages
add up to 100; signed in the app by the buyer and the provider, in either order."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from market.audit import services as audit
from market.audit.models import Verb
from market.core.access import Identity
from market.core.errors import Conflict, Forbidden, Invalid, InvalidFields, NotFound
from market.core.i18n import N_, gettext, use_locale
from market.notifications import services as notifications
from market.procurement.awards import batches
from market.procurement.calls import services as calls

CONTRACT_STATUS_NAMES = {"draft": N_("awaiting signatures"), "buyer_signed": N_("signed by the buyer"),
                         "provider_signed": N_("signed by the provider"), "signed": N_("signed by both parties")}
MILESTONE_KIND_NAMES = {"delivery": N_("delivery"), "report": N_("report"), "payment": N_("payment")}
# What a payment milestone waits for before it may be accepted and paid.
WAITS_FOR_NAMES = {"none": N_("nothing"), "midterm": N_("a passed mid-term evaluation"),
                   "final": N_("a passed final evaluation")}
WaitsFor = Literal["none", "midterm", "final"]
# (status, who signs) → the status after signing.
SIGNING = {("draft", "buyer"): "buyer_signed", ("draft", "provider"): "provider_signed",
           ("provider_signed", "buyer"): "signed", ("buyer_signed", "provider"): "signed"}
CONTRACT_STATUSES = ("draft", "buyer_signed", "provider_signed", "signed")


class MilestoneInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["delivery", "report", "payment"]
    title: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]
    due_date: date
    payment_percent: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    waits_for: WaitsFor = "none"


class Milestones(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    milestones: Annotated[list[MilestoneInput], msgspec.Meta(min_length=1, max_length=30)]


class Contract(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    call_id: int
    buyer_id: int
    provider_id: int
    buyer_name: str
    provider_name: str
    title_zh: str
    title_en: str
    amount_fen: int
    service_start: date
    service_end: date
    service_place: str
    status: str
    buyer_signed_at: datetime | None
    provider_signed_at: datetime | None
    milestones: list[MilestoneInput] = []


# The standard milestones' titles. A contract stores them in Chinese, as it is signed; pages in
# English show these English names (whose translations are the Chinese titles), and the PDF both.
# A title the parties typed themselves is shown as typed.
STANDARD_TITLES = {
    "合同签订后首期拨付": N_("First payment, on signing"),
    "中期报告及中期评估": N_("Mid-term report and evaluation"),
    "中期评估合格后二期拨付": N_("Second payment, after a passed mid-term evaluation"),
    "服务全部交付": N_("All services delivered"),
    "末期报告及末期评估": N_("Final report and evaluation"),
    "末期评估合格后尾款拨付": N_("Final payment, after a passed final evaluation"),
}


def milestone_title(title: str) -> str:
    """A milestone's title in the page's language, where it is a standard one."""
    return gettext(STANDARD_TITLES[title]) if title in STANDARD_TITLES else title


def default_milestones(start: date, end: date) -> list[MilestoneInput]:
    """The usual tranches (seed practice, Ningbo Haishu): 40% on signing, 30% after a passed
    mid-term evaluation, 30% after the final one."""
    middle = start + (end - start) / 2
    first, report, second, delivered, final_report, last = STANDARD_TITLES
    return [
        MilestoneInput(kind="payment", title=first, due_date=start, payment_percent=40),
        MilestoneInput(kind="report", title=report, due_date=middle),
        MilestoneInput(kind="payment", title=second, due_date=middle + timedelta(days=14), payment_percent=30,
                       waits_for="midterm"),
        MilestoneInput(kind="delivery", title=delivered, due_date=end),
        MilestoneInput(kind="report", title=final_report, due_date=end + timedelta(days=15)),
        MilestoneInput(kind="payment", title=last, due_date=end + timedelta(days=30), payment_percent=30,
                       waits_for="final"),
    ]


def check_milestones(milestones: list[MilestoneInput], start: date, end: date) -> None:
    errors = []
    total = sum(m.payment_percent or 0 for m in milestones)
    if total != 100:
        errors.append(Invalid("The payment percentages add up to %(total)s; they must add up to 100.",
                              field="milestones", total=total))
    if any((m.kind == "payment") != (m.payment_percent is not None) for m in milestones):
        errors.append(Invalid("Payment milestones, and only they, have a percentage.", field="milestones"))
    if any(m.waits_for != "none" and m.kind != "payment" for m in milestones):
        errors.append(Invalid("Only a payment milestone waits for an evaluation.", field="milestones"))
    if any(m.due_date < start - timedelta(days=31) or m.due_date > end + timedelta(days=180) for m in milestones):
        errors.append(Invalid("A milestone falls far outside the service period.", field="milestones"))
    if errors:
        raise InvalidFields(errors)


async def _save_milestones(conn: asyncpg.Connection, contract_id: int, milestones: list[MilestoneInput]) -> None:
    await conn.execute("delete from contract_milestones where contract_id = $1", contract_id)
    await conn.executemany(
        "insert into contract_milestones (contract_id, position, kind, title, due_date, payment_percent, waits_for) "
        "values ($1, $2, $3, $4, $5, $6, $7)",
        [(contract_id, i, m.kind, m.title.strip(), m.due_date, m.payment_percent, m.waits_for)
         for i, m in enumerate(sorted(milestones, key=lambda m: m.due_date), start=1)])


async def generate(conn: asyncpg.Connection, identity: Identity, call_id: int) -> int:
    """The contract of a call's award, after its notice period."""
    call = await calls.own_call(conn, identity, call_id)
    if calls.status_of(call) != "awarded":
        raise Conflict("The contract is prepared after the award's notice period.")
    award = await conn.fetchrow(
        "select * from awards where call_id = $1 and reopened_at is null and batch_id is null", call_id)
    if await conn.fetchval("select count(*) from objections where award_id = $1 and status = 'pending'", award["id"]):
        raise Conflict("Answer every objection first.")
    return await _from_award(conn, identity, call, award)


async def generate_for_award(conn: asyncpg.Connection, identity: Identity, award_id: int) -> int:
    """The contract of one proposal funded by a review batch, after the batch's notice period."""
    award = await conn.fetchrow("select * from awards where id = $1 and batch_id is not null and reopened_at is null",
                                award_id)
    if award is None:
        raise NotFound()
    call = await calls.own_call(conn, identity, award["call_id"])
    batch = await conn.fetchrow("select * from call_batches where id = $1", award["batch_id"])
    if not batches.allowed("contract", batches.status_of(batch)):
        raise Conflict("The contract is prepared after the award's notice period.")
    if await conn.fetchval("select count(*) from objections where batch_id = $1 and status = 'pending'", batch["id"]):
        raise Conflict("Answer every objection first.")
    return await _from_award(conn, identity, call, award)


async def _from_award(conn: asyncpg.Connection, identity: Identity, call: Any, award: Any) -> int:
    if await conn.fetchval("select id from contracts where award_id = $1", award["id"]):
        raise Conflict("This award has a contract already.")
    provider = await conn.fetchval("select provider_id from bids where id = $1", award["bid_id"])
    contract_id = await conn.fetchval(
        """insert into contracts (call_id, award_id, buyer_id, provider_id, amount_fen, service_start, service_end,
                                  created_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning id""",
        call["id"], award["id"], call["buyer_id"], provider, award["amount_fen"], call["service_start"],
        call["service_end"], identity.user_id)
    await _save_milestones(conn, contract_id, default_milestones(call["service_start"], call["service_end"]))
    signers = await notifications.members_of(conn, [call["buyer_id"], provider], ("admin", "staff", "finance"))
    await notifications.notify(conn, signers, "contract_to_sign", f"/contracts/{contract_id}", title=call["title_zh"])
    await audit.record(conn, verb=Verb.CONTRACT_CREATE, object_type="contract", object_id=contract_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"call_id": call["id"], "provider_id": provider, "amount_fen": award["amount_fen"]})
    return contract_id


def _party(identity: Identity, contract: Any) -> str | None:
    if not identity.acts_for_verified or identity.role not in ("admin", "staff", "finance"):
        return None
    if identity.org_id == contract["buyer_id"]:
        return "buyer"
    if identity.org_id == contract["provider_id"]:
        return "provider"
    return None


async def set_milestones(conn: asyncpg.Connection, identity: Identity, contract_id: int, data: Milestones) -> None:
    contract = await conn.fetchrow("select * from contracts where id = $1 for update", contract_id)
    if contract is None or (_party(identity, contract) is None and not identity.is_platform_admin):
        raise NotFound()
    if _party(identity, contract) != "buyer":
        raise Forbidden("The buyer sets the milestones; the provider agrees by signing.")
    if contract["status"] != "draft":
        raise Conflict("A contract that has been signed does not change.")
    check_milestones(data.milestones, contract["service_start"], contract["service_end"])
    await _save_milestones(conn, contract_id, data.milestones)
    await audit.record(conn, verb=Verb.CONTRACT_EDIT, object_type="contract", object_id=contract_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       after={"milestones": msgspec.to_builtins(data.milestones)})


async def sign(conn: asyncpg.Connection, identity: Identity, contract_id: int) -> str:
    """Sign for one's own side; who and when go into the audit trail."""
    contract = await conn.fetchrow("select * from contracts where id = $1 for update", contract_id)
    if contract is None:
        raise NotFound()
    party = _party(identity, contract)
    if party is None:
        raise Forbidden("Only the buyer and the provider of this contract sign it.")
    target = SIGNING.get((contract["status"], party))
    if target is None:
        raise Conflict("Your side has signed this contract already.")
    await conn.execute(f"update contracts set status = $2, {party}_signed_by = $3, {party}_signed_at = market_now() "
                       "where id = $1", contract_id, target, identity.user_id)
    await audit.record(conn, verb=Verb.CONTRACT_SIGN, object_type="contract", object_id=contract_id,
                       actor=identity.user_id, organisation=identity.org_id,
                       before={"status": contract["status"]}, after={"status": target, "signed_for": party})
    return target


def may_read(identity: Identity | None, contract: Any) -> bool:
    """A contract is public once signed by both (群众知晓); before that, its parties' and the platform's."""
    return contract["status"] == "signed" or bool(identity and (identity.is_platform_admin or _party(identity, contract)))


async def readable(conn: asyncpg.Connection, identity: Identity | None, ids: Iterable[int | None]) -> set[int]:
    """Which of these contracts the reader may open, so that pages link only to those."""
    rows = await conn.fetch("select id, status, buyer_id, provider_id from contracts where id = any($1)",
                            [i for i in ids if i is not None])
    return {r["id"] for r in rows if may_read(identity, r)}


async def get(conn: asyncpg.Connection, identity: Identity | None, contract_id: int) -> Contract:
    """A contract, to those who `may_read` it."""
    row = await conn.fetchrow(
        """select k.*, c.title_zh, c.title_en, c.service_place, b.name_zh as buyer_name, p.name_zh as provider_name
             from contracts k join calls c on c.id = k.call_id join organisations b on b.id = k.buyer_id
             join organisations p on p.id = k.provider_id where k.id = $1""", contract_id)
    if row is None:
        raise NotFound()
    if not may_read(identity, row):
        raise NotFound()
    milestones = [MilestoneInput(kind=r["kind"], title=r["title"], due_date=r["due_date"],
                                 payment_percent=r["payment_percent"], waits_for=r["waits_for"])
                  for r in await conn.fetch("select * from contract_milestones where contract_id = $1 order by position",
                                            contract_id)]
    return Contract(**{k: row[k] for k in Contract.__struct_fields__ if k != "milestones"}, milestones=milestones)


def _both(msgid: str) -> str:
    """A name in Chinese and in English, as the bilingual contract prints it."""
    with use_locale("zh_Hans"):
        return f"{gettext(msgid)} {msgid}"


def render_pdf(contract: Contract, tz: str) -> bytes:
    """The contract as a PDF in Chinese and English, with reportlab's built-in Chinese font (STSong-Light),
    which every PDF reader can show without the font being embedded. Times are in the deployment's
    time zone `tz`, as the parties read a clock."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import (
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = ParagraphStyle("base", fontName="STSong-Light", fontSize=10.5, leading=16, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=16, leading=24, alignment=1)
    money = f"¥{contract.amount_fen / 100:,.2f}"
    story = [
        Paragraph("政府购买服务合同", title), Paragraph("Contract for the Government Purchase of Services", title),
        Spacer(1, 6 * mm),
        Paragraph(f"合同编号 Contract no.: {contract.id:06d}", base),
        Paragraph(f"项目 Project: {contract.title_zh} {contract.title_en}", base),
        Paragraph(f"甲方（购买方）Party A (buyer): {contract.buyer_name}", base),
        Paragraph(f"乙方（承接方）Party B (provider): {contract.provider_name}", base),
        Paragraph(f"合同金额 Amount: {money}（人民币）", base),
        Paragraph(f"服务期限 Service period: {contract.service_start} – {contract.service_end}", base),
        Paragraph(f"服务地点 Place: {contract.service_place}", base),
        Spacer(1, 4 * mm),
        Paragraph("一、乙方按投标文件及采购公告的要求提供服务，甲方按下列节点验收并拨付资金。"
                  " 1. Party B delivers the services as its bid and the call describe; Party A accepts them and pays "
                  "at the milestones below.", base),
        Paragraph("二、中期或末期评估不合格的，甲方暂停拨付，乙方限期整改；整改仍不合格的，甲方可以解除合同。"
                  " 2. If a mid-term or final evaluation fails, payments stop and Party B rectifies within the time "
                  "set; if it still fails, Party A may end the contract.", base),
        Paragraph("三、乙方按时提交报告，逾期视为评估不合格。 3. A report later than its deadline counts as a "
                  "failed evaluation.", base),
        Spacer(1, 4 * mm),
    ]
    rows = [["#", "节点 Milestone", "类型 Kind", "日期 Due", "拨付 Payment"]]
    for i, m in enumerate(contract.milestones, start=1):
        pay = f"{m.payment_percent}% = ¥{contract.amount_fen * m.payment_percent / 10000:,.2f}" if m.payment_percent else ""
        title = _both(STANDARD_TITLES[m.title]) if m.title in STANDARD_TITLES else m.title
        rows.append([str(i), Paragraph(title, base), Paragraph(_both(MILESTONE_KIND_NAMES[m.kind]), base),
                     str(m.due_date), pay])
    table = Table(rows, colWidths=[8 * mm, 62 * mm, 30 * mm, 28 * mm, 42 * mm])
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                               ("GRID", (0, 0), (-1, -1), 0.5, "#888888"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 8 * mm)]
    signed = {"buyer": contract.buyer_signed_at, "provider": contract.provider_signed_at}
    for side, name in (("buyer", f"甲方 Party A: {contract.buyer_name}"), ("provider", f"乙方 Party B: {contract.provider_name}")):
        when = signed[side]
        story.append(Paragraph(f"{name}　签署 Signed in the platform: {when.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} "
                               f"({tz})" if when else f"{name}　（待签署 awaiting signature）", base))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=f"Contract {contract.id}", leftMargin=18 * mm, rightMargin=18 * mm).build(story)
    return buf.getvalue()

