"""Which sensor service replica runs a sensor: the holder of its lease
(`attune_leases`, key `sensor.<ref>`), as `GET /api/v1/sensors/{ref}` shows it."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError

from attune.eventstore.lease import BUCKET
from attune.sensor.keys import sensor_key


async def running_on(js: JetStreamContext, sensor_ref: str) -> str | None:
    kv = await js.key_value(BUCKET)
    try:
        entry = await kv.get(sensor_key(sensor_ref))
    except KeyNotFoundError:
        return None
    return entry.value.decode() if entry.value else None
