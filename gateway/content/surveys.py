"""``kind: survey``: a survey over USSD and SMS, checked by ``surveys.parse``, served live.

Claims across the folder: its id (``survey id``) and its service codes (the ``service code``
space menus claim too, so a code cannot be both a menu and a survey). ``install`` swaps the
surveys into ``app[SURVEYS]`` (``SurveyCatalog``) and serves the dialled ones through the menu
registry as one-screen menus (``surveys.dialled``), under the ``survey`` source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.content.kind import Built, Claim, Document
from gateway.surveys.model import Survey
from gateway.surveys.parse import parse_survey

if TYPE_CHECKING:
    from aiohttp import web


class SurveyKind:
    """Survey files: checked here, served from ``app[SURVEYS]``."""

    name = "survey"

    def build(self, document: Document) -> Built[Survey]:
        locations = document.locations
        survey, findings = parse_survey(
            document.data, locations, document.version, document.budget, document.findings
        )
        if survey is None:
            return Built(self.name, document.path, document.version, None, findings)
        claims = [Claim("survey id", survey.id, *locations.at(("id",)),
                        f"survey id {survey.id!r} is also used by")]  # fmt: skip
        codes = document.data.get("service_codes")
        for i, code in enumerate(survey.service_codes):
            where = locations.at(("service_codes", i) if isinstance(codes, list) else
                                 ("service_codes",))  # fmt: skip
            claims.append(Claim("service code", code, *where, f"service code {code} is also "
                                "served by"))  # fmt: skip
        return Built(self.name, document.path, document.version, survey, findings,
                     tuple(claims), survey.id)  # fmt: skip

    def install(self, app: web.Application, values: list[Survey]) -> list[Any]:
        from gateway.appkeys import REGISTRY, SURVEYS  # not at import: `jumbe check` needs no app
        from gateway.menu.registry import MenuRegistry
        from gateway.surveys.catalog import SurveyCatalog
        from gateway.surveys.dialled import dialled_menu

        if SURVEYS not in app:
            app[SURVEYS] = SurveyCatalog(values)
        else:
            app[SURVEYS].install(values)
        if REGISTRY not in app:
            app[REGISTRY] = MenuRegistry()
        menus = [dialled_menu(s) for s in values if s.service_codes]
        return app[REGISTRY].install(menus, source="survey")

    def release(self, retired: list[Any]) -> None:
        """One-screen menus are small: nothing to take apart."""


KIND = SurveyKind()
