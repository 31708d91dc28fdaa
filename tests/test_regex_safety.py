"""A brand's regex validator runs in linear time: a hostile input cannot stall other subscribers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from conftest import GatewayFactory, hop
from processes import jumbe

from gateway.menu import validators

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "a" * 34 + "!"
MENU = """\
id: codes
service_codes: ["*384#"]
start: code
screens:
  code:
    input:
      text: "Enter your code"
      invalid: "Not a code. Enter your code"
      validate:
        regex: '^(a+)+$'
      next: done
  done:
    end: "Thanks"
"""


def write_menu(tmp_path: Path) -> Path:
    menus = tmp_path / "menus"
    menus.mkdir()
    (menus / "codes.yaml").write_text(MENU)
    return menus


async def test_catastrophic_pattern_answers_within_the_deadline(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """`^(a+)+$` against 34 a's and a '!' re-prompts at once, as for any wrong answer."""
    client = await make_gateway(menus_dir=write_menu(tmp_path))
    assert (await hop(client, "", service_code="*384#"))[1] == "CON Enter your code"
    started = time.monotonic()
    status, body = await hop(client, HOSTILE, service_code="*384#")
    assert (status, body) == (200, "CON Not a code. Enter your code")
    assert time.monotonic() - started < 5.0, "well within the hop deadline"
    assert (await hop(client, HOSTILE + "*aaaa", service_code="*384#"))[1] == "END Thanks"


async def test_hostile_inputs_do_not_hold_up_other_subscribers(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Other subscribers dialling while hostile inputs arrive are all answered."""
    client = await make_gateway(menus_dir=write_menu(tmp_path))
    hostile_ids = [f"hostile{i}" for i in range(5)]
    for session_id in hostile_ids:
        await hop(client, "", session_id=session_id, service_code="*384#")
    hostile = [
        hop(client, HOSTILE, session_id=s, service_code="*384#", phone=f"+25470000010{i}")
        for i, s in enumerate(hostile_ids)
    ]
    others = [
        hop(client, "", session_id=f"other{i}", service_code="*384#", phone=f"+25470000020{i}")
        for i in range(20)
    ]
    results = await asyncio.gather(*hostile, *others)
    assert results[:5] == [(200, "CON Not a code. Enter your code")] * 5
    assert results[5:] == [(200, "CON Enter your code")] * 20


def test_check_rejects_a_backreference_at_the_regex_line(tmp_path: Path) -> None:
    """`jumbe check` exits 1 on `(a)\\1`, pointing at the pattern's line and saying why."""
    path = tmp_path / "backref.yaml"
    path.write_text(MENU.replace("'^(a+)+$'", "'(a)\\1'"))
    result = jumbe("check", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:10:16: error: regex: the linear-time regex engine cannot run this pattern:"
        " backreferences (\\1) need backtracking"
    ]
    assert "re2" not in result.stderr.lower() and "invalid escape" not in result.stderr


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?P<x>a)(?P=x)", "named backreferences (?P=…) need backtracking"),
        ("(?<!a)b", "lookahead and lookbehind need backtracking"),
        ("(?>ab)", "atomic groups need backtracking"),
        ("a{2000}", "more than 1000 repeats in all ({2000}) are not supported"),
        ("[A-Z", None),
    ],
)
def test_refused_patterns_say_why(pattern: str, reason: str | None) -> None:
    """A brand learns which feature the linear-time engine lacks, or sees the syntax error."""
    with pytest.raises(validators.ValidatorError) as refused:
        validators.regex(pattern)
    if reason is None:
        assert str(refused.value).startswith("regex: invalid pattern: unterminated character set")
    else:
        assert str(refused.value) == (
            f"regex: the linear-time regex engine cannot run this pattern: {reason}"
        )


def test_unicode_classes_work_where_python_re_has_none() -> None:
    """`\\p{L}` (any letter) is accepted and matches accented input; `\\d` stays ASCII digits."""
    letters = validators.regex(r"\p{L}+")
    assert letters(" Wanjirũ ") == "Wanjirũ"
    assert validators.regex(r"\d+")("١٢٣") is None
