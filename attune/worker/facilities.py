"""What a worker sets up around its runs: the runtime catalogue (registered runtimes from
the event store, kept fresh by watching `attune.runtime.>`), runtime verification at
start, pack environments built at start and whenever a pack is registered
(`attune.pack.*.registered`), and the execution-scoped API token of each run.

Execution token (ATTUNE_API_TOKEN): an HS256 JWT from `ctx.tokens` with
`token_type: "execution"`, `sub` = the identity that requested the execution (0 when a
rule or the system did), `login` = `execution:<id>`, `scope` = `execution:<id>`,
`metadata` = {execution_id, action_ref, pack_ref}, and a lifetime of the execution's
timeout plus `TOKEN_SLACK_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from nats.aio.msg import Msg

import attune.log as log
from attune.app import catalog as components
from attune.app.context import Context
from attune.domain.action import ActionDef
from attune.domain.execution import ExecutionRequested
from attune.domain.pack import PackRegistered
from attune.domain.runtime import RUNTIME, RuntimeDef, RuntimeDefined
from attune.eventstore.envelope import decode_message
from attune.eventstore.subjects import untoken
from attune.worker.environments import EnvironmentBuildError
from attune.worker.prepare import Facilities
from attune.worker.runtimes import RuntimeCatalog, RuntimeUnavailableError

TOKEN_SLACK_SECONDS = 60
_log = log.get("worker.facilities")


def open_facilities(ctx: Context) -> Facilities:
    from attune.worker.environments import Environments

    async def load(ref: str) -> RuntimeDef | None:
        state, _ = await components.load(ctx, RUNTIME, ref)
        return state.definition if state else None

    return Facilities(RuntimeCatalog(load), Environments(ctx.settings.envs_dir),
                      ctx.settings.data_dir / "artifacts", ctx.settings.data_dir / "sdk")


def execution_token(ctx: Context, execution_id: int, requested: ExecutionRequested) -> str:
    return ctx.tokens.issue(
        requested.requested_by or 0, f"execution:{execution_id}", "execution",
        ttl=requested.timeout_seconds + TOKEN_SLACK_SECONDS, scope=f"execution:{execution_id}",
        metadata={"execution_id": execution_id, "action_ref": requested.action.ref,
                  "pack_ref": requested.action.pack_ref,
                  # what the action was granted (none named: the default sets), never
                  # what its requester may do
                  **({"permission_set_refs": list(requested.action.permission_sets)}
                     if requested.action.permission_sets else {})})


async def registered_runtime_refs(ctx: Context) -> list[str]:
    with contextlib.suppress(Exception):  # the read model may not have the table yet
        return [r["ref"] for r in await ctx.pool.fetch("SELECT ref FROM runtimes")]
    return []


async def prepare_pack(facilities: Facilities, pack_ref: str, pack_dir: Path,
                       runtime_refs: list[str]) -> None:
    """Build the pack's environment for every runtime whose manifest it ships."""
    for ref in runtime_refs:
        runtime = await facilities.catalog.definition(ref)
        if runtime is None or runtime.execution_config.dependencies is None:
            continue
        manifest = pack_dir / runtime.execution_config.dependencies.manifest_file
        if not await asyncio.to_thread(manifest.is_file):
            continue
        probe = ActionDef(ref=f"{pack_ref}.env", pack_ref=pack_ref, name="env", label="env",
                          runtime=runtime.family, runtime_ref=ref, entry_point="-")
        try:
            resolved = await facilities.catalog.resolve(probe)
            await facilities.environments.ensure(pack_ref, pack_dir, resolved)
        except (RuntimeUnavailableError, EnvironmentBuildError, OSError) as exc:
            # the execution that needs it will try again and report why it failed
            _log.warning("environment.not_built", pack=pack_ref, runtime=ref, error=str(exc))


async def maintain(ctx: Context, facilities: Facilities, stop: asyncio.Event,
                   on_verified: dict[str, list[str]] | None = None) -> None:
    """Run beside the worker until `stop`: verify runtimes, build pack environments,
    follow runtime and pack changes. `on_verified` (if given) is filled with the
    available versions per runtime, for the heartbeat."""
    pending: set[asyncio.Task[None]] = set()

    def later(coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def on_runtime(msg: Msg) -> None:
        parts = msg.subject.split(".")
        if len(parts) < 3:
            return
        ref = untoken(parts[2])
        try:
            event = decode_message(0, msg.subject, msg.data, msg.headers).event
        except Exception:  # not ours to judge here; the projector reports bad messages
            event = None
        facilities.catalog.forget(ref, now=event.definition
                                  if isinstance(event, RuntimeDefined) else None)
        later(reverify(ref))

    async def reverify(ref: str) -> None:
        """A runtime registered or changed while running: advertise what it offers."""
        available = await facilities.catalog.verify_all([ref])
        if on_verified is not None:
            on_verified.pop(ref, None)
            on_verified.update(available)

    async def on_pack(msg: Msg) -> None:
        try:
            event = decode_message(0, msg.subject, msg.data, msg.headers).event
        except Exception:  # not ours to judge here; the projector reports bad messages
            return
        if isinstance(event, PackRegistered):
            refs = [*facilities.catalog.builtin_refs(), *await registered_runtime_refs(ctx)]
            later(prepare_pack(facilities, event.pack.ref, Path(event.pack.path), refs))

    subs = [await ctx.nc.subscribe("attune.runtime.>", cb=on_runtime),
            await ctx.nc.subscribe("attune.pack.*.registered", cb=on_pack)]
    try:
        refs = [*facilities.catalog.builtin_refs(), *await registered_runtime_refs(ctx)]
        available = await facilities.catalog.verify_all(refs)
        if on_verified is not None:
            on_verified.update(available)
        rows: list[Any] = []
        with contextlib.suppress(Exception):  # no packs table yet: nothing to prepare
            rows = await ctx.pool.fetch("SELECT ref, path FROM packs")

        async def prepare_all() -> None:
            for row in rows:  # one pack at a time: builds are heavy (pip, npm)
                await prepare_pack(facilities, row["ref"], Path(row["path"]), refs)
        later(prepare_all())
        await stop.wait()
    finally:
        for sub in subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        for task in pending:
            task.cancel()
