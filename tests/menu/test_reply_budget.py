"""Property: whatever the menu texts and whatever the subscriber types, no reply exceeds the
screen budget (GSM-7 or UCS-2), and every option stays reachable through paging."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.channels.africastalking import SCREEN_OVERHEAD
from gateway.channels.africastalking.ussd import render
from gateway.channels.base import Reply
from gateway.menu.engine import Engine, Step
from gateway.menu.parse import parse_text
from gateway.menu.state import SessionState
from gateway.text import Budget

WORDS = (
    st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABC 0123456789.,!?-€ẹọṣሰላም"),
        min_size=1,
        max_size=18,
    )
    .map(str.strip)
    .filter(bool)
)
LABEL = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
TEXT = st.lists(WORDS, min_size=1, max_size=30).map(" ".join)
INPUTS = st.lists(st.sampled_from(["1", "2", "5", "98", "0", "00", "x", "12", "3"]), max_size=25)


def _shown(step: Step) -> Reply:
    """The reply of a step (these menus have no screen that performs an effect)."""
    assert step.reply is not None
    return step.reply


def build_menu(header: str, labels: list[str], end_text: str) -> str:
    doc = {
        "id": "prop", "service_codes": ["*1#"], "languages": ["en"], "start": "main",
        "screens": {
            "main": {"menu": {"text": header, "options": [
                {"label": label, "next": "ask" if i % 2 else "done"}
                for i, label in enumerate(labels)]}},
            "ask": {"input": {"text": header, "validate": {"integer": {"min": 1, "max": 5}},
                              "next": "done"}},
            "done": {"end": end_text},
        },
    }  # fmt: skip
    return yaml.safe_dump(doc, allow_unicode=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=TEXT, labels=st.lists(LABEL, min_size=1, max_size=40), end_text=TEXT, inputs=INPUTS)
def test_no_reply_exceeds_budget(
    header: str, labels: list[str], end_text: str, inputs: list[str]
) -> None:
    """Every reply of a random menu under random input fits the screen budget."""
    menu, findings = parse_text(build_menu(header, labels, end_text), "prop.yaml")
    if menu is None:  # the only refusal a well-formed file can get: a label that cannot fit
        assert all("too long" in f.message for f in findings if f.severity == "error")
        return
    screen = Budget()  # what the handset shows, AT's CON/END prefix included
    engine = Engine(Budget(screen.gsm7 - SCREEN_OVERHEAD, screen.ucs2 - SCREEN_OVERHEAD))
    session = SessionState(menu.id, menu.version, "en", 0.0)
    reply = _shown(engine.begin(menu, session))
    assert screen.fits(render(reply))
    for key in inputs:
        if reply.end:
            break
        reply = _shown(engine.answer(menu, session, key))
        assert reply.text, "a reply is never empty"
        assert screen.fits(render(reply)), render(reply)


@settings(max_examples=60, deadline=None)
@given(labels=st.lists(LABEL, min_size=8, max_size=40))
def test_paging_shows_every_option_once(labels: list[str]) -> None:
    """Paging through a long menu with 98 shows each option exactly once, in order."""
    menu, findings = parse_text(build_menu("Pick one", labels, "Bye"), "prop.yaml")
    if menu is None:
        assert all("too long" in f.message for f in findings if f.severity == "error")
        return
    engine = Engine()
    session = SessionState(menu.id, menu.version, "en", 0.0)
    pages = [_shown(engine.begin(menu, session)).text]
    for _ in range(len(labels)):
        reply = _shown(engine.answer(menu, session, "98"))
        if reply.text == pages[-1]:
            break
        pages.append(reply.text)
    shown = [
        line
        for page in pages
        for line in page.split("\n")
        if line.split(". ", 1)[0].isdigit() and line.split(". ", 1)[0] not in ("98", "0")
    ]
    assert shown == [f"{i}. {label}" for i, label in enumerate(labels, 1)]
