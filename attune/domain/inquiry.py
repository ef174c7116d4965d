"""Inquiries: a question to a human that an execution (`core.ask`, or a workflow task
through it) waits on. Aggregate `inquiry`, keyed by its creation sequence:

    pending -> responded | timeout | cancelled

`decide(state, command, now)` returns the events of a command or raises: a second
response (or one after the timeout) is a 409 saying what happened to it; a response
that does not fit `response_schema` (the flat parameter format) is a 422 naming the
field.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, assert_never

from pydantic import BaseModel, ConfigDict

from attune.domain.events import Event, register
from attune.domain.params import ParamSchema, validate_parameters
from attune.errors import ConflictError, InvalidTransitionError

#: The action that asks: the executor creates its inquiry instead of a worker running it.
ASK_ACTION = "core.ask"
DEFAULT_TIMEOUT_SECONDS = 3600


class Status(StrEnum):
    PENDING = "pending"
    RESPONDED = "responded"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


@register
class InquiryCreated(Event):
    type: Literal["inquiry.created"] = "inquiry.created"
    #: the `core.ask` execution that waits for the answer
    execution_id: int
    #: the workflow execution that asked, when one did (the ask execution's parent)
    workflow_execution_id: int | None = None
    prompt: str
    response_schema: ParamSchema
    #: the login of who should answer (None: anyone allowed to respond to inquiries)
    assigned_to: str | None = None
    timeout_at: datetime


@register
class InquiryResponded(Event):
    type: Literal["inquiry.responded"] = "inquiry.responded"
    response: dict[str, Any]
    by: str | None = None


@register
class InquiryTimedOut(Event):
    type: Literal["inquiry.timed_out"] = "inquiry.timed_out"


@register
class InquiryCancelled(Event):
    type: Literal["inquiry.cancelled"] = "inquiry.cancelled"
    by: str | None = None


InquiryEvent = InquiryCreated | InquiryResponded | InquiryTimedOut | InquiryCancelled


class Respond(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["respond"] = "respond"
    response: dict[str, Any]
    by: str | None = None


class TimeOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["time_out"] = "time_out"


class Cancel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["cancel"] = "cancel"
    by: str | None = None


InquiryCommand = Respond | TimeOut | Cancel


class InquiryState(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    status: Status
    execution_id: int
    assigned_to: str | None
    response_schema: ParamSchema
    timeout_at: datetime
    response: dict[str, Any] | None = None


def evolve(state: InquiryState | None, event: InquiryEvent, *, id: int) -> InquiryState:
    match event:
        case InquiryCreated():
            return InquiryState(id=id, status=Status.PENDING, execution_id=event.execution_id,
                                assigned_to=event.assigned_to,
                                response_schema=event.response_schema,
                                timeout_at=event.timeout_at)
        case InquiryResponded():
            return _require(state).model_copy(update={"status": Status.RESPONDED,
                                                      "response": event.response})
        case InquiryTimedOut():
            return _require(state).model_copy(update={"status": Status.TIMEOUT})
        case InquiryCancelled():
            return _require(state).model_copy(update={"status": Status.CANCELLED})
        case _:
            assert_never(event)


def decide(state: InquiryState, command: InquiryCommand, *, now: datetime
           ) -> list[InquiryEvent]:
    """Responding validates the response; timing out and cancelling are idempotent."""
    match command:
        case Respond():
            if state.status is not Status.PENDING:
                raise ConflictError(f"inquiry {state.id} was already {state.status.value}: "
                                    "it takes one response")
            response = validate_parameters(state.response_schema, command.response)
            return [InquiryResponded(at=now, response=response, by=command.by)]
        case TimeOut():
            return [InquiryTimedOut(at=now)] if state.status is Status.PENDING else []
        case Cancel():
            return ([InquiryCancelled(at=now, by=command.by)]
                    if state.status is Status.PENDING else [])
        case _:
            assert_never(command)


def _require(state: InquiryState | None) -> InquiryState:
    if state is None:
        raise InvalidTransitionError("inquiry history does not start with inquiry.created")
    return state


def replay(id: int, events: list[InquiryEvent]) -> InquiryState:
    state: InquiryState | None = None
    for event in events:
        state = evolve(state, event, id=id)
    return _require(state)
