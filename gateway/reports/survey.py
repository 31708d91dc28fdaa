"""``jumbe report survey ID``: the scores, the dispositions and, with ``--html``, a page with the
score distribution of each scored question and the completion funnel (inline SVG)."""

from __future__ import annotations

from typing import Any

from gateway.reports import page, svg, tables
from gateway.reports.tables import Table

SCORES = ("nps", "ces", "csat")
FUNNEL = ("contacted", "started", "completed")
"""Respondents who got at least this far (a completed respondent also started and was
contacted)."""


def question_table(report: dict[str, Any]) -> Table:
    """One row per question: type, n, score (scored questions), the counts per category."""
    rows = []
    for qid, entry in report["questions"].items():
        score = next((entry[name] for name in SCORES if name in entry), None)
        counts = ", ".join(f"{k}: {v}" for k, v in entry.get("counts", {}).items())
        rows.append((qid, entry["type"], entry["n"], score, counts))
    return Table(("question", "type", "n", "score", "counts"), rows)


def disposition_table(report: dict[str, Any]) -> Table:
    return Table(("disposition", "respondents"), list(report["dispositions"].items()))


def funnel(report: dict[str, Any]) -> list[tuple[str, float]]:
    """Respondents reaching each step: invited or dialled, contacted, started, completed."""
    counts = report["dispositions"]
    finished_early = ("refused", "unresponsive", "failed")
    after_start = ("completed", "partial", "breakoff", "rejected", "ineligible")
    started = counts["started"] + sum(counts[d] for d in after_start)
    contacted = counts["contacted"] + started + sum(counts[d] for d in finished_early)
    return [("respondents", report["respondents"]), ("contacted", contacted),
            ("started", started), ("completed", counts["completed"])]  # fmt: skip


def heading(report: dict[str, Any]) -> str:
    done = report["completed"]
    return f"Survey {report['id']}: {report['respondents']} respondents, {done} completed"


def text(report: dict[str, Any]) -> str:
    """What ``jumbe report survey`` prints."""
    return (
        f"{heading(report)}\n\n{tables.to_text(question_table(report))}\n"
        f"Dispositions\n{tables.to_text(disposition_table(report))}"
    )


def csv(report: dict[str, Any]) -> str:
    return tables.to_csv(question_table(report))


def html(report: dict[str, Any]) -> str:
    """Headline scores, a distribution chart per scored question, the completion funnel."""
    figures = [("respondents", str(report["respondents"])), ("completed", str(report["completed"]))]
    charts = []
    for qid, entry in report["questions"].items():
        name = next((s for s in SCORES if s in entry), None)
        if name is None:
            continue
        score = entry[name]
        figures.append(
            (f"{qid}: {name.upper()} (n={entry['n']})", "–" if score is None else f"{score:g}")
        )
        values = entry.get("values", {})
        charts.append(svg.bar_chart(f"{qid}: answers by score (n={entry['n']})", list(values),
                                    [float(v) for v in values.values()]))  # fmt: skip
    charts.append(svg.funnel_chart("Completion funnel", funnel(report)))
    return page.page(
        heading(report),
        "Scores use valid answers only; n is how many there were. NPS: % promoters (9-10) "
        "minus % detractors (0-6); CES: mean of 1-7; CSAT: % of 4-5 answers.",
        [
            page.Section("", page.figures(figures) + "".join(charts)),
            page.Section("Questions", tables.to_html(question_table(report))),
            page.Section("Dispositions", tables.to_html(disposition_table(report))),
        ],
    )
