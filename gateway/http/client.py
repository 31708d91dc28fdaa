"""A small client of the gateway's ``/v1`` API for the ``jumbe`` commands (stdlib only).

Blocking on purpose: a command makes one call and prints the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.errors import GatewayUnreachable

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class Answer:
    """The gateway's HTTP status and JSON body (an ``error``/``reason`` body for a non-JSON one)."""

    status: int
    body: dict[str, Any]

    @property
    def reason(self) -> str:
        return str(self.body.get("reason") or self.body.get("error") or f"HTTP {self.status}")


def call(
    base_url: str,
    method: str,
    path: str,
    token: str | None,
    body: dict[str, Any] | None = None,
    timeout: float = 15.0,
) -> Answer:
    """One API call; ``GatewayUnreachable`` when nothing answered."""
    import urllib.error  # here, not at the top: `jumbe check` should not pay for it
    import urllib.request

    url = base_url.rstrip("/") + path
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _answer(response.status, response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return _answer(exc.code, exc.read())
    except urllib.error.URLError as exc:
        raise GatewayUnreachable(f"cannot reach the gateway at {base_url}: {exc.reason}") from None
    except (TimeoutError, ConnectionError) as exc:
        raise GatewayUnreachable(f"cannot reach the gateway at {base_url}: {exc}") from None
    except ValueError as exc:  # urllib's "unknown url type" and friends
        raise GatewayUnreachable(f"not a usable gateway URL {base_url!r}: {exc}") from None


def _answer(status: int, raw: bytes) -> Answer:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return Answer(status, {"error": "unexpected", "reason": f"HTTP {status} with a body that "
                               "is not Jumbe's JSON (is --url a Jumbe gateway?)"})  # fmt: skip
    return Answer(status, body)
