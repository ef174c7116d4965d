"""The catalogue lifecycle (defined / enabled / disabled / deleted), without servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from attune.domain import catalog
from attune.domain.action import ACTION, ActionDef
from attune.domain.events import decode
from attune.errors import ConflictError, NotFoundError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ECHO = ActionDef(ref="p.echo", pack_ref="p", name="echo", label="Echo", runtime="shell",
                 entry_point="echo.sh")


def apply(state: catalog.Component[ActionDef] | None, command: catalog.Command[ActionDef]
          ) -> tuple[catalog.Component[ActionDef] | None, list[str]]:
    events = catalog.decide(ACTION, state, command, ref="p.echo", now=NOW)
    for event in events:
        state = catalog.evolve(ACTION, state, event)
    return state, [e.type for e in events]


def test_define_enable_disable_delete() -> None:
    state, types = apply(None, catalog.Define(definition=ECHO, source="pack"))
    assert types == ["action.defined"] and state is not None
    state, types = apply(state, catalog.Disable())
    assert types == ["action.disabled"] and state and not state.definition.enabled
    assert apply(state, catalog.Disable())[1] == []
    state, types = apply(state, catalog.Enable())
    assert types == ["action.enabled"] and state and state.definition.enabled
    state, types = apply(state, catalog.Delete(allow_pack=True))
    assert types == ["action.deleted"] and state is None


def test_redefining_the_same_is_a_no_op_and_keeps_the_operator_flag() -> None:
    state, _ = apply(None, catalog.Define(definition=ECHO, source="pack"))
    state, _ = apply(state, catalog.Disable())
    again = catalog.Define(definition=ECHO, source="pack", keep_enabled=True)
    assert apply(state, again)[1] == []
    changed = ECHO.model_copy(update={"label": "Echo 2"})
    state, types = apply(state, catalog.Define(definition=changed, source="pack",
                                               keep_enabled=True))
    assert types == ["action.defined"]
    assert state is not None and state.definition.label == "Echo 2"
    assert not state.definition.enabled


def test_created_flag_and_wire_round_trip() -> None:
    events = catalog.decide(ACTION, None, catalog.Define(definition=ECHO, source="api"),
                            ref="p.echo", now=NOW)
    [event] = events
    assert isinstance(event, ACTION.defined) and event.created
    assert decode(event.type, event.model_dump_json().encode()) == event


def test_pack_components_are_guarded_from_api_changes() -> None:
    state, _ = apply(None, catalog.Define(definition=ECHO, source="pack"))
    with pytest.raises(ConflictError, match="belongs to pack 'p'"):
        apply(state, catalog.Define(definition=ECHO, source="api"))
    with pytest.raises(ConflictError, match="comes from a pack"):
        apply(state, catalog.Delete())
    with pytest.raises(NotFoundError):
        apply(None, catalog.Enable())
