"""A self-contained HTML page for a report: inline CSS and inline SVG, nothing fetched.

The page opens from a file, offline, in any browser: no scripts, no web fonts, no images, no
links. ``page()`` escapes the title and headings; sections' bodies are trusted HTML built by
``gateway.reports`` (charts from ``svg``, tables from ``tables.to_html``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121;
       margin: 0 auto; max-width: 960px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
p.meta { color: #616161; margin: 0 0 16px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.figure { border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.figure b { display: block; font-size: 22px; }
.figure span { color: #616161; font-size: 13px; }
svg.chart { display: block; margin: 8px 0 16px; }
svg .title { font-size: 14px; font-weight: 600; fill: #212121; }
svg .tick { font-size: 11px; fill: #616161; }
svg .grid { stroke: #eeeeee; stroke-width: 1; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid #eeeeee; padding: 4px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #fafafa; }
@media print { body { padding: 0; } }
"""


@dataclass(frozen=True, slots=True)
class Section:
    """A heading (plain text) and its body (HTML)."""

    heading: str
    body: str


def figures(items: Sequence[tuple[str, str]]) -> str:
    """Headline numbers: (label, value) boxes."""
    boxes = "".join(
        f'<div class="figure"><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>'
        for label, value in items
    )
    return f'<div class="figures">{boxes}</div>'


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole document."""
    body = "".join(
        f"<h2>{html.escape(s.heading)}</h2>{s.body}" if s.heading else s.body for s in sections
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>"
        f'<p class="meta">{html.escape(subtitle)}</p>{body}</body></html>\n'
    )
