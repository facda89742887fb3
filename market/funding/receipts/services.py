"""Receipts (收据) for confirmed payments: what a funder prints or files, and what the receiving
organisation sees, as a page and as a PDF.

The database numbers a receipt when its payment is confirmed (migration 0017): `2026-000123` is the
123rd payment confirmed in 2026, China time. Nothing here changes anything; a receipt is read.
It is the platform's acknowledgement that the money arrived, not the government-issued charitable
donation receipt (公益事业捐赠统一票据) the receiving organisation may issue for tax purposes.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import asyncpg
import cn2an
import msgspec

from market.core.access import Identity
from market.core.errors import Conflict, NotFound
from market.core.i18n import (
    N_,
    current_locale,
    format_date,
    format_datetime,
    format_money,
    gettext,
)
from market.funding.pledges import services as pledges

METHOD_NAMES = {"offline": N_("Bank transfer"), "stripe": N_("Online payment (Stripe)")}
PURPOSE_NAMES = {"project": N_("Project"), "fund": N_("Fund")}


class Party(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name_zh: str
    name_en: str
    # The unified social credit code (统一社会信用代码); individual donors have none.
    credit_code: str | None


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    number: str
    payment_id: int
    pledge_id: int
    # The day the payment was confirmed, in China: the receipt's date.
    issued_on: date
    confirmed_at: datetime
    # Who confirmed it; None when Stripe did.
    confirmed_by: str | None
    payer: Party
    receiver: Party
    purpose: str
    purpose_id: int
    purpose_title_zh: str
    purpose_title_en: str
    amount_fen: int
    # The amount in Chinese capital numerals (大写), as on a cheque: 壹万贰仟叁佰肆拾伍元陆角柒分.
    amount_in_words: str
    currency: str
    method: str
    # The bank's reference for a transfer.
    reference: str
    paid_on: date | None
    # The pledge's money went back to the funder later; the receipt still records what arrived.
    refunded_at: datetime | None


def amount_in_words(fen: int) -> str:
    """Integer fen in Chinese capital numerals by the rules for cheques and receipts: 零元整 for nothing,
    整 after whole yuan, 零 where a 角 of nothing stands before fen (10.05 → 壹拾元零伍分)."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError(f"an amount is a non-negative integer of fen, not {fen!r}")
    return cn2an.an2cn(f"{fen // 100}.{fen % 100:02d}", "rmb")


async def _party(conn: asyncpg.Connection, org_id: int) -> Party:
    row = await conn.fetchrow("select id, name_zh, name_en, credit_code from organisations where id = $1", org_id)
    return Party(**dict(row))


async def receipt(conn: asyncpg.Connection, identity: Identity, payment_id: int) -> Receipt:
    """The receipt of a confirmed payment, for its funder's and its receiver's members and platform
    administrators; to anyone else there is no such payment."""
    payment = await conn.fetchrow(
        """select y.*, r.number, r.issued_on, u.display_name as confirmed_by
             from payments y left join receipts r on r.payment_id = y.id
             left join users u on u.id = y.decided_by where y.id = $1""", payment_id)
    if payment is None:
        raise NotFound()
    pledge = await pledges.get(conn, identity, payment["pledge_id"])
    if payment["status"] == "pending":
        raise Conflict("A receipt is issued once the receiving organisation has confirmed the payment.")
    if payment["status"] != "confirmed":
        raise Conflict("This payment was not confirmed, so it has no receipt.")
    receiver = await pledges.receiver_of(conn, {"target_type": pledge.target_type, "fund_id": pledge.fund_id,
                                                "project_id": pledge.project_id})
    purpose_id = pledge.fund_id if pledge.target_type == "fund" else pledge.project_id
    # A pledge is paid to a fund or a project (a need's pledge becomes its project's when paid, and the
    # table checks that each kind has its id), so a confirmed payment's has both a purpose and a receiver.
    assert purpose_id is not None and receiver is not None
    if pledge.target_type == "fund":
        title = await conn.fetchrow("select name_zh as zh, name_en as en from funds where id = $1", purpose_id)
    else:
        title = await conn.fetchrow("select title_zh as zh, title_en as en from projects where id = $1", purpose_id)
    refunded_at = await conn.fetchval(
        "select max(created_at) from ledger_transactions where pledge_id = $1 and kind = 'refund'", pledge.id)
    return Receipt(
        number=payment["number"], payment_id=payment_id, pledge_id=pledge.id, issued_on=payment["issued_on"],
        confirmed_at=payment["decided_at"], confirmed_by=payment["confirmed_by"],
        payer=await _party(conn, pledge.funder_id), receiver=await _party(conn, receiver),
        purpose=pledge.target_type, purpose_id=purpose_id, purpose_title_zh=title["zh"], purpose_title_en=title["en"],
        amount_fen=payment["amount_fen"], amount_in_words=amount_in_words(payment["amount_fen"]),
        currency=payment["currency"], method=payment["method"], reference=payment["bank_reference"],
        paid_on=payment["paid_on"], refunded_at=refunded_at)


def _party_name(party: Party) -> str:
    """An organisation's registered (Chinese) name, with its English name beside it on English pages."""
    if current_locale.get() == "en" and party.name_en:
        return f"{party.name_zh} ({party.name_en})"
    return party.name_zh


def _purpose_text(r: Receipt) -> str:
    title = r.purpose_title_zh
    if current_locale.get() == "en" and r.purpose_title_en:
        title = f"{title} ({r.purpose_title_en})"
    return "\n".join((gettext("%(kind)s: %(title)s", kind=gettext(PURPOSE_NAMES[r.purpose]), title=title),
                      gettext("Pledge no. %(pledge)s", pledge=r.pledge_id)))


def _method_text(r: Receipt) -> str:
    parts = [gettext(METHOD_NAMES[r.method])]
    if r.reference:
        parts.append(gettext("Reference: %(reference)s", reference=r.reference))
    if r.paid_on:
        parts.append(gettext("Paid on %(day)s", day=format_date(r.paid_on)))
    # One fact a line: STSong-Light has no middle dot to run them together with.
    return "\n".join(parts)


def _confirmed_text(r: Receipt) -> str:
    who = r.confirmed_by or gettext("Stripe, automatically")
    return gettext("%(who)s, on %(when)s", who=who, when=format_datetime(r.confirmed_at))


def facts(r: Receipt) -> list[tuple[str, str]]:
    """The receipt's lines, label and text, in the reader's language: the page and the PDF show the same."""
    def org(party: Party) -> str:
        code = gettext("Unified social credit code: %(code)s", code=party.credit_code) if party.credit_code else ""
        return _party_name(party) + (f"\n{code}" if code else "")

    return [
        (gettext("Received from"), org(r.payer)),
        (gettext("Received by"), org(r.receiver)),
        (gettext("Purpose"), _purpose_text(r)),
        (gettext("Amount"), f"{format_money(r.amount_fen)} ({r.currency})"),
        (gettext("Amount in words"), gettext("RMB %(words)s", words=r.amount_in_words)),
        (gettext("Payment method"), _method_text(r)),
        (gettext("Confirmed by"), _confirmed_text(r)),
    ]


def filename(r: Receipt) -> str:
    return f"receipt-{r.number}.pdf"


def render_pdf(r: Receipt) -> bytes:
    """The receipt as an A4 PDF in the reader's language. Chinese is set in reportlab's built-in
    STSong-Light, which PDF readers supply themselves, so no font file is embedded or needed."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
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
    base = ParagraphStyle("base", fontName="STSong-Light", fontSize=11, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=22, leading=30, alignment=1)
    centred = ParagraphStyle("centred", parent=base, alignment=1, textColor=colors.HexColor("#57606a"))
    right = ParagraphStyle("right", parent=base, alignment=2)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=13, textColor=colors.HexColor("#57606a"))

    def para(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    rows = [[para(label), para(text)] for label, text in facts(r)]
    table = Table(rows, colWidths=[38 * mm, 136 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#888888")),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f6f8fa")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    story: list[Any] = [
        para(gettext("Receipt"), title),
        para(gettext("Public Service Market"), centred),
        Spacer(1, 6 * mm),
        para(gettext("No. %(number)s", number=r.number), right),
        para(gettext("Date: %(day)s", day=format_date(r.issued_on, "long")), right),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 5 * mm),
    ]
    if r.refunded_at:
        story.append(para(gettext("This money was returned to the funder on %(day)s.",
                                  day=format_date(r.refunded_at, "long")), base))
        story.append(Spacer(1, 3 * mm))
    story.append(para(gettext(
        "Issued by the Public Service Market when the receiving organisation confirmed the payment. It records "
        "that the money arrived; it is not a charitable donation receipt for tax purposes, which the receiving "
        "organisation issues itself."), small))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=gettext("Receipt %(number)s", number=r.number), author="",
                      leftMargin=18 * mm, rightMargin=18 * mm, topMargin=20 * mm).build(story)
    return buf.getvalue()
