"""One instance of a sensor across replicas: whoever holds its lease
(`attune_leases`, key `sensor.<ref>`) runs it — the managed process or the poll loop —
and renews the lease every `renew_every` s. A replica that loses the lease (it stalled
past the 30 s TTL, NATS went away) stops its instance at once; a stopping replica
releases the lease so another takes over within `acquire_every` s; a dead one's lease
expires within 30 s.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import attune.log as log
from attune.app.context import Context
from attune.eventstore.lease import Lease
from attune.sensor.keys import sensor_key
from attune.sensor.logs import SensorLog
from attune.sensor.poller import Poller
from attune.sensor.process import ManagedProcess, SensorSpec
from attune.sensor.timing import SensorTiming

_log = log.get("sensor.instance")


class SensorInstance:
    def __init__(self, ctx: Context, spec: SensorSpec, *, owner: str, timing: SensorTiming,
                 sdk_dir: Path, state_dir: Path) -> None:
        self.ctx = ctx
        self.spec = spec
        self.owner = owner
        self.timing = timing
        self.sdk_dir = sdk_dir
        self.state_dir = state_dir
        self.lease = Lease(ctx.store.js, sensor_key(spec.ref), owner=owner)
        #: The runner of the current (or last) turn holding the lease.
        self.runner: ManagedProcess | Poller | None = None

    def _runner(self, log: SensorLog) -> ManagedProcess | Poller:
        if self.spec.definition.mode == "poll":
            return Poller(self.ctx, self.spec, log, self.timing, sdk_dir=self.sdk_dir)
        return ManagedProcess(self.ctx, self.spec, log, self.timing, sdk_dir=self.sdk_dir,
                              state_dir=self.state_dir)

    async def run(self) -> None:
        """Until cancelled."""
        sensor_log = SensorLog(self.ctx.store.js, self.spec.ref)
        try:
            while True:
                if not await self.lease.hold():
                    await asyncio.sleep(self.timing.acquire_every * random.uniform(0.5, 1.0))
                    continue
                await self._hold(sensor_log)
        finally:
            await self.lease.release()
            await sensor_log.close()

    async def _hold(self, sensor_log: SensorLog) -> None:
        """Run the sensor while the lease is ours."""
        self.runner = self._runner(sensor_log)
        sensor_log.service(f"instance on {self.owner}")
        task = asyncio.create_task(self.runner.run())
        try:
            while True:
                await asyncio.wait([task], timeout=self.timing.renew_every)
                if task.done():
                    task.result()  # a runner only ends by raising: let the service see it
                if not await self.lease.hold():
                    sensor_log.service(f"lease lost by {self.owner}: stopping here")
                    _log.warning("sensor.lease_lost", sensor_ref=self.spec.ref)
                    return
        finally:
            task.cancel()
            await asyncio.wait([task])
