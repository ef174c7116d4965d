"""Events -> rules -> enforcements -> executions, exactly once (real NATS + PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from attune.app import catalog, packs
from attune.domain import catalog as lifecycle
from attune.domain.rule import RULE, RuleDef
from attune.domain.trigger_event import EventCreated
from attune.eventstore import store
from attune.eventstore.envelope import Meta
from attune.eventstore.store import EVENTS_STREAM
from attune.executor.enforcer import Enforcer
from tests.conftest import eventually, projected, start_platform, stop_platform

RULES = {
    "greet": """
trigger_ref: core.webhook
action_ref: core.echo
conditions:
  - {field: kind, operator: equals, value: greeting}
action_params:
  message: "hello {{ event.payload.name }}"
""",
    "count": """
trigger_ref: core.webhook
action_ref: core.echo
conditions: {expression: "{{ event.payload.n > 1 }}"}
action_params:
  message: "{{ string(event.payload.n * 10) }}"
""",
    "always": """
trigger_ref: core.webhook
action_ref: core.noop
""",
}


def write_pack(root: Path, rules: dict[str, str]) -> Path:
    (root / "rules").mkdir(parents=True)
    (root / "pack.yaml").write_text("ref: flows\nversion: 1.0.0\n")
    for name, body in rules.items():
        (root / "rules" / f"{name}.yaml").write_text(f"name: {name}\n{body}")
    return root


async def emit(ctx, payload: dict[str, Any], *, key: str, rule_ref: str | None = None) -> int:  # type: ignore[no-untyped-def]
    return await ctx.store.create(  # type: ignore[no-any-return]
        EventCreated(at=ctx.clock(), trigger_ref="core.webhook", payload=payload, source="api",
                     rule_ref=rule_ref), msg_id=f"test-event:{key}", meta=Meta.new())


async def rows(ctx, sql: str, *args: Any) -> list[Any]:  # type: ignore[no-untyped-def]
    return list(await ctx.pool.fetch(sql, *args))


async def test_one_event_three_rules_three_executions(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "worker", "projector"))
    try:
        _, seq = await packs.register(ctx, write_pack(tmp_path / "flows", RULES),
                                      meta=Meta.new())
        event_id = await emit(ctx, {"kind": "greeting", "name": "ada", "n": 4}, key="a")

        async def done() -> list[Any]:
            found = await rows(ctx, "SELECT rule_ref, status, result FROM executions "
                               "WHERE event_id = $1 ORDER BY rule_ref", event_id)
            return found if len(found) == 3 and all(
                r["status"] == "completed" for r in found) else []
        found = await eventually(done)
        assert [r["rule_ref"] for r in found] == ["flows.always", "flows.count", "flows.greet"]
        by_rule = {r["rule_ref"]: r["result"]["stdout"] for r in found}
        assert by_rule["flows.greet"] == "hello ada\n"
        assert by_rule["flows.count"] == "40\n"
        enforcements = await eventually(lambda: rows(
            ctx, "SELECT * FROM enforcements WHERE event_id=$1 AND status='processed'",
            event_id))
        assert len(enforcements) == 3
        assert all(e["execution_id"] for e in enforcements)

        # conditions filter: only the unconditional rule fires
        other = await emit(ctx, {"kind": "other", "n": 0}, key="b")
        await eventually(lambda: rows(ctx, "SELECT 1 FROM executions WHERE event_id=$1", other))
        await projected(ctx, await ctx.store.last_sequence())
        fired = await rows(ctx, "SELECT rule_ref FROM enforcements WHERE event_id=$1", other)
        assert [r["rule_ref"] for r in fired] == ["flows.always"]

        # a rule disabled just before an event is not considered; enabled again, it is
        await catalog.execute(ctx, RULE, "flows.always", lifecycle.Disable(), meta=Meta.new())
        quiet = await emit(ctx, {"kind": "other"}, key="c")
        await catalog.execute(ctx, RULE, "flows.always", lifecycle.Enable(), meta=Meta.new())
        loud = await emit(ctx, {"kind": "other"}, key="d")
        await eventually(lambda: rows(ctx, "SELECT 1 FROM enforcements WHERE event_id=$1", loud))
        await projected(ctx, await ctx.store.last_sequence())
        assert await rows(ctx, "SELECT 1 FROM enforcements WHERE event_id=$1", quiet) == []
        assert seq < quiet
    finally:
        await stop_platform(running)


@pytest.mark.parametrize("pipelined", [0, store.PIPELINED], ids=["atomic", "pipelined"])
async def test_redelivered_event_enforces_once(ctx, tmp_path: Path, pipelined: int,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways a batch is appended (atomic batches under load, one by one when few)."""
    monkeypatch.setattr(store, "PIPELINED", pipelined)
    running = await start_platform(ctx, ("projector",))
    try:
        await packs.register(ctx, write_pack(tmp_path / "flows", {"always": RULES["always"]}),
                             meta=Meta.new())
        first = await emit(ctx, {}, key="x")
        second = await emit(ctx, {}, key="z")
        await projected(ctx, second)
        enforcer = Enforcer(ctx)
        await enforcer.rulebook.load()
        sub = await ctx.nc.jetstream().pull_subscribe(
            "attune.event.new.created", stream=EVENTS_STREAM,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE))
        one, two = await sub.fetch(2, timeout=5)
        # as after crashes: the first event alone, then again in a batch with a new one
        # (the atomic batch meets a recorded append and is redone one by one), and again
        await enforcer.on_batch([one])
        for _ in range(2):
            await enforcer.on_batch([one, two])
        await projected(ctx, await ctx.store.last_sequence())
        for event_id in (first, second):
            enforcements = await rows(ctx, "SELECT status, execution_id FROM enforcements "
                                      "WHERE event_id=$1", event_id)
            assert len(enforcements) == 1 and enforcements[0]["status"] == "processed"
            executions = await rows(ctx, "SELECT id, enforcement FROM executions "
                                    "WHERE event_id=$1", event_id)
            assert [r["id"] for r in executions] == [enforcements[0]["execution_id"]]
        linked = await rows(ctx, "SELECT e.id FROM executions x JOIN enforcements e "
                            "ON e.id = x.enforcement AND e.execution_id = x.id")
        assert len(linked) == 2
    finally:
        await stop_platform(running)


async def test_unusable_matches_are_recorded_as_disabled(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    running = await start_platform(ctx, ("executor", "projector"))
    try:
        rule = RuleDef(ref="core.bad", pack_ref="core", label="bad", trigger_ref="core.webhook",
                       action_ref="core.sleep",
                       action_params={"seconds": "{{ event.payload.seconds }}"})
        await catalog.execute(ctx, RULE, rule.ref, lifecycle.Define(definition=rule,
                                                                    source="api"),
                              meta=Meta.new())
        event_id = await emit(ctx, {"seconds": "soon"}, key="y")

        async def resolved() -> list[Any]:
            return await rows(ctx, "SELECT status, reason FROM enforcements WHERE event_id=$1 "
                              "AND status <> 'created'", event_id)
        [enforcement] = await eventually(resolved)
        assert enforcement["status"] == "disabled"
        assert "seconds: expected integer, got str" in enforcement["reason"]
        assert await rows(ctx, "SELECT 1 FROM executions WHERE event_id=$1", event_id) == []
    finally:
        await stop_platform(running)
