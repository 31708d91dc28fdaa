"""What one hop produced: the reply, and what the canonical ``ussd_hop`` log line says."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.channels.base import Reply


@dataclass(slots=True)
class HopResult:
    """What happened on one hop, for the reply and the canonical log line."""

    reply: Reply
    outcome: str
    menu_id: str = ""
    state_before: str = ""
    state_after: str = ""
    round_trips: int = 0
    language: str = "en"
    language_before: str | None = None
    """The session's language before this hop (for a new session: the one it started in)."""


@dataclass(slots=True)
class StartContext:
    """What Redis remembers of a subscriber when a new session starts."""

    pseudonym: str
    language: str | None
    resume_point: bytes | None


@dataclass(frozen=True, slots=True)
class SessionView:
    """Where a session stands, for a channel that reports its end (``HopPipeline.peek``)."""

    reply: Reply
    """The last screen shown; ``reply.end`` says whether the menu ended the session."""
    menu_id: str
    hops: int
    started: float
    """Wall-clock time (``time.time()``) of its first hop."""
    screen: str = ""
    """The screen it stands on."""
    touched: float = 0.0
    """Wall-clock time of its last hop (0 for a session stored before this was recorded)."""
