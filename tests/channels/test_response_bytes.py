"""The channels' responses built from prebuilt headers are, on the wire, byte for byte what
aiohttp's ``content_type=`` arguments produce (but for the ``Date`` header)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

import orjson
import pytest
from aiohttp import web

from gateway.channels.africastalking import routes as at_routes
from gateway.channels.hubtel import routes as hubtel_routes

TEXTS = ("CON Choose:\n1. Balance\n2. Bundles", "END Asante! Salio: KES 12.50 €", "OK", "")
Build = Callable[[], web.Response]


def _cases() -> dict[str, tuple[Build, Build]]:
    """Path → (as aiohttp builds it from arguments, as the channel builds it)."""
    cases: dict[str, tuple[Build, Build]] = {}
    for i, text in enumerate(TEXTS):
        for status in (200, 400, 403):
            cases[f"/plain/{i}/{status}"] = (
                lambda t=text, s=status: web.Response(status=s, text=t, content_type="text/plain"),
                lambda t=text, s=status: at_routes._plain(t, s),
            )
            body = orjson.dumps({"Message": text})
            cases[f"/json/{i}/{status}"] = (
                lambda b=body, s=status: web.Response(
                    status=s, body=b, content_type="application/json"
                ),
                lambda b=body, s=status: hubtel_routes._json(b, s),
            )
    return cases


CASES = _cases()


@pytest.fixture
async def server() -> AsyncIterator[int]:
    """A real aiohttp server answering each case twice: ``/old…`` and ``/new…``."""

    def view(build: Build) -> Callable[[web.Request], object]:
        async def handler(request: web.Request) -> web.Response:
            return build()

        return handler

    app = web.Application()
    for path, (old, new) in CASES.items():
        app.router.add_post("/old" + path, view(old))  # type: ignore[arg-type]
        app.router.add_post("/new" + path, view(new))  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port
    await runner.cleanup()


async def _raw(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".encode())
    writer.write(b"GET /end HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    return re.sub(rb"\r\nDate: [^\r]*", b"", raw)


async def test_prebuilt_headers_send_the_same_bytes(server: int) -> None:
    """Every status and text (empty, non-ASCII), text/plain and JSON: the same raw response."""
    for path in CASES:
        old, new = await _raw(server, "/old" + path), await _raw(server, "/new" + path)
        assert old == new, path
        assert b"\r\nContent-Type: " in old and b"\r\nContent-Length: " in old
