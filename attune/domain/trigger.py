"""Triggers: the types of events the world can emit (`core.intervaltimer`, a webhook,
a sensor's `github.push`...). A trigger is an aggregate keyed by its ref.

Its lifecycle is the catalogue's (`attune.domain.catalog`: defined, enabled, disabled,
deleted); its webhook (key and protections) is part of the same aggregate.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.catalog import DefinedEvent, Kind
from attune.domain.events import Event, register
from attune.domain.params import ParamSchema

WEBHOOK_KEY_PREFIX = "wh_"


class WebhookSecurity(BaseModel):
    """Optional protections of a trigger's webhook."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: HMAC of the raw body, sent in X-Webhook-Signature or X-Hub-Signature-256.
    hmac_algorithm: Literal["sha256", "sha512"] | None = None
    #: The HMAC secret, sealed (never plaintext in a stream).
    hmac_secret: dict[str, str] | None = None
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    max_payload_bytes: int = Field(default=1024 * 1024, ge=1, le=16 * 1024 * 1024)
    #: CIDRs allowed to post; empty = anyone with the key.
    ip_allowlist: list[str] = Field(default_factory=list)


class TriggerDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    pack_ref: str
    label: str
    description: str = ""
    enabled: bool = True
    #: Parameters a rule gives this trigger (e.g. a timer's interval), flat schema.
    param_schema: ParamSchema = Field(default_factory=dict)
    #: Shape of the payload of its events, flat schema (validated on POST /events).
    out_schema: ParamSchema = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


@register
class TriggerDefined(DefinedEvent[TriggerDef]):
    type: Literal["trigger.defined"] = "trigger.defined"


@register
class TriggerEnabled(Event):
    type: Literal["trigger.enabled"] = "trigger.enabled"


@register
class TriggerDisabled(Event):
    type: Literal["trigger.disabled"] = "trigger.disabled"


@register
class TriggerDeleted(Event):
    type: Literal["trigger.deleted"] = "trigger.deleted"


@register
class WebhookEnabled(Event):
    """The webhook was switched on, or its key regenerated (`regenerated`)."""

    type: Literal["trigger.webhook_enabled"] = "trigger.webhook_enabled"
    #: The key, sealed; its SHA-256 (hex) is what requests are looked up by.
    key: dict[str, str]
    key_sha256: str
    regenerated: bool = False


@register
class WebhookDisabled(Event):
    type: Literal["trigger.webhook_disabled"] = "trigger.webhook_disabled"


@register
class WebhookConfigured(Event):
    type: Literal["trigger.webhook_configured"] = "trigger.webhook_configured"
    security: WebhookSecurity


TRIGGER = Kind(name="trigger", defined=TriggerDefined, enabled=TriggerEnabled,
               disabled=TriggerDisabled, deleted=TriggerDeleted)
