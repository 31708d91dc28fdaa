"""The marketing purposes consent is recorded for, and the two consent modes (no dependencies,
so settings can name them)."""

from __future__ import annotations

from typing import Literal

Purpose = Literal["promo_sms", "ads", "surveys"]
PURPOSES: tuple[Purpose, ...] = ("promo_sms", "ads", "surveys")

ConsentMode = Literal["opt_in", "opt_out"]
MODES: tuple[ConsentMode, ...] = ("opt_in", "opt_out")
"""``opt_in``: a marketing send needs a recorded grant (domain C1); ``opt_out``: it goes unless
the subscriber revoked consent (e.g. a telco whose subscriber terms cover balance ads)."""
