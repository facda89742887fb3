"""Catalogue files: reading and checking a CSV or XLSX file row by row, and writing one back.

A bureau keeps its catalogue in Excel; the columns are the ones `export` writes, so a file can go
round the loop export → edit → import. Prices are in yuan in the file (people read yuan) and fen
everywhere else.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec
import openpyxl
from openpyxl.utils import get_column_letter

from market.catalogue.models import PROVIDER_TYPES, Entry, Indicator, RowProblem
from market.core.errors import Invalid
from market.core.i18n import N_, gettext
from market.core.money import yuan_to_fen

COLUMNS = ("code", "name_zh", "name_en", "description_zh", "description_en", "unit_zh", "unit_en",
           "price_min_yuan", "price_max_yuan", "provider_types", "min_rating", "min_years", "scope", "indicators")
REQUIRED_COLUMNS = ("code", "name_zh", "name_en")
ITEM_ONLY = ("unit_zh", "unit_en", "price_min_yuan", "price_max_yuan", "provider_types", "min_rating", "min_years",
             "scope", "indicators")
MAX_ROWS = 5000
CODE = re.compile(r"^[0-9]{2}(\.[0-9]{2}){0,2}$")
LEVELS = {1: "category", 2: "subcategory", 3: "item"}


class ImportRefused(Invalid):
    """The file has problems; nothing was imported. Every problem is listed."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        super().__init__(N_("The file has %(count)s problems; nothing was imported."), field="file", count=len(problems))

    def details(self) -> dict[str, object]:
        return {"problems": msgspec.to_builtins(self.problems)}


def _cell(value: Any, column: str, row: int, problems: list[RowProblem]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if column == "code":
            # Excel turned 01.02 into the number 1.02: the leading zero is gone and cannot be guessed.
            problems.append(RowProblem(row, column, gettext(
                "The code was stored as a number; format the column as text so 01.02 keeps its leading zero.")))
            return ""
        if isinstance(value, float) and not value.is_integer():
            return str(Decimal(str(value)))
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes) -> tuple[list[str], list[dict[str, str]], list[RowProblem]]:
    """The header and rows of a CSV (UTF-8, or GB18030 as Chinese Excel saves it) or XLSX file."""
    problems: list[RowProblem] = []
    if data[:2] == b"PK":
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ImportRefused([RowProblem(0, "", gettext("This is not a readable Excel (.xlsx) file."))]) from None
        sheet = book.worksheets[0]
        raw = [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
        book.close()
        header = [str(h).strip() if h is not None else "" for h in (raw[0] if raw else [])]
        rows = []
        for number, values in enumerate(raw[1:], start=2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            rows.append({"__row__": str(number), **{h: _cell(v, h, number, problems)
                                                    for h, v in zip(header, values, strict=False) if h}})
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportRefused([RowProblem(0, "", gettext("The file is neither UTF-8 nor GB18030 text."))])
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            table = list(reader)
        except csv.Error as exc:
            raise ImportRefused([RowProblem(reader.line_num, "", gettext("The CSV is malformed: %(problem)s",
                                                                          problem=str(exc)))]) from None
        header = [h.strip() for h in (table[0] if table else [])]
        rows = []
        for number, values in enumerate(table[1:], start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                problems.append(RowProblem(number, "", gettext("This row has more cells than the header has columns.")))
            rows.append({"__row__": str(number), **{h: v.strip() for h, v in zip(header, values, strict=False) if h}})
    if len(rows) > MAX_ROWS:
        raise ImportRefused([RowProblem(MAX_ROWS + 2, "", gettext("A catalogue file has at most %(max)s rows.",
                                                                  max=MAX_ROWS))])
    return header, rows, problems


def header_problems(header: list[str], columns: tuple[str, ...], required: tuple[str, ...]) -> list[RowProblem]:
    """A required column missing, or a column the file should not have (row 1 is the header)."""
    problems = [RowProblem(1, column, gettext("The column “%(column)s” is missing.", column=column))
                for column in required if column not in header]
    problems += [RowProblem(1, column, gettext("Unknown column “%(column)s”; the columns are: %(columns)s.",
                                               column=column, columns=", ".join(columns)))
                 for column in header if column and column not in columns]
    return problems


def parse_entries(data: bytes) -> list[Entry]:
    """Every row as an Entry, or ImportRefused listing every problem in the file."""
    header, rows, problems = read_rows(data)
    problems += header_problems(header, COLUMNS, REQUIRED_COLUMNS)
    if not rows:
        problems.append(RowProblem(2, "", gettext("The file has no rows under its header.")))
    if problems and any(p.row <= 1 for p in problems):
        raise ImportRefused(problems)

    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for row in rows:
        number = int(row["__row__"])
        before = len(problems)

        def row_problem(column: str, message: str, row_number: int = number, **params: object) -> None:
            problems.append(RowProblem(row_number, column, gettext(message, **params)))

        code = row.get("code", "")
        if not CODE.match(code):
            if code:
                row_problem("code", "A code is two digits, then two more for each level below: 01, 01.02, 01.02.03.")
            elif not any(p.row == number and p.column == "code" for p in problems):
                row_problem("code", "This field is required.")
            continue
        if code in seen:
            row_problem("code", "The code %(code)s is also on row %(other)s.", code=code, other=seen[code])
        seen.setdefault(code, number)
        level = LEVELS[code.count(".") + 1]
        name_zh, name_en = row.get("name_zh", ""), row.get("name_en", "")
        for column, value, limit in (("name_zh", name_zh, 100), ("name_en", name_en, 200)):
            if not value:
                row_problem(column, "This field is required.")
            elif len(value) > limit:
                row_problem(column, "This is too long: at most %(n)s characters.", n=limit)
        for column, limit in (("description_zh", 1000), ("description_en", 2000)):
            if len(row.get(column, "")) > limit:
                row_problem(column, "This is too long: at most %(n)s characters.", n=limit)
        fields: dict[str, Any] = {}
        if level != "item":
            for column in ITEM_ONLY:
                if row.get(column):
                    row_problem(column, "Only items (codes like 01.02.03) have this; categories and sub-categories do not.")
        else:
            for column in ("unit_zh", "unit_en"):
                if not row.get(column):
                    row_problem(column, "An item needs its unit of purchase.")
                elif len(row[column]) > 40:
                    row_problem(column, "This is too long: at most %(n)s characters.", n=40)
            prices = {}
            for column in ("price_min_yuan", "price_max_yuan"):
                try:
                    prices[column] = yuan_to_fen(row.get(column, ""))
                except ValueError:
                    row_problem(column, "Enter a price in yuan greater than 0, with at most two decimals, such as 80 or 12.50.")
            if len(prices) == 2 and prices["price_min_yuan"] > prices["price_max_yuan"]:
                row_problem("price_max_yuan", "The highest price is below the lowest.")
            types = [t.strip() for t in row.get("provider_types", "").split(";") if t.strip()] or list(PROVIDER_TYPES)
            if bad := [t for t in types if t not in PROVIDER_TYPES]:
                row_problem("provider_types", "Unknown provider type “%(value)s”; use %(allowed)s, separated by “;”.",
                        value=bad[0], allowed=", ".join(PROVIDER_TYPES))
            rating = row.get("min_rating", "").upper().removesuffix("A")
            if rating and (not rating.isdigit() or not 1 <= int(rating) <= 5):
                row_problem("min_rating", "The minimum rating is 1 to 5 (1A to 5A), or empty for none.")
            years = row.get("min_years", "")
            if years and (not years.isdigit() or int(years) > 50):
                row_problem("min_years", "The minimum years registered is a whole number from 0 to 50, or empty.")
            scope = row.get("scope", "") or "district"
            if scope not in ("district", "any"):
                row_problem("scope", "The scope is “district” (providers registered in this district) or “any”.")
            indicators = []
            for part in [p for p in row.get("indicators", "").split(";") if p.strip()]:
                bits = [b.strip() for b in part.split("|")]
                if len(bits) != 3 or not all(bits):
                    row_problem("indicators", "Write each indicator as name in Chinese|name in English|unit, separated by “;”.")
                    break
                indicators.append(Indicator(*bits))
            if not indicators and not any(p.column == "indicators" and p.row == number for p in problems):
                row_problem("indicators", "An item needs at least one outcome indicator.")
            if len(problems) == before:
                fields = {"unit_zh": row["unit_zh"], "unit_en": row["unit_en"],
                          "price_min_fen": prices["price_min_yuan"], "price_max_fen": prices["price_max_yuan"],
                          "provider_types": types, "min_rating": int(rating) if rating else None,
                          "min_years": int(years) if years else None, "scope": scope, "indicators": indicators}
        if len(problems) == before:
            entries.append(Entry(code=code, level=level, parent_code=code.rsplit(".", 1)[0] if "." in code else None,
                                 name_zh=name_zh, name_en=name_en, description_zh=row.get("description_zh", ""),
                                 description_en=row.get("description_en", ""), **fields))
    for code, number in seen.items():
        if "." in code and code.rsplit(".", 1)[0] not in seen:
            problems.append(RowProblem(number, "code", gettext("%(code)s needs the row for %(parent)s, which the file "
                                                               "does not have.", code=code,
                                                               parent=code.rsplit(".", 1)[0])))
    if problems:
        raise ImportRefused(sorted(problems, key=lambda p: (p.row, COLUMNS.index(p.column) if p.column in COLUMNS else -1)))
    return sorted(entries, key=lambda e: [int(x) for x in e.code.split(".")])


def _row_of(entry: Entry) -> list[str]:
    is_item = entry.level == "item"
    return [
        entry.code, entry.name_zh, entry.name_en, entry.description_zh, entry.description_en,
        entry.unit_zh or "", entry.unit_en or "",
        f"{entry.price_min_fen / 100:.2f}" if is_item and entry.price_min_fen else "",
        f"{entry.price_max_fen / 100:.2f}" if is_item and entry.price_max_fen else "",
        ";".join(entry.provider_types or []) if is_item else "",
        str(entry.min_rating or "") if is_item else "", "" if entry.min_years is None else str(entry.min_years),
        entry.scope or "", ";".join(f"{i.name_zh}|{i.name_en}|{i.unit}" for i in entry.indicators),
    ]


def to_csv(entries: Iterable[Entry]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(_row_of(entry))
    # A byte-order mark, so Excel opens the Chinese text as UTF-8.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(entries: Iterable[Entry], title: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title[:31] or "catalogue"
    sheet.append(COLUMNS)
    for entry in entries:
        sheet.append(_row_of(entry))
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        for cell in sheet[letter]:
            cell.number_format = "@"  # text, so codes keep their leading zeros when edited
        sheet.column_dimensions[letter].width = {"code": 12, "description_zh": 40, "description_en": 40,
                                                 "indicators": 50}.get(column, 18)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
