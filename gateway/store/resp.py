"""Redis commands as the bytes of the Redis protocol (RESP), with parts packed ahead of time.

The hop path's client packs commands with ``hiredis.pack_command``, which copies every
argument twice through the C heap and formats every length with ``sprintf`` (~1,250
instructions an argument). A balance check's reservation sends 29 arguments, 11 of them the
same for a campaign for a whole minute (its caps, prices, day): those are packed once, as
``Packed`` parts, and the client packs a script whose first argument is a ``Packed`` part
here. Plain arguments are packed as hiredis packs them: ``bytes``, ``str`` (UTF-8), ``int``
(not ``bool``), ``float`` (``repr``) and ``memoryview``; anything else is a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_HEADS = [b"$%d\r\n" % n for n in range(512)]
"""The header of an argument of each common length."""
_COUNTS = [b"*%d\r\n" % n for n in range(64)]
"""The header of a command of each common argument count."""


class Packed:
    """Arguments packed once: ``count`` of them, as RESP bulk strings (``data``)."""

    __slots__ = ("count", "data")

    def __init__(self, args: Sequence[Any]) -> None:
        parts: list[bytes] = []
        for arg in args:
            _add(parts, arg)
        self.count = len(args)
        self.data = b"".join(parts)


def pack(args: Sequence[Any]) -> bytes:
    """``args`` (the command's name first; ``Packed`` parts as they are) as one command."""
    parts: list[bytes] = [b""]
    n = 0
    for arg in args:
        if isinstance(arg, Packed):
            parts.append(arg.data)
            n += arg.count
        else:
            _add(parts, arg)
            n += 1
    parts[0] = _COUNTS[n] if n < 64 else b"*%d\r\n" % n
    return b"".join(parts)


def _add(parts: list[bytes], arg: Any) -> None:
    if isinstance(arg, bytes):
        data = arg
    elif isinstance(arg, str):
        data = arg.encode()
    elif type(arg) is int or isinstance(arg, float):
        data = repr(arg).encode()
    elif isinstance(arg, memoryview):
        data = arg.tobytes()
    else:
        raise TypeError("A tuple item must be str, int, float or bytes.")
    size = len(data)
    parts.append(_HEADS[size] if size < 512 else b"$%d\r\n" % size)
    parts.append(data)
    parts.append(b"\r\n")
