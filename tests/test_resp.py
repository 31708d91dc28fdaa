"""Commands packed by ``store.resp`` are the bytes hiredis makes of the same arguments, with
parts packed ahead of time or not, and refuse what hiredis refuses."""

from __future__ import annotations

from typing import Any

import hiredis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.store.resp import Packed, pack

ARGUMENT = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
)


@given(st.lists(ARGUMENT, min_size=1, max_size=80), st.data())
def test_the_same_bytes_as_hiredis(args: list[Any], data: st.DataObject) -> None:
    expected = hiredis.pack_command(tuple(args))
    assert pack(args) == expected
    # any run of the arguments packed once, ahead of time, changes nothing
    start = data.draw(st.integers(0, len(args)))
    end = data.draw(st.integers(start, len(args)))
    parted = [*args[:start], Packed(args[start:end]), *args[end:]]
    assert pack(parted) == expected  # the command's count header counts a part's arguments


def test_memoryview_as_bytes() -> None:
    assert pack([b"SET", memoryview(b"k"), "v"]) == _hiredis(b"SET", b"k", "v")


def _hiredis(*args: Any) -> bytes:
    return bytes(hiredis.pack_command(tuple(args)))


@pytest.mark.parametrize("bad", [True, None, [1], {"a": 1}])
def test_refuses_what_hiredis_refuses(bad: Any) -> None:
    with pytest.raises(TypeError):
        _hiredis(b"SET", b"k", bad)
    with pytest.raises(TypeError, match="must be str, int, float or bytes"):
        pack([b"SET", b"k", bad])
    with pytest.raises(TypeError):
        Packed([bad])
