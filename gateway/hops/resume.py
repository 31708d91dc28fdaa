"""Resuming a dropped session (a menu's ``resume: {policy: resume|confirm, within}``).

A session that has not reached an END leaves a resume point (``hops.memory``); the next session
of that subscriber on that menu, within ``within``, either continues from it (``resume``) or is
asked first (``confirm``: 1 continue, 2 start over). A point whose menu version or screen this
gateway no longer has starts the menu afresh instead.
"""

from __future__ import annotations

from typing import Any

from gateway.channels.base import Reply
from gateway.menu.engine import Engine, Step
from gateway.menu.messages import message
from gateway.menu.model import Menu
from gateway.menu.registry import MenuRegistry
from gateway.menu.state import SessionState

RESUME_YES, RESUME_RESTART = "1", "2"


class Resumer:
    """Offers, accepts and refuses resume points (pure: the pipeline loads and saves)."""

    def __init__(self, registry: MenuRegistry) -> None:
        self.registry = registry

    def offer_or_resume(
        self, menu: Menu, session: SessionState, engine: Engine, point: bytes
    ) -> tuple[Step, str]:
        """A new session with a resume point: resume, offer to, or start afresh."""
        snapshot = SessionState.decode(point).snapshot()
        resumed = self._resumable(menu, snapshot)
        if resumed is None:
            return engine.begin(menu, session), "new"
        if menu.resume.policy == "resume":
            session.restore(snapshot)
            return Step(engine.render(resumed, session)), "resumed"
        session.offer = snapshot
        session.state = menu.start
        session.language = snapshot["l"]
        return self._prompt(menu, session), "resume_offered"

    def answer_offer(
        self, menu: Menu, session: SessionState, engine: Engine, choice: str
    ) -> tuple[Step, str]:
        """The subscriber's answer to a resume offer."""
        snapshot = session.offer
        assert snapshot is not None
        if choice == RESUME_YES:
            session.offer = None
            resumed = self._resumable(menu, snapshot)
            if resumed is None:  # offered by a gateway that still had it (a rolling deploy)
                return engine.begin(menu, session), "restarted"
            session.restore(snapshot)
            return Step(engine.render(resumed, session)), "resumed"
        if choice == RESUME_RESTART:
            session.offer = None
            return engine.begin(menu, session), "restarted"
        return self._prompt(menu, session), "resume_offered"

    @staticmethod
    def _prompt(menu: Menu, session: SessionState) -> Step:
        return Step(Reply(message("resume_prompt", session.language, menu.messages), False))

    def _resumable(self, menu: Menu, snapshot: dict[str, Any]) -> Menu | None:
        """The menu version a snapshot can resume on, if this gateway has it and its screen."""
        resumed = self.registry.version(menu.id, snapshot["v"])
        if resumed is None or snapshot["s"] not in resumed.screens:
            return None
        return resumed
