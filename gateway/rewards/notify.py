"""What the subscriber is told when a redemption ends: one transactional SMS through the
outbox, keyed by the redemption and its outcome (a retry never sends a second one)."""

from __future__ import annotations

from typing import Protocol

from gateway import logs
from gateway.errors import SendRefused

log = logs.get_logger("gateway.rewards")

TEXTS = {
    "en": {
        "airtime": "You have received {label} for {points} points. Ref {id}.",
        "voucher": "Your {label}: code {code} ({points} points). Ref {id}.",
        "failed": "Sorry, we could not send {label}. Your {points} points are back. Ref {id}.",
    },
    "sw": {
        "airtime": "Umepokea {label} kwa pointi {points}. Kumb {id}.",
        "voucher": "{label} yako: nambari {code} (pointi {points}). Kumb {id}.",
        "failed": "Samahani, hatukuweza kutuma {label}. Pointi {points} zimerudishwa. Kumb {id}.",
    },
}


class Outbox(Protocol):
    async def send(self, to: str, text: str, *, idempotency_key: str | None = None) -> str: ...


def receipt(record: dict[str, str], outcome: str) -> str:
    texts = TEXTS.get(record.get("language", "en"), TEXTS["en"])
    which = "failed" if outcome == "failed" else record.get("kind", "airtime")
    return texts[which].format(label=record.get("label", ""), points=record.get("points", ""),
                               id=record.get("id", ""), code=record.get("code", ""))  # fmt: skip


class SmsReceipts:
    """``Rewards.notify``: the receipt (or the failure notice) as one SMS."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def __call__(self, record: dict[str, str], outcome: str) -> None:
        try:
            await self.outbox.send(record["phone"], receipt(record, outcome),
                                   idempotency_key=f"rewards:{record['id']}:{outcome}")  # fmt: skip
        except SendRefused as exc:
            log.warning("rewards_receipt_refused", redemption=record.get("id"), reason=exc.reason)
