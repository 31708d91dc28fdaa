"""Survey test helpers: a content folder with surveys of the test's own (imported by the test
modules: a second ``conftest.py`` would shadow the shared one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from gateway.devtools.fake_at import FakeAT

MENU = """\
id: shop
service_codes: ["*500#"]
start: main
screens:
  main:
    menu:
      text: Shop
      options:
        - {label: Feedback, next: fb}
  fb:
    survey: {id: s1, next: thanks}
  thanks:
    end: "Thanks from the shop"
"""

SURVEY = """\
kind: survey
id: s1
service_codes: ["*500*1#"]
questions:
  - {id: q1, type: nps, text: "Recommend us? 0-10"}
  - {id: q2, type: text, text: "Why?"}
  - {id: q3, type: csat, text: "Happy? 1-5"}
"""


def content(tmp_path: Path, *files: tuple[str, str]) -> Path:
    """A content folder holding ``files`` (name, text)."""
    folder = tmp_path / "content"
    folder.mkdir(exist_ok=True)
    for name, text in files:
        (folder / name).write_text(text)
    return folder


QUOTA_SURVEY = """\
kind: survey
id: q
service_codes: ["*500*2#"]
rejected: "Thanks, we have enough answers from you group."
quotas:
  - {question: member, buckets: {"yes": 1}}
questions:
  - {id: member, type: yes_no, text: "Are you a member?"}
  - {id: score, type: csat, text: "Happy? 1-5"}
"""

INCENTIVE_SURVEY = """\
kind: survey
id: inc
service_codes: ["*500*3#"]
incentive: {points: 25}
questions:
  - {id: ok, type: yes_no, text: "All good?"}
"""


def respondent(redis_client: Any, pseudonym: str, survey_id: str) -> dict[str, str]:
    """The respondent's hash, decoded."""
    raw = redis_client.hgetall(f"j:sv:{{{pseudonym}}}:{survey_id}")
    return {k.decode(): v.decode() for k, v in raw.items()}


@dataclass
class FakeServer:
    fake: FakeAT
    url: str


@pytest.fixture(name="fake_at")
async def fake_at_fixture() -> AsyncIterator[FakeServer]:
    """A fake Africa's Talking on 127.0.0.1; the SDK is pointed at ``url``."""
    fake = FakeAT()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield FakeServer(fake, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


class Clock:
    """An injectable clock: ``clock()`` is the time, ``clock.now = …`` moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
