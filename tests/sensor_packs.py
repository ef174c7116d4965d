"""Throw-away packs with sensors for the sensor tests (tests/test_sensor_*.py)."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from attune.app import packs
from attune.app.context import Context
from attune.eventstore.envelope import Meta
from attune.sensor import logs
from tests.conftest import projected

TRIGGER = "probe.tick"


def write_pack(root: Path, sensors: dict[str, tuple[dict[str, Any], str, str]], *,
               ref: str = "probe") -> Path:
    """`sensors`: name -> (YAML fields, code file name, code)."""
    pack = root / ref
    (pack / "sensors").mkdir(parents=True, exist_ok=True)
    (pack / "triggers").mkdir(exist_ok=True)
    (pack / "pack.yaml").write_text(f"ref: {ref}\nversion: 1.0.0\n")
    (pack / "triggers" / "tick.yaml").write_text(
        "name: tick\nparameters:\n  interval: {type: integer}\n"
        "output:\n  n: {type: integer}\n")
    for name, (fields, filename, code) in sensors.items():
        doc = {"name": name, "entry_point": filename, "trigger_types": [TRIGGER], **fields}
        (pack / "sensors" / f"{name}.yaml").write_text(yaml.safe_dump(doc))
        path = pack / "sensors" / filename
        path.write_text(textwrap.dedent(code).lstrip())
        path.chmod(0o755)
    return pack


async def register(ctx: Context, pack: Path) -> None:
    _, seq = await packs.register(ctx, pack, meta=Meta.new())
    await projected(ctx, seq)


async def log_lines(ctx: Context, sensor_ref: str, stream: logs.LineStream | None = None
                    ) -> list[str]:
    found, _ = await logs.read(ctx.store.js, sensor_ref, since=timedelta(hours=1),
                               limit=5000, stream=stream)
    return [line.text for line in found]
