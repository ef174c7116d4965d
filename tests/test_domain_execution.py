"""The execution state machine, without servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from attune.domain import execution as ex
from attune.domain.action import ActionDef
from attune.domain.events import catalogue, decode
from attune.errors import InvalidTransitionError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ACTION = ActionDef(ref="core.noop", pack_ref="core", name="noop", label="noop",
                   runtime="shell", entry_point="noop.sh")


def requested() -> ex.ExecutionRequested:
    return ex.ExecutionRequested(at=NOW, action=ACTION, pack_path="/p", parameters={},
                                 timeout_seconds=600)


def run(*commands: ex.ExecutionCommand) -> tuple[ex.ExecutionState, list[ex.ExecutionEvent]]:
    history: list[ex.ExecutionEvent] = [requested()]
    state = ex.replay(7, history)
    for command in commands:
        events = ex.decide(state, command, now=NOW)
        for event in events:
            state = ex.evolve(state, event, id=7)
        history.extend(events)
    return state, history


def test_happy_path_reaches_completed() -> None:
    state, history = run(ex.Schedule(queue="attune.work.shell"), ex.Start(worker="w1"),
                         ex.Finish(outcome=ex.Outcome(exit_code=0, stdout="hi\n")))
    assert state.status is ex.Status.COMPLETED
    assert [e.type for e in history] == ["execution.requested", "execution.scheduled",
                                         "execution.started", "execution.completed"]
    assert ex.replay(7, history) == state


def test_nonzero_exit_or_error_fails() -> None:
    state, _ = run(ex.Schedule(queue="q"), ex.Start(worker="w"),
                   ex.Finish(outcome=ex.Outcome(exit_code=3)))
    assert state.status is ex.Status.FAILED
    state, _ = run(ex.Schedule(queue="q"), ex.Start(worker="w"),
                   ex.Finish(outcome=ex.Outcome(exit_code=0, error="timed out")))
    assert state.status is ex.Status.FAILED


def test_commands_are_idempotent_once_done() -> None:
    state, _ = run(ex.Schedule(queue="q"))
    assert ex.decide(state, ex.Schedule(queue="q"), now=NOW) == []
    done, _ = run(ex.Schedule(queue="q"), ex.Start(worker="w"),
                  ex.Finish(outcome=ex.Outcome(exit_code=0)))
    for command in (ex.Schedule(queue="q"), ex.Start(worker="w"),
                    ex.Finish(outcome=ex.Outcome(exit_code=1)), ex.Abandon(reason="x")):
        assert ex.decide(done, command, now=NOW) == []


def test_invalid_transitions_raise() -> None:
    state, _ = run()
    with pytest.raises(InvalidTransitionError, match="requested; cannot start"):
        ex.decide(state, ex.Start(worker="w"), now=NOW)
    running, _ = run(ex.Schedule(queue="q"), ex.Start(worker="w"))
    with pytest.raises(InvalidTransitionError):
        ex.decide(running, ex.Start(worker="w2"), now=NOW)


def test_lost_worker_abandons() -> None:
    state, history = run(ex.Schedule(queue="q"), ex.Start(worker="w"),
                         ex.Abandon(reason="worker lost"))
    assert state.status is ex.Status.ABANDONED
    assert state.status.terminal
    assert history[-1].type == "execution.abandoned"


def test_history_must_start_with_request() -> None:
    with pytest.raises(InvalidTransitionError):
        ex.evolve(None, ex.ExecutionScheduled(at=NOW, queue="q"), id=1)


def test_every_event_round_trips_through_json() -> None:
    events = run(ex.Schedule(queue="q"), ex.Start(worker="w"),
                 ex.Finish(outcome=ex.Outcome(exit_code=0, data={"a": [1, 2]})))[1]
    for event in events:
        assert decode(event.type, event.model_dump_json().encode()) == event
    assert {e.type for e in events} <= set(catalogue())


def test_events_are_frozen() -> None:
    event = requested()
    with pytest.raises(ValueError):
        event.timeout_seconds = 5  # type: ignore[misc]
