"""``kind: catalog``: what points buy (``gateway.rewards.catalog`` has the format and checks).

Claims: the catalog id (unique per kind) and each item id (unique across every catalog of the
folder). ``install`` swaps the served catalogs into ``app[CATALOGS]`` in one assignment, so the
next redemption uses the new items; redemptions already held keep what they recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.content.kind import Built, Claim, Document
from gateway.menu.findings import has_errors
from gateway.rewards.catalog import Catalog, Catalogs, parse_catalog

if TYPE_CHECKING:
    from aiohttp import web


class CatalogKind:
    name = "catalog"

    def build(self, document: Document) -> Built[Catalog]:
        catalog, findings, items = parse_catalog(document.path, document.data, document.locations)
        claims = []
        if isinstance(document.data.get("id"), str):
            line, col = document.locations.at(("id",))
            claims.append(Claim("catalog id", document.data["id"], line, col,
                                "catalog id already used in"))  # fmt: skip
        for where, item_id in items:
            line, col = document.locations.at(where)
            claims.append(Claim("catalog item", item_id, line, col,
                                f"catalog item {item_id!r} is already in"))  # fmt: skip
        findings = [*document.findings, *findings]
        if has_errors(findings):
            catalog = None
        label = catalog.id if catalog is not None else document.path
        return Built(self.name, document.path, document.version, catalog, findings,
                     tuple(claims), label)  # fmt: skip

    def install(self, app: web.Application, values: list[Catalog]) -> list[Any]:
        from gateway.appkeys import CATALOGS  # not at import: `jumbe check` needs no app

        if CATALOGS not in app:
            app[CATALOGS] = Catalogs(values)
        else:
            app[CATALOGS].replace(values)
        return []

    def release(self, retired: list[Any]) -> None:
        """Catalogs are small: nothing to take apart."""


KIND = CatalogKind()
