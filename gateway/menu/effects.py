"""Effects: what a menu step needs done outside the engine (a webhook call today; a survey
answer, a redemption, an ad fill later), returned as data for the hop pipeline to perform.

The engine stays synchronous and pure: a ``pass`` screen that needs the outside world returns
an ``Effect`` from ``enter``; the pipeline performs it under the hop deadline
(``gateway.hops.effects``) and gives the ``EffectResult`` back to the screen's ``resume``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Effect:
    """Base of every effect; ``screen`` is the screen waiting for its result."""

    screen: str

    @property
    def limit(self) -> float | None:
        """The most seconds it may take (``None``: whatever is left of the hop deadline)."""
        return None


@dataclass(frozen=True, slots=True)
class EffectResult:
    """What performing an effect gave: ``ok`` with a ``value``, or the ``error``."""

    ok: bool
    value: Any = None
    error: str = ""
    round_trips: int = 0
    """Redis round trips performing it took (for the hop's canonical log line)."""
