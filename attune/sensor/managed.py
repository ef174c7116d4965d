"""The managed sensors of the `sensor` service: every enabled sensor of the registered
packs runs — once across all replicas (`attune.sensor.instance`) — as a managed
process or a poll loop; a sensor disabled, deleted or changed (a pack registered again)
is stopped (and started anew) within `refresh_every` seconds.

The sensors come from the `sensors` read model with their pack's directory; the SDK is
exported once under `<data dir>/sdk` for their PYTHONPATH; token state files live in
`<data dir>/sensors/<ref>/`.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from uuid import uuid4

import attune.log as log
from attune.app.context import Context
from attune.domain.sensor import SENSOR, SensorDef
from attune.sdk.bundle import export_sdk
from attune.sensor.environment import creation_seq
from attune.sensor.instance import SensorInstance
from attune.sensor.keys import sensor_key
from attune.sensor.process import SensorSpec
from attune.sensor.timing import SensorTiming

_log = log.get("sensor.managed")


class SensorManager:
    def __init__(self, ctx: Context, *, replica: str | None = None,
                 timing: SensorTiming | None = None) -> None:
        self.ctx = ctx
        self.replica = replica or f"sensor-{uuid4().hex[:12]}"
        self.timing = timing or SensorTiming()
        self.instances: dict[str, tuple[SensorSpec, SensorInstance, asyncio.Task[None]]] = {}
        #: Sensor ids (creation sequences) by ref, read once per instance started.
        self._ids: dict[str, int] = {}
        self._sdk_dir: Path | None = None

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self.timing.refresh_every
        with log.bound(replica=self.replica):
            try:
                while not stop.is_set():
                    try:
                        await self.refresh()
                        backoff = self.timing.refresh_every
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # PostgreSQL or NATS away: keep what runs
                        _log.warning("sensor.refresh_failed", error=repr(exc))
                        backoff = min(backoff * 2, 10.0)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
            finally:
                await self._stop_all()

    async def refresh(self) -> None:
        """Start, stop or restart instances to match the enabled sensors."""
        wanted = await self._wanted()
        for ref in [r for r in self.instances if r not in wanted]:
            await self._stop(ref)
        for ref, spec in wanted.items():
            current = self.instances.get(ref)
            if current is not None and current[0] == spec:
                if current[2].done():  # crashed (a bug): start it again
                    await self._stop(ref)
                else:
                    continue
            elif current is not None:
                await self._stop(ref)
            self._start(spec)

    async def _wanted(self) -> dict[str, SensorSpec]:
        rows = await self.ctx.pool.fetch(
            "SELECT s.definition, p.path FROM sensors s "
            "JOIN packs p ON p.ref = s.pack_ref WHERE s.enabled AND p.enabled")
        wanted: dict[str, SensorSpec] = {}
        for row in rows:
            sensor = SensorDef.model_validate(row["definition"])
            wanted[sensor.ref] = SensorSpec(definition=sensor, pack_dir=Path(row["path"]),
                                            id=await self._id(sensor.ref))
        return wanted

    async def _id(self, ref: str) -> int:
        if ref not in self._ids:
            self._ids[ref] = await creation_seq(self.ctx, SENSOR, ref)
        return self._ids[ref]

    def _start(self, spec: SensorSpec) -> None:
        if self._sdk_dir is None:
            self._sdk_dir = export_sdk(self.ctx.settings.data_dir / "sdk")
        state_dir = self.ctx.settings.data_dir / "sensors" / sensor_key(spec.ref)
        instance = SensorInstance(self.ctx, spec, owner=self.replica, timing=self.timing,
                                  sdk_dir=self._sdk_dir, state_dir=state_dir)
        self.instances[spec.ref] = (spec, instance, asyncio.create_task(instance.run()))
        _log.info("sensor.instance_started", sensor_ref=spec.ref, mode=spec.definition.mode)

    async def _stop(self, ref: str) -> None:
        _, _, task = self.instances.pop(ref)
        self._ids.pop(ref, None)  # deleted and created again: a new id
        task.cancel()
        await asyncio.wait([task])
        _log.info("sensor.instance_stopped", sensor_ref=ref)

    async def _stop_all(self) -> None:
        """All at once: each may take `stop_grace` seconds to end its process."""
        tasks = [task for _, _, task in self.instances.values()]
        self.instances.clear()
        self._ids.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
