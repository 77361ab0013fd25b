"""The one CSV writer every export uses, with the spreadsheet formula-injection guard.

A spreadsheet reads a cell that starts with = + - @ (or a tab or carriage return, which some
strip first) as a formula: a typed `=HYPERLINK("https://evil.example", "Click")` would become a
live link, and other formulas can run commands or send data away. Such a text cell is written
with a leading apostrophe, which spreadsheets show as text and do not evaluate. Numbers are
written as they are (a negative number is not a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | date | datetime | None


def guard(value: Cell) -> str | int | float:
    """The cell as written: text that a spreadsheet would evaluate is prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    text = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(rows: Iterable[Iterable[Cell]]) -> str:
    """Rows as CSV text (RFC 4180 quoting), every cell guarded."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([guard(cell) for cell in row] for row in rows)
    return out.getvalue()


__all__ = ["FORMULA_STARTS", "guard", "to_csv"]
