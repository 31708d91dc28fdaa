"""A local fake of Africa's Talking's SMS API, for tests, demos and the throughput bench.

``POST /version1/messaging`` answers like AT (protocols.md §2.1): per-recipient ``statusCode``,
``messageId`` and cost, as ``application/json`` exactly (the SDK returns a ``str`` for any other
content type, charset included). Accepted messages get delivery reports posted, form-encoded,
to ``callback_url``, optionally out of order. Failure codes are configurable per number, and
whole requests can be made to fail (``fail_requests``). Many numbers in one request (``to``
comma-separated) get one ``Recipients`` entry each, with its own id, status and cost.
With ``echo`` set (``jumbe fake-at`` sets it to stdout) it prints one line per message it
"sent": time, to, sender, text.
Run it with ``jumbe fake-at --port 8900 --callback http://127.0.0.1:8000/sms/africastalking/delivery``.

Airtime (``POST /version1/airtime/send``, protocols.md §3): per-recipient ``Sent``/``Failed``
with an ``ATQid_`` request id; the ``Idempotency-Key`` header is honoured like AT does — a
repeated key gets the first answer again and tops up nothing. Failures are scripted per number
(``airtime_fail``: refused at once; ``airtime_final``: ``Sent``, then a ``Failed`` status
callback). Status callbacks go to ``airtime_callback_url`` (``--airtime-callback``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO
from urllib.parse import parse_qsl

import aiohttp
import orjson
from aiohttp import web

STATUS_NAMES = {100: "Processed", 101: "Success", 102: "Queued", 401: "RiskHold",
                402: "InvalidSenderId", 403: "InvalidPhoneNumber", 404: "UnsupportedNumberType",
                405: "InsufficientBalance", 406: "UserInBlacklist", 407: "CouldNotRoute",
                409: "DoNotDisturbRejection", 500: "InternalServerError", 501: "GatewayError",
                502: "RejectedByGateway"}  # fmt: skip
DLR_RETRIES = 5


@dataclass(frozen=True, slots=True)
class Received:
    """One message AT accepted."""

    to: str
    message: str
    sender: str
    provider_message_id: str


@dataclass(frozen=True, slots=True)
class AirtimeRequest:
    """One airtime send request as AT received it (a retry with the same key included)."""

    key: str
    to: str
    amount: str
    request_id: str
    new: bool
    """Whether this request topped up (``False``: a repeated key answered from memory)."""


@dataclass
class FakeAT:
    """State and behaviour of the fake; mutate the fields to script a scenario."""

    callback_url: str | None = None
    always: dict[str, int] = field(default_factory=dict)
    """Number → status code returned on every send to it (e.g. 406 UserInBlacklist)."""
    first: dict[str, list[int]] = field(default_factory=dict)
    """Number → codes for its next sends, consumed one per send, then 101 (e.g. [500, 502])."""
    dlr_statuses: tuple[str, ...] = ("Submitted", "Success")
    final_for: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Number → (final status, failureReason) of its delivery report, e.g. ("Failed", ...)."""
    out_of_order: bool = False
    """Post each message's reports in reverse order (final first)."""
    delay: float = 0.0
    """Seconds each send request takes."""
    fail_requests: int = 0
    """The next this many send requests fail as a whole (HTTP 500, no recipients)."""
    requests: list[list[str]] = field(default_factory=list)
    """The numbers of each send request that reached the fake, in order (one list a request,
    failed ones included)."""
    api_key: str | None = None
    """When set, requests with another ``apiKey`` header get 401."""
    echo: TextIO | None = None
    """Where to print one line per message sent (or refused); ``None`` = silent."""
    airtime_callback_url: str | None = None
    """Where airtime status callbacks go (``--airtime-callback``)."""
    airtime_fail: dict[str, str] = field(default_factory=dict)
    """Number → ``errorMessage`` of a per-recipient ``Failed`` answer (nothing topped up)."""
    airtime_final: dict[str, str] = field(default_factory=dict)
    """Number → the status its callback reports (default ``Success``; e.g. ``Failed``)."""
    airtime_delay: float = 0.0
    """Seconds each airtime send request takes (longer than the SDK's timeout = a timeout)."""
    airtime_answer_delay: float = 0.0
    """Seconds to wait *after* topping up before answering (a sender that dies meanwhile has
    sent the airtime but never learns it)."""
    airtime_repeat: str = "replay"
    """A repeated ``Idempotency-Key``: ``replay`` answers the first answer again; ``reject``
    answers an error with no recipient; ``fail`` a per-recipient ``Failed`` (nothing is sent
    again whichever: AT's real answer to a repeat is not documented)."""
    airtime_validation_url: str | None = None
    """When set, each top-up is first checked there (JSON in, ``{"status": "Validated"}``)."""
    airtime_requests: list[AirtimeRequest] = field(default_factory=list)
    airtime_answers: dict[str, bytes] = field(default_factory=dict)
    """Idempotency key → the first answer given to it."""
    airtime_callbacks: int = 0
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    dlr_posted: int = 0
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _session: aiohttp.ClientSession | None = None
    _dlr_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(32))

    def counts(self) -> Counter[str]:
        """How many times each message text was accepted."""
        return Counter(r.message for r in self.received)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/version1/messaging", self.handle_send)
        app.router.add_post("/version1/airtime/send", self.handle_airtime)
        app.on_cleanup.append(self._close)
        return app

    async def handle_send(self, request: web.Request) -> web.Response:
        """AT's bulk send: form in, ``SMSMessageData`` out."""
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.api_key is not None and request.headers.get("apiKey") != self.api_key:
            return web.Response(status=401, text="The supplied authentication is invalid")
        form = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        if not form.get("username") or not form.get("to") or "message" not in form:
            return web.Response(status=400, text="Missing username, to or message")
        self.requests.append([n.strip() for n in form["to"].split(",")])
        if self.fail_requests > 0:
            self.fail_requests -= 1
            return web.Response(status=500, text="Internal Server Error")
        recipients = [self._recipient(n.strip(), form) for n in form["to"].split(",")]
        sent = sum(r["statusCode"] in (100, 101, 102) for r in recipients)
        body = {"SMSMessageData": {
            "Message": f"Sent to {sent}/{len(recipients)} Total Cost: KES {0.8 * sent:.4f}",
            "Recipients": recipients,
        }}  # fmt: skip
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    def _recipient(self, number: str, form: dict[str, str]) -> dict[str, object]:
        scripted = self.first.get(number)
        code = self.always.get(number) or (scripted.pop(0) if scripted else 101)
        if code not in (100, 101, 102):
            name = STATUS_NAMES.get(code, "Failed")
            self._print(number, form, f"[not sent: {code} {name}] ")
            return {"statusCode": code, "number": number, "status": name, "cost": "0",
                    "messageId": "None"}  # fmt: skip
        at_id = f"ATXid_{next(self._ids):08d}{random.getrandbits(32):08x}"
        self.received.append(Received(number, form["message"], form.get("from", ""), at_id))
        self._print(number, form)
        if self.callback_url:
            task = asyncio.get_running_loop().create_task(self._report(at_id, number))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return {"statusCode": code, "number": number, "status": STATUS_NAMES[code],
                "cost": "KES 0.8000", "messageId": at_id}  # fmt: skip

    def topups(self) -> list[AirtimeRequest]:
        """Requests that actually topped up a number (not answered from a repeated key)."""
        return [r for r in self.airtime_requests if r.new]

    async def handle_airtime(self, request: web.Request) -> web.Response:
        """AT's airtime send: form in (``recipients`` is a JSON string), JSON out."""
        if self.airtime_delay:
            await asyncio.sleep(self.airtime_delay)
        if self.api_key is not None and request.headers.get("apiKey") != self.api_key:
            return web.Response(status=401, text="The supplied authentication is invalid")
        form = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        key = request.headers.get("Idempotency-Key", "")
        try:
            recipients = orjson.loads(form.get("recipients", ""))
            number, amount = recipients[0]["phoneNumber"], recipients[0]["amount"]
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            return web.Response(status=400, text="Invalid recipients")
        if key and key in self.airtime_answers:
            first = orjson.loads(self.airtime_answers[key])["responses"][0]["requestId"]
            self.airtime_requests.append(AirtimeRequest(key, number, amount, first, False))
            body = self.airtime_answers[key]
            if self.airtime_repeat == "fail":
                failed = {"phoneNumber": number, "amount": amount, "status": "Failed",
                          "requestId": "None", "discount": "KES 0.0000",
                          "errorMessage": "Duplicate request"}  # fmt: skip
                body = orjson.dumps({"errorMessage": "None", "numSent": 0, "totalAmount": "0",
                                     "totalDiscount": "0", "responses": [failed]})  # fmt: skip
            if self.airtime_repeat == "reject":
                body = orjson.dumps({"errorMessage": "A duplicate request was received within "
                                     "the last 5 minutes", "numSent": 0, "totalAmount": "0",
                                     "totalDiscount": "0", "responses": []})  # fmt: skip
            return web.Response(body=body, content_type="application/json")
        request_id = f"ATQid_{next(self._ids):08d}{random.getrandbits(32):08x}"
        failure = self.airtime_fail.get(number)
        if failure is None and self.airtime_validation_url:
            failure = await self._validate(request_id, number, amount)
        response = {"phoneNumber": number, "amount": amount, "discount": "KES 0.0000",
                    "requestId": request_id, "status": "Failed" if failure else "Sent",
                    "errorMessage": failure or "None"}  # fmt: skip
        body = orjson.dumps({"errorMessage": "None", "numSent": 0 if failure else 1,
                             "totalAmount": amount, "totalDiscount": "KES 0.0000",
                             "responses": [response]})  # fmt: skip
        if key:
            self.airtime_answers[key] = body
        self.airtime_requests.append(AirtimeRequest(key, number, amount, request_id,
                                                    failure is None))  # fmt: skip
        if self.echo is not None:
            note = f"[airtime not sent: {failure}]" if failure else "[airtime]"
            print(f"{time.strftime('%H:%M:%S')}  {number}  {note} {amount}", file=self.echo,
                  flush=True)  # fmt: skip
        if failure is None and self.airtime_callback_url:
            status = self.airtime_final.get(number, "Success")
            form_out = {"requestId": request_id, "status": status, "phoneNumber": number,
                        "description": "Airtime Delivered Successfully" if status == "Success"
                        else "Failed", "value": amount, "discount": "KES 0.0000"}  # fmt: skip
            task = asyncio.get_running_loop().create_task(
                self._post_to(self.airtime_callback_url, form_out, airtime=True)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self.airtime_answer_delay:
            await asyncio.sleep(self.airtime_answer_delay)
        return web.Response(body=body, content_type="application/json")

    async def _validate(self, request_id: str, number: str, amount: str) -> str | None:
        currency, _, value = amount.partition(" ")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        assert self.airtime_validation_url is not None
        body = {"transactionId": request_id, "phoneNumber": number, "sourceIpAddress":
                "127.0.0.1", "currencyCode": currency, "amount": value}  # fmt: skip
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with self._session.post(self.airtime_validation_url, json=body) as response:
                answer = await response.json(content_type=None)
                if isinstance(answer, dict) and answer.get("status") == "Validated":
                    return None
        return "Validation failed"

    def _print(self, number: str, form: dict[str, str], note: str = "") -> None:
        """``12:00:03  +254711000111  JUMBE  text`` (newlines shown as ``⏎``), one line each."""
        if self.echo is None:
            return
        text = form.get("message", "").replace("\r", "").replace("\n", " ⏎ ")
        sender = form.get("from") or "(default sender)"
        print(f"{time.strftime('%H:%M:%S')}  {number}  {sender}  {note}{text}",
              file=self.echo, flush=True)  # fmt: skip

    async def _report(self, at_id: str, number: str) -> None:
        statuses = list(self.dlr_statuses)
        final, reason = self.final_for.get(number, (statuses[-1], ""))
        statuses[-1] = final
        if self.out_of_order:
            statuses.reverse()
        async with self._dlr_slots:
            for status in statuses:
                form = {"id": at_id, "status": status, "phoneNumber": number,
                        "networkCode": "62130"}  # fmt: skip
                if status in ("Failed", "Rejected"):
                    form["failureReason"] = reason or "DeliveryFailure"
                await self._post(form)

    async def _post(self, form: dict[str, str]) -> None:
        """POST one report, retrying like AT does until a 200."""
        assert self.callback_url is not None
        await self._post_to(self.callback_url, form)

    async def _post_to(self, url: str, form: dict[str, str], airtime: bool = False) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        for attempt in range(DLR_RETRIES):
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self._session.post(url, data=form) as response:
                    if response.status == 200:
                        if airtime:
                            self.airtime_callbacks += 1
                        else:
                            self.dlr_posted += 1
                        return
            await asyncio.sleep(0.2 * (attempt + 1))

    async def drain(self) -> None:
        """Wait until every delivery report has been posted (bound it with ``asyncio.timeout``)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _close(self, _app: web.Application | None = None) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


def run(host: str, port: int, fake: FakeAT) -> None:
    """Serve the fake until interrupted (``jumbe fake-at``)."""
    print(f"fake Africa's Talking on http://{host}:{port} "
          f"(set JUMBE_AT_BASE_URL to this); delivery reports to {fake.callback_url}",
          flush=True)  # fmt: skip
    web.run_app(fake.app(), host=host, port=port, print=None, access_log=None)
