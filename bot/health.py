"""The state of each part of the process (front ends, scheduler, database), for /readyz and logs.

The runner's supervisor writes it; the HTTP health endpoint and the metrics read it. It knows
nothing of either, so both can change without the other.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class State(enum.StrEnum):
    STARTING = "starting"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"
    RETRYING = "retrying"
    STOPPED = "stopped"


Listener = Callable[[str, State], None]


@dataclass
class Health:
    """Each component's last state. The process is ready while every component that gates
    readiness (the front ends) is CONNECTED; others (the scheduler) are only reported."""

    states: dict[str, State] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    gating: set[str] = field(default_factory=set)

    def expect(self, component: str, *, gates_readiness: bool = True) -> None:
        """Name a component whose state is reported, and that must be connected for the
        process to be ready unless `gates_readiness` is False."""
        self.states.setdefault(component, State.STARTING)
        if gates_readiness:
            self.gating.add(component)

    def set(self, component: str, state: State) -> bool:
        """Record a state; True when it changed (so the caller logs each change once)."""
        if self.states.get(component) is state:
            return False
        self.states[component] = state
        for listener in self.listeners:
            listener(component, state)
        return True

    def connected(self, component: str) -> bool:
        """Whether `component` (a front end, by platform name) is connected right now."""
        return self.states.get(component) is State.CONNECTED

    def ready(self) -> bool:
        return bool(self.gating) and all(self.states[c] is State.CONNECTED for c in self.gating)

    def snapshot(self) -> dict[str, str]:
        return {component: state.value for component, state in sorted(self.states.items())}
