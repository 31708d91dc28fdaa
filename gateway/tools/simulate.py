"""``jumbe simulate``: a phone in the terminal, speaking Africa's Talking's USSD protocol.

Every hop is a form POST exactly as AT sends it (fresh ``sessionId``, the dialled
``serviceCode``, ``networkCode`` 99999 for the sandbox, the cumulative ``text``), either to a
running gateway (``--url``) or to the real app served in-process on a free local port with an
embedded Redis. Both modes share one HTTP code path.
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import sys
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import aiohttp
from aiohttp import web

from gateway.appkeys import REGISTRY
from gateway.config import Settings, SmsSettings
from gateway.errors import ContentError
from gateway.http.app import create_app
from gateway.menu.registry import MenuRegistry
from gateway.privacy import pseudonymize
from gateway.store.connection import connect
from gateway.store.embedded import EmbeddedRedis
from gateway.store.subscribers import set_language
from gateway.text import Budget, encoding_of, length

SANDBOX_NETWORK = "99999"
SIMULATOR_KEY = b"jumbe-simulator"
ENCODINGS = {"gsm7": "GSM-7", "ucs2": "UCS-2"}
MIN_FRAME = 24
HOP_TIMEOUT_S = 15.0

ReadLine = Callable[[], str | None]


class Unreachable(Exception):
    """The gateway could not be reached at all."""


@dataclass(frozen=True)
class Options:
    """One simulated session."""

    dial: str
    msisdn: str = "+254700000001"
    lang: str | None = None
    url: str | None = None
    """A running gateway's USSD endpoint; ``None`` = serve ``menus`` in-process."""
    inputs: list[str] | None = None
    """Scripted inputs, one per hop; ``None`` = read them from stdin."""
    menus: Path = Path("menus")
    token: str | None = None


@dataclass
class Outcome:
    """The exit code, and every reply body in order (``CON …``/``END …``)."""

    code: int = 0
    replies: list[str] = field(default_factory=list)


def status_line(body: str) -> str:
    """``CON · 58/160 GSM-7``: the page budget, the ``CON ``/``END `` prefix counted."""
    prefix = body[:3] if body[:4] in ("CON ", "END ") else "???"
    used, limit = length(body), Budget().limit_for(body)
    line = f"{prefix} · {used}/{limit} {ENCODINGS[encoding_of(body)]}"
    return line + (f" · {used - limit} over!" if used > limit else "")


def frame(body: str) -> str:
    """The screen as a handset shows it: the text without its prefix, real line breaks kept."""
    text = body[4:] if body[:4] in ("CON ", "END ") else body
    lines = text.split("\n")
    width = max(MIN_FRAME, *(display_width(line) for line in lines))
    rows = [f"│ {line}{' ' * (width - display_width(line))} │" for line in lines]
    return "\n".join(["┌" + "─" * (width + 2) + "┐", *rows, "└" + "─" * (width + 2) + "┘"])


def display_width(text: str) -> int:
    """Terminal columns: wide characters (CJK, most emoji) take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def scripted(inputs: list[str], out: TextIO) -> ReadLine:
    """Hands out ``inputs`` one per hop (echoed as ``> …``), then ``None``."""
    remaining = iter(inputs)

    def read() -> str | None:
        value = next(remaining, None)
        if value is not None:
            print(f"> {value}", file=out)
        return value

    return read


def interactive() -> str | None:
    """One line from stdin with a ``> `` prompt; ``None`` on EOF or Ctrl-C."""
    # asyncio.run's own SIGINT handler only cancels the task once input() returns.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        line = input("> ")
    except (EOFError, KeyboardInterrupt):
        print()  # end the prompt's line
        return None
    finally:
        signal.signal(signal.SIGINT, previous)
    if not sys.stdin.isatty():
        print(line)  # piped input is not echoed by a terminal: keep the transcript readable
    return line


async def simulate(
    options: Options, out: TextIO | None = None, err: TextIO | None = None
) -> Outcome:
    """Run one session against ``options.url`` or an in-process gateway; print every screen
    to ``out`` (default stdout), notes and errors to ``err`` (default stderr)."""
    out, err = out or sys.stdout, err or sys.stderr
    read = interactive if options.inputs is None else scripted(options.inputs, out)
    if options.url is not None:
        if options.lang:
            print(f"jumbe simulate: --lang {options.lang} is ignored with --url: only an "
                  "in-process gateway can be told a subscriber's language", file=err)  # fmt: skip
        return await _session(options.url, options, read, out, err)
    async with in_process(options, err) as url:
        if url is None:
            return Outcome(code=1)
        return await _session(url, options, read, out, err)


async def _session(url: str, options: Options, read: ReadLine, out: TextIO, err: TextIO) -> Outcome:
    """Dial, then send one input per hop until ``END`` or no more input."""
    outcome = Outcome()
    form = {"sessionId": f"ATUid_sim_{secrets.token_hex(8)}", "serviceCode": options.dial,
            "phoneNumber": options.msisdn, "networkCode": SANDBOX_NETWORK}  # fmt: skip
    params = {"token": options.token} if options.token else {}
    inputs: list[str] = []
    timeout = aiohttp.ClientTimeout(total=HOP_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        while True:
            try:
                status, body = await _hop(client, url, params, {**form, "text": "*".join(inputs)})
            except Unreachable as exc:
                print(f"jumbe simulate: cannot reach {url}: {exc}", file=err)
                return Outcome(2, outcome.replies)
            if status != 200:
                print(f"HTTP {status}\n{body}", file=out)
                return Outcome(1, outcome.replies)
            outcome.replies.append(body)
            print(f"{frame(body)}\n{status_line(body)}", file=out)
            value = read() if body.startswith("CON") else None
            if value is None:
                return outcome
            inputs.append(value)


async def _hop(
    client: aiohttp.ClientSession, url: str, params: dict[str, str], form: dict[str, str]
) -> tuple[int, str]:
    """One AT hop: form POST in, (status, body) out."""
    try:
        async with client.post(url, params=params, data=form) as response:
            return response.status, await response.text()
    except aiohttp.InvalidURL:
        raise Unreachable("not an http:// or https:// URL") from None
    except (aiohttp.ClientConnectionError, TimeoutError, OSError) as exc:
        raise Unreachable(str(exc) or type(exc).__name__) from None


@contextlib.asynccontextmanager
async def in_process(options: Options, err: TextIO) -> AsyncIterator[str | None]:
    """The real gateway on ``127.0.0.1:<free port>`` with an embedded Redis; yields its USSD
    URL, or ``None`` (after printing why) when the menus have errors."""
    with _embedded_redis() as redis_url:
        settings = Settings(menus_dir=options.menus, redis_url=redis_url,
                            pseudonym_key=SIMULATOR_KEY, log_format="json",
                            sms=SmsSettings(worker=False))  # fmt: skip
        try:
            app = create_app(settings)
        except ContentError as exc:
            print("jumbe simulate: menus have errors:", *exc.findings, sep="\n", file=err)
            yield None
            return
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            if options.lang:
                _check_language(app[REGISTRY], options, err)
                await _remember_language(redis_url, settings.pseudonym_key, options)
            yield f"http://{host}:{port}/ussd/africastalking"
        finally:
            await runner.cleanup()


@contextlib.contextmanager
def _embedded_redis() -> Iterator[str]:
    """A throw-away embedded Redis in a temporary folder; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="jumbe-simulate-") as data_dir:
        server = EmbeddedRedis(Path(data_dir))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


async def _remember_language(redis_url: str, key: bytes, options: Options) -> None:
    """Store the subscriber's language preference, as a language screen would have."""
    assert options.lang is not None
    client = connect(redis_url)
    try:
        await set_language(client, pseudonymize(key, options.msisdn), options.lang)
    finally:
        await client.aclose()


def _check_language(registry: MenuRegistry, options: Options, err: TextIO) -> None:
    """A note when the dialled menu does not offer ``--lang``."""
    found = registry.resolve(options.dial)
    if found is not None and options.lang not in found[0].languages:
        offered = ", ".join(found[0].languages)
        print(f"jumbe simulate: menu {found[0].id!r} has no language {options.lang!r} "
              f"(it offers {offered})", file=err)  # fmt: skip
