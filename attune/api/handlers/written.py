"""Answers of commands on catalogue components: wait for the read model to apply the
change (read your writes), then answer with the component as it now is — or 202 with
the sequence when the read model lags behind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel

from attune.api import envelopes
from attune.api.consistency import WRITE_WAIT_SECONDS
from attune.api.models import CommandAccepted, DeletedOut
from attune.api.routing import Call

Read = Callable[[], Awaitable[BaseModel | None]]


async def component(call: Call, ref: str, seq: int, read: Read, *, status: int = 200
                    ) -> web.Response:
    if await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS):
        found = await read()
        if found is not None:
            return envelopes.single(found, status=status, sequence=seq)
    return envelopes.single(CommandAccepted(ref=ref, sequence=seq), status=202, sequence=seq)


async def deleted(call: Call, noun: str, ref: str, seq: int) -> web.Response:
    # the answer waits too, so that a list read right after no longer shows it
    await call.waiter.wait_for(seq, WRITE_WAIT_SECONDS)
    body = DeletedOut(message=f"{noun} {ref!r} deleted")
    return envelopes.json_response(envelopes.dump(body),
                                   headers={envelopes.SEQUENCE_HEADER: str(seq)})


def changes(body: BaseModel, *, nullable: tuple[str, ...] = ()) -> dict[str, object]:
    """The fields an update request sets; null means "leave as is" except for the
    `nullable` fields (e.g. `conditions: null` removes the conditions)."""
    return {k: v for k, v in body.model_dump(exclude_unset=True).items()
            if v is not None or k in nullable}
