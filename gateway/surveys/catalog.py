"""The surveys being served, by id: swapped in one assignment on every reload."""

from __future__ import annotations

from gateway.surveys.model import Survey


class SurveyCatalog:
    """``get(id)`` reads the surveys installed last (``content.surveys``)."""

    __slots__ = ("surveys",)

    def __init__(self, surveys: list[Survey] | None = None) -> None:
        self.surveys: dict[str, Survey] = {s.id: s for s in surveys or []}

    def install(self, surveys: list[Survey]) -> None:
        self.surveys = {s.id: s for s in surveys}

    def get(self, survey_id: str) -> Survey | None:
        return self.surveys.get(survey_id)
