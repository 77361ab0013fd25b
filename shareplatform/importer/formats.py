"""Reading CSV and JSON extracts into rows of canonical column names, reporting every problem.

Source systems name their columns differently (ViSOR, nDelius, NOMIS); each canonical column
accepts a few aliases, matched case-insensitively. Unknown columns are refused rather than
silently dropped: a misspelt column would otherwise lose data without anyone noticing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

Value = str | list[str] | None
LIST_COLUMNS = frozenset({"aliases", "caveats", "joint_agencies"})


@dataclass(frozen=True, order=True)
class Problem:
    row: int  # 1 = the first data row; 0 = the file or its header
    field: str
    problem: str

    def line(self) -> str:
        return f"row {self.row:>6}  {self.field or '-':<18}  {self.problem}"


@dataclass
class Extract:
    rows: list[tuple[int, dict[str, Value]]] = field(default_factory=list)  # (row number, row)
    total: int = 0  # data rows in the file, good or bad
    problems: list[Problem] = field(default_factory=list)
    sha256: str = ""


def _key(name: str) -> str:
    return "".join(
        ch
        for ch in name.strip().lower().replace("-", "_").replace(" ", "_")
        if ch.isalnum() or ch == "_"
    )


def column_map(columns: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Every accepted spelling -> canonical column name."""
    out: dict[str, str] = {}
    for canonical, aliases in columns.items():
        for name in (canonical, *aliases):
            out[_key(name)] = canonical
    return out


def read(
    path: Path, columns: Mapping[str, tuple[str, ...]], fmt: str | None = None, wrapper: str = ""
) -> Extract:
    import hashlib

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Extract(problems=[Problem(0, "", f"cannot read the file: {exc.strerror or exc}")])
    return parse(
        raw,
        columns,
        fmt or ("json" if path.suffix.lower() == ".json" else "csv"),
        wrapper,
        hashlib.sha256(raw).hexdigest(),
    )


def parse(
    raw: bytes,
    columns: Mapping[str, tuple[str, ...]],
    fmt: str,
    wrapper: str = "",
    sha256: str = "",
) -> Extract:
    out = Extract(sha256=sha256)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.problems.append(Problem(0, "", f"the file is not UTF-8 text (byte {exc.start})"))
        return out
    names = _Names(column_map(columns))
    items = _json_items(text, wrapper, out) if fmt == "json" else _csv_items(text, out)
    out.total = len(items)
    for number, item in enumerate(items, start=1):
        row = _canonical(number, item, names, out)
        if row is not None:
            out.rows.append((number, row))
    if not out.total and not out.problems:
        out.problems.append(Problem(0, "", "the file holds no rows"))
    return out


def _json_items(text: str, wrapper: str, out: Extract) -> list[object]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        out.problems.append(Problem(0, "", f"not valid JSON: {exc}"))
        return []
    if isinstance(data, dict) and wrapper and isinstance(data.get(wrapper), list):
        data = data[wrapper]
    if not isinstance(data, list):
        expected = (
            f'an array of objects, or {{"{wrapper}": [...]}}' if wrapper else "an array of objects"
        )
        out.problems.append(Problem(0, "", f"expected {expected}"))
        return []
    return data


def _csv_items(text: str, out: Extract) -> list[object]:
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        lines = [row for row in reader]
    except csv.Error as exc:
        out.problems.append(Problem(0, "", f"not valid CSV: {exc}"))
        return []
    lines = [row for row in lines if any(cell.strip() for cell in row)]
    if not lines:
        return []
    header, body = lines[0], lines[1:]
    items: list[object] = []
    for number, row in enumerate(body, start=1):
        if len(row) != len(header):
            out.problems.append(
                Problem(number, "", f"{len(row)} cells where the header has {len(header)}")
            )
            items.append(None)
            continue
        items.append(dict(zip(header, row, strict=True)))
    return items


class _Names(dict[str, str | None]):
    """Column name as written in the file -> canonical name (None: unknown), each spelling
    normalised once per file rather than once per row."""

    def __init__(self, accepted: dict[str, str]) -> None:
        super().__init__()
        self._accepted = accepted

    def __missing__(self, name: str) -> str | None:
        canonical = self[name] = self._accepted.get(_key(name))
        return canonical


def _canonical(number: int, item: object, names: _Names, out: Extract) -> dict[str, Value] | None:
    if item is None:
        return None
    if not isinstance(item, dict):
        out.problems.append(Problem(number, "", "each row must be an object of column: value"))
        return None
    row: dict[str, Value] = {}
    ok = True
    for name, value in item.items():
        canonical = names[str(name)]
        if canonical is None:
            out.problems.append(Problem(number, str(name)[:40], "unknown column"))
            ok = False
            continue
        if canonical in row:
            out.problems.append(
                Problem(number, canonical, f"given twice (as {str(name)[:40]!r} too)")
            )
            ok = False
            continue
        parsed = _value(canonical, value)
        if isinstance(parsed, Problem):
            out.problems.append(Problem(number, canonical, parsed.problem))
            ok = False
            continue
        row[canonical] = parsed
    return row if ok else None


def _value(column: str, value: object) -> Value | Problem:
    if value is None:
        return None
    if isinstance(value, bool | dict):
        return Problem(0, column, "expected text")
    if isinstance(value, list):
        if column not in LIST_COLUMNS or not all(isinstance(v, str) for v in value):
            return Problem(
                0,
                column,
                "expected text" if column not in LIST_COLUMNS else "expected a list of text",
            )
        return [v.strip() for v in value if v.strip()]
    if isinstance(value, int | float):
        value = str(value)
    text = str(value).strip()
    if "\x00" in text:
        return Problem(0, column, "contains a NUL character")
    if column in LIST_COLUMNS:
        return (
            [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
            if column != "aliases"
            else [part.strip() for part in text.split(";") if part.strip()]
        )
    return text or None


def text(row: dict[str, Value], column: str) -> str:
    value = row.get(column)
    return value if isinstance(value, str) else ""


def items(row: dict[str, Value], column: str) -> list[str]:
    value = row.get(column)
    return value if isinstance(value, list) else []


def parse_date(value: str) -> date:
    """ISO 8601 (2024-03-01) or the UK form the source systems export (01/03/2024)."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{value[:30]!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
