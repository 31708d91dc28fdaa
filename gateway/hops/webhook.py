"""Performing a webhook screen's call (``WebhookCall``) for the hop pipeline.

``POST <url>`` with JSON ``{"session", "subscriber", "msisdn", "variables", "menu", "screen",
"language", "channel"}``; with ``JUMBE_WEBHOOK_SECRET`` set, an ``X-Jumbe-Signature:
sha256=<hex HMAC-SHA256 of the body>`` header lets the backend check it came from us. The
answer must be a 2xx with a JSON object of at most ``MAX_ANSWER_BYTES``; anything else — a
timeout (the screen's, or what is left of the hop deadline), a connection error, another status,
a body that is not a JSON object, a larger one — is an error result, which sends the subscriber
to the screen's ``on_error``. One shared connection pool; a slow backend holds only the hops
that wait for it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from gateway import logs
from gateway.hops.effects import HopContext
from gateway.menu.effects import EffectResult
from gateway.menu.screens.webhook import WebhookCall
from gateway.signing import SIGNATURE_HEADER, signature

log = logs.get_logger("gateway.webhook")

MAX_ANSWER_BYTES = 16 * 1024
"""The largest answer accepted (it is saved in the session, which travels on every hop)."""


class WebhookCaller:
    """Calls brands' backends for webhook screens (one per gateway process)."""

    def __init__(self, secret: str | None = None, connections: int = 256) -> None:
        self._secret = secret.encode() if secret else None
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._connections, limit_per_host=64)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": "jumbe-webhook"}
            )
        return self._session

    async def __call__(self, call: WebhookCall, hop: HopContext, budget: float) -> EffectResult:
        body = orjson.dumps({
            "session": hop.session_id, "subscriber": hop.subscriber, "msisdn": hop.msisdn,
            "variables": dict(hop.variables), "menu": call.menu, "screen": call.screen,
            "language": call.language, "channel": hop.provider,
        }, default=str)  # fmt: skip
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        started = time.perf_counter()
        result = await self._post(call.url, body, headers, budget)
        where = urlsplit(call.url)
        log.info("webhook_call", menu=call.menu, screen=call.screen,
                 url=f"{where.scheme}://{where.netloc}{where.path}",
                 subscriber=hop.subscriber, ok=result.ok, error=result.error,
                 latency_ms=round((time.perf_counter() - started) * 1000, 3))  # fmt: skip
        return result

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], budget: float
    ) -> EffectResult:
        timeout = aiohttp.ClientTimeout(total=budget)
        try:
            async with self._client().post(url, data=body, headers=headers,
                                           timeout=timeout) as response:  # fmt: skip
                if not 200 <= response.status < 300:
                    return EffectResult(False, error=f"HTTP {response.status}")
                raw = await response.content.read(MAX_ANSWER_BYTES + 1)
        except TimeoutError:
            return EffectResult(False, error=f"no answer within {budget:.2f}s")
        except aiohttp.ClientError as exc:
            return EffectResult(False, error=f"{type(exc).__name__}: {exc}"[:200])
        return _decode(raw)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _decode(raw: bytes) -> EffectResult:
    if len(raw) > MAX_ANSWER_BYTES:
        return EffectResult(False, error=f"answer larger than {MAX_ANSWER_BYTES} bytes")
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return EffectResult(False, error="answer is not JSON")
    if not isinstance(value, dict):
        return EffectResult(False, error="answer is not a JSON object")
    return EffectResult(True, value)
