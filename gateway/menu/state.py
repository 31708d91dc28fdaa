"""What a session stores: menu id and version, screen, variables, transcript, last reply.

Encoded as ``<rev>\\n<json>``; ``rev`` is the compare-and-set version in Redis.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_HISTORY = 20


class SessionState:
    """One USSD session, small enough to load and save on every hop."""

    __slots__ = (
        "effect",
        "ended",
        "history",
        "hop_id",
        "hops",
        "invalid",
        "language",
        "later",
        "menu_id",
        "offer",
        "page",
        "reply",
        "rev",
        "rides",
        "started",
        "state",
        "touched",
        "transcript",
        "vars",
        "version",
    )

    def __init__(self, menu_id: str, version: str, language: str, started: float) -> None:
        self.menu_id = menu_id
        self.version = version
        self.language = language
        self.started = started
        self.touched = started
        """Wall-clock time of the last hop (funnel reports tell a timeout from a cancel)."""
        self.state = ""
        self.vars: dict[str, Any] = {}
        self.transcript = ""
        self.reply = ""
        """The text of the last reply (the channel renders it; ``ended`` says if it closed)."""
        self.ended = False
        self.hop_id = ""
        """Channels without a cumulative transcript: the aggregator's id of the last hop."""
        self.history: list[str] = []
        self.page = 0
        self.invalid = False
        """The screen shows its ``invalid`` text: paging stays in that pagination."""
        self.hops = 0
        self.rev = 0
        self.effect: Any = None
        """An effect the current screen waits for, within this hop (never saved)."""
        self.later: list[Any] = []
        """Effects to perform after this hop's reply (never saved)."""
        self.rides: list[Any] = []
        """Redis writes an effect asked for, sent in the save's round trip (``store.Ride``s;
        never saved): a survey answer rides with the session's compare-and-set."""
        self.offer: dict[str, Any] | None = None
        """A dropped session this one offered to resume ("confirm" policy), until answered."""

    def push_history(self, screen_id: str) -> None:
        self.history.append(screen_id)
        if len(self.history) > MAX_HISTORY:
            del self.history[0]

    def snapshot(self) -> dict[str, Any]:
        """Where the subscriber stands, for resuming in a later session."""
        return {
            "v": self.version,
            "s": self.state,
            "d": self.vars,
            "h": self.history,
            "l": self.language,
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Continue from ``snapshot`` (taken by ``snapshot`` in an earlier session)."""
        self.version = snapshot["v"]
        self.state = snapshot["s"]
        self.vars = dict(snapshot["d"])
        self.history = list(snapshot["h"])
        self.language = snapshot["l"]
        self.page = 0

    def encode(self, rev: int) -> bytes:
        body = orjson.dumps({
            "m": self.menu_id, "v": self.version, "l": self.language, "t0": self.started,
            "s": self.state, "d": self.vars, "t": self.transcript, "x": self.reply,
            "e": self.ended, "h": self.history, "p": self.page, "i": self.invalid, "n": self.hops,
            "o": self.offer, "j": self.hop_id, "u": self.touched,
        })  # fmt: skip
        return b"%d\n" % rev + body

    @classmethod
    def decode(cls, raw: bytes) -> SessionState:
        head, _, body = raw.partition(b"\n")
        data = orjson.loads(body)
        state = cls(data["m"], data["v"], data["l"], data["t0"])
        state.state = data["s"]
        state.vars = data["d"]
        state.transcript = data["t"]
        # "r" (before 0.2) held the reply with the aggregator's 4-character prefix.
        state.reply = data["x"] if "x" in data else data.get("r", "")[4:]
        state.ended = data["e"]
        state.history = data["h"]
        state.page = data["p"]
        state.invalid = data.get("i", False)
        state.hops = data["n"]
        state.offer = data.get("o")
        state.hop_id = data.get("j", "")
        state.touched = data.get("u", 0.0)
        state.rev = int(head)
        return state
