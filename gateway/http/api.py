"""The ``/v1`` JSON API machinery: routes with a scope, bearer auth, JSON in, JSON errors out.

Every ``/v1`` route is an ``ApiRoute`` (method, path, scope, view) in a module's ``ROUTES``
table; ``register(app, routes)`` (called by ``gateway.http.routes.setup_api``) puts them behind one
guard that

- checks ``Authorization: Bearer <token>`` for the route's scope: no token configured → 403,
  a missing or wrong bearer → 401, a token without the scope → 403 (``gateway.http.auth``);
- turns an ``ApiError`` into ``{"error": "<short word>", "reason": "<human reason>"}`` with its
  status, and a Redis outage into 503 (a bad call never gets a 500);
- writes one ``api_request`` log line per call: the route template (never the path, which can
  hold a phone number), the calling token's name (never the token), status, latency and what
  the view added to ``call.log``.

``Idempotency-Key`` headers are namespaced per token (``api:<token name>:<key>``), so two
clients that happen to pick the same key never get each other's results.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from gateway import logs
from gateway.appkeys import SETTINGS
from gateway.errors import ApiError, StoreError
from gateway.http.auth import ApiToken, ApiTokens, Scope

log = logs.get_logger("gateway.api")

API_TOKENS = web.AppKey("api_tokens", ApiTokens)
MAX_IDEMPOTENCY_KEY = 200
_MSISDN = re.compile(r"^\+?[1-9]\d{5,14}$")


def bad_request(reason: str) -> ApiError:
    """400: the body or a parameter cannot be used as sent."""
    return ApiError(400, "bad_request", reason)


GATEWAY_MADE = frozenset({"method", "route", "status", "latency_ms", "token_name"})
"""The ``api_request`` fields the guard itself writes (a token's name is the operator's)."""


@dataclass(slots=True)
class Call:
    """What the guard knows about one call; ``log`` fields go on its ``api_request`` line."""

    scope: Scope
    log: dict[str, Any] = field(default_factory=dict)
    token: ApiToken | None = None
    """The token the call was authorized with (set by the guard before the view runs)."""
    known: frozenset[str] = GATEWAY_MADE
    """Fields of the line whose values the gateway made (a pseudonym, a route template, an
    outcome word): not scanned for phone numbers. A view that adds such fields says so."""


View = Callable[[web.Request, Call], Awaitable[web.Response]]


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One ``/v1`` route and the scope a token needs to call it."""

    method: str
    path: str
    scope: Scope
    view: View


def register(app: web.Application, routes: list[ApiRoute]) -> None:
    """Register ``routes`` behind the guard; unknown ``/v1`` paths and methods answer JSON too.
    Call it once, with every ``/v1`` route (its catch-all for unknown paths comes last)."""
    app[API_TOKENS] = ApiTokens.from_settings(app[SETTINGS])
    resources: dict[str, web.Resource] = {}
    for route in routes:
        resource = resources.get(route.path) or app.router.add_resource(route.path)
        resources[route.path] = resource
        resource.add_route(route.method, _guard(route))
    for path, resource in resources.items():
        allowed = ", ".join(sorted({r.method for r in routes if r.path == path}))
        resource.add_route("*", _method_not_allowed(allowed))
    app.router.add_route("*", "/v1/{tail:.*}", _not_found)


def _guard(route: ApiRoute) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        started = time.perf_counter()
        call = Call(route.scope)
        try:
            call.token = _authorize(request, route.scope)
            call.log["token_name"] = call.token.name
            response = await route.view(request, call)
        except ApiError as exc:
            call.log.update(error=exc.error, reason=exc.reason)
            response = error_response(exc)
        except StoreError as exc:
            log.error("api_store_unavailable", route=route.path, error=str(exc))
            response = error_response(ApiError(503, "unavailable", "store unavailable; retry"))
        except Exception:  # the boundary: log the bug, answer JSON like every other error
            log.exception("api_crashed", route=route.path)
            response = error_response(ApiError(500, "internal", "unexpected error; see the log"))
        if logs.info_enabled():  # JUMBE_LOG_LEVEL=warning: no line to make
            logs.emit(  # the fast writer: structlog's processor chain was ~8 µs of every call
                "api_request",
                call.known,
                method=route.method,
                route=route.path,
                status=response.status,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                **call.log,
            )
        return response

    return handle


def _authorize(request: web.Request, scope: Scope) -> ApiToken:
    tokens = request.app[API_TOKENS]
    if not tokens.configured:
        raise ApiError(403, "forbidden", "the /v1 API is off: set JUMBE_API_TOKEN (or scoped "
                       "tokens in JUMBE_API_TOKENS_FILE) on the gateway")  # fmt: skip
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)")
    token = tokens.find(given.strip())
    if token is None:
        raise ApiError(401, "unauthorized", "wrong bearer token")
    if scope not in token.scopes:
        raise ApiError(403, "forbidden", f"this token may not use the {scope} API")
    return token


def error_response(exc: ApiError) -> web.Response:
    """``{"error", "reason"}`` with the error's status (401s say how to authenticate)."""
    headers = {"WWW-Authenticate": 'Bearer realm="jumbe"'} if exc.status == 401 else None
    return json_response({"error": exc.error, "reason": exc.reason}, exc.status, headers)


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def _method_not_allowed(allowed: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        exc = ApiError(405, "method_not_allowed", f"{request.method} is not allowed; use {allowed}")
        response = error_response(exc)
        response.headers["Allow"] = allowed
        return response

    return handle


async def _not_found(request: web.Request) -> web.Response:
    return error_response(ApiError(404, "not_found", "no such /v1 route"))


async def read_object(request: web.Request, known: Iterable[str]) -> dict[str, Any]:
    """The JSON object in the body; 400 if it is not JSON, not an object or has unknown fields
    (a typo such as ``sendAt`` must not be silently ignored)."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(413, "too_large", exc.text or "body too large") from None
    if not raw.strip():
        raise bad_request("empty body; expected a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request(f"body is a JSON {_kind(data)}; expected an object")
    names = known if isinstance(known, tuple) else tuple(known)
    allowed = _ALLOWED.get(names)
    if allowed is None:
        allowed = _ALLOWED[names] = frozenset(names)
    if not allowed.issuperset(data):
        unknown = sorted(set(data) - allowed)
        raise bad_request(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(names)}")
    if len(data) == len(allowed):  # every field given: nothing to add
        return data
    return {**dict.fromkeys(names), **data}


_ALLOWED: dict[tuple[str, ...], frozenset[str]] = {}
"""The fields each view knows, as sets (a view's tuple of names is the key: a few in all)."""


def require(data: dict[str, Any], *names: str) -> None:
    """400 naming every required field that is absent or null."""
    missing = [name for name in names if data.get(name) is None]
    if missing:
        raise bad_request(f"missing field(s) {', '.join(missing)}")


def text(data: dict[str, Any], name: str, max_length: int = 1000) -> str:
    """A string field (400 for another type or an over-long value)."""
    value = data.get(name)
    if not isinstance(value, str):
        raise bad_request(f"{name}: expected a string, got {_kind(value)}")
    if len(value) > max_length:
        raise bad_request(f"{name}: longer than {max_length} characters")
    return value


def boolean(data: dict[str, Any], name: str) -> bool:
    """A JSON ``true``/``false`` field (not ``"true"``, not ``1``)."""
    value = data.get(name)
    if not isinstance(value, bool):
        raise bad_request(f"{name}: expected true or false, got {_kind(value)}")
    return value


def timestamp(data: dict[str, Any], name: str) -> float | None:
    """ISO 8601 with an offset (``2025-03-05T09:00:00+03:00``, ``…Z``) or epoch seconds."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_request(f"{name}: expected ISO 8601 text or epoch seconds, got {_kind(value)}")
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise bad_request(f"{name}: {value[:40]!r} is not ISO 8601") from None
        if parsed.tzinfo is None:
            raise bad_request(f"{name}: needs a UTC offset, e.g. 2025-03-05T09:00:00+03:00 or …Z")
        seconds = parsed.timestamp()
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or not 0 <= seconds < 253402300800:  # 1970 to year 9999
        raise bad_request(f"{name}: {value} is not a time between 1970 and 9999")
    return seconds


def msisdn(raw: str, name: str = "msisdn") -> str:
    """An E.164 number given with or without ``+``, returned with it; 400 if it is not one."""
    number = raw.strip().replace(" ", "")
    if not _MSISDN.match(number):
        raise bad_request(f"{name} is not an E.164 number (+<country code><number>)")
    return number if number.startswith("+") else "+" + number


def iso_utc(seconds: float) -> str:
    """``2025-03-05T12:00:00.000Z``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def idempotency_key(request: web.Request, call: Call) -> str | None:
    """The ``Idempotency-Key`` header as ``api:<token name>:<key>``: apart from keys Jumbe makes
    itself, and from other clients' keys."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise bad_request(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    assert call.token is not None  # views run only after the guard authorized the call
    return f"api:{call.token.name}:{key}"


def _kind(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
