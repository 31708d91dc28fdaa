"""Every Lua script Jumbe runs, one ``.lua`` file each: the only place where "check and
change" happens atomically. ``source(name)`` reads one (each script's header says its keys,
arguments and result)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def source(name: str) -> str:
    """The text of ``<name>.lua``."""
    return resources.files(__name__).joinpath(f"{name}.lua").read_text()
