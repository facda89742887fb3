"""Indicator system files: one sheet, one row per node (its path 1, 1.2, 1.2.1 says where it sits),
then a few rows of settings (the grade bands), read row by row with every problem named by row and
column, and written back in the same columns so a file goes round export → edit → import.

The file reader is the catalogue's (XLSX, or CSV in UTF-8 or GB18030); the rows are this module's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import openpyxl
from openpyxl.utils import get_column_letter

from market.catalogue.files import ImportRefused, header_problems, read_rows
from market.catalogue.models import RowProblem
from market.core.i18n import gettext
from market.evaluation.indicators import tree
from market.evaluation.indicators.models import METHODS, POINTS, Anchor, Bands, IndicatorNode, NodeData

ANCHOR_COLUMNS = tuple(f"anchor_{p}_{lang}" for p in range(POINTS) for lang in ("zh", "en"))
COLUMNS = ("path", "name_zh", "name_en", "weight", "method", *ANCHOR_COLUMNS, "target", "target_cap",
           "evidence_zh", "evidence_en", "na_allowed", "satisfaction", "question_zh", "question_en", "value")
REQUIRED_COLUMNS = ("path", "name_zh", "name_en", "weight", "method")
# The settings rows: the key in `path`, its value in `value`.
SETTINGS = ("grade_a_min", "grade_b_min", "pass_grade")
PATH = re.compile(r"^[1-9][0-9]?(\.[1-9][0-9]?)*$")
YES = {"yes", "y", "true", "1", "是", "允许"}
NO = {"", "no", "n", "false", "0", "否", "不允许"}
LIMITS = {"name_zh": 100, "name_en": 200, "evidence_zh": 500, "evidence_en": 1000, "question_zh": 200,
          "question_en": 300}
ANCHOR_LIMIT = 300


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse(data: bytes) -> tuple[list[NodeData], Bands]:
    """The rows and the grade bands of a file, or ImportRefused listing every problem in it."""
    header, rows, problems = read_rows(data)
    problems += header_problems(header, COLUMNS, REQUIRED_COLUMNS)
    if problems and any(p.row <= 1 for p in problems):
        raise ImportRefused(problems)

    nodes: list[NodeData] = []
    row_of: dict[str, int] = {}
    settings: dict[str, str] = {}
    for row in rows:
        number = int(row["__row__"])
        before = len(problems)

        def row_problem(column: str, message: str, row_number: int = number, **params: object) -> None:
            problems.append(RowProblem(row_number, column, gettext(message, **params)))

        path = row.get("path", "")
        if path in SETTINGS:
            row_of[path] = number
            settings[path] = row.get("value", "")
            continue
        if not PATH.match(path):
            if path:
                row_problem("path", "A path is a number for a dimension, then one more for each level below: "
                            "1, 1.2, 1.2.1; settings rows are %(settings)s.", settings=", ".join(SETTINGS))
            elif not any(p.row == number and p.column == "path" for p in problems):
                row_problem("path", "This field is required.")
            continue
        if path in row_of:
            row_problem("path", "The path %(path)s is also on row %(other)s.", path=path, other=row_of[path])
            continue
        row_of[path] = number
        for column, limit in LIMITS.items():
            if column.startswith("name") and not row.get(column):
                row_problem(column, "This field is required.")
            elif len(row.get(column, "")) > limit:
                row_problem(column, "This is too long: at most %(n)s characters.", n=limit)
        weight = row.get("weight", "")
        if not weight.isdigit() or not 1 <= int(weight) <= 100:
            row_problem("weight", "A weight is a whole number from 1 to 100.")
        method = row.get("method", "").lower() or None
        if method is not None and method not in METHODS:
            row_problem("method", "Unknown method “%(value)s”; use %(allowed)s, or leave it empty on a row with rows "
                        "under it.", value=method, allowed=", ".join(METHODS))
        texts = [row.get(c, "") for c in ANCHOR_COLUMNS]
        for column, text in zip(ANCHOR_COLUMNS, texts, strict=True):
            if len(text) > ANCHOR_LIMIT:
                row_problem(column, "This is too long: at most %(n)s characters.", n=ANCHOR_LIMIT)
        anchors = [Anchor(texts[2 * p], texts[2 * p + 1]) for p in range(POINTS)] if any(texts) else []
        numbers: dict[str, Decimal | None] = {}
        for column in ("target", "target_cap"):
            text = row.get(column, "")
            numbers[column] = _number(text) if text else None
            if text and numbers[column] is None:
                row_problem(column, "Enter a number, such as 90 or 1.2.")
        flags: dict[str, bool] = {}
        for column in ("na_allowed", "satisfaction"):
            text = row.get(column, "").lower()
            if text not in YES | NO:
                row_problem(column, "Write yes or no (or leave it empty for no).")
            flags[column] = text in YES
        if len(problems) == before:
            nodes.append(NodeData(path=path, name_zh=row["name_zh"], name_en=row["name_en"], weight=int(weight),
                                  method=method, anchors=anchors, target=numbers["target"],
                                  target_cap=numbers["target_cap"], evidence_zh=row.get("evidence_zh", ""),
                                  evidence_en=row.get("evidence_en", ""), question_zh=row.get("question_zh", ""),
                                  question_en=row.get("question_en", ""), **flags))

    defaults = Bands()
    limits: dict[str, Decimal] = {}
    for key in ("grade_a_min", "grade_b_min"):
        value = _number(settings[key]) if key in settings else getattr(defaults, key)
        if value is None:
            problems.append(RowProblem(row_of[key], "value", gettext("Enter a number, such as 85.")))
        else:
            limits[key] = value
    bands = Bands(grade_a_min=limits.get("grade_a_min", defaults.grade_a_min),
                  grade_b_min=limits.get("grade_b_min", defaults.grade_b_min),
                  pass_grade=settings.get("pass_grade", defaults.pass_grade).upper())
    if not any(p.row > 1 for p in problems):
        # A problem of the whole tree is told on the row it is about: a node's, a setting's, or the header.
        for found in tree.problems(nodes, bands):
            where = row_of.get(found.path) or row_of.get(found.column, 1)
            column = "value" if found.column in SETTINGS else found.column
            if column == "anchors":
                column = ANCHOR_COLUMNS[0]
            problems.append(RowProblem(where, column, found.message))
    if problems:
        order = {c: i for i, c in enumerate(COLUMNS)}
        raise ImportRefused(sorted(problems, key=lambda p: (p.row, order.get(p.column, -1))))
    return sorted(nodes, key=lambda n: tree.sort_key(n.path)), bands


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _rows(nodes: Iterable[IndicatorNode], bands: Bands) -> list[list[str]]:
    out = []
    for node in tree.flatten(nodes):
        anchors = [text for a in node.anchors for text in (a.text_zh, a.text_en)] or [""] * len(ANCHOR_COLUMNS)
        leaf = not node.children
        out.append([node.path, node.name_zh, node.name_en, str(node.weight), node.method or "", *anchors,
                    _text(node.target), _text(node.target_cap), node.evidence_zh, node.evidence_en,
                    _yes(node.na_allowed) if leaf else "", "yes" if node.satisfaction else "", node.question_zh,
                    node.question_en, ""])
    blank = [""] * (len(COLUMNS) - 2)
    out.append([""] * len(COLUMNS))
    out.append(["grade_a_min", *blank, _text(bands.grade_a_min)])
    out.append(["grade_b_min", *blank, _text(bands.grade_b_min)])
    out.append(["pass_grade", *blank, bands.pass_grade])
    return out


def to_xlsx(nodes: Iterable[IndicatorNode], bands: Bands, title: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "indicators"
    sheet.append(COLUMNS)
    for row in _rows(nodes, bands):
        sheet.append(row)
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        for cell in sheet[letter]:
            cell.number_format = "@"  # text, so a path 1.10 stays 1.10 when edited
        sheet.column_dimensions[letter].width = 30 if column.startswith(("name", "anchor", "evidence")) else 12
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
