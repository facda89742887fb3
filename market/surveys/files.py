"""A survey's printed and exported forms, from the views the pages show (nothing here reads the
database): the QR code (SVG for pages, drawn into PDFs), the A4 poster, the sheet of code slips,
and the results as CSV, which under 5 answers holds nothing but the sentence saying so."""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.sax.saxutils import escape

import segno

from market.core.i18n import gettext
from market.core.web import localized
from market.surveys.models import NOT_SHOWN, SurveyView


def qr_svg(link: str) -> str:
    """The link's QR code as an inline <svg> element (no XML declaration), scaled by CSS."""
    return str(segno.make(link, error="m").svg_inline(scale=4, border=2, dark="#000", omitsize=True))


def _qr_drawing(link: str, size: float) -> Any:
    """The QR code as reportlab vector squares, `size` points wide."""
    from reportlab.graphics.shapes import Drawing, Rect
    from reportlab.lib import colors

    qr = segno.make(link, error="m")
    matrix = list(qr.matrix)
    border = 2
    modules = len(matrix) + 2 * border
    cell = size / modules
    drawing = Drawing(size, size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                drawing.add(Rect((x + border) * cell, size - (y + border + 1) * cell, cell, cell,
                                 fillColor=colors.black, strokeColor=None, strokeWidth=0))
    return drawing


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    base = ParagraphStyle("base", fontName="STSong-Light", fontSize=12, leading=18, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=28, leading=38, alignment=1),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=16, leading=24, alignment=1),
        "centred": ParagraphStyle("centred", parent=base, alignment=1),
        "link": ParagraphStyle("link", parent=base, fontName="Helvetica", fontSize=13, leading=18, alignment=1),
        "step": ParagraphStyle("step", parent=base, fontSize=13, leading=21, leftIndent=12),
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=13),
        "small_link": ParagraphStyle("small_link", parent=base, fontName="Helvetica", fontSize=7, leading=10),
        "code": ParagraphStyle("code", parent=base, fontName="Courier-Bold", fontSize=18, leading=24, alignment=1),
    }


def _para(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def poster_pdf(view: SurveyView) -> bytes:
    """An A4 poster in the reader's language: the title, the project and provider (or the community),
    the QR code, the link written out, and how to answer. Chinese is set in reportlab's built-in
    STSong-Light, which PDF readers supply, so no font is embedded."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    st = _styles()
    title = gettext("Residents' satisfaction survey") if view.kind == "project" else \
        gettext("How satisfied are you with your community's services?")
    story: list[Any] = [_para(title, st["title"]), Spacer(1, 4 * mm), _para(localized(view, "title"), st["subtitle"])]
    if view.provider_name_zh:
        story.append(_para(gettext("Service provided by %(provider)s, bought by %(buyer)s",
                                   provider=localized(view, "provider_name"), buyer=localized(view, "buyer_name")),
                           st["centred"]))
    else:
        story.append(_para(gettext("Run by %(buyer)s", buyer=localized(view, "buyer_name")), st["centred"]))
    drawing = _qr_drawing(view.link, 95 * mm)
    drawing.hAlign = "CENTER"
    story += [Spacer(1, 8 * mm), drawing, Spacer(1, 4 * mm), _para(view.link, st["link"]), Spacer(1, 8 * mm),
              _para(gettext("How to answer"), st["subtitle"]), Spacer(1, 2 * mm)]
    for i, text in enumerate([
        gettext("Scan the code with your phone's camera or WeChat, or type the address above."),
        gettext("Answer %(n)s short questions, from “very dissatisfied” to “very satisfied”, and add a comment "
                "if you wish.", n=len(view.questions)),
        gettext("Enter the code on the slip you were given, or confirm your mobile number with a code sent by "
                "text message. No account is needed, and each resident answers once."),
        gettext("Your answer is anonymous: results are published only as totals of 5 answers or more."),
    ], start=1):
        story.append(_para(f"{i}. {text}", st["step"]))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title, author="", leftMargin=20 * mm, rightMargin=20 * mm,
                      topMargin=20 * mm, bottomMargin=16 * mm).build(story)
    return buf.getvalue()


def slips_pdf(view: SurveyView, codes: list[str]) -> bytes:
    """A4 sheets of cut-out slips, 2 across and 6 down, each with the link, its QR code and one code."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    st = _styles()
    title = localized(view, "title")

    def slip(code: str) -> Any:
        inner = Table([[_qr_drawing(view.link, 26 * mm),
                        [_para(gettext("Satisfaction survey"), st["base"]), _para(title, st["small"]),
                         _para(view.link, st["small_link"]), _para(gettext("Your code:"), st["small"]),
                         _para(f"{code[:4]}-{code[4:]}", st["code"])]]],
                      colWidths=[30 * mm, 55 * mm])
        inner.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return inner

    cells = [slip(c) for c in codes] or [_para(gettext("No codes are left unused in this batch."), st["base"])]
    rows = [cells[i:i + 2] + [""] * (2 - len(cells[i:i + 2])) for i in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[88 * mm, 88 * mm], rowHeights=[44 * mm] * len(rows))
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=gettext("Answer codes"), author="", leftMargin=15 * mm,
                      rightMargin=15 * mm, topMargin=12 * mm, bottomMargin=12 * mm).build([table])
    return buf.getvalue()


def results_csv(view: SurveyView) -> bytes:
    """The results in the reader's language, UTF-8 with a byte-order mark so spreadsheet programs
    read the Chinese; under 5 answers only the sentence that says results are not shown."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([gettext("Survey"), localized(view, "title")])
    if view.results is None:
        writer.writerow([gettext(NOT_SHOWN)])
        return ("\ufeff" + out.getvalue()).encode()
    level = 95
    writer.writerow([gettext("Question"), gettext("Answers"), gettext("Mean (1–5)"),
                     gettext("%(level)s%% interval from", level=level), gettext("%(level)s%% interval to", level=level),
                     gettext("Satisfied (per cent)"), gettext("%(level)s%% interval from", level=level),
                     gettext("%(level)s%% interval to", level=level)])
    figures = [(f"{r.question.position}. {localized(r.question, 'text')}", r.figure) for r in view.results.questions]
    for label, f in [*figures, (gettext("Overall (each resident's mean)"), view.results.overall)]:
        writer.writerow([label, f.answers, f.mean, f.mean_low, f.mean_high, f.satisfied_percent, f.satisfied_low,
                         f.satisfied_high])
    published = [c for c in view.comments if c.status == "published"]
    if published:
        writer.writerow([])
        writer.writerow([gettext("Published comments")])
        for c in published:
            writer.writerow([c.text])
    return ("\ufeff" + out.getvalue()).encode()
