"""Triggers, webhooks, events, enforcements and rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field

from attune.api.models.base import (
    Description,
    Label,
    PageQuery,
    Query,
    Ref,
    Request,
    Response,
    Schema,
    Tags,
)
from attune.domain.params import ParamSpec
from attune.domain.trigger_event import EventSource

# -- triggers and webhooks ----------------------------------------------------------------------


class TriggerCreateRequest(Request):
    ref: Ref
    label: Label | None = None
    description: Description = ""
    enabled: bool = True
    param_schema: Schema = Field(default_factory=dict)
    out_schema: Schema = Field(default_factory=dict)
    tags: Tags = Field(default_factory=list)


class TriggerUpdateRequest(Request):
    """The fields to change; the others keep their value."""

    label: Label | None = None
    description: Description | None = None
    enabled: bool | None = None
    param_schema: Schema | None = None
    out_schema: Schema | None = None
    tags: Tags | None = None


class WebhookSecurityOut(Response):
    hmac_algorithm: Literal["sha256", "sha512"] | None = None
    hmac_secret_set: bool = False
    rate_limit_per_minute: int | None = None
    max_payload_bytes: int
    ip_allowlist: list[str]


class WebhookOut(Response):
    enabled: bool
    key: str | None = Field(default=None, description="shown to callers who may update "
                            "triggers")
    url: str | None = Field(default=None, description="path to POST events to (no token "
                            "needed: the key is the credential)")
    security: WebhookSecurityOut


class TriggerOut(Response):
    ref: str
    pack_ref: str
    label: str
    description: str
    enabled: bool
    param_schema: dict[str, ParamSpec]
    out_schema: dict[str, ParamSpec]
    tags: list[str]
    source: Literal["pack", "api"]
    webhook: WebhookOut
    created: datetime | None = None
    updated: datetime | None = None


class TriggerListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=255,
                          description="words that must all appear in ref, label, "
                                      "description or pack (case-insensitive)")
    pack_ref: str | None = Field(default=None, max_length=255)
    enabled: bool | None = None


class WebhookSecurityRequest(Request):
    """The webhook's protections, all replaced at once."""

    hmac_algorithm: Literal["sha256", "sha512"] | None = None
    hmac_secret: Annotated[str | None, Field(
        min_length=16, max_length=1024,
        description="sealed when stored; left out, the current secret is kept")] = None
    rate_limit_per_minute: Annotated[int | None, Field(ge=1, le=100_000)] = None
    max_payload_bytes: Annotated[int | None, Field(ge=1, le=16 * 1024 * 1024)] = None
    ip_allowlist: Annotated[list[Annotated[str, Field(max_length=64)]],
                            Field(max_length=256, description="CIDRs; empty = anyone "
                                  "with the key")] = Field(default_factory=list)


class KeyPath(Query):
    key: str = Field(min_length=1, max_length=128, description="the webhook key (wh_...)")


class CommandAccepted(Response):
    """The change is recorded but the read model has not caught up yet: read it with
    X-Attune-After-Sequence set to the X-Attune-Sequence of this answer."""

    ref: str
    sequence: int


class WebhookAccepted(Response):
    event_id: int
    trigger_ref: str


class DeletedOut(Response):
    success: Literal[True] = True
    message: str


# -- events and enforcements --------------------------------------------------------------------

class EventCreateRequest(Request):
    trigger_ref: Annotated[str, Field(min_length=1, max_length=255,
                                      validation_alias=AliasChoices("trigger_ref",
                                                                    "trigger_type"))]
    payload: dict[str, Any] = Field(default_factory=dict)
    trigger_instance_id: Annotated[str | None, Field(
        min_length=1, max_length=255,
        description="the emitter's id of this occurrence: posting it again returns the "
                    "same event (within 2 hours)")] = None
    rule_ref: Annotated[str | None, Field(
        min_length=1, max_length=255,
        description="only this rule (of the event's trigger) is evaluated — a sensor "
                    "emitting for one of its rule instances")] = None


class EventOut(Response):
    id: int
    trigger_ref: str
    payload: dict[str, Any]
    source: EventSource
    source_ref: str | None
    rule_ref: str | None
    trigger_instance_id: str | None
    metadata: dict[str, Any]
    created: datetime


class EventAccepted(Response):
    """Answer of POST /events when the read model has not caught up yet."""

    id: int
    trigger_ref: str


class EventListQuery(PageQuery):
    trigger_ref: str | None = Field(default=None, max_length=255)
    source: EventSource | None = None
    rule_ref: str | None = Field(default=None, max_length=255,
                                 description="only events meant for this rule alone")


EnforcementStatus = Literal["created", "processed", "disabled"]


class EnforcementOut(Response):
    id: int
    rule_ref: str
    trigger_ref: str
    event_id: int
    action_ref: str
    status: EnforcementStatus
    payload: dict[str, Any]
    config: dict[str, Any] = Field(description="the action parameters the rule rendered; "
                                               "secret values are redacted")
    conditions: Any
    condition: Literal["all", "any"]
    execution_id: int | None
    reason: str | None
    created: datetime
    resolved_at: datetime | None


class EnforcementListQuery(PageQuery):
    rule_ref: str | None = Field(default=None, max_length=255)
    event_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    status: EnforcementStatus | None = None


# -- rules ------------------------------------------------------------------------------------

CONDITIONS_HELP = ('a list of {field, operator, value} (combined by `condition`), or '
                   '{"expression": "{{ ... }}"}; none always matches')


class RuleCreateRequest(Request):
    ref: Ref
    label: Label | None = None
    description: Description = ""
    enabled: bool = True
    trigger_ref: Annotated[str, Field(min_length=1, max_length=255)]
    action_ref: Annotated[str, Field(min_length=1, max_length=255)]
    conditions: Any = Field(default=None, description=CONDITIONS_HELP)
    condition: Literal["all", "any"] = "all"
    action_params: dict[str, Any] = Field(
        default_factory=dict, description="templates over event, pack.config and system")
    trigger_params: dict[str, Any] = Field(default_factory=dict,
                                           description="for the trigger's sensor")
    tags: Tags = Field(default_factory=list)


class RuleUpdateRequest(Request):
    """The fields to change; the others keep their value."""

    label: Label | None = None
    description: Description | None = None
    enabled: bool | None = None
    trigger_ref: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    action_ref: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    conditions: Any = Field(default=None, description=CONDITIONS_HELP)
    condition: Literal["all", "any"] | None = None
    action_params: dict[str, Any] | None = None
    trigger_params: dict[str, Any] | None = None
    tags: Tags | None = None


class RuleOut(Response):
    ref: str
    pack_ref: str
    label: str
    description: str
    enabled: bool
    trigger_ref: str
    action_ref: str
    conditions: Any
    condition: Literal["all", "any"]
    action_params: dict[str, Any]
    trigger_params: dict[str, Any]
    tags: list[str]
    source: Literal["pack", "api"]
    created: datetime | None = None
    updated: datetime | None = None


class RuleListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=255,
                          description="words that must all appear in ref, label, "
                                      "description or pack (case-insensitive)")
    pack_ref: str | None = Field(default=None, max_length=255)
    action_ref: str | None = Field(default=None, max_length=255)
    trigger_ref: str | None = Field(default=None, max_length=255)
    enabled: bool | None = None


# -- rule test (what-if) ----------------------------------------------------------------------

class RuleTestRequest(Request):
    """Either `payload` (one event of the rule's trigger) or `since_seconds` (the
    recorded events of its trigger since then, newest first, at most `limit`)."""

    payload: dict[str, Any] | None = None
    since_seconds: Annotated[int | None, Field(ge=1, le=86_400 * 366)] = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class RuleTestResult(Response):
    event_id: int | None = Field(description="null for a given payload")
    created: datetime
    matched: bool
    params: dict[str, Any] | None = Field(description="the action parameters the rule "
                                                      "would render; secrets redacted")
    error: str | None = Field(description="why conditions or parameters failed")


class RuleTestOut(Response):
    rule_ref: str
    trigger_ref: str
    action_ref: str
    enabled: bool
    evaluated: int
    matched: int
    results: list[RuleTestResult]
