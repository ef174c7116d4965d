"""THE route table. Everything the server answers is listed here, and the server's
routing, authentication, permission checks and OpenAPI document all come from it."""

from __future__ import annotations

from collections.abc import Sequence

from attune.api.handlers import (
    accounts,
    actions,
    artifact_versions,
    artifacts,
    audit,
    auth,
    enforcements,
    events,
    execution_control,
    executions,
    health,
    identities,
    inquiries,
    keys,
    logs,
    packs,
    permissions,
    policies,
    rule_test,
    rules,
    runtimes,
    sensors,
    spec,
    triggers,
    webhooks,
    workers,
    workflows,
)
from attune.api.routing import PUBLIC, Permission, Route

VERSIONED = "/api/v1/"
#: Versioned routes public by contract: the secret in their path is the credential.
PUBLIC_BY_CONTRACT = frozenset({("POST", "/api/v1/webhooks/{key}")})


def check(routes: Sequence[Route]) -> tuple[Route, ...]:
    """Refuse a table that breaks the rules: duplicate operations, or a versioned
    route that skips the permission check (DESIGN invariant 8)."""
    seen: set[tuple[str, str]] = set()
    for route in routes:
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"route {route.method} {route.path} is declared twice")
        seen.add(key)
        public_by_contract = key in PUBLIC_BY_CONTRACT and route.guard == PUBLIC
        if (route.path.startswith(VERSIONED) and not isinstance(route.guard, Permission)
                and not public_by_contract):
            raise ValueError(f"route {route.method} {route.path} needs a Permission guard")
        if set(route.placeholders) != set(route.params.model_fields if route.params else ()):
            raise ValueError(f"route {route.method} {route.path}: params model must declare "
                             f"exactly {route.placeholders}")
    return tuple(routes)


ROUTES: tuple[Route, ...] = check([
    *health.ROUTES, *auth.ROUTES, *packs.ROUTES, *actions.ROUTES, *executions.ROUTES,
    *execution_control.ROUTES, *logs.ROUTES,
    *triggers.ROUTES, *webhooks.ROUTES, *events.ROUTES, *rules.ROUTES, *rule_test.ROUTES,
    *enforcements.ROUTES, *policies.ROUTES,
    *keys.ROUTES, *accounts.ROUTES, *identities.ROUTES, *permissions.ROUTES,
    *workers.ROUTES, *runtimes.ROUTES, *sensors.ROUTES,
    *artifacts.ROUTES, *artifact_versions.ROUTES, *audit.ROUTES,
    *workflows.ROUTES,
    *inquiries.ROUTES,
    *spec.ROUTES,
])
