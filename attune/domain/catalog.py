"""The lifecycle shared by catalogue components — actions, triggers, rules (later sensors,
policies, runtimes): each is an aggregate keyed by its ref, with four events

    <kind>.defined   the whole definition (from a pack registration or the API)
    <kind>.enabled / <kind>.disabled
    <kind>.deleted

`decide` and `evolve` are written once here and driven by a `Kind` naming the four
event classes of a component type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar, assert_never

from pydantic import BaseModel, ConfigDict

from attune.domain.events import Event
from attune.errors import ConflictError, NotFoundError

Source = Literal["pack", "api"]


D = TypeVar("D", bound=BaseModel)


class DefinedEvent(Event, Generic[D]):
    """Base of `<kind>.defined`: carries the whole definition."""

    definition: D
    #: True when the component did not exist before (a creation, not an update).
    created: bool
    source: Source


@dataclass(frozen=True)
class Kind(Generic[D]):
    name: str
    defined: type[DefinedEvent[D]]
    enabled: type[Event]
    disabled: type[Event]
    deleted: type[Event]


@dataclass(frozen=True)
class Component(Generic[D]):
    """Current state of a component; `None` stands for "does not exist (any more)"."""

    definition: D
    source: Source


class Define(BaseModel, Generic[D]):
    model_config = ConfigDict(frozen=True)
    type: Literal["define"] = "define"
    definition: D
    source: Source
    #: For pack re-registration: keep the enabled flag an operator set through the API.
    keep_enabled: bool = False


class Enable(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: Literal["enable"] = "enable"


class Disable(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: Literal["disable"] = "disable"


class Delete(BaseModel):
    model_config = ConfigDict(frozen=True)
    type: Literal["delete"] = "delete"
    #: Pack components are deleted by re-registering (or removing) their pack.
    allow_pack: bool = False


Command = Define[D] | Enable | Disable | Delete


def _enabled(definition: BaseModel) -> bool:
    return bool(getattr(definition, "enabled", True))


def evolve(kind: Kind[D], state: Component[D] | None, event: Event) -> Component[D] | None:
    if isinstance(event, kind.defined):
        return Component(definition=event.definition, source=event.source)
    if state is None:
        return None
    if isinstance(event, kind.enabled | kind.disabled):
        flag = isinstance(event, kind.enabled)
        return Component(definition=state.definition.model_copy(update={"enabled": flag}),
                         source=state.source)
    if isinstance(event, kind.deleted):
        return None
    return state


def replay(kind: Kind[D], events: list[Event]) -> Component[D] | None:
    state: Component[D] | None = None
    for event in events:
        state = evolve(kind, state, event)
    return state


def decide(kind: Kind[D], state: Component[D] | None, command: Command[D], *, ref: str,
           now: datetime) -> list[Event]:
    """Events for `command`; empty when it changes nothing (idempotent)."""
    match command:
        case Define():
            new = command.definition
            if state is not None and command.keep_enabled:
                new = new.model_copy(update={"enabled": _enabled(state.definition)})
            if state is not None and state.definition == new and state.source == command.source:
                return []
            if state is not None and state.source == "pack" and command.source == "api":
                raise ConflictError(
                    f"{kind.name} {ref!r} belongs to pack {getattr(new, 'pack_ref', '?')!r}: "
                    "change the pack's files and register it again")
            return [kind.defined.model_validate({"at": now, "definition": new,
                                                 "created": state is None,
                                                 "source": command.source})]
        case Enable() | Disable():
            if state is None:
                raise NotFoundError(f"{kind.name} {ref!r} not found")
            want = isinstance(command, Enable)
            if _enabled(state.definition) == want:
                return []
            return [(kind.enabled if want else kind.disabled).model_validate({"at": now})]
        case Delete():
            if state is None:
                raise NotFoundError(f"{kind.name} {ref!r} not found")
            if state.source == "pack" and not command.allow_pack:
                raise ConflictError(
                    f"{kind.name} {ref!r} comes from a pack: remove it from the pack's files "
                    "and register the pack again")
            return [kind.deleted.model_validate({"at": now})]
        case _:
            assert_never(command)
