"""The one permission check point. Every interface (HTTP routes today, the notifier
and others later) asks `authorize` before acting for an identity.

Until the RBAC issue fills it in, only administrators (permission set `core.admin`)
may do anything; the resource and action are already those RBAC grants will name
(`packs:create`, `actions:execute`, `executions:read`, ...).
"""

from __future__ import annotations

from attune.app.identities import Identity
from attune.errors import ForbiddenError
from attune.security.tokens import TokenType

#: What a token other than an access token may do at most, whatever its identity may:
#: a sensor token only posts events (of the trigger types it names, which the event
#: service checks where the trigger is known).
TOKEN_GRANTS: dict[TokenType, frozenset[tuple[str, str]]] = {
    "sensor": frozenset({("events", "create")}),
}


def allowed(identity: Identity, resource: str, action: str) -> bool:
    return identity.is_admin


def authorize(identity: Identity, resource: str, action: str, *,
              token_type: TokenType = "access") -> None:  # noqa: S107 (a type name)
    """Raise ForbiddenError unless `identity` may do `action` on `resource` (with a
    token of `token_type`: other tokens than access tokens carry only their grants)."""
    if token_type != "access":
        if (resource, action) not in TOKEN_GRANTS.get(token_type, frozenset()):
            raise ForbiddenError(f"a {token_type} token may not {action} {resource}")
        return
    if not allowed(identity, resource, action):
        raise ForbiddenError(
            f"{identity.login} may not {action} {resource}: permission "
            f"'{resource}:{action}' is required")
