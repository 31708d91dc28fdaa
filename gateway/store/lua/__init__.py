"""Every Lua script Jumbe runs, one ``.lua`` file each: the only place where "check and
change" happens atomically. Each file's header says its keys, arguments and result.

``source(name)`` reads one; ``compose(*names, **values)`` joins several (a shared library
first) and fills ``{{NAME}}`` placeholders with values computed in Python, so a constant has
one source.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def source(name: str) -> str:
    """The text of ``<name>.lua``."""
    return resources.files(__name__).joinpath(f"{name}.lua").read_text()


def compose(*names: str, **values: str) -> str:
    """The scripts ``names`` joined in order, with ``{{KEY}}`` replaced by ``values[KEY]``."""
    text = "\n".join(source(name) for name in names)
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text.replace("{{{", ""):
        missing = text[text.index("{{") : text.index("}}", text.index("{{")) + 2]
        raise ValueError(f"no value for {missing} in {', '.join(names)}")
    return text
