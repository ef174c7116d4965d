"""`sensors/*.yaml` of a pack: loaded with their defaults, hostile or broken ones
refused with a message naming the file and field, and registration defining,
changing and removing sensors with the pack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from attune.app import packs
from attune.app.context import Context
from attune.domain.pack import PackDef
from attune.errors import PackError
from attune.eventstore.envelope import Meta
from attune.packs.sensors import load_sensors
from tests.conftest import RunningPlatform, projected, start_platform, stop_platform


def _pack(root: Path, sensor_yaml: str, files: dict[str, str] | None = None) -> PackDef:
    (root / "sensors").mkdir(parents=True, exist_ok=True)
    (root / "sensors" / "s.yaml").write_text(sensor_yaml)
    for name, text in (files or {"s.py": "pass\n"}).items():
        (root / "sensors" / name).write_text(text)
    return PackDef(ref="mypack", label="m", version="1", path=str(root))


def test_defaults_and_poll_mode(tmp_path: Path) -> None:
    managed, = load_sensors(_pack(tmp_path, "runner_type: Python3\nentry_point: s.py\n"
                                           "trigger_types: [tick, other.t]\n"))
    assert (managed.ref, managed.runner_type, managed.mode, managed.trigger_types) == (
        "mypack.s", "python", "managed", ["mypack.tick", "other.t"])
    poll, = load_sensors(_pack(tmp_path, "name: p\nrunner_type: bash\nentry_point: s.py\n"
                                         "trigger_type: {ref: mypack.tick}\n"
                                         "poll_interval: 7\ntimeout: 3\n"))
    assert (poll.ref, poll.runner_type, poll.mode, poll.poll_interval, poll.timeout,
            poll.trigger_types) == ("mypack.p", "shell", "poll", 7, 3, ["mypack.tick"])


@pytest.mark.parametrize(("sensor_yaml", "message"), [
    ("entry_point: s.py\ntrigger_types: [t]\n", "sensors/s.yaml: field 'runner_type' is "
     "required"),
    ("runner_type: cobol\nentry_point: s.py\ntrigger_types: [t]\n",
     "field 'runner_type': unknown runtime 'cobol'"),
    ("runner_type: python\nentry_point: ../../etc/passwd\ntrigger_types: [t]\n",
     "field 'entry_point' '../../etc/passwd' must stay inside sensors/"),
    ("runner_type: python\nentry_point: /bin/sh\ntrigger_types: [t]\n",
     "must stay inside sensors/"),
    ("runner_type: python\nentry_point: gone.py\ntrigger_types: [t]\n",
     "file sensors/gone.py not found"),
    ("runner_type: python\nentry_point: s.py\n", "field 'trigger_types' is required"),
    ("runner_type: python\nentry_point: s.py\ntrigger_types: [3]\n",
     "each item must be a trigger ref"),
    ("runner_type: native\nentry_point: s.py\ntrigger_types: [t]\npoll_interval: 5\n",
     "a poll sensor runs python, nodejs or shell code, not native"),
    ("runner_type: python\nentry_point: s.py\ntrigger_types: [t]\npoll_interval: 0\n",
     "field 'poll_interval' must be a positive integer"),
    ("runner_type: python\nentry_point: s.py\ntrigger_types: [t]\nmode: sometimes\n",
     "field 'mode' must be managed or poll"),
    ("runner_type: python\nentry_point: s.py\ntrigger_types: [t]\nconfig: [1]\n",
     "field 'config' must be dict"),
])
def test_broken_sensors_are_refused(tmp_path: Path, sensor_yaml: str, message: str) -> None:
    with pytest.raises(PackError, match=re.escape(message)):
        load_sensors(_pack(tmp_path, sensor_yaml))


@pytest.fixture
async def projector(ctx: Context) -> RunningPlatform:
    running = await start_platform(ctx, ("projector",))
    yield running  # type: ignore[misc]
    await stop_platform(running)


async def test_registration_defines_changes_and_removes_sensors(
        ctx: Context, projector: RunningPlatform, tmp_path: Path) -> None:
    root = tmp_path / "mypack"
    (root / "triggers").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: mypack\nversion: 1.0.0\n")
    (root / "triggers" / "tick.yaml").write_text("name: tick\n")
    _pack(root, "runner_type: python\nentry_point: s.py\ntrigger_types: [tick]\n")

    async def rows() -> list[tuple[str, str, bool]]:
        found = await ctx.pool.fetch("SELECT ref, mode, enabled FROM sensors "
                                     "WHERE pack_ref = 'mypack' ORDER BY ref")
        return [(r["ref"], r["mode"], r["enabled"]) for r in found]

    async def register() -> None:
        _, seq = await packs.register(ctx, root, meta=Meta.new())
        await projected(ctx, seq)

    await register()
    assert await rows() == [("mypack.s", "managed", True)]
    before = await ctx.store.last_sequence()
    await register()  # the same content: nothing appended
    assert await ctx.store.last_sequence() == before
    (root / "sensors" / "s.yaml").write_text("runner_type: python\nentry_point: s.py\n"
                                             "trigger_types: [tick]\npoll_interval: 9\n")
    await register()
    assert await rows() == [("mypack.s", "poll", True)]
    (root / "sensors" / "s.yaml").unlink()
    await register()
    assert await rows() == []

    (root / "sensors" / "s.yaml").write_text("runner_type: python\nentry_point: s.py\n"
                                             "trigger_types: [other.nothing]\n")
    with pytest.raises(PackError, match=re.escape(
            "sensors: mypack.s: trigger type 'other.nothing' is not registered")):
        await packs.register(ctx, root, meta=Meta.new())
