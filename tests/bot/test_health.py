"""The process's component states, as /readyz reads them."""

from __future__ import annotations

from bot.health import Health, State


def test_a_process_with_no_components_is_not_ready() -> None:
    assert not Health().ready()


def test_the_process_is_ready_only_when_every_expected_component_is_connected() -> None:
    health = Health()
    health.expect("telegram")
    health.expect("discord")
    health.set("telegram", State.CONNECTED)
    assert not health.ready()
    health.set("discord", State.CONNECTED)
    assert health.ready()
    health.set("discord", State.LOST)
    assert not health.ready()
    assert health.snapshot() == {"discord": "lost", "telegram": "connected"}


def test_setting_the_same_state_twice_reports_no_change_and_notifies_once() -> None:
    seen: list[tuple[str, State]] = []
    health = Health(listeners=[lambda c, s: seen.append((c, s))])
    assert health.set("discord", State.CONNECTING)
    assert not health.set("discord", State.CONNECTING)
    assert seen == [("discord", State.CONNECTING)]


def test_a_component_that_does_not_gate_readiness_is_reported_but_not_waited_for() -> None:
    health = Health()
    health.expect("telegram")
    health.expect("scheduler", gates_readiness=False)
    health.set("telegram", State.CONNECTED)
    assert health.ready()
    assert health.snapshot() == {"scheduler": "starting", "telegram": "connected"}
