"""The consent ledger on a real Redis: modes per purpose and idempotent recording."""

from __future__ import annotations

from typing import Any

import pytest
from sms_fixtures import Clock, aredis_fixture

from gateway.config import consent_modes_from_env
from gateway.consent.ledger import ALREADY_APPLIED, ConsentLedger
from gateway.errors import ConfigError

__all__ = ["aredis_fixture"]

P = "p_0123456789abcdef0123"


async def test_a_retried_event_records_once_even_after_a_later_change(aredis: Any) -> None:
    """AT retrying an old STOP after the subscriber sent START does not opt them out again."""
    ledger = ConsentLedger(aredis, clock=Clock(1000.0))
    assert await ledger.record(P, ["promo_sms"], "revoked", source="keyword:STOP",
                               channel="sms", event_id="in:1") == 1  # fmt: skip
    assert await ledger.record(P, ["promo_sms"], "granted", source="keyword:START",
                               channel="sms", event_id="in:2") == 1  # fmt: skip
    again = await ledger.record(P, ["promo_sms"], "revoked", source="keyword:STOP",
                                channel="sms", event_id="in:1")  # fmt: skip
    assert again == ALREADY_APPLIED
    assert (await ledger.state(P, "promo_sms")).state == "granted"
    assert [h["state"] for h in await ledger.history(P)] == ["revoked", "granted"]


async def test_the_same_decision_twice_adds_no_history(aredis: Any) -> None:
    """An opt-out notification delivered twice (no id to tell them apart) is one change."""
    ledger = ConsentLedger(aredis)
    purposes: list[Any] = ["promo_sms", "ads", "surveys"]
    assert await ledger.record(P, purposes, "revoked", source="at_optout:J", channel="sms") == 3
    assert await ledger.record(P, purposes, "revoked", source="at_optout:J", channel="sms") == 0
    assert len(await ledger.history(P)) == 3


async def test_modes_apply_per_purpose(aredis: Any) -> None:
    """Opt-out mode for ads lets an ad through without a grant; promo SMS still needs one."""
    ledger = ConsentLedger(aredis, {"promo_sms": "opt_in", "ads": "opt_out", "surveys": "opt_in"})
    assert await ledger.refusal(P, "ads") is None
    assert await ledger.refusal(P, "promo_sms") == "no recorded consent for promo_sms"
    await ledger.record(P, ["ads"], "revoked", source="keyword:STOP", channel="sms")
    assert (await ledger.refusal(P, "ads") or "").startswith("subscriber opted out of ads")


def test_consent_modes_from_environment() -> None:
    """JUMBE_CONSENT_MODE sets every purpose; per-purpose variables and the old alias override."""
    assert consent_modes_from_env({}) == {
        "promo_sms": "opt_in", "ads": "opt_in", "surveys": "opt_in"}  # fmt: skip
    env = {"JUMBE_CONSENT_MODE": "opt_out", "JUMBE_CONSENT_MODE_SURVEYS": "OPT_IN"}
    assert consent_modes_from_env(env) == {
        "promo_sms": "opt_out", "ads": "opt_out", "surveys": "opt_in"}  # fmt: skip
    assert consent_modes_from_env({"JUMBE_SMS_CONSENT_MODE": "opt_out"})["promo_sms"] == "opt_out"
    with pytest.raises(ConfigError, match="contradicts"):
        consent_modes_from_env(
            {"JUMBE_SMS_CONSENT_MODE": "opt_out", "JUMBE_CONSENT_MODE_PROMO_SMS": "opt_in"}
        )
    with pytest.raises(ConfigError, match="JUMBE_CONSENT_MODE_ADS='maybe'"):
        consent_modes_from_env({"JUMBE_CONSENT_MODE_ADS": "maybe"})
