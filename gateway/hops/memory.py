"""What a session leaves behind for the subscriber's next one: their language (menus in
several languages) and a resume point (menus with a ``resume`` policy), written with the save.
"""

from __future__ import annotations

from gateway.menu.model import Menu
from gateway.menu.state import SessionState
from gateway.store.session_store import SubscriberWrites


def remembers(menu: Menu) -> bool:
    """Whether sessions of ``menu`` read and write what Jumbe remembers of a subscriber."""
    return len(menu.languages) > 1 or menu.resume.policy != "restart"


def writes_for(
    menu: Menu | None,
    session: SessionState,
    pseudonym: str,
    language_before: str | None,
    *,
    force: bool = False,
) -> SubscriberWrites | None:
    """The subscriber writes that go with saving ``session``, or ``None``.

    The language is written when it differs from ``language_before`` (``None``: always).
    ``force`` rewrites the resume point even while a resume offer is pending.
    """
    if menu is None or not remembers(menu):
        return None
    language = (
        session.language
        if len(menu.languages) > 1 and session.language != language_before
        else None
    )
    resume: bytes | None = None
    forget = False
    if menu.resume.policy != "restart" and (session.offer is None or force):
        if session.ended:
            forget = True
        else:
            source = session.offer if session.offer is not None else session.snapshot()
            snapshot = SessionState(menu.id, source["v"], session.language, 0.0)
            snapshot.restore(source)
            resume = snapshot.encode(0)
    writes = SubscriberWrites(pseudonym, menu.id, language, resume, menu.resume.within, forget)
    return None if writes.empty else writes
