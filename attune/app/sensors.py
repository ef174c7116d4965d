"""Sensors as an application service: enabling and disabling them, and sensor tokens.

A sensor token is a JWT of type `sensor` for the identity `sensor:<sensor ref>`
(created on first use, with an unusable random password: nobody logs in as it). Its
`metadata.trigger_types` limits it: it may post events of those trigger types only,
read the rules of those trigger types and subscribe to their rule lifecycle
notifications (`attune.app.authorization.sensor_may`) — nothing else. Freezing or
deleting the identity stops every token of the sensor at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from attune.app import components, identities
from attune.app.context import Context
from attune.domain.sensor import SENSOR
from attune.errors import ConflictError, UnavailableError, ValidationError
from attune.eventstore.envelope import Meta

#: What `POST /auth/internal/sensor-token` accepts (1 h to 72 h) and gives by default.
MIN_TTL = 3600
MAX_TTL = 72 * 3600
DEFAULT_TTL = 24 * 3600
LOGIN_PREFIX = "sensor:"


@dataclass(frozen=True)
class SensorToken:
    identity_id: int
    sensor_ref: str
    token: str
    expires_at: datetime
    trigger_types: list[str]


async def set_enabled(ctx: Context, ref: str, enabled: bool, *, meta: Meta) -> int:
    return await components.set_enabled(ctx, SENSOR, ref, enabled, meta=meta)


async def identity_id(ctx: Context, sensor_ref: str, *, wait: float = 10.0) -> int:
    """The id of the sensor's identity, created (and waited for in the read model,
    where tokens are checked) when it does not exist yet."""
    login = LOGIN_PREFIX + sensor_ref
    found = await _lookup(ctx, login)
    if found is not None:
        return found
    with contextlib.suppress(ConflictError):  # another replica (or request) made it first
        await identities.create(ctx, login, secrets.token_urlsafe(48),
                                display_name=f"Sensor {sensor_ref}",
                                attributes={"sensor_ref": sensor_ref},
                                meta=Meta.new(actor="system"))
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        found = await _lookup(ctx, login)
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise UnavailableError(f"identity {login!r} not in the read model yet: is the projector "
                           "running? Retry shortly")


async def _lookup(ctx: Context, login: str) -> int | None:
    value = await ctx.pool.fetchval("SELECT id FROM identities WHERE login = $1", login)
    return None if value is None else int(value)


async def check_trigger_types(ctx: Context, trigger_types: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(trigger_types))
    if not wanted:
        raise ValidationError("trigger_types: name at least one trigger the sensor emits",
                              details=[{"field": "trigger_types", "message": "empty"}])
    found = {r["ref"] for r in await ctx.pool.fetch(
        "SELECT ref FROM triggers WHERE ref = ANY($1::text[])", wanted)}
    missing = [t for t in wanted if t not in found]
    if missing:
        raise ValidationError(f"trigger_types: no trigger {missing[0]!r} (GET /api/v1/triggers "
                              "lists them)",
                              details=[{"field": "trigger_types", "message":
                                        f"unknown trigger {m!r}"} for m in missing])
    return wanted


async def issue_token(ctx: Context, sensor_ref: str, trigger_types: Sequence[str], *,
                      ttl: int) -> SensorToken:
    """A sensor token for `sensor_ref` limited to `trigger_types`, valid `ttl` seconds
    (the API bounds it to 1-72 h; the sensor service picks its own)."""
    subject = await identity_id(ctx, sensor_ref)
    now = int(datetime.now(UTC).timestamp())
    types = list(dict.fromkeys(trigger_types))
    token = ctx.tokens.issue(subject, LOGIN_PREFIX + sensor_ref, "sensor", ttl=ttl,
                             scope="sensor", now=now,
                             metadata={"sensor_ref": sensor_ref, "trigger_types": types})
    return SensorToken(identity_id=subject, sensor_ref=sensor_ref, token=token,
                       expires_at=datetime.fromtimestamp(now + ttl, UTC),
                       trigger_types=types)
