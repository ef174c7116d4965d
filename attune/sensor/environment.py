"""What a sensor process gets in its environment.

Managed sensors (the SDK's contract, `shared/reference/sdk-contract.md`):

    ATTUNE_SENSOR_REF, ATTUNE_SENSOR_ID, ATTUNE_PACK_REF
    ATTUNE_API_URL, ATTUNE_API_TOKEN (+ ATTUNE_API_TOKEN_EXPIRES_AT)
    ATTUNE_SENSOR_TOKEN_STATE_PATH   the rotated token (attune.sensor.tokens)
    ATTUNE_NOTIFIER_WS_URL
    ATTUNE_SENSOR_TRIGGERS           active rules [{id, ref, trigger_ref, config}]
    ATTUNE_SENSOR_TRIGGERS_SEQUENCE  the stream position of that list (the SDK's
                                     notifier subscription continues from it)
    ATTUNE_SENSOR_TRIGGER_TYPES      JSON list of the sensor's trigger types
    ATTUNE_SENSOR_CONFIG_<NAME>      the sensor's `config` (strings; others as JSON)
    ATTUNE_LOG_LEVEL

Poll sensors get SENSOR_REF, TRIGGER_REF and SENSOR_CONFIG (JSON) as in the seed, plus
ATTUNE_SENSOR_REF. Both get the SDK on PYTHONPATH and none of the service's own
ATTUNE_* variables (its secrets).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from attune.app.context import Context
from attune.domain import catalog
from attune.domain.rule import RULE, RuleDef
from attune.domain.sensor import SensorDef
from attune.sensor.runners import node_path
from attune.worker.environments import build_environment

_NAME = re.compile(r"[^A-Za-z0-9_]")


def base(ctx: Context, sensor: SensorDef, sdk_dir: Path) -> dict[str, str]:
    env = build_environment()
    env["PYTHONPATH"] = ":".join(p for p in (str(sdk_dir), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["ATTUNE_SENSOR_REF"] = sensor.ref
    env["ATTUNE_PACK_REF"] = sensor.pack_ref
    env["ATTUNE_LOG_LEVEL"] = ctx.settings.log_level
    modules = node_path(sensor, ctx.settings.envs_dir)
    if modules:
        env["NODE_PATH"] = modules
    return env


def config_vars(config: dict[str, Any]) -> dict[str, str]:
    """`{"poll_seconds": 5}` -> `{"ATTUNE_SENSOR_CONFIG_POLL_SECONDS": "5"}`."""
    out = {}
    for name, value in config.items():
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        out["ATTUNE_SENSOR_CONFIG_" + _NAME.sub("_", str(name)).upper()] = text
    return out


async def active_rules(ctx: Context, trigger_types: list[str]
                       ) -> tuple[list[dict[str, Any]], int]:
    """The enabled rules of `trigger_types` as ATTUNE_SENSOR_TRIGGERS lists them, and the
    stream position of the rules read model they were read at (one snapshot). A rule's
    id is the sequence of its creation, as the notifier's `rule_id` says it."""
    async with ctx.pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                           readonly=True):
        position = await conn.fetchval(
            "SELECT position FROM projection_positions WHERE name = 'rules'")
        rows = await conn.fetch(
            "SELECT definition FROM rules WHERE enabled AND trigger_ref = ANY($1::text[]) "
            "ORDER BY ref", trigger_types)
    found = []
    for row in rows:
        rule = RuleDef.model_validate(row["definition"])
        found.append({"id": await creation_seq(ctx, RULE, rule.ref), "ref": rule.ref,
                      "trigger_ref": rule.trigger_ref, "config": rule.trigger_params,
                      "active": True})
    return found, int(position or 0)


async def creation_seq(ctx: Context, kind: catalog.Kind[Any], ref: str) -> int:
    """Sequence of the event that created this incarnation of a component (its id)."""
    events, _ = await ctx.store.load(kind.name, ref)
    seq = 0
    for envelope in events:
        event = envelope.event
        if isinstance(event, kind.defined) and event.created:
            seq = envelope.seq
    return seq
