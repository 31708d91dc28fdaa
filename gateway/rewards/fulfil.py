"""The fulfilment job: send a held redemption's airtime (or give out its voucher code).

Airtime, in order: the redemption moves HELD → SUBMITTED *before* anything is sent; the send
goes through the SDK in a worker thread with the redemption id as ``Idempotency-Key``. So a
worker killed between sending and recording leaves a SUBMITTED redemption whose job is taken
over and resent **with the same key** — AT answers the first request again and sends nothing
new. Outcomes:

- ``Sent``: the request id is recorded (a status callback that came first is applied now);
  the job comes back after ``recheck`` seconds and, if no callback settled it by then,
  resends with the same key;
- a per-recipient ``Failed`` on the first send, or the SDK refusing before sending: REVERSED
  (points back). On a resend (the first one's outcome unknown), ``Failed`` may only be AT's
  word on the repeated key: the redemption stays SUBMITTED for the callback or reconciliation;
- anything else (timeout, network, an error answer): the outcome is unknown, the redemption
  stays SUBMITTED and the job retries with the same key; after the last try it is
  dead-lettered and left SUBMITTED for the reconciliation report — never reversed blind.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from gateway import logs
from gateway.errors import AirtimeError
from gateway.jobs.queue import Job
from gateway.jobs.worker import Dead, Done, Outcome, Retry
from gateway.rewards.catalog import Voucher
from gateway.rewards.ledger import FINAL
from gateway.rewards.service import Rewards
from gateway.store import keys

log = logs.get_logger("gateway.rewards")


class AirtimeSender(Protocol):
    def send(self, to: str, amount: float, currency: str, key: str) -> Any:
        """Blocking; returns something with ``request_id``, raises ``AirtimeError``."""


class Fulfilment:
    """The job handler (``JobWorker``) of the rewards queue."""

    def __init__(
        self, rewards: Rewards, airtime: AirtimeSender, recheck: float = 600.0, threads: int = 4
    ) -> None:
        self.rewards = rewards
        self.airtime = airtime
        self.recheck = recheck
        self._executor = ThreadPoolExecutor(threads, "airtime-send")

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    async def __call__(self, job: Job) -> Outcome:  # noqa: PLR0911 (one per outcome)
        subscriber, redemption = job.data, job.id
        ledger = self.rewards.ledger
        record = await ledger.redemption(subscriber, redemption)
        if record is None:
            return Dead("no such redemption")
        if record["state"] in FINAL:
            return Done()
        if record["kind"] == "voucher":
            return await self._voucher(subscriber, record)
        first_send = record["state"] == "HELD"
        if first_send:
            await self.rewards.settle(subscriber, redemption, "SUBMITTED")
        elif record.get("request_id") and job.attempt > 0:
            log.info("rewards_recheck", redemption=redemption, subscriber=subscriber)
        loop = asyncio.get_running_loop()
        try:
            sent = await loop.run_in_executor(
                self._executor, self.airtime.send, record["phone"], float(record["value"]),
                record["currency"], redemption,
            )  # fmt: skip
        except AirtimeError as exc:
            if exc.sent is False and (first_send or exc.unsent_request):
                await self.rewards.settle(subscriber, redemption, "REVERSED", reason=exc.reason,
                                          at_status="Failed")  # fmt: skip
                return Done()
            if exc.sent is False:  # on a resend, "Failed" may be about the repeated key itself
                log.warning("rewards_failed_on_resend", redemption=redemption,
                            subscriber=subscriber, reason=exc.reason)  # fmt: skip
                return Retry(exc.reason, delay=self.recheck)
            log.warning("rewards_send_unknown", redemption=redemption, subscriber=subscriber,
                        reason=exc.reason, attempt=job.attempt + 1)  # fmt: skip
            return Retry(exc.reason)
        await self.rewards.settle(subscriber, redemption, "SUBMITTED",
                                  request_id=sent.request_id, at_status=sent.status)  # fmt: skip
        log.info("rewards_airtime_sent", redemption=redemption, subscriber=subscriber,
                 request_id=sent.request_id)  # fmt: skip
        early = await self.rewards.early_status(subscriber, sent.request_id)
        if early is not None:
            status = early if early in ("SUCCESS", "FAILED") else None
            await self.rewards.status_callback(subscriber, sent.request_id, status, early)
        state = (await ledger.redemption(subscriber, redemption) or {}).get("state")
        if state in FINAL:
            return Done()
        return Retry("awaiting AT's status callback", delay=self.recheck)

    async def _voucher(self, subscriber: str, record: dict[str, str]) -> Outcome:
        item = self.rewards.catalogs.item(record["item"])
        redemption = record["id"]
        if item is None or not isinstance(item.fulfilment, Voucher):
            await self.rewards.settle(subscriber, redemption, "REVERSED",
                                      reason="item no longer in the catalog")  # fmt: skip
            return Done()
        code = await self._claim(redemption, item.id, item.fulfilment.codes)
        if code is None:
            await self.rewards.settle(subscriber, redemption, "REVERSED",
                                      reason="no voucher codes left")  # fmt: skip
            return Done()
        await self.rewards.settle(subscriber, redemption, "SUBMITTED")
        await self.rewards.settle(subscriber, redemption, "SUCCESS", code=code)
        return Done()

    async def _claim(self, redemption: str, item: str, codes: tuple[str, ...]) -> str | None:
        """The code this redemption gets (the same one on a retry), or ``None``: all taken."""
        script = self.rewards.ledger.scripts.voucher
        for start in range(0, max(len(codes), 1), 200):
            got: Any = await script(
                keys=[keys.rewards_vouchers(item), keys.rewards_voucher_of(item)],
                args=[redemption, *codes[start : start + 200]],
            )
            if got:
                return str(got.decode())
        return None
