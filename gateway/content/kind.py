"""What a kind of content file is: the ``ContentKind`` protocol and the data it works with.

A brand file says what it is with a top-level ``kind:`` (``menu`` when absent). The folder
loader (``content.files``) reads and YAML-loads each file once and hands the document to the
kind named there; the kind checks it and builds the object the gateway serves. Adding a kind is
one module with a ``ContentKind`` and one line in ``content.kinds.KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from gateway.menu.findings import Finding
from gateway.menu.yamlsource import Locations
from gateway.text import Budget

if TYPE_CHECKING:
    from aiohttp import web

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Document:
    """One content file, loaded by the safe YAML loader and not yet checked."""

    path: str
    version: str
    """First 12 hex digits of the file's SHA-256: what sessions and reports pin."""
    data: dict[str, Any]
    locations: Locations
    """Line and column of every node (released by the loader once the kind has built)."""
    findings: list[Finding]
    """The loader's own findings (duplicate keys), to report first."""
    budget: Budget
    """The screen budget texts are measured against (``channels.content_budget``)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A name a file takes for itself across the whole content folder: its id within its kind, a
    service code (menus, later surveys), a catalog item id. The same ``(space, value)`` claimed by
    two files is an error at the second claim, ``f"{clash} {first path}:{first line}"``."""

    space: str
    value: str
    line: int
    col: int
    clash: str


@dataclass(frozen=True, slots=True)
class Built(Generic[T]):
    """One file after its kind checked it; ``value`` is ``None`` when any finding is an error."""

    kind: str
    """The kind that built it ("" when the file never got that far: bad YAML, unknown kind)."""
    path: str
    version: str
    value: T | None
    findings: list[Finding]
    claims: tuple[Claim, ...] = ()
    label: str = ""
    """How reports name the value: its id, or the file's path for kinds without ids."""


class ContentKind(Protocol[T]):
    """One kind of content file. Instances are listed in ``content.kinds.KINDS``."""

    name: str
    """The value of ``kind:`` in the file."""

    def build(self, document: Document) -> Built[T]:
        """Check one file (every finding at its line) and build what will be served, plus the
        claims the checks across the folder hold it to. Runs in a worker thread during a live
        reload: it must not touch the running app."""
        ...

    def install(self, app: web.Application, values: list[T]) -> list[Any]:
        """Serve exactly ``values`` (each from its own file, possibly none) from now on. Called
        on the event loop once at start-up, before the app runs (create what it serves, under
        an ``AppKey``), then after every reload (swap it in, in one assignment). Returns what
        may now be freed; ``release`` frees it off the event loop."""
        ...

    def release(self, retired: list[Any]) -> None:
        """Free what ``install`` returned, in a worker thread (big objects piece by piece, so
        that the GIL changes hands in between)."""
        ...
