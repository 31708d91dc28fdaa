"""The activity hook's type, without dependencies (the hop pipeline and the SMS handler take
one; ``lifecycle.recorder.ActivityRecorder`` is the one the app installs)."""

from __future__ import annotations

from typing import Protocol


class Activity(Protocol):
    """Told that a subscriber did something: ``kind`` is ussd, sms, survey, redemption or
    purchase. Synchronous and never raising (the write happens in the background)."""

    def record(self, pseudonym: str, kind: str) -> None: ...
