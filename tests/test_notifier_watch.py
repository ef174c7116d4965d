"""`attune watch` against a real platform: prints live notifications in stream order,
reads back from `--since`, and says clearly when it cannot connect."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from attune.app import executions
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.notifier.service import Notifier
from tests.conftest import eventually, start_platform, stop_platform
from tests.notifier_client import admin_token, notifier_up, ws_url
from tests.processes import attune_command, clean_env

SERVICES = ("api", "executor", "worker", "projector", "notifier")


def _watch(ctx: Context, token: str, tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = clean_env(ATTUNE_AUTH_TOKEN=token, ATTUNE_CONFIG=str(tmp_path / "cli.yaml"))
    return subprocess.Popen(
        attune_command("watch", *args, "--api-url", ctx.settings.public_api_url,
                       "--notifier-url", ws_url(ctx.settings)),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def _finish(process: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    out, err = await asyncio.to_thread(process.communicate, timeout=60)
    return process.returncode, out.decode(), err.decode()


async def test_watch_prints_notifications_and_reads_back_since(ctx: Context,
                                                               tmp_path: Path) -> None:
    running = await start_platform(ctx, SERVICES)
    try:
        await notifier_up(ctx.settings)
        token = await admin_token(ctx)
        meta = Meta.new(actor="admin")
        first = await executions.request(ctx, "core.echo", {"message": "a"}, meta=meta)

        async def ended(execution_id: int) -> bool:
            status = await ctx.pool.fetchval("SELECT status FROM executions WHERE id = $1",
                                             execution_id)
            return status == "completed"
        await eventually(lambda: ended(first))

        # read back from just before the first execution: its four notifications, in order
        watch = _watch(ctx, token, tmp_path, f"entity:execution:{first}", "--since",
                       str(first - 1), "--count", "4", "-o", "json")
        code, out, err = await _finish(watch)
        assert code == 0, err
        frames = [json.loads(line) for line in out.splitlines()]
        assert [f["payload"]["status"] for f in frames] == [
            "requested", "scheduled", "running", "completed"]
        assert [f["sequence"] for f in frames] == sorted(f["sequence"] for f in frames)

        # live, for people: one line per notification (--since: however long the
        # command takes to subscribe, nothing after this point is missed)
        now = await ctx.store.last_sequence()
        watch = _watch(ctx, token, tmp_path, "entity_type:execution", "--count", "4",
                       "--since", str(now))
        second = await executions.request(ctx, "core.echo", {"message": "b"}, meta=meta)
        code, out, err = await _finish(watch)
        assert code == 0, err
        lines = out.splitlines()
        assert len(lines) == 4
        assert f"execution {second}" in lines[0] and "execution_created" in lines[0]
        assert "running -> completed" in lines[-1] and "core.echo" in lines[-1]

        # a filter the notifier does not know: its error, and exit 1
        code, _, err = await _finish(_watch(ctx, token, tmp_path, "entity_type:spaceship"))
        assert code == 1 and "unknown entity type 'spaceship'" in err
    finally:
        await stop_platform(running)


async def test_watch_says_when_the_notifier_is_not_there(ctx: Context,
                                                         tmp_path: Path) -> None:
    running = await start_platform(ctx, ("api", "projector"))
    try:
        watch = _watch(ctx, await admin_token(ctx), tmp_path)
        code, _, err = await _finish(watch)
        assert code == 1
        assert "cannot reach the notifier" in err and ws_url(ctx.settings) in err
    finally:
        await stop_platform(running)


async def test_watch_reconnects_and_reads_back_what_it_missed(ctx: Context,
                                                              tmp_path: Path) -> None:
    running = await start_platform(ctx, ("api", "executor", "worker", "projector"))
    notifiers: list[tuple[Notifier, asyncio.Event, asyncio.Task[None]]] = []

    async def start_notifier() -> None:
        stop, notifier = asyncio.Event(), Notifier(ctx)
        notifiers.append((notifier, stop, asyncio.create_task(notifier.run(stop))))
        await notifier_up(ctx.settings)

    async def completed(execution_id: int) -> bool:
        status = await ctx.pool.fetchval("SELECT status FROM executions WHERE id = $1",
                                         execution_id)
        return status == "completed"

    try:
        await start_notifier()
        meta = Meta.new(actor="admin")
        watch = _watch(ctx, await admin_token(ctx), tmp_path, "entity_type:execution",
                       "--count", "8", "--since", str(await ctx.store.last_sequence()),
                       "-o", "json")
        first = await executions.request(ctx, "core.echo", {"message": "a"}, meta=meta)
        await eventually(lambda: completed(first))
        _, ended_at, _ = await executions.load(ctx, first)
        notifier, stop, task = notifiers[0]

        async def sent_to_watch() -> bool:  # all of `first` went out to the command
            return any(c.last_sent >= ended_at for c in notifier.connections)
        await eventually(sent_to_watch, timeout=60)
        stop.set()
        await task
        second = await executions.request(ctx, "core.echo", {"message": "b"}, meta=meta)
        await eventually(lambda: completed(second))
        await start_notifier()
        code, out, err = await _finish(watch)
        assert code == 0, err
        assert "reconnecting" in err, err
        frames = [json.loads(line) for line in out.splitlines()]
        assert [(f["entity_id"], f["payload"]["status"]) for f in frames] == [
            (i, status) for i in (first, second)
            for status in ("requested", "scheduled", "running", "completed")]
        assert [f["sequence"] for f in frames] == sorted(f["sequence"] for f in frames)
    finally:
        for _, stop, task in notifiers:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
        await stop_platform(running)
