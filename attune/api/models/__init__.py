"""Every body the HTTP API reads or writes, and its query strings, as pydantic models.

Request bodies forbid unknown fields and are validated strictly (no `"3"` for 3), so a
typo or a wrong type is a 422 naming the field instead of a silently ignored value.
`API_MODELS` names every body model; `attune schemas export` writes their JSON Schemas.
"""

from __future__ import annotations

from pydantic import BaseModel

from attune.api.models.automation import (
    CONDITIONS_HELP,
    CommandAccepted,
    DeletedOut,
    EnforcementListQuery,
    EnforcementOut,
    EventAccepted,
    EventCreateRequest,
    EventListQuery,
    EventOut,
    KeyPath,
    RuleCreateRequest,
    RuleListQuery,
    RuleOut,
    RuleTestOut,
    RuleTestRequest,
    RuleTestResult,
    RuleUpdateRequest,
    TriggerCreateRequest,
    TriggerListQuery,
    TriggerOut,
    TriggerUpdateRequest,
    WebhookAccepted,
    WebhookOut,
    WebhookSecurityOut,
    WebhookSecurityRequest,
)
from attune.api.models.base import (
    ENV_NAME,
    ErrorBody,
    HealthOut,
    IdPath,
    LoginRequest,
    PageQuery,
    Pagination,
    Query,
    ReadyOut,
    RefPath,
    RefreshRequest,
    Request,
    Response,
    TokenOut,
    UserOut,
)
from attune.api.models.catalog import (
    ActionListQuery,
    ActionOut,
    PackDetailOut,
    PackOut,
    PackRegisterRequest,
)
from attune.api.models.executions import (
    ExecuteRequest,
    ExecutionAccepted,
    ExecutionListQuery,
    ExecutionOut,
    RerunRequest,
)
from attune.api.models.identities import (
    AssignmentCreateRequest,
    AssignmentOut,
    AssignRequest,
    ChangePasswordRequest,
    IdentityCreateRequest,
    IdentityOut,
    IdentityPermissionsOut,
    IdentityUpdateRequest,
    IntegrationTokenCreatedOut,
    IntegrationTokenCreateRequest,
    IntegrationTokenOut,
    MessageOut,
    PermissionSetCreateRequest,
    PermissionSetOut,
    PermissionSetUpdateRequest,
    RegisterRequest,
    TokenLoginRequest,
)
from attune.api.models.keys import (
    KeyCreateRequest,
    KeyOut,
    KeySummaryOut,
    KeyUpdateRequest,
    RotationOut,
)
from attune.api.models.policies import (
    ActionPolicyOut,
    ConcurrencyOut,
    ConcurrencyRequest,
    PolicyCreateRequest,
    PolicyListQuery,
    PolicyOut,
    PolicyUpdateRequest,
    RateLimitOut,
    RateLimitRequest,
)
from attune.api.models.runtimes import RuntimeListQuery, RuntimeOut
from attune.api.models.sensors import (
    SensorListQuery,
    SensorLogOut,
    SensorLogQuery,
    SensorOut,
    SensorTokenOut,
    SensorTokenRequest,
)
from attune.api.models.workers import (
    CordonRequest,
    LogOut,
    LogPath,
    LogQuery,
    WorkerOut,
    WorkerPath,
)

__all__ = [
    "API_MODELS",
    "CONDITIONS_HELP",
    "ENV_NAME",
    "ActionListQuery",
    "ActionOut",
    "ActionPolicyOut",
    "CommandAccepted",
    "ConcurrencyOut",
    "ConcurrencyRequest",
    "CordonRequest",
    "DeletedOut",
    "EnforcementListQuery",
    "EnforcementOut",
    "ErrorBody",
    "EventAccepted",
    "EventCreateRequest",
    "EventListQuery",
    "EventOut",
    "ExecuteRequest",
    "ExecutionAccepted",
    "ExecutionListQuery",
    "ExecutionOut",
    "HealthOut",
    "IdPath",
    "KeyPath",
    "LogOut",
    "LogPath",
    "LogQuery",
    "LoginRequest",
    "PackDetailOut",
    "PackOut",
    "PackRegisterRequest",
    "PageQuery",
    "Pagination",
    "PolicyCreateRequest",
    "PolicyListQuery",
    "PolicyOut",
    "PolicyUpdateRequest",
    "Query",
    "RateLimitOut",
    "RateLimitRequest",
    "ReadyOut",
    "RefPath",
    "RefreshRequest",
    "Request",
    "RerunRequest",
    "Response",
    "RuleCreateRequest",
    "RuleListQuery",
    "RuleOut",
    "RuleTestOut",
    "RuleTestRequest",
    "RuleTestResult",
    "RuleUpdateRequest",
    "RuntimeListQuery",
    "RuntimeOut",
    "SensorListQuery",
    "SensorLogOut",
    "SensorLogQuery",
    "SensorOut",
    "SensorTokenOut",
    "SensorTokenRequest",
    "TokenOut",
    "TriggerCreateRequest",
    "TriggerListQuery",
    "TriggerOut",
    "TriggerUpdateRequest",
    "UserOut",
    "WebhookAccepted",
    "WebhookOut",
    "WebhookSecurityOut",
    "WebhookSecurityRequest",
    "WorkerOut",
    "WorkerPath",
]


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
        ActionPolicyOut, RuleTestRequest, RuleTestOut, LogOut, WorkerOut, CordonRequest,
        KeyCreateRequest, KeyUpdateRequest, KeySummaryOut, KeyOut, RotationOut,
        IdentityCreateRequest, IdentityUpdateRequest, IdentityOut, IdentityPermissionsOut,
        AssignRequest, RegisterRequest, ChangePasswordRequest, TokenLoginRequest, MessageOut,
        IntegrationTokenCreateRequest, IntegrationTokenOut, IntegrationTokenCreatedOut,
        PermissionSetCreateRequest, PermissionSetUpdateRequest, PermissionSetOut,
        AssignmentCreateRequest, AssignmentOut, RuntimeOut, SensorOut, SensorLogOut,
        SensorTokenRequest, SensorTokenOut)
}

# artifacts and audit (imported here so that the schema export sees them)
from attune.api.models.artifacts import (  # noqa: E402
    AllocateFileRequest,
    ArtifactCreateRequest,
    ArtifactOut,
    ArtifactUpdateRequest,
    DataRequest,
    JsonVersionRequest,
    ProgressRequest,
    VersionOut,
)
from attune.api.models.audit import AuditEventOut, ChangeOut  # noqa: E402

API_MODELS.update({model.__name__: model for model in (
    ArtifactCreateRequest, ArtifactUpdateRequest, AllocateFileRequest, ProgressRequest,
    ArtifactOut, VersionOut, AuditEventOut, ChangeOut, DataRequest, JsonVersionRequest)})

# workflows (imported here so that the schema export sees them)
from attune.api.models.workflows import (  # noqa: E402
    ExecutionNodeOut,
    ProblemOut,
    WorkflowCreateRequest,
    WorkflowOut,
    WorkflowRunOut,
    WorkflowUpdateRequest,
    WorkflowValidateRequest,
    WorkflowValidationOut,
)

API_MODELS.update({model.__name__: model for model in (
    WorkflowOut, WorkflowCreateRequest, WorkflowUpdateRequest, WorkflowValidateRequest,
    ProblemOut, WorkflowValidationOut, WorkflowRunOut, ExecutionNodeOut)})

# inquiries
from attune.api.models.inquiries import InquiryOut, InquiryRespondRequest  # noqa: E402

API_MODELS.update({model.__name__: model for model in (InquiryOut, InquiryRespondRequest)})
