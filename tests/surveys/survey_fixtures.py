"""Survey test helpers: a content folder with surveys of the test's own (imported by the test
modules: a second ``conftest.py`` would shadow the shared one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import Clock, FakeServer, fake_at_fixture

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


__all__ = ["Clock", "FakeServer", "content", "fake_at_fixture", "respondent"]
