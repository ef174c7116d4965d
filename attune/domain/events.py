"""Base class of every domain event and the catalogue of event types.

An event is a frozen pydantic model whose `type` literal names it on the wire
(the `Attune-Event-Type` header and the subject's last token), with a
`schema_version` so stored history can be upcast when a model evolves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """A fact that happened. Immutable; the stream is its home."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The aggregate kind this event belongs to (first subject token after `attune.`).
    aggregate: ClassVar[str]
    #: The subject's last token, e.g. "requested".
    name: ClassVar[str]

    type: str
    schema_version: int = 1
    at: datetime


_CATALOGUE: dict[str, type[Event]] = {}


def register(cls: type[Event]) -> type[Event]:
    """Class decorator: put an event type in the catalogue used to decode messages."""
    type_name = cls.model_fields["type"].default
    if not isinstance(type_name, str):
        raise TypeError(f"{cls.__name__} needs a literal default for `type`")
    aggregate, _, name = type_name.partition(".")
    cls.aggregate = aggregate
    cls.name = name
    if type_name in _CATALOGUE and _CATALOGUE[type_name] is not cls:
        raise TypeError(f"event type {type_name!r} registered twice")
    _CATALOGUE[type_name] = cls
    return cls


def event_class(type_name: str) -> type[Event]:
    try:
        return _CATALOGUE[type_name]
    except KeyError:
        raise KeyError(f"unknown event type {type_name!r}") from None


def catalogue() -> dict[str, type[Event]]:
    """All registered event types by their `type` name (imports every domain module)."""
    from attune.domain import (  # noqa: F401  (registration side effect)
        action,
        artifact,
        audit,
        enforcement,
        execution,
        identity,
        inquiry,
        key,
        pack,
        permission,
        policy,
        rule,
        sensor,
        trigger,
        trigger_event,
    )
    from attune.workflow import events as _workflow_events  # noqa: F401

    return dict(sorted(_CATALOGUE.items()))


def decode(type_name: str, body: bytes) -> Event:
    return event_class(type_name).model_validate_json(body)


def as_json_dict(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")
