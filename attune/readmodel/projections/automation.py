"""Read models of the automation flow: webhooks, events and enforcements."""

from __future__ import annotations

from attune.domain.enforcement import (
    EnforcementCreated,
    EnforcementDisabled,
    EnforcementProcessed,
)
from attune.domain.trigger import (
    TriggerDeleted,
    WebhookConfigured,
    WebhookDisabled,
    WebhookEnabled,
)
from attune.domain.trigger_event import EventCreated
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_WEBHOOK_ON = """
INSERT INTO webhooks (trigger_ref, enabled, key_sha256, key, updated)
VALUES ($1, true, $2, $3, $4)
ON CONFLICT (trigger_ref) DO UPDATE SET enabled = true, key_sha256 = $2, key = $3, updated = $4"""
_WEBHOOK_OFF = "UPDATE webhooks SET enabled = false, updated = $2 WHERE trigger_ref = $1"
_WEBHOOK_SECURITY = """
INSERT INTO webhooks (trigger_ref, enabled, security, updated) VALUES ($1, false, $2, $3)
ON CONFLICT (trigger_ref) DO UPDATE SET security = $2, updated = $3"""
_WEBHOOK_GONE = "DELETE FROM webhooks WHERE trigger_ref = $1"


class WebhooksProjection:
    name = "webhooks"
    tables = ("webhooks",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        ref = envelope.ref
        match envelope.event:
            case WebhookEnabled() as e:
                return [Statement(_WEBHOOK_ON, (ref, e.key_sha256, e.key, e.at))]
            case WebhookDisabled() as e:
                return [Statement(_WEBHOOK_OFF, (ref, e.at))]
            case WebhookConfigured() as e:
                return [Statement(_WEBHOOK_SECURITY, (ref, e.security.model_dump(mode="json"),
                                                      e.at))]
            case TriggerDeleted():
                return [Statement(_WEBHOOK_GONE, (ref,))]
            case _:
                return []


_EVENT = """
INSERT INTO events (id, trigger_ref, payload, source, source_ref, rule_ref,
                    trigger_instance_id, metadata, created)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING"""


class EventsProjection:
    name = "events"
    tables = ("events",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        match envelope.event:
            case EventCreated() as e:
                return [Statement(_EVENT, (envelope.seq, e.trigger_ref, e.payload, e.source,
                                           e.source_ref, e.rule_ref, e.trigger_instance_id,
                                           e.metadata, e.at))]
            case _:
                return []


_ENFORCEMENT = """
INSERT INTO enforcements (id, rule_ref, trigger_ref, event_id, action_ref, status, payload,
                          config, conditions, condition, version, created)
VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $8, $9, $1, $10) ON CONFLICT (id) DO NOTHING"""
_RESOLVED = """
UPDATE enforcements SET status = $2, execution_id = $3, reason = $4, version = $5,
    resolved_at = $6 WHERE id = $1"""


class EnforcementsProjection:
    name = "enforcements"
    tables = ("enforcements",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        match envelope.event:
            case EnforcementCreated() as e:
                return [Statement(_ENFORCEMENT, (envelope.seq, e.rule_ref, e.trigger_ref,
                                                 e.event_id, e.action_ref, e.payload, e.config,
                                                 e.conditions, e.condition, e.at))]
            case EnforcementProcessed() as e:
                return [Statement(_RESOLVED, (envelope.aggregate_id, "processed",
                                              e.execution_id, None, envelope.seq, e.at))]
            case EnforcementDisabled() as e:
                return [Statement(_RESOLVED, (envelope.aggregate_id, "disabled", None,
                                              e.reason, envelope.seq, e.at))]
            case _:
                return []
