"""The read models, one module each. `ALL` is what the projector runs."""

from attune.domain.action import ACTION
from attune.domain.policy import POLICY
from attune.domain.rule import RULE
from attune.domain.runtime import RUNTIME
from attune.domain.sensor import SENSOR
from attune.domain.trigger import TRIGGER
from attune.readmodel.projection import Projection
from attune.readmodel.projections.artifacts import ArtifactsProjection
from attune.readmodel.projections.audit import AuditChangesProjection
from attune.readmodel.projections.automation import (
    EnforcementsProjection,
    EventsProjection,
    WebhooksProjection,
)
from attune.readmodel.projections.catalog import CatalogProjection
from attune.readmodel.projections.executions import ExecutionsProjection
from attune.readmodel.projections.identities import IdentitiesProjection
from attune.readmodel.projections.inquiries import InquiriesProjection
from attune.readmodel.projections.keys import KeysProjection
from attune.readmodel.projections.packs import PacksProjection
from attune.readmodel.projections.permission_sets import PermissionSetsProjection
from attune.readmodel.projections.workflows import WorkflowsProjection

ACTIONS = CatalogProjection(
    "actions", ACTION, "actions",
    lambda a: {"label": a.label, "description": a.description, "runtime": a.runtime})

TRIGGERS = CatalogProjection(
    "triggers", TRIGGER, "triggers", lambda t: {"label": t.label, "description": t.description})
RULES = CatalogProjection(
    "rules", RULE, "rules",
    lambda r: {"label": r.label, "description": r.description, "trigger_ref": r.trigger_ref,
               "action_ref": r.action_ref})

POLICIES = CatalogProjection(
    "policies", POLICY, "policies",
    lambda p: {"label": p.label, "description": p.description, "action_ref": p.action_ref,
               "target_pack_ref": p.target_pack_ref, "priority": p.priority})

RUNTIMES = CatalogProjection(
    "runtimes", RUNTIME, "runtimes",
    lambda r: {"label": r.label, "description": r.description, "name": r.name,
               "family": r.family})

SENSORS = CatalogProjection(
    "sensors", SENSOR, "sensors",
    lambda s: {"label": s.label, "description": s.description,
               "runner_type": s.runner_type, "mode": s.mode,
               "trigger_types": list(s.trigger_types)})

ALL: tuple[Projection, ...] = (
    WorkflowsProjection(),  # workflow children and timers
    InquiriesProjection(),
    IdentitiesProjection(), PacksProjection(), ACTIONS, TRIGGERS, WebhooksProjection(), RULES,
    EventsProjection(), EnforcementsProjection(), POLICIES, ExecutionsProjection(), RUNTIMES,
    KeysProjection(), PermissionSetsProjection(), SENSORS, ArtifactsProjection(),
    AuditChangesProjection())


def by_name(name: str) -> Projection:
    for projection in ALL:
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in ALL)
    raise KeyError(f"unknown projection {name!r} (known: {known})")
