"""The contract as a PDF, in Chinese and English, as the parties sign and file it."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from market.core.i18n import gettext, use_locale
from market.procurement.contracts.models import (
    MILESTONE_KIND_NAMES,
    STANDARD_TITLES,
    Contract,
)


def _both(msgid: str) -> str:
    """A name in Chinese and in English, as the bilingual contract prints it."""
    with use_locale("zh_Hans"):
        return f"{gettext(msgid)} {msgid}"


def render_pdf(contract: Contract, tz: str, grace_days: int = 15) -> bytes:
    """The contract as a PDF in Chinese and English, with reportlab's built-in Chinese font (STSong-Light),
    which every PDF reader can show without the font being embedded. Times are in the deployment's
    time zone `tz`, as the parties read a clock; `grace_days` is how long after its deadline a report
    not filed counts as a failed evaluation (settings.report_grace_days)."""
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
        Paragraph(f"三、乙方按时提交报告；逾期提交的记为逾期，截止日后{grace_days}日内仍未提交的，视为该阶段评估不合格。"
                  f" 3. Party B files its reports on time; a report filed after its deadline is recorded as late, "
                  f"and one not filed within {grace_days} days after it counts as a failed evaluation of that "
                  "stage.", base),
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
