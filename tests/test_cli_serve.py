"""`attune serve` and `attune streams apply` against external servers (the fixtures'
NATS and PostgreSQL stand in for a user's own)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from attune.config import Settings
from attune.embedded.nats_server import NatsServer
from tests.conftest import ADMIN_PASSWORD, free_port
from tests.processes import (
    AttuneProcess,
    attune_command,
    clean_env,
    http,
    login,
    run_to_end,
    wait_until,
)


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(attune_command(*args), env=clean_env(**env), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_serve_names_every_missing_variable() -> None:
    done = _run("serve", "api", ATTUNE_NATS_URL="nats://127.0.0.1:4222")
    assert done.returncode == 1
    assert ("Error: ATTUNE_DATABASE_URL, ATTUNE_JWT_SECRET, ATTUNE_ENCRYPTION_KEY are not "
            "set") in done.stderr


def test_serve_refuses_unknown_services_and_short_secrets() -> None:
    done = _run("serve", "scheduler")
    assert done.returncode == 2
    assert "'scheduler' is not one of 'api', 'executor', 'worker', 'projector'" in done.stderr
    done = _run("serve", "worker", ATTUNE_NATS_URL="nats://x",
                ATTUNE_DATABASE_URL="postgresql://x", ATTUNE_JWT_SECRET="short",
                ATTUNE_ENCRYPTION_KEY="k" * 40)
    assert done.returncode == 1
    assert "ATTUNE_JWT_SECRET must be at least 32 characters" in done.stderr


async def test_serve_runs_the_services_against_external_servers(settings: Settings,
                                                                 tmp_path: Path) -> None:
    assert settings.nats_url and settings.database_url
    env = clean_env(ATTUNE_NATS_URL=settings.nats_url,
                    ATTUNE_DATABASE_URL=settings.database_url,
                    ATTUNE_JWT_SECRET=settings.jwt_secret,
                    ATTUNE_ENCRYPTION_KEY=settings.encryption_key,
                    ATTUNE_ADMIN_PASSWORD=ADMIN_PASSWORD,
                    ATTUNE_API_PORT=str(settings.api_port))
    api_url = settings.public_api_url
    # two processes, as ops/ runs them: the api alone, the rest together
    api = AttuneProcess.start(["serve", "api"], env, tmp_path / "logs")
    rest = AttuneProcess.start(["serve", "executor", "worker", "projector"], env,
                               tmp_path / "logs")
    try:
        await asyncio.to_thread(api.wait_ready, api_url)
        token = await asyncio.to_thread(login, api_url, ADMIN_PASSWORD)
        done = await asyncio.to_thread(run_to_end, api_url, token, "core.echo",
                                       {"message": "served"})
        assert done["status"] == "completed"
        assert done["result"]["stdout"] == "served\n"
        assert '"event": "services.started"' in rest.stderr()  # JSON logs on stderr
        assert await asyncio.to_thread(api.stop, signal.SIGTERM) == 0
        assert await asyncio.to_thread(rest.stop, signal.SIGINT) == 0
    finally:
        api.stop(signal.SIGKILL)
        rest.stop(signal.SIGKILL)
    with pytest.raises(OSError):  # stopped means no longer listening
        http("GET", f"{api_url}/health/live")


def test_streams_apply_prints_changes_once(nats_server: NatsServer) -> None:
    first = _run("streams", "apply", "--nats-url", nats_server.url)
    assert first.returncode == 0, first.stderr
    assert "stream ATTUNE_EVENTS: created" in first.stdout
    assert "consumer ATTUNE_EVENTS/executor: created" in first.stdout
    again = _run("streams", "apply", ATTUNE_NATS_URL=nats_server.url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "streams, consumers and KV buckets are up to date"
    missing = _run("streams", "apply")
    assert missing.returncode == 1
    assert "pass --nats-url or set ATTUNE_NATS_URL" in missing.stderr


async def test_up_with_external_servers_embeds_nothing(settings: Settings,
                                                       tmp_path: Path) -> None:
    assert settings.nats_url and settings.database_url
    data_dir = tmp_path / "up-data"
    env = clean_env(ATTUNE_NATS_URL=settings.nats_url,
                    ATTUNE_DATABASE_URL=settings.database_url,
                    ATTUNE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    up = AttuneProcess.start(["up", "--data-dir", str(data_dir), "--api-port",
                              str(settings.api_port), "--notifier-port",
                              str(settings.notifier_port)], env, tmp_path / "logs")
    try:
        await asyncio.to_thread(up.wait_ready, settings.public_api_url)
        token = await asyncio.to_thread(login, settings.public_api_url, ADMIN_PASSWORD)
        done = await asyncio.to_thread(run_to_end, settings.public_api_url, token, "core.noop",
                                       {})
        assert done["status"] == "completed"
        assert "(external)" in up.stdout()
        # only the generated secrets and the artifacts dir actions share: no server data
        assert sorted(p.name for p in data_dir.iterdir()) == ["artifacts", "secrets"]
        assert await asyncio.to_thread(up.stop, signal.SIGINT) == 0
    finally:
        up.stop(signal.SIGKILL)


def test_serve_waits_for_servers_and_still_stops_on_sigterm(tmp_path: Path) -> None:
    # a service may start before NATS does: it waits, and SIGTERM still ends it
    env = clean_env(ATTUNE_NATS_URL=f"nats://127.0.0.1:{free_port()}",
                    ATTUNE_DATABASE_URL="postgresql://attune@127.0.0.1:1/attune",
                    ATTUNE_JWT_SECRET="j" * 40, ATTUNE_ENCRYPTION_KEY="k" * 40)
    waiting = AttuneProcess.start(["serve", "worker"], env, tmp_path / "logs")
    try:
        wait_until(lambda: "nats.error" in waiting.stderr(), timeout=30,
                   what="a failed connection attempt")
        assert waiting.proc.poll() is None  # still waiting for NATS
        assert waiting.stop(signal.SIGTERM, timeout=15) == 0
    finally:
        waiting.stop(signal.SIGKILL)
