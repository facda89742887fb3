"""The evaluation report as a PDF and as an Excel workbook, in the reader's language, from the same
view as the page: nothing here reads the database, so neither file can show more than the page."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.styles import Font

from market.core.i18n import N_, format_date, format_datetime, format_money, gettext
from market.core.web import localized
from market.delivery.evaluation_report.models import EvaluationReport
from market.delivery.models import OUTCOME_NAMES, STAGE_NAMES
from market.delivery.reports.models import REPORT_STATUS_NAMES

ROLE_NAMES = {"chair": N_("chair"), "member": N_("member")}


def filename(report: EvaluationReport, ext: str) -> str:
    return f"evaluation-{report.contract_id:06d}-{report.stage}.{ext}"


def title(report: EvaluationReport) -> str:
    return gettext("Report of the %(stage)s", stage=gettext(STAGE_NAMES[report.stage]))


def score_text(score: Decimal | None) -> str:
    return gettext("N/A") if score is None else str(score)


def verdict_text(report: EvaluationReport) -> str:
    """The outcome in one line: the total and grade when a panel decided, else only the outcome."""
    outcome = gettext(OUTCOME_NAMES[report.outcome])
    if report.total is None:
        return outcome
    return gettext("%(total)s, grade %(grade)s: %(outcome)s", total=report.total, grade=report.grade or "—",
                   outcome=outcome)


def _panel_text(report: EvaluationReport) -> str:
    """One line a member, the agency (if the panel was handed to one) after them."""
    seats = "\n".join(gettext("%(name)s (%(role)s)", name=m.display_name, role=gettext(ROLE_NAMES[m.role]))
                      for m in report.members)
    if report.agency_name_zh:
        agency = localized({"name_zh": report.agency_name_zh, "name_en": report.agency_name_en})
        experts = gettext("Experts of %(agency)s", agency=agency)
        return f"{seats}\n{experts}"
    return seats


def _report_text(report: EvaluationReport) -> str:
    r = report.report
    assert r is not None
    if r.not_filed:
        return gettext("Due %(due)s; not filed within the grace period.", due=format_date(r.due_date))
    status = gettext(REPORT_STATUS_NAMES[r.status])
    if r.submitted_at is None:
        return gettext("Due %(due)s; %(status)s.", due=format_date(r.due_date), status=status)
    if r.late:
        return gettext("Due %(due)s; first submitted %(submitted)s, late; %(status)s.", due=format_date(r.due_date),
                       submitted=format_date(r.submitted_at), status=status)
    return gettext("Due %(due)s; first submitted %(submitted)s; %(status)s.", due=format_date(r.due_date),
                   submitted=format_date(r.submitted_at), status=status)


def facts(report: EvaluationReport) -> list[tuple[str, str]]:
    """The report's facts as (label, text) pairs in the reader's language, as the PDF and the
    workbook's second sheet print them."""
    out = [
        # No middle dot: the built-in Chinese font has none.
        (gettext("Contract"), f"{report.contract_id:06d} {localized(report, 'title')}"),
        (gettext("Buyer"), localized(report, "buyer_name")),
        (gettext("Provider"), localized(report, "provider_name")),
        (gettext("Service period"), f"{format_date(report.service_start)} – {format_date(report.service_end)}"),
        (gettext("Amount"), format_money(report.amount_fen)),
        (gettext("Evaluation"), gettext(STAGE_NAMES[report.stage])),
        (gettext("Decided"), format_datetime(report.decided_at, "short")),
        (gettext("Outcome"), verdict_text(report)),
    ]
    if report.reason:
        out.append((gettext("Reason"), report.reason))
    if report.system_id is not None:
        out.append((gettext("Indicator system"), gettext("%(title)s (version %(rev)s)",
                                                         title=localized(report, "system_title"),
                                                         rev=report.system_revision)))
    if report.panel_id is not None:
        out.append((gettext("Grade bands"), gettext("Grades: A from %(a)s, B from %(b)s, C below; %(grade)s or better "
                                                    "passes.", a=report.bands.grade_a_min,
                                                    b=report.bands.grade_b_min, grade=report.bands.pass_grade)))
        out.append((gettext("Evaluation panel"), _panel_text(report)))
        out.append((gettext("Agreement (Krippendorff's alpha)"),
                    f"{report.agreement:.3f}" if report.agreement is not None else
                    gettext("not defined: one evaluator, or no variation between them")))
    if report.report is not None:
        out.append((gettext("The provider's report"), _report_text(report)))
    if not report.standing:
        out.append((gettext("Note"), gettext("A later evaluation of this stage decides it now.")))
    return out


def render_pdf(report: EvaluationReport) -> bytes:
    """An A4 PDF in the reader's language. Chinese is set in reportlab's built-in STSong-Light, which
    PDF readers supply themselves, so no font file is embedded or needed."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = ParagraphStyle("base", fontName="STSong-Light", fontSize=10, leading=15, wordWrap="CJK")
    heading = ParagraphStyle("heading", parent=base, fontSize=20, leading=28, alignment=1)
    centred = ParagraphStyle("centred", parent=base, fontSize=12, leading=18, alignment=1)
    section = ParagraphStyle("section", parent=base, fontSize=13, leading=20, spaceBefore=6, spaceAfter=4)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#57606a"))
    grey, line = colors.HexColor("#f0f2f4"), colors.HexColor("#888888")
    # A dimension's indicators indented under it, their sub-indicators further.
    levels = {n: ParagraphStyle(f"level{n}", parent=base, leftIndent=(n - 1) * 4 * mm) for n in (1, 2, 3)}

    def para(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    width = A4[0] - 36 * mm
    fact_table = Table([[para(label), para(text)] for label, text in facts(report)],
                       colWidths=[44 * mm, width - 44 * mm])
    fact_table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, line), ("BACKGROUND", (0, 0), (0, -1), grey),
                                    ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story: list[Any] = [para(title(report), heading), para(localized(report, "title"), centred), Spacer(1, 5 * mm),
                        fact_table]
    if report.rows:
        head = [gettext("No."), gettext("Indicator"), gettext("Weight"), gettext("Consensus")]
        widths = [14 * mm, 0.0, 16 * mm, 24 * mm]
        if report.notes_shown:
            head.append(gettext("Chair's note"))
            widths.append(58 * mm)
        widths[1] = width - sum(widths)
        rows: list[list[Any]] = [[para(h) for h in head]]
        style: list[Any] = [("GRID", (0, 0), (-1, -1), 0.5, line), ("BACKGROUND", (0, 0), (-1, 0), grey),
                            ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (2, 0), (3, -1), "RIGHT")]
        for r in report.rows:
            cells = [para(r.path), para(localized(r), levels[r.level]), para(f"{r.weight}%"), para(score_text(r.score))]
            if report.notes_shown:
                cells.append(para(r.note))
            if r.level == 1:
                style.append(("BACKGROUND", (0, len(rows)), (-1, len(rows)), colors.HexColor("#f6f8fa")))
            rows.append(cells)
        rows.append([para(""), para(gettext("Total")), para(""), para(score_text(report.total))]
                    + [para("")] * (len(head) - 4))
        style.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), grey))
        tree_table = Table(rows, colWidths=widths, repeatRows=1)
        tree_table.setStyle(TableStyle(style))
        story += [Spacer(1, 5 * mm), para(gettext("Scores"), section), tree_table]
        story += [Spacer(1, 4 * mm), para(gettext(
            "A parent's score is the weighted mean of the indicators under it that have a score; “not applicable” is "
            "left out and the others' weights renormalised. The scores are the panel's consensus; each evaluator's "
            "own scores and notes are not published."), small)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title(report), author="", leftMargin=18 * mm, rightMargin=18 * mm,
                      topMargin=18 * mm, bottomMargin=18 * mm).build(story)
    return buf.getvalue()


def to_xlsx(report: EvaluationReport) -> bytes:
    """A workbook: the scores (each node's path, names in both languages, weight, consensus score and,
    to those who read them, the chair's note; then the total, grade and outcome), and the facts."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = _sheet_name(gettext("Scores"))
    head = [gettext("No."), gettext("Name (Chinese)"), gettext("Name (English)"), gettext("Weight"),
            gettext("Consensus")] + ([gettext("Chair's note")] if report.notes_shown else [])
    sheet.append(head)
    for r in report.rows:
        sheet.append([r.path, r.name_zh, r.name_en, r.weight, gettext("N/A") if r.score is None else r.score]
                     + ([r.note] if report.notes_shown else []))
        sheet.cell(sheet.max_row, 5).number_format = "0.00"
        if r.level == 1:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    sheet.append([])
    for label, value in ((gettext("Total"), report.total), (gettext("Grade"), report.grade),
                         (gettext("Outcome"), gettext(OUTCOME_NAMES[report.outcome]))):
        sheet.append([label, "", "", "", value if value is not None else "—"])
        sheet.cell(sheet.max_row, 5).number_format = "0.00"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (8, 30, 40, 8, 16, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    about = book.create_sheet(_sheet_name(gettext("Facts")))
    for label, text in facts(report):
        about.append([label, text])
    about.column_dimensions["A"].width = 30
    about.column_dimensions["B"].width = 80
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31]
