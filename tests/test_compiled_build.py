"""The compiled build (``make test-compiled``) runs the suite against the modules mypyc made,
not against the sources beside them (a path mistake would test the pure-Python build twice)."""

from __future__ import annotations

import importlib
import os
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPILED: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["jumbe"][
    "compiled"
]


@pytest.mark.skipif(
    os.environ.get("JUMBE_EXPECT_COMPILED") != "1", reason="the pure-Python build is under test"
)
@pytest.mark.parametrize("path", COMPILED)
def test_the_hop_path_runs_compiled(path: str) -> None:
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    assert module.__file__ is not None and module.__file__.endswith(".so"), module.__file__


def test_every_compiled_module_exists() -> None:
    """A module moved or renamed must be renamed in pyproject.toml too (else the compiled
    build would quietly leave it out)."""
    assert COMPILED
    for path in COMPILED:
        assert (ROOT / path).is_file(), path
