"""``compiler.fire`` moves a session exactly as the ``transitions`` machine's own trigger does."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from transitions import Machine

from gateway.menu.compiler import fire
from gateway.menu.parse import parse_file
from gateway.menu.state import SessionState

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    ROOT / "menus" / "demo.yaml",
    ROOT / "menus" / "benchmark.yaml",
    Path(__file__).parent / "files" / "valid_everything.yaml",
]
VARIABLES: list[dict[str, Any]] = [
    {},
    {"rating": "5", "tier": "gold", "age": 30, "points": 900},
    {"rating": "1", "tier": "bronze", "age": 12, "points": 0},
]


def _session(state: str, variables: dict[str, Any]) -> SessionState:
    session = SessionState("m", "v", "en", 0.0)
    session.state = state
    session.vars = copy.deepcopy(variables)
    return session


def _snapshot(session: SessionState) -> tuple[Any, ...]:
    return session.state, session.language, session.vars


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fire_matches_the_machines_trigger_on_every_screen_and_event(path: Path) -> None:
    """Every event from every screen, with several sets of variables: same screen, same
    variables, same language, same answer — so the fast path changes no menu's behaviour."""
    menu, findings = parse_file(path)
    assert menu is not None, findings
    machine: Machine = menu.machine
    tried = 0
    for state in menu.screens:
        for event in machine.events:
            for variables in VARIABLES:
                for value in ("1", "2", "en", "sw", "hello"):
                    ours, theirs = _session(state, variables), _session(state, variables)
                    try:
                        expected = machine.events[event].trigger(theirs, value=value)
                    except Exception as exc:  # a callback refusing the value: both must refuse
                        with pytest.raises(type(exc)):
                            fire(machine, event, ours, value=value)
                        continue
                    assert fire(machine, event, ours, value=value) == expected
                    assert _snapshot(ours) == _snapshot(theirs)
                    tried += expected
    assert tried > len(menu.screens)  # the comparison moved sessions, not only refused them


def test_a_machine_with_a_callback_fire_does_not_run_falls_back_to_trigger() -> None:
    """A machine given an ``after`` callback (not one compiled here) still gets it called."""
    calls: list[str] = []
    machine = Machine(model=None, states=["a", "b"], initial="a", auto_transitions=False,
                      send_event=True)  # fmt: skip
    machine.add_transition("go", "a", "b", after=[lambda event: calls.append("after")])
    session = _session("a", {})
    assert fire(machine, "go", session)
    assert session.state == "b" and calls == ["after"]
