"""The rule book answers with the rules as they were just before an event (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attune.domain.rule import RuleDef, RuleDefined, RuleDisabled, RuleEnabled
from attune.eventstore.envelope import Envelope, Meta
from attune.eventstore.subjects import aggregate_subject
from attune.executor.rulebook import RuleBook

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
