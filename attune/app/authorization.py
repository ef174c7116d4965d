"""The one permission check point. Every interface (HTTP routes today, the notifier
and others later) asks `authorize` before acting for an identity.

Until the RBAC issue fills it in, only administrators (permission set `core.admin`)
may do anything; the resource and action are already those RBAC grants will name
(`packs:create`, `actions:execute`, `executions:read`, ...).
"""

from __future__ import annotations

from attune.app.identities import Identity
from attune.errors import ForbiddenError


def allowed(identity: Identity, resource: str, action: str) -> bool:
    return identity.is_admin


def authorize(identity: Identity, resource: str, action: str) -> None:
    """Raise ForbiddenError unless `identity` may do `action` on `resource`."""
    if not allowed(identity, resource, action):
        raise ForbiddenError(
            f"{identity.login} may not {action} {resource}: permission "
            f"'{resource}:{action}' is required")
