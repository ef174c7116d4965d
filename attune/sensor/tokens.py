"""A managed sensor's token, kept fresh without restarting it: the service issues a
sensor token (`attune.app.sensors.issue_token`, limited to the sensor's trigger types)
and writes `{"token", "expires_at"}` to the file ATTUNE_SENSOR_TOKEN_STATE_PATH names —
atomically (a temporary file renamed over it), mode 0600. Before the token expires (when
less than `rotate_when_left` of its lifetime is left) a new one replaces it; the SDK
re-reads the file on every use and reconnects its notifier socket.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson

import attune.log as log
from attune.app import sensors
from attune.app.context import Context
from attune.app.sensors import SensorToken
from attune.domain.sensor import SensorDef
from attune.sensor.logs import SensorLog
from attune.sensor.timing import SensorTiming

_log = log.get("sensor.tokens")
#: After a failed issue (PostgreSQL or the projector away), try again this soon.
RETRY_SECONDS = 5.0


def write_state(path: Path, token: SensorToken) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = orjson.dumps({"token": token.token, "expires_at": token.expires_at.isoformat()})
    fd, tmp = tempfile.mkstemp(prefix=".token-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class TokenKeeper:
    def __init__(self, ctx: Context, sensor: SensorDef, path: Path, timing: SensorTiming,
                 log: SensorLog) -> None:
        self.ctx = ctx
        self.sensor = sensor
        self.path = path
        self.timing = timing
        self.log = log
        self.token: SensorToken | None = None
        #: Tokens issued so far (the first and each rotation).
        self.issued = 0

    def _left(self) -> float:
        if self.token is None:
            return 0.0
        return (self.token.expires_at - datetime.now(UTC)).total_seconds()

    def _due(self) -> bool:
        return self._left() < self.timing.token_ttl * self.timing.rotate_when_left

    async def current(self) -> SensorToken:
        """A token with most of its life ahead, issued (and written) when needed."""
        if self.token is None or self._due():
            await self._issue()
        assert self.token is not None
        return self.token

    async def _issue(self) -> None:
        token = await sensors.issue_token(self.ctx, self.sensor.ref, self.sensor.trigger_types,
                                          ttl=self.timing.token_ttl)
        await asyncio.to_thread(write_state, self.path, token)
        rotated = self.token is not None
        self.token = token
        self.issued += 1
        if rotated:
            self.log.service(f"token rotated (expires {token.expires_at.isoformat()})")

    async def rotate_forever(self) -> None:
        """Replace the token before it expires, until cancelled."""
        while True:
            wait = self._left() - self.timing.token_ttl * self.timing.rotate_when_left
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self._issue()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("sensor.token_rotation_failed", sensor_ref=self.sensor.ref,
                             error=repr(exc))
                self.log.service(f"token rotation failed, retrying: {exc}")
                await asyncio.sleep(min(RETRY_SECONDS, max(self._left() / 4, 0.1)))
