"""Indicator system files for tests: the demo's rows to change, and a workbook of any rows."""

import csv
import io
from pathlib import Path

import openpyxl

from market.evaluation.indicators import files

DEMO = Path(__file__).resolve().parents[1] / "market" / "evaluation" / "indicators"


def demo_rows(stage: str = "final") -> list[list[str]]:
    return list(csv.reader(io.StringIO((DEMO / f"demo_{stage}.csv").read_text("utf-8"))))


def cell(rows, path, column):
    """Where a row's cell is: (row index, column index)."""
    return next(i for i, r in enumerate(rows) if r and r[0] == path), files.COLUMNS.index(column)


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
