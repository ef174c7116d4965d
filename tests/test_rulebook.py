"""The rule book answers with the rules as they were just before an event (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attune.domain.rule import RuleDef, RuleDefined, RuleDisabled, RuleEnabled
from attune.eventstore.envelope import Envelope, Meta
from attune.eventstore.subjects import aggregate_subject
from attune.executor.rulebook import RuleBook
from attune.rules.conditions import parse_conditions

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RULE = RuleDef(ref="p.r", pack_ref="p", label="r", trigger_ref="core.webhook",
               action_ref="core.echo")


def envelope(seq: int, event: Any) -> Envelope:
    return Envelope(seq=seq, subject=aggregate_subject("rule", "p.r", event.name),
                    msg_id=str(seq), event=event, meta=Meta.new())


def test_late_events_see_the_rules_of_their_time() -> None:
    book = RuleBook(nc=None, pool=None)  # type: ignore[arg-type]
    book.apply(envelope(10, RuleDefined(at=NOW, definition=RULE, created=True, source="api")))
    book.apply(envelope(20, RuleDisabled(at=NOW)))
    book.apply(envelope(30, RuleEnabled(at=NOW)))
    moved = RULE.model_copy(update={"trigger_ref": "core.other"})
    book.apply(envelope(40, RuleDefined(at=NOW, definition=moved, created=False,
                                        source="api")))

    def refs(trigger: str, seq: int, rule_ref: str | None = None) -> list[str]:
        return [r.ref for r in book.candidates(trigger, rule_ref, seq)]

    assert refs("core.webhook", 10) == []        # before it existed
    assert refs("core.webhook", 15) == ["p.r"]
    assert refs("core.webhook", 25) == []        # disabled then, enabled later
    assert refs("core.webhook", 35) == ["p.r"]
    assert refs("core.webhook", 45) == []        # it listens to another trigger now
    assert refs("core.other", 45) == ["p.r"]
    assert refs("core.other", 45, "p.elsewhere") == []
    assert book.position == 40


def test_payload_keys_leave_out_rules_that_cannot_match() -> None:
    """Rules needing `equals` on a field are only candidates for payloads holding that
    value; the others (no such condition, or `any` of several) always are."""
    book = RuleBook(nc=None, pool=None)  # type: ignore[arg-type]

    def rule(ref: str, **fields: Any) -> RuleDef:
        return RULE.model_copy(update={"ref": ref, **fields})

    def define(seq: int, definition: RuleDef) -> None:
        book.apply(Envelope(seq=seq, subject=aggregate_subject("rule", definition.ref,
                                                               "defined"),
                            msg_id=str(seq), meta=Meta.new(), event=RuleDefined(
                                at=NOW, definition=definition, created=seq < 10,
                                source="api")))

    equals = parse_conditions
    define(1, rule("p.web", conditions=equals([{"field": "svc", "operator": "equals",
                                                 "value": "web"}])))
    define(2, rule("p.one", conditions=equals([{"field": "n.count", "operator": "equals",
                                                 "value": 1}])))
    define(3, rule("p.any", condition="any", conditions=equals([
        {"field": "svc", "operator": "equals", "value": "db"},
        {"field": "urgent", "operator": "equals", "value": True}])))
    define(4, rule("p.all"))
    # a later version keys on another value: events before it still find the old one
    define(20, rule("p.web", conditions=equals([{"field": "svc", "operator": "equals",
                                                  "value": "api"}])))

    def refs(payload: dict[str, Any], seq: int = 30) -> list[str]:
        return [r.ref for r in book.candidates("core.webhook", None, seq, payload)]

    assert refs({"svc": "api"}) == ["p.all", "p.any", "p.web"]
    assert refs({"svc": "web"}, seq=10) == ["p.all", "p.any", "p.web"]
    assert refs({"svc": "db"}) == ["p.all", "p.any"]
    assert refs({"n": {"count": 1.0}}) == ["p.all", "p.any", "p.one"]   # 1.0 == 1
    assert refs({"svc": ["web"], "n": {"count": [1]}}) == ["p.all", "p.any"]
    assert refs({}) == ["p.all", "p.any"]
    # the index holds every kept version's key (evaluation then decides on the version
    # of the event's time): the newer p.web needs "api", yet "web" still finds it
    assert refs({"svc": "web"}) == ["p.all", "p.any", "p.web"]
