"""Every Redis key Jumbe writes, with its TTL, in one place.

Each key carries a Redis Cluster hash tag (``{…}``) so that keys a Lua script touches together hash
to one slot. Names are short because they are written on every hop.

- ``j:s:{<provider>:<session id>}`` (string, ``session_ttl``, default 180 s): one USSD
  session, ``<version>\n<json>``.
- ``j:se:{<provider>:<session id>}`` (hash, ``USSD_EVENT_TTL`` = 30 days): the aggregator's
  end-of-session notification.
- ``j:ussd:ends`` (stream, trimmed to ``USSD_ENDS_MAXLEN``): one entry per ended session, for
  funnel reports.
"""

from __future__ import annotations

PREFIX = "j"

USSD_EVENT_TTL = 30 * 24 * 3600
"""End-of-session notifications are kept 30 days for funnel reports."""

USSD_ENDS_MAXLEN = 1_000_000
"""The ended-sessions stream is trimmed (approximately) to this many entries."""


def session(provider: str, session_id: str) -> str:
    """A USSD session; expires ``session_ttl`` seconds after its last hop."""
    return f"{PREFIX}:s:{{{provider}:{session_id}}}"


def session_end(provider: str, session_id: str) -> str:
    """The aggregator's end-of-session notification for one session (30 days)."""
    return f"{PREFIX}:se:{{{provider}:{session_id}}}"


def ussd_ends_stream() -> str:
    """Stream of ended sessions, newest last, trimmed to ``USSD_ENDS_MAXLEN``."""
    return f"{PREFIX}:ussd:ends"
