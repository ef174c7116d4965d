"""Every body the HTTP API reads or writes, and its query strings, as pydantic models.

Request bodies forbid unknown fields and are validated strictly (no `"3"` for 3), so a
typo or a wrong type is a 422 naming the field instead of a silently ignored value.
`API_MODELS` names every body model; `attune schemas export` writes their JSON Schemas.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from attune.domain.action import OutputFormat, ParameterDelivery, ParameterFormat, Runtime
from attune.domain.execution import Outcome, Status
from attune.domain.params import ParamSpec
from attune.domain.trigger_event import EventSource

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Query(BaseModel):
    # query strings are text: numbers and booleans are converted (lax), names are not
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- envelopes --------------------------------------------------------------------------------

class ErrorBody(Response):
    """Every error: a message for humans, a stable code for programs."""

    error: str
    code: str
    details: Any = None


class Pagination(Response):
    page: int
    page_size: int
    has_next: bool
    has_previous: bool
    total_items: int | None = None
    total_pages: int | None = None


class PageQuery(Query):
    page: int = Field(default=1, ge=1, le=1_000_000, description="1-based page number")
    page_size: int = Field(default=50, ge=1, le=100,
                           validation_alias=AliasChoices("page_size", "per_page"),
                           description="items per page (max 100); `per_page` is an alias")
    include_total: bool = Field(default=False,
                                description="also count total_items and total_pages")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def fetch_limit(self) -> int:
        """One row more than a page: its presence says whether there is a next page."""
        return self.page_size + 1


class RefPath(Query):
    ref: str = Field(min_length=1, max_length=255, description="reference, e.g. core.echo")


class IdPath(Query):
    id: int = Field(ge=1, le=2**63 - 1, description="numeric id")


# -- auth ---------------------------------------------------------------------------------------

class LoginRequest(Request):
    login: Annotated[str, Field(min_length=1, max_length=128)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RefreshRequest(Request):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class UserOut(Response):
    id: int
    login: str
    display_name: str


class TokenOut(Response):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    user: UserOut


# -- health -------------------------------------------------------------------------------------

class HealthOut(Response):
    status: Literal["ok"] = "ok"
    version: str


class ReadyOut(Response):
    status: Literal["ready"] = "ready"
    nats: Literal["connected"] = "connected"
    postgres: Literal["ok"] = "ok"
    stream_sequence: int
    projection_position: int
    lag: int


# -- packs and actions ---------------------------------------------------------------------------

class PackRegisterRequest(Request):
    path: Annotated[str, Field(min_length=1, max_length=4096,
                               description="absolute directory of the pack on the server")]


class ActionOut(Response):
    ref: str
    pack_ref: str
    name: str
    label: str
    description: str
    enabled: bool
    runtime: Runtime
    entry_point: str
    parameters: dict[str, ParamSpec]
    parameter_delivery: ParameterDelivery
    parameter_format: ParameterFormat
    output_format: OutputFormat
    timeout_seconds: int | None
    tags: list[str]
    created: datetime | None = None
    updated: datetime | None = None


class PackOut(Response):
    ref: str
    label: str
    description: str
    version: str
    author: str | None
    email: str | None
    system: bool
    enabled: bool
    tags: list[str]
    path: str
    created: datetime | None = None
    updated: datetime | None = None


class PackDetailOut(PackOut):
    actions: list[ActionOut]


class ActionListQuery(PageQuery):
    pack_ref: str | None = Field(default=None, max_length=255,
                                 description="only actions of this pack")


# -- executions ---------------------------------------------------------------------------------

class ExecuteRequest(Request):
    action_ref: Annotated[str, Field(min_length=1, max_length=255)]
    parameters: dict[str, Any] = Field(default_factory=dict)
    env_vars: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: Annotated[int | None, Field(gt=0)] = None

    @field_validator("env_vars")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        # the worker passes these to exec(): a bad name or a NUL byte cannot be set
        for name, text in value.items():
            if not ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)")
            if "\0" in text:
                raise ValueError(f"{name}: value contains a NUL byte")
        return value


class RerunRequest(Request):
    """Parameters to change; the others are the original's (secrets included)."""

    parameters: dict[str, Any] = Field(default_factory=dict)


class ExecutionOut(Response):
    id: int
    action_ref: str
    status: Status
    parameters: dict[str, Any] = Field(description="secret values are redacted")
    env_vars: dict[str, str]
    timeout_seconds: int
    result: Outcome | None
    worker: str | None
    requested_by: int | None
    parent: int | None
    enforcement: int | None
    created: datetime
    updated: datetime
    started_at: datetime | None
    finished_at: datetime | None
    #: what started it when a rule did (None for manual runs)
    rule_ref: str | None = None
    trigger_ref: str | None = None
    event_id: int | None = None


class ExecutionAccepted(Response):
    """Answer of execute when the read model has not caught up yet: poll the id."""

    id: int
    status: Literal["requested"] = "requested"
    action_ref: str


class ExecutionListQuery(PageQuery):
    status: Status | None = Field(default=None, description="only executions in this status")
    action_ref: str | None = Field(default=None, max_length=255,
                                   description="only executions of this action")
    rule_ref: str | None = Field(default=None, max_length=255,
                                 description="only executions a rule requested: its ref, or "
                                             "`pack.*` for any rule of a pack")
    trigger_ref: str | None = Field(default=None, max_length=255,
                                    description="only executions started by events of this "
                                                "trigger (`pack.*` allowed)")
    enforcement: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                    description="only the execution of this enforcement")


# -- triggers and webhooks ----------------------------------------------------------------------

Ref = Annotated[str, Field(min_length=3, max_length=255,
                           description="<pack>.<name>; the pack must be registered")]
Label = Annotated[str, Field(min_length=1, max_length=255)]
Description = Annotated[str, Field(max_length=10_000)]
Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]],
                 Field(max_length=50)]
Schema = Annotated[dict[str, ParamSpec],
                   Field(description="flat schema: name -> {type, required, default, ...}")]


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


# -- policies ---------------------------------------------------------------------------------

class ConcurrencyRequest(Request):
    limit: Annotated[int, Field(ge=1, le=100_000, description="executions at once (per group)")]
    method: Literal["enqueue", "cancel"] = Field(
        default="enqueue", description="over the limit: wait in FIFO order, or be cancelled")
    parameters: Annotated[list[Annotated[str, Field(min_length=1, max_length=255)]],
                          Field(max_length=20, description="parameters whose values group "
                                "executions: the limit holds per group")] = Field(
        default_factory=list)


class RateLimitRequest(Request):
    max_executions: Annotated[int, Field(ge=1, le=1_000_000)]
    window_seconds: Annotated[int, Field(ge=1, le=86_400 * 7)]


Priority = Annotated[int, Field(ge=-1_000_000, le=1_000_000,
                                description="within a scope the highest priority wins")]
TargetRef = Annotated[str, Field(min_length=1, max_length=255)]


class PolicyCreateRequest(Request):
    """Give exactly one target: `action_ref` (one action) or `pack_ref` (every action
    of a pack); and concurrency and/or rate_limit."""

    ref: Ref
    label: Label | None = None
    description: Description = ""
    enabled: bool = True
    priority: Priority = 0
    action_ref: TargetRef | None = None
    pack_ref: TargetRef | None = Field(default=None, description="every action of this pack")
    concurrency: ConcurrencyRequest | None = None
    rate_limit: RateLimitRequest | None = None
    tags: Tags = Field(default_factory=list)


class PolicyUpdateRequest(Request):
    """The fields to change; the others keep their value. Setting `action_ref` or
    `pack_ref` moves the policy to that target; `concurrency: null` or `rate_limit: null`
    removes that limit."""

    label: Label | None = None
    description: Description | None = None
    enabled: bool | None = None
    priority: Priority | None = None
    action_ref: TargetRef | None = None
    pack_ref: TargetRef | None = None
    concurrency: ConcurrencyRequest | None = None
    rate_limit: RateLimitRequest | None = None
    tags: Tags | None = None


class ConcurrencyOut(Response):
    limit: int
    method: Literal["enqueue", "cancel"]
    parameters: list[str]


class RateLimitOut(Response):
    max_executions: int
    window_seconds: int


class PolicyOut(Response):
    ref: str
    pack_ref: str = Field(description="the pack the policy belongs to")
    label: str
    description: str
    enabled: bool
    priority: int
    action_ref: str | None = Field(description="the action it governs (or null)")
    target_pack_ref: str | None = Field(description="the pack whose every action it "
                                                    "governs (or null)")
    concurrency: ConcurrencyOut | None
    rate_limit: RateLimitOut | None
    tags: list[str]
    source: Literal["pack", "api"]
    created: datetime | None = None
    updated: datetime | None = None


class ActionPolicyOut(PolicyOut):
    effective: bool = Field(description="the one policy that governs the action's "
                                        "executions (action scope beats pack scope, then "
                                        "the highest priority)")


class PolicyListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=255,
                          description="words that must all appear in ref, label, "
                                      "description or pack (case-insensitive)")
    pack_ref: str | None = Field(default=None, max_length=255,
                                 description="only policies belonging to this pack")
    action_ref: str | None = Field(default=None, max_length=255,
                                   description="only policies targeting this action")
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


API_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model for model in (
        ErrorBody, Pagination, LoginRequest, RefreshRequest, UserOut, TokenOut, HealthOut,
        ReadyOut, PackRegisterRequest, ActionOut, PackOut, PackDetailOut, ExecuteRequest,
        RerunRequest,
        ExecutionOut, ExecutionAccepted, TriggerCreateRequest, TriggerUpdateRequest,
        TriggerOut, WebhookOut, WebhookSecurityRequest, WebhookAccepted, DeletedOut,
        CommandAccepted,
        EventCreateRequest, EventOut, EventAccepted, EnforcementOut, RuleCreateRequest,
        RuleUpdateRequest, RuleOut, PolicyCreateRequest, PolicyUpdateRequest, PolicyOut,
        ActionPolicyOut, RuleTestRequest, RuleTestOut)
}
