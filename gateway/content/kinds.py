"""The kinds of content file, in one table: adding a kind is one module and one line here.

A file's top-level ``kind:`` picks its entry (``menu`` when absent); ``docs/architecture.md``
("Content files") shows how to add one, with the keywords file as the worked example.
"""

from __future__ import annotations

from typing import Any

from gateway.content import campaigns, catalogs, keywords, menus, surveys
from gateway.content.kind import ContentKind

KINDS: tuple[ContentKind[Any], ...] = (
    menus.KIND,
    keywords.KIND,
    catalogs.KIND,
    campaigns.KIND,
    surveys.KIND,
)

DEFAULT_KIND = "menu"
"""The kind of a file without ``kind:`` (every menu file written before kinds existed)."""
BY_NAME: dict[str, ContentKind[Any]] = {kind.name: kind for kind in KINDS}
KNOWN: tuple[str, ...] = tuple(BY_NAME)
