"""A managed sensor: one long-running process, restarted when it dies.

    start it (token, rules, environment)  ->  pump its stdout/stderr into its log
    it exits (any code) unasked, or       ->  restart after backoff_initial * 2^(n-1) s
    cannot be started (no runner...)          (at most backoff_max), n = crashes in a row
    n > max_restarts                      ->  left stopped, logged, until the service
                                              starts it afresh (re-enabled, changed)

A run longer than `healthy_after` resets n. What the platform cannot give yet (a token,
the rules: PostgreSQL, NATS or the projector away) is waited for, and never counts.
The token is rotated in the background through the state file (`attune.sensor.tokens`),
never by a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

import orjson

import attune.log as log
from attune.app.context import Context
from attune.domain.sensor import SensorDef
from attune.sensor import child, environment
from attune.sensor.logs import SensorLog
from attune.sensor.runners import managed_argv
from attune.sensor.timing import SensorTiming
from attune.sensor.tokens import TokenKeeper

_log = log.get("sensor.managed")


@dataclass(frozen=True)
class SensorSpec:
    """A sensor as the service runs it."""

    definition: SensorDef
    pack_dir: Path
    #: The sequence of its creation: ATTUNE_SENSOR_ID.
    id: int

    @property
    def ref(self) -> str:
        return self.definition.ref


class ManagedProcess:
    def __init__(self, ctx: Context, spec: SensorSpec, log: SensorLog, timing: SensorTiming,
                 *, sdk_dir: Path, state_dir: Path) -> None:
        self.ctx = ctx
        self.spec = spec
        self.log = log
        self.timing = timing
        self.sdk_dir = sdk_dir
        self.tokens = TokenKeeper(ctx, spec.definition, state_dir / "token.json", timing, log)
        #: pid of each start, in order (operators' logs and tests).
        self.pids: list[int] = []
        self.crashes = 0
        self.gave_up = False

    async def run(self) -> None:
        """Until cancelled."""
        rotation: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = loop.time()
                try:
                    argv = managed_argv(self.spec.definition, self.spec.pack_dir,
                                        self.ctx.settings.envs_dir)
                    try:
                        token = await self.tokens.current()
                        env = await self._env(token.token, token.expires_at.isoformat())
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        # the platform's fault (PostgreSQL, NATS, a lagging projector),
                        # not the sensor's: wait for it, never give up on it
                        await self._wait_for_platform(exc)
                        continue
                    if rotation is None:
                        rotation = asyncio.create_task(self.tokens.rotate_forever())
                    outcome = f"exited with code {await self._run_once(argv, env)}"
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # its runner missing, its file not executable...
                    outcome = f"could not start: {exc}"
                if loop.time() - started >= self.timing.healthy_after:
                    self.crashes = 0
                self.crashes += 1
                if self.crashes > self.timing.max_restarts:
                    self.gave_up = True
                    self.log.service(
                        f"{outcome}; gave up after {self.timing.max_restarts} restarts in a "
                        "row: fix it, then disable and enable the sensor (or register its "
                        "pack again)")
                    _log.error("sensor.gave_up", sensor_ref=self.spec.ref, outcome=outcome)
                    await asyncio.Event().wait()  # until the service stops this instance
                delay = min(self.timing.backoff_initial * 2 ** (self.crashes - 1),
                            self.timing.backoff_max)
                self.log.service(f"{outcome}; restart {self.crashes}/"
                                 f"{self.timing.max_restarts} in {delay:.1f} s")
                _log.warning("sensor.restarting", sensor_ref=self.spec.ref, outcome=outcome,
                             delay=delay, restart=self.crashes)
                await asyncio.sleep(delay)
        finally:
            if rotation is not None:
                rotation.cancel()
                await asyncio.wait([rotation])

    async def _wait_for_platform(self, exc: Exception) -> None:
        self.log.service(f"waiting to start (retry in {self.timing.backoff_initial:.1f} s): "
                         f"{exc}")
        _log.warning("sensor.start_deferred", sensor_ref=self.spec.ref, error=repr(exc))
        await asyncio.sleep(self.timing.backoff_initial)

    async def _env(self, token: str, expires_at: str) -> dict[str, str]:
        sensor, settings = self.spec.definition, self.ctx.settings
        rules, position = await environment.active_rules(self.ctx, sensor.trigger_types)
        env = environment.base(self.ctx, sensor, self.sdk_dir)
        env.update(environment.config_vars(sensor.config))
        env.update({
            "ATTUNE_SENSOR_ID": str(self.spec.id),
            "ATTUNE_API_URL": settings.public_api_url,
            "ATTUNE_API_TOKEN": token,
            "ATTUNE_API_TOKEN_EXPIRES_AT": expires_at,
            "ATTUNE_SENSOR_TOKEN_STATE_PATH": str(self.tokens.path),
            "ATTUNE_NOTIFIER_WS_URL": settings.public_notifier_url,
            "ATTUNE_SENSOR_TRIGGERS": orjson.dumps(rules).decode(),
            "ATTUNE_SENSOR_TRIGGERS_SEQUENCE": str(position),
            "ATTUNE_SENSOR_TRIGGER_TYPES": orjson.dumps(sensor.trigger_types).decode(),
        })
        return env

    async def _run_once(self, argv: list[str], env: dict[str, str]) -> int:
        process = await child.spawn(argv, env, self.spec.pack_dir)
        self.pids.append(process.pid)
        self.log.service(f"started (pid {process.pid})")
        _log.info("sensor.started", sensor_ref=self.spec.ref, pid=process.pid)
        pumps = [asyncio.create_task(child.pump_lines(
                     process.stdout, lambda line: self.log.write("stdout", line))),
                 asyncio.create_task(child.pump_lines(
                     process.stderr, lambda line: self.log.write("stderr", line)))]
        try:
            code = await process.wait()
            await asyncio.wait(pumps, timeout=1.0)  # the last lines it wrote
            return code
        finally:
            if process.returncode is None:  # cancelled: stop it (shielded: it must end)
                code = await asyncio.shield(child.terminate(process, self.timing.stop_grace))
                self.log.service(f"stopped (exit code {code})")
            for pump in pumps:
                pump.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait(pumps)
