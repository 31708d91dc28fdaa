"""Compile a ``Menu`` into one ``transitions.Machine``, shared by every session on that version.

Sessions are never added to the machine (``add_model`` costs ~230 µs a hop); the engine steps a
session with ``machine.events[name].trigger(session, ...)`` (~15-20 µs). Each screen kind says
how its screen is left (``ScreenKind.transitions``); the events are ``select:<key>``,
``submit`` and ``route`` (``gateway.menu.screens.base``) and whatever new kinds add.
"""

from __future__ import annotations

import weakref
from typing import Any

from transitions import Machine

from gateway.menu.model import Menu
from gateway.menu.screens import kind_of


def static_screens(menu: Menu) -> frozenset[str]:
    """Screens whose rendering depends on nothing but the language (cacheable)."""
    return frozenset(s.id for s in menu.screens.values() if kind_of(s).static(s))


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
        for transition in kind_of(screen).transitions(screen):
            machine.add_transition(
                transition.event,
                screen.id,
                transition.dest,
                conditions=list[Any](transition.conditions),
                before=list[Any](transition.before),
            )
    # Each event points back at its machine: a cycle, so a version no longer served would wait
    # for the cycle collector (which the reloader keeps away from loaded menus, see reloader.py).
    # A weak reference lets it go as soon as nothing uses it.
    for event in machine.events.values():
        event.machine = weakref.proxy(machine)
    return machine
