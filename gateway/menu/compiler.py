"""Compile a ``Menu`` into one ``transitions.Machine``, shared by every session on that version.

Sessions are never added to the machine (``add_model`` costs ~230 µs a hop); the engine steps a
session with ``machine.events[name].trigger(session, ...)`` (~15-20 µs). Events:

- ``select:<key>``  a menu option was chosen (option ``when`` conditions are transition conditions)
- ``submit``        a valid answer on an input or language screen (``before`` saves it)
- ``route``         leave a router (first matching condition wins) or a set screen
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, cast

from transitions import EventData, Machine

from gateway.menu.conditions import Condition
from gateway.menu.model import (
    InputScreen,
    LanguageScreen,
    Menu,
    MenuScreen,
    Option,
    RouterScreen,
    SetScreen,
)
from gateway.menu.state import SessionState

SELECT = "select:"
SUBMIT = "submit"
ROUTE = "route"


def _session(event: EventData) -> SessionState:
    return cast(SessionState, event.model)


def _when(condition: Condition) -> Callable[[EventData], bool]:
    return lambda event: condition(_session(event).vars)


def _save_option(name: str, option: Option) -> Callable[[EventData], None]:
    def save(event: EventData) -> None:
        _session(event).vars[name] = option.value

    return save


def _save_value(name: str) -> Callable[[EventData], None]:
    def save(event: EventData) -> None:
        _session(event).vars[name] = event.kwargs["value"]

    return save


def _set_language(event: EventData) -> None:
    _session(event).language = event.kwargs["value"]


def _assign(screen: SetScreen) -> Callable[[EventData], None]:
    def assign(event: EventData) -> None:
        values = _session(event).vars
        rendered = {name: template.render(values) for name, template in screen.values.items()}
        values.update(rendered)

    return assign


def static_screens(menu: Menu) -> frozenset[str]:
    """Screens whose rendering depends on nothing but the language (cacheable)."""
    static = set()
    for screen in menu.screens.values():
        texts = [getattr(screen, "text", None), getattr(screen, "invalid", None)]
        if isinstance(screen, MenuScreen):
            if any(o.when is not None for o in screen.options):
                continue
            texts.extend(o.label for o in screen.options)
        if all(
            t is None or not any(tpl.variables for tpl in t.by_language.values()) for t in texts
        ):
            static.add(screen.id)
    return frozenset(static)


def compile_machine(menu: Menu) -> Machine:
    """Build the machine for ``menu`` (called once per menu version, at load)."""
    machine = Machine(
        model=None,
        states=list(menu.screens),
        initial=menu.start,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=True,
    )
    for screen in menu.screens.values():
        if isinstance(screen, MenuScreen):
            for option in screen.options:
                before: list[Any] = [_save_option(screen.save, option)] if screen.save else []
                conditions: list[Any] = [_when(option.when)] if option.when else []
                machine.add_transition(
                    SELECT + option.key,
                    screen.id,
                    option.next,
                    conditions=conditions,
                    before=before,
                )
        elif isinstance(screen, InputScreen):
            before = [_save_value(screen.save)] if screen.save else []
            machine.add_transition(SUBMIT, screen.id, screen.next, before=before)
        elif isinstance(screen, LanguageScreen):
            machine.add_transition(SUBMIT, screen.id, screen.next, before=[_set_language])
        elif isinstance(screen, RouterScreen):
            for route in screen.routes:
                conditions = [_when(route.condition)] if route.condition else []
                machine.add_transition(ROUTE, screen.id, route.next, conditions=conditions)
        elif isinstance(screen, SetScreen):
            machine.add_transition(ROUTE, screen.id, screen.next, before=[_assign(screen)])
    # Each event points back at its machine: a cycle, so a version no longer served would wait
    # for the cycle collector (which the reloader keeps away from loaded menus, see reloader.py).
    # A weak reference lets it go as soon as nothing uses it.
    for event in machine.events.values():
        event.machine = weakref.proxy(machine)
    return machine
