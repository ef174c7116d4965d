"""A poll sensor (the seed's SensorRuntime): every `poll_interval` seconds run
`poll_sensor(config)` (Python, Node.js) or the shell script once, with the sensor's
`config`, within `timeout` seconds and `OUTPUT_CAP` bytes of stdout, and append an
event of the sensor's first trigger type per payload it printed.

Whatever goes wrong — a timeout, output over the cap, a non-zero exit, output that is
not `{"events": [...]}`, a payload that is not an object or does not fit the trigger —
is logged to the sensor's log and produces no event (for that payload). The next poll
runs on schedule anyway.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

import attune.log as log
from attune.app import events
from attune.app.context import Context
from attune.errors import AttuneError
from attune.eventstore.envelope import Meta
from attune.sensor import child, environment
from attune.sensor.logs import SensorLog
from attune.sensor.process import SensorSpec
from attune.sensor.runners import parse_poll_output, poll_argv
from attune.sensor.timing import SensorTiming

_log = log.get("sensor.poll")
#: stdout kept per poll (the seed's maximum); stderr is logged up to STDERR_CAP.
OUTPUT_CAP = 10 * 1024 * 1024
STDERR_CAP = 1024 * 1024


class Poller:
    def __init__(self, ctx: Context, spec: SensorSpec, log: SensorLog, timing: SensorTiming,
                 *, sdk_dir: Path, output_cap: int = OUTPUT_CAP) -> None:
        self.ctx = ctx
        self.spec = spec
        self.log = log
        self.timing = timing
        self.sdk_dir = sdk_dir
        self.output_cap = output_cap
        #: Polls run and events appended (operators' logs and tests).
        self.polls = 0
        self.emitted: list[int] = []

    async def run(self) -> None:
        """Until cancelled."""
        loop = asyncio.get_running_loop()
        interval = self.spec.definition.poll_interval
        self.log.service(f"polling every {interval} s")
        while True:
            started = loop.time()
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must cost one poll, not the sensor
                _log.error("sensor.poll_failed", sensor_ref=self.spec.ref, error=repr(exc),
                           exc_info=exc)
                self.log.service(f"poll failed: {exc}")
            await asyncio.sleep(max(0.0, interval - (loop.time() - started)))

    async def poll_once(self) -> list[int]:
        """One poll; returns the ids of the events it appended."""
        sensor = self.spec.definition
        self.polls += 1
        config = orjson.dumps(sensor.config)
        env = environment.base(self.ctx, sensor, self.sdk_dir)
        env.update({"SENSOR_REF": sensor.ref, "TRIGGER_REF": sensor.trigger_types[0],
                    "SENSOR_CONFIG": config.decode()})
        argv = poll_argv(sensor, self.spec.pack_dir, self.ctx.settings.envs_dir)
        process = await child.spawn(argv, env, self.spec.pack_dir, stdin=True)
        stderr = asyncio.create_task(child.pump_lines(
            process.stderr, lambda line: self.log.write("stderr", line), cap=STDERR_CAP))
        try:
            assert process.stdin is not None
            process.stdin.write(config)
            process.stdin.close()
            async with asyncio.timeout(sensor.timeout):
                stdout, over = await child.read_capped(process.stdout, self.output_cap)
                if over:
                    self._refuse(f"output over the {self.output_cap} byte cap: stopped, "
                                 "no events")
                    return []
                code = await process.wait()
        except TimeoutError:
            self._refuse(f"timed out after {sensor.timeout} s: stopped, no events")
            return []
        finally:
            if process.returncode is None:
                await asyncio.shield(child.terminate(process, 1.0))
            await asyncio.wait([stderr], timeout=1.0)
            stderr.cancel()
        try:
            payloads = parse_poll_output(stdout)
        except ValueError as exc:
            self._refuse(f"bad output (exit code {code}): {exc}; no events")
            return []
        if code != 0:
            self._refuse(f"exit code {code}: no events")
            return []
        return await self._emit(payloads)

    def _refuse(self, why: str) -> None:
        self.log.service(f"poll {self.polls}: {why}")
        _log.warning("sensor.poll_refused", sensor_ref=self.spec.ref, reason=why)

    async def _emit(self, payloads: list[Any]) -> list[int]:
        sensor = self.spec.definition
        trigger = sensor.trigger_types[0]
        ids: list[int] = []
        for index, payload in enumerate(payloads):
            if not isinstance(payload, dict):
                self._refuse(f"event {index} is not a JSON object: skipped")
                continue
            try:
                ids.append(await events.create(
                    self.ctx, trigger, payload, source="sensor", source_ref=sensor.ref,
                    meta=Meta.new(actor=f"sensor:{sensor.ref}")))
            except AttuneError as exc:
                self._refuse(f"event {index} refused: {exc.message}")
        if ids:
            self.emitted += ids
            self.log.service(f"poll {self.polls}: {len(ids)} event(s) of {trigger}")
        return ids
