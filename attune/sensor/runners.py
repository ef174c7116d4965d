"""How a sensor's code is started: the command line for each runner type, and the
wrappers that make the seed's poll-style sensors (`poll_sensor(config)` in Python or
Node.js, a shell script printing `{"events": [...]}`) print one JSON document.

    python   the pack's Python environment when workers built one
             (`<runtime envs>/<pack>/python/bin/python`), else this interpreter
    nodejs   `node` (NODE_PATH: the pack's node_modules when built)
    shell    bash (sh when there is none)
    native   the entry point itself (must be executable)

A poll wrapper sends whatever the sensor prints to stderr (it is logged) and prints only
`{"events": [...], "count": n}` — or `{"error", "error_type", "traceback"|"stack"}` and
exit 1 — on stdout. The config arrives on stdin (and in SENSOR_CONFIG).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import orjson

from attune.domain.sensor import SensorDef
from attune.errors import ValidationError
from attune.worker.runtimes import find_binary

PYTHON_POLL = r"""
import asyncio, inspect, json, runpy, sys, traceback
path, out = sys.argv[1], sys.stdout
sys.stdout = sys.stderr  # what the sensor prints is logged, not parsed
try:
    config = json.loads(sys.stdin.read() or "{}")
    fn = runpy.run_path(path, run_name="__attune_poll__").get("poll_sensor")
    if not callable(fn):
        raise RuntimeError(f"{path} defines no poll_sensor(config) function")
    result = fn(config)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    if inspect.isasyncgen(result):
        async def _all(gen):
            return [item async for item in gen]
        result = asyncio.run(_all(result))
    events = [] if result is None else [result] if isinstance(result, dict) else list(result)
    text = json.dumps({"events": events, "count": len(events)}, default=str)
except BaseException as exc:
    out.write(json.dumps({"error": str(exc), "error_type": type(exc).__name__,
                          "traceback": traceback.format_exc()}) + "\n")
    sys.exit(1)
out.write(text + "\n")
"""

NODE_POLL = r"""
const fs = require('fs'), path = require('path'), Module = require('module');
const file = path.resolve(process.argv[1]);
const out = process.stdout.write.bind(process.stdout);
const toErr = (...a) => process.stderr.write(a.map(String).join(' ') + '\n');
console.log = console.info = console.debug = toErr;
(async () => {
  try {
    const config = JSON.parse(fs.readFileSync(0, 'utf8') || '{}');
    const m = new Module(file, module);
    m.filename = file;
    m.paths = Module._nodeModulePaths(path.dirname(file));
    m._compile(fs.readFileSync(file, 'utf8') + '\n;if (typeof poll_sensor === "function"' +
      ' && typeof module.exports.poll_sensor !== "function") ' +
      '{ module.exports.poll_sensor = poll_sensor; }', file);
    const fn = typeof m.exports === 'function' ? m.exports : m.exports.poll_sensor;
    if (typeof fn !== 'function')
      throw new Error(file + ' defines no poll_sensor(config) function');
    let events = await fn(config);
    if (events == null) events = [];
    if (!Array.isArray(events)) events = [events];
    out(JSON.stringify({events: events, count: events.length}) + '\n');
  } catch (e) {
    out(JSON.stringify({error: String(e && e.message || e), error_type: e && e.name,
                        stack: e && e.stack}) + '\n');
    process.exitCode = 1;
  }
})();
"""


def entry_path(sensor: SensorDef, pack_dir: Path) -> Path:
    return pack_dir / "sensors" / sensor.entry_point


def python_binary(sensor: SensorDef, envs_dir: Path) -> str:
    venv = envs_dir / sensor.pack_ref / "python" / "bin" / "python"
    return str(venv) if venv.is_file() else sys.executable


def _binary(name: str, *fallbacks: str) -> str:
    for candidate in (name, *fallbacks):
        found = find_binary(candidate)
        if found:
            return found
    raise ValidationError(f"{name} not found on this sensor service's PATH: install it to "
                          f"run {name} sensors")


def managed_argv(sensor: SensorDef, pack_dir: Path, envs_dir: Path) -> list[str]:
    path = str(entry_path(sensor, pack_dir))
    match sensor.runner_type:
        case "python":
            return [python_binary(sensor, envs_dir), "-u", path]
        case "nodejs":
            return [_binary("node", "nodejs"), path]
        case "shell":
            return [_binary("bash", "sh"), path]
        case "native":
            if not os.access(path, os.X_OK):
                raise ValidationError(f"sensors/{sensor.entry_point} is not executable "
                                      "(chmod +x it, then register the pack again)")
            return [path]


def poll_argv(sensor: SensorDef, pack_dir: Path, envs_dir: Path) -> list[str]:
    path = str(entry_path(sensor, pack_dir))
    match sensor.runner_type:
        case "python":
            return [python_binary(sensor, envs_dir), "-c", PYTHON_POLL, path]
        case "nodejs":
            return [_binary("node", "nodejs"), "-e", NODE_POLL, path]
        case "shell":
            return [_binary("bash", "sh"), path]
        case "native":
            raise ValidationError("a poll sensor runs python, nodejs or shell code")


def node_path(sensor: SensorDef, envs_dir: Path) -> str | None:
    modules = envs_dir / sensor.pack_ref / "nodejs" / "node_modules"
    return str(modules) if modules.is_dir() else None


def parse_poll_output(stdout: bytes) -> list[Any]:
    """The event payloads of a poll's output. Accepts one JSON document
    `{"events": [...]}` or several such lines (their events in order). Raises
    ValueError saying what is wrong with anything else."""
    text = stdout.decode("utf-8", errors="replace").strip()
    if not text:
        raise ValueError("no output: print {\"events\": [...]} (an empty list for none)")
    try:
        documents = [orjson.loads(text)]
    except orjson.JSONDecodeError:
        try:
            documents = [orjson.loads(line) for line in text.splitlines() if line.strip()]
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"output is not JSON ({exc}): print {{\"events\": [...]}}"
                             ) from None
    events: list[Any] = []
    for document in documents:
        if not isinstance(document, dict):
            raise ValueError("output must be a JSON object {\"events\": [...]}")
        if "error" in document and "events" not in document:
            raise ValueError(f"sensor failed: {document.get('error_type') or 'error'}: "
                             f"{document['error']}")
        found = document.get("events")
        if not isinstance(found, list):
            raise ValueError("output has no \"events\" list: print {\"events\": [...]}")
        events.extend(found)
    return events
