"""Compile a ``Menu`` into one ``transitions.Machine``, shared by every session on that version,
and fire its events quickly.

Sessions are never added to the machine (``add_model`` costs ~230 µs a hop). Each screen kind
says how its screen is left (``ScreenKind.transitions``); the events are ``select:<key>``,
``submit`` and ``route`` (``gateway.menu.screens.base``) and whatever new kinds add.

``fire`` steps a session through the machine's own ``Transition`` objects — their
``conditions`` (``transitions.Condition``) and ``before`` callbacks, with a
``transitions.EventData`` — exactly as ``machine.events[name].trigger(session, ...)`` does for
the machines built here (no prepare/after/enter/exit callbacks, no queue), in ~2 µs instead of
~12 µs: the generic trigger's callback resolution, queue and debug logging were a tenth of a
hop. A machine given any callback ``fire`` does not run falls back to ``trigger``.
"""

from __future__ import annotations

import weakref
from typing import Any

from transitions import EventData, Machine

from gateway.menu.model import Menu
from gateway.menu.screens import kind_of

_MACHINE_HOOKS = ("prepare_event", "before_state_change", "after_state_change", "finalize_event",
                  "on_exception", "on_final")  # fmt: skip


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


def fire(machine: Machine, event: str, session: Any, **kwargs: Any) -> bool:
    """Take ``event`` from ``session.state``: the first transition whose conditions hold runs
    its ``before`` callbacks and moves the session; ``False`` when none does (or the screen has
    no such event). The same result as ``machine.events[event].trigger(session, **kwargs)``."""
    if not _plain(machine):
        return bool(machine.events[event].trigger(session, **kwargs))
    found = machine.events.get(event)
    candidates = found.transitions.get(session.state) if found is not None else None
    if not candidates:
        return False
    data = EventData(machine.states[session.state], found, machine, session, (), kwargs)
    for transition in candidates:
        data.transition = transition
        if all(condition.check(data) for condition in transition.conditions):
            for callback in transition.before:
                machine.resolve_callable(callback, data)(data)
            session.state = transition.dest
            return True
    return False


_PLAIN: weakref.WeakKeyDictionary[Machine, bool] = weakref.WeakKeyDictionary()


def _plain(machine: Machine) -> bool:
    """Whether ``fire`` can stand in for ``trigger``: no callback it does not run."""
    plain = _PLAIN.get(machine)
    if plain is None:
        plain = _PLAIN[machine] = (
            not machine.has_queue
            and machine.model_attribute == "state"
            and not any(getattr(machine, hook) for hook in _MACHINE_HOOKS)
            and not any(s.on_enter or s.on_exit or s.final for s in machine.states.values())
            and not any(
                t.prepare or t.after or t.dest is None
                for e in machine.events.values()
                for ts in e.transitions.values()
                for t in ts
            )
        )
    return plain
