"""Rows of a report as a terminal table, CSV or an HTML table (the same ``Table`` for all three)."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Table:
    """Named columns and rows of cells (``None`` = nothing to show)."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]


def to_csv(table: Table) -> str:
    """RFC 4180 CSV with a header line; ``None`` is an empty field, numbers as JSON writes them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue()


def to_text(table: Table, formats: dict[str, str] | None = None) -> str:
    """Aligned columns for a terminal: text left, numbers right, ``-`` for nothing.

    ``formats`` maps a column to ``percent`` (0.25 → ``25.0%``) or ``seconds`` (90 → ``1m30s``).
    """
    formats = formats or {}
    shown = [
        [show(cell, formats.get(name)) for name, cell in zip(table.columns, row, strict=True)]
        for row in table.rows
    ]
    widths = [
        max([len(name), *(len(row[i]) for row in shown)]) for i, name in enumerate(table.columns)
    ]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in table.rows)
        and any(row[i] is not None for row in table.rows)
        for i in range(len(table.columns))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    return "\n".join([line(table.columns), *(line(row) for row in shown)]) + "\n"


def to_html(table: Table, formats: dict[str, str] | None = None) -> str:
    """A ``<table>`` (escaped), numbers right-aligned by the page's CSS."""
    formats = formats or {}
    head = "".join(f"<th>{html.escape(name)}</th>" for name in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for name, cell in zip(table.columns, row, strict=True):
            css = ' class="n"' if isinstance(cell, int | float) else ""
            cells.append(f"<td{css}>{html.escape(show(cell, formats.get(name)))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def show(cell: Cell, kind: str | None = None) -> str:
    """One cell as text: ``-`` for nothing; ``kind`` as in ``to_text``."""
    if cell is None:
        return "-"
    if kind == "percent" and isinstance(cell, int | float):
        return f"{cell * 100:.1f}%"
    if kind == "seconds" and isinstance(cell, int | float):
        return duration(cell)
    return str(cell)


def duration(seconds: float) -> str:
    """``45s``, ``1m30s``, ``2h``, ``1d4h``: short and exact to the second."""
    total = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    if total or not parts:
        parts.append(f"{total}s")
    return "".join(parts)
