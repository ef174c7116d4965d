"""`sensors/*.yaml` of a pack: the sensor's code (`entry_point`, under `sensors/`), how
to run it (`runner_type`: python, nodejs, shell, native), the trigger types it emits,
and for poll-style sensors (`poll_interval` given, or `mode: poll`) the interval and a
timeout. A separate loader from `attune.packs.loader` (which reads the other kinds):
registration calls `load_sensors(pack)` after loading the pack.

    name: counter_sensor
    runner_type: python
    entry_point: counter_sensor.py
    trigger_types: [examples.counter]
    poll_interval: 10          # poll mode: poll_sensor(config) every 10 s
    timeout: 30
    config: {start: 1}
"""

from __future__ import annotations

import os
from pathlib import Path

from attune.domain.pack import PackDef
from attune.domain.sensor import POLL_RUNNERS, RUNNER_ALIASES, SensorDef
from attune.errors import PackError
from attune.packs.fields import build, component_name, field
from attune.packs.yamlfile import load_mapping

FOLDER = "sensors"


def load_sensors(pack: PackDef) -> list[SensorDef]:
    """Every `sensors/*.yaml` of the (already loaded) pack; a ref defined twice is refused."""
    root = Path(pack.path)
    directory = root / FOLDER
    if not directory.is_dir():
        return []
    found: list[SensorDef] = []
    seen: set[str] = set()
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        sensor = load_sensor(root, path, pack.ref)
        if sensor.ref in seen:
            raise PackError(f"{FOLDER}/: {sensor.ref!r} is defined twice")
        seen.add(sensor.ref)
        found.append(sensor)
    return found


def load_sensor(root: Path, path: Path, pack_ref: str) -> SensorDef:
    shown = str(path.relative_to(root))
    doc = load_mapping(path, shown)
    name = component_name(doc, shown, pack_ref, path.stem)
    runner = field(doc, "runner_type", shown, str) or field(doc, "runtime", shown, str)
    if runner is None:
        raise PackError(f"{shown}: field 'runner_type' is required (python, nodejs, shell, "
                        "native)")
    runner_type = RUNNER_ALIASES.get(runner.strip().lower())
    if runner_type is None:
        raise PackError(f"{shown}: field 'runner_type': unknown runtime {runner!r} "
                        f"(known: {', '.join(sorted(RUNNER_ALIASES))})")
    entry = field(doc, "entry_point", shown, str, required=True)
    sensors_dir = (root / FOLDER).resolve()
    target = (sensors_dir / entry).resolve()
    if os.path.isabs(entry) or not target.is_relative_to(sensors_dir):
        raise PackError(f"{shown}: field 'entry_point' {entry!r} must stay inside sensors/")
    if not target.is_file():
        raise PackError(f"{shown}: field 'entry_point': file sensors/{entry} not found")
    triggers = _trigger_types(doc, shown, pack_ref)
    interval = doc.get("poll_interval")
    mode = field(doc, "mode", shown, str) or ("poll" if interval is not None else "managed")
    if mode not in ("managed", "poll"):
        raise PackError(f"{shown}: field 'mode' must be managed or poll, got {mode!r}")
    if mode == "poll" and runner_type not in POLL_RUNNERS:
        raise PackError(f"{shown}: a poll sensor runs python, nodejs or shell code, not "
                        f"{runner_type} (drop poll_interval to run it as a managed process)")
    values = {
        "ref": f"{pack_ref}.{name}", "pack_ref": pack_ref,
        "label": field(doc, "label", shown, str) or name,
        "description": field(doc, "description", shown, str, default=""),
        "enabled": field(doc, "enabled", shown, bool, default=True),
        "runner_type": runner_type, "entry_point": entry, "trigger_types": triggers,
        "mode": mode, "config": field(doc, "config", shown, dict, default={}),
        "tags": field(doc, "tags", shown, list, default=[]),
    }
    for key in ("poll_interval", "timeout"):
        value = doc.get(key)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise PackError(f"{shown}: field '{key}' must be a positive integer "
                                "(seconds)")
            values[key] = value
    return build(SensorDef, shown, values)


def _trigger_types(doc: dict[str, object], shown: str, pack_ref: str) -> list[str]:
    raw = doc.get("trigger_types", doc.get("trigger_type"))
    if isinstance(raw, str | dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise PackError(f"{shown}: field 'trigger_types' is required: a list of the trigger "
                        f"refs the sensor emits (e.g. [{pack_ref}.my_trigger])")
    found: list[str] = []
    for item in raw:
        # the original also writes `{ref: ...}` items, and short names of the pack's own
        ref = item.get("ref") if isinstance(item, dict) else item
        if not isinstance(ref, str) or not ref.strip():
            raise PackError(f"{shown}: field 'trigger_types': each item must be a trigger "
                            "ref")
        ref = ref.strip()
        found.append(ref if "." in ref else f"{pack_ref}.{ref}")
    return list(dict.fromkeys(found))
