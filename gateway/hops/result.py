"""What one hop produced: the reply, and what the canonical ``ussd_hop`` log line says."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.channels.base import Reply


@dataclass(slots=True, init=False)
class HopResult:
    """What happened on one hop, for the reply and the canonical log line (``__init__`` written
    out for the compiled build, as ``Reply``'s)."""

    reply: Reply
    outcome: str
    menu_id: str = ""
    state_before: str = ""
    state_after: str = ""
    round_trips: int = 0
    language: str = "en"
    language_before: str | None = None
    """The session's language before this hop (for a new session: the one it started in)."""

    def __init__(
        self, reply: Reply, outcome: str, menu_id: str = "", state_before: str = "",
        state_after: str = "", round_trips: int = 0, language: str = "en",
        language_before: str | None = None,
    ) -> None:  # fmt: skip
        self.reply = reply
        self.outcome = outcome
        self.menu_id = menu_id
        self.state_before = state_before
        self.state_after = state_after
        self.round_trips = round_trips
        self.language = language
        self.language_before = language_before


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
