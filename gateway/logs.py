"""structlog setup: JSON lines off a TTY, pretty console on a TTY, never a raw phone number.

Callers log pseudonyms (``gateway.privacy.pseudonymize``); as a last line of defence anything
shaped like an E.164 number is replaced by ``<redacted>``: in each rendered JSON line (one regex
pass per line), or in each string value for the console renderer.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import re
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any, BinaryIO

import orjson
import structlog

_PHONE = re.compile(r"(?<![\w+])\+?\d{9,15}(?!\w)")
_PHONE_BYTES = re.compile(rb"(?:(?<![\w+])|(?<=\\[nrt]))\+?\d{9,15}(?!\w)")
"""In a rendered JSON line a number may follow an escaped newline or tab (``\\n2547…``)."""
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def scrub_phone_numbers(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace E.164-shaped substrings in string values with ``<redacted>``."""
    for key, value in event_dict.items():
        if isinstance(value, str) and _PHONE.search(value):
            event_dict[key] = _PHONE.sub("<redacted>", value)
    return event_dict


FLUSH_AFTER_S = 0.05
FLUSH_AT_BYTES = 64 * 1024


class BatchedWriter:
    """Collects log lines and writes them with one syscall per ~50 ms (or 64 KiB).

    One ``write(2)`` per hop was a measurable share of a hop on a busy core. Outside an event
    loop, and at exit, lines are written at once; at most ``FLUSH_AFTER_S`` of lines are at
    risk if the process is killed with SIGKILL.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buffer = bytearray()
        self.scheduled = False
        atexit.register(self.flush)

    def write(self, line: bytes) -> None:
        self.buffer += line
        self.buffer += b"\n"
        if len(self.buffer) >= FLUSH_AT_BYTES:
            self.flush()
        elif not self.scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self.scheduled = True
            loop.call_later(FLUSH_AFTER_S, self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if self.buffer:
            data, self.buffer = bytes(self.buffer), bytearray()
            try:
                self.stream.write(data)
                self.stream.flush()
            except (OSError, ValueError):  # closed stream at shutdown: nothing to do
                pass


class BatchedLogger:
    """A structlog logger writing rendered JSON lines into the configured ``BatchedWriter``
    (the one of the latest ``configure``: a logger cached earlier follows a reconfiguration)."""

    def __init__(self, writer: BatchedWriter) -> None:
        self._writer = writer

    def msg(self, message: bytes) -> None:
        if _PHONE_BYTES.search(message):
            message = _PHONE_BYTES.sub(b"<redacted>", message)
        (_state["writer"] or self._writer).write(message)

    def __getattr__(self, name: str) -> Callable[[bytes], None]:
        """Every level structlog may call writes the same way (a method, not class-body
        aliases: the compiled build cannot compile those)."""
        if name in _LOGGER_METHODS:
            return self.msg
        raise AttributeError(name)


_LOGGER_METHODS = frozenset(
    ("log", "debug", "info", "warn", "warning", "fatal", "failure", "err", "error", "critical",
     "exception")
)  # fmt: skip


class BatchedLoggerFactory:
    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.writer = BatchedWriter(stream or sys.stdout.buffer)

    def __call__(self, *args: Any) -> BatchedLogger:
        return BatchedLogger(self.writer)


_state: dict[str, Any] = {"writer": None, "info": True}
_SCANNED: dict[str, str] = {}
"""Values ``emit`` scanned → as written (redacted or not): a hop line's menu and screen ids and
network code repeat, and a session id comes back on each of its hops (a lookup is ~1/5 of a
scan). Emptied when full, so its size stays bounded whatever callers send."""
_SCANNED_MAX = 4096


_second: list[Any] = [-1, ""]


def iso_now() -> str:
    """``2026-11-23T18:53:46.550135Z``, as structlog's TimeStamper writes it, in ~1/4 of the
    time: the part up to the second is formatted once per second."""
    now = time.time()
    second = int(now)
    if second != _second[0]:
        _second[0], _second[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_second[1]}.{int((now - second) * 1_000_000):06d}Z"


def info_enabled() -> bool:
    """Whether an info line would be written (JSON mode below info writes none: a hot path
    can skip making one)."""
    return _state["writer"] is None or bool(_state["info"])


def emit(event: str, _known: frozenset[str] = frozenset(), **fields: Any) -> None:
    """Log one info event on a hot path (the per-hop line, the ``/v1`` call line).

    In JSON mode this renders with orjson straight into the batched writer, skipping the
    processor chain (identical output shape: fields, then event, level, timestamp); in console
    mode it goes through structlog. ``_known`` names fields whose values the gateway itself
    made and that cannot hold a number (a pseudonym, an outcome word): not scanned for one.
    """
    writer: BatchedWriter | None = _state["writer"]
    if writer is None:
        structlog.get_logger("gateway").info(event, **fields)
        return
    if not _state["info"]:  # JUMBE_LOG_LEVEL warning or error
        return
    for key, value in fields.items():  # per value: ~3x cheaper than one pass over the line
        if value.__class__ is str and key not in _known:
            clean = _SCANNED.get(value)
            if clean is None:
                clean = _PHONE.sub("<redacted>", value) if _PHONE.search(value) else value
                if len(_SCANNED) >= _SCANNED_MAX:
                    _SCANNED.clear()
                _SCANNED[value] = clean
            if clean is not value:
                fields[key] = clean
    fields["event"] = event
    fields["level"] = "info"
    fields["timestamp"] = iso_now()
    writer.write(orjson.dumps(fields))


def flush() -> None:
    """Write out buffered log lines now (tests, shutdown)."""
    writer: BatchedWriter | None = _state["writer"]
    if writer is not None:
        writer.flush()


def configure(
    log_format: str = "auto", level: str = "info", stream: BinaryIO | None = None
) -> None:
    """Configure structlog once per process. ``log_format``: json, console or auto."""
    use_console = log_format == "console" or (log_format == "auto" and sys.stdout.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    _state["writer"] = None
    _state["info"] = _LEVELS.get(level, logging.INFO) <= logging.INFO
    if use_console:
        processors = [*shared, scrub_phone_numbers, structlog.dev.ConsoleRenderer()]
        factory: Any = structlog.PrintLoggerFactory()
    else:
        processors = [
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ]
        factory = BatchedLoggerFactory(stream)
        _state["writer"] = factory.writer
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
