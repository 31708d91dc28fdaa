"""Build hook: with ``JUMBE_COMPILE=1``, the hop path's modules are compiled with mypyc.

The package metadata lives in pyproject.toml, and so does the list of compiled modules
(``[tool.jumbe] compiled``). The compiled build is what the container image ships
(docs/architecture.md, "The compiled build"): the same typed source made into C extensions.
A plain ``pip install`` (and the editable install ``make`` makes for development) stays pure
Python. Compiling type-checks the package, so the building environment needs the runtime and
dev dependencies: build with ``--no-build-isolation`` from it (``make compiled``, the Dockerfile).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from setuptools import setup


def _ext_modules() -> list[object]:
    if os.environ.get("JUMBE_COMPILE", "") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        raise SystemExit(
            "JUMBE_COMPILE=1 needs mypy (mypyc) and the dev dependencies where the package is "
            "built: pip install -r requirements/main.lock -r requirements/dev.lock, then "
            "JUMBE_COMPILE=1 pip install --no-build-isolation ."
        ) from None
    pyproject = tomllib.loads((Path(__file__).parent / "pyproject.toml").read_text())
    return list(mypycify(pyproject["tool"]["jumbe"]["compiled"], opt_level="3"))


setup(ext_modules=_ext_modules())
