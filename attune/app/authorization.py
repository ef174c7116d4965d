"""The one permission check point. Every interface (HTTP routes, the notifier and
others later) asks `authorize` before acting for an identity.

An identity may do what the grants of its permission sets allow
(`attune.domain.permission`); `core.admin` allows everything. The route table names
the resource and action of each route (`packs:create`, `actions:execute`, ...) and the
server checks them here before the handler runs; a handler that knows the object it
acts on (a key, an identity) asks again with a `Target`, so constraints (pack_refs,
refs, owner) apply to it, and lists keep only what `visible` allows.

Tokens other than access tokens carry their own grants: a sensor token only posts
events and reads rules — of the trigger types it names (`sensor_trigger_types`); an
execution token carries the permission sets its action was granted
(`metadata.permission_set_refs`, resolved by the caller into `token_grants`), never
those of the identity that requested the execution.
"""

from __future__ import annotations

from collections.abc import Sequence

from attune.app.identities import Identity
from attune.domain.permission import Grant, Target, permits, unrestricted
from attune.errors import ForbiddenError
from attune.security.tokens import Claims, TokenType

#: What a token other than an access token may do at most, whatever its identity may:
#: a sensor token only posts events and reads rules (its rule lifecycle) — of the
#: trigger types it names, which the event service, the rule read and the notifier
#: check with `sensor_trigger_types` where the trigger is known.
TOKEN_GRANTS: dict[TokenType, tuple[Grant, ...]] = {
    "sensor": (Grant(resource="events", actions=["create"]),
               Grant(resource="rules", actions=["read"])),
}


def sensor_trigger_types(claims: Claims | None) -> list[str] | None:
    """The trigger types a sensor token is limited to; None for other tokens."""
    if claims is None or claims.token_type != "sensor":
        return None
    kinds = claims.metadata.get("trigger_types")
    return [str(k) for k in kinds] if isinstance(kinds, list) else []


def authorize_trigger(claims: Claims | None, trigger_ref: str, what: str) -> None:
    """Refuse a sensor token acting on `what` of a trigger type it is not for."""
    kinds = sensor_trigger_types(claims)
    if kinds is not None and trigger_ref not in kinds:
        shown = ", ".join(sorted(kinds)) or "none"
        raise ForbiddenError(f"this sensor token is for trigger types {shown}: it may not "
                             f"{what} of trigger {trigger_ref!r}")


def grants_of(identity: Identity, token_type: TokenType = "access",  # noqa: S107
              token_grants: Sequence[Grant] | None = None) -> Sequence[Grant]:
    # an execution token's identity already holds only its action's grants
    # (attune.api.auth.as_execution)
    if token_type in ("access", "execution"):
        return identity.grants
    if token_grants is not None:
        return token_grants
    return TOKEN_GRANTS.get(token_type, ())


def allowed(identity: Identity, resource: str, action: str, target: Target | None = None, *,
            token_type: TokenType = "access",  # noqa: S107 (a type name)
            token_grants: Sequence[Grant] | None = None) -> bool:
    grants = grants_of(identity, token_type, token_grants)
    return permits(grants, resource, action, login=identity.login, target=target,
                   identity_id=identity.id)


def authorize(identity: Identity, resource: str, action: str, target: Target | None = None,
              *, token_type: TokenType = "access",  # noqa: S107 (a type name)
              token_grants: Sequence[Grant] | None = None) -> None:
    """Raise ForbiddenError unless `identity` may do `action` on `resource` (on `target`
    when given), with a token of `token_type`."""
    if identity.frozen:
        raise ForbiddenError(f"identity {identity.login!r} is frozen: an administrator "
                             "can unfreeze it")
    if allowed(identity, resource, action, target, token_type=token_type,
               token_grants=token_grants):
        return
    if token_type != "access":
        raise ForbiddenError(f"a {token_type} token may not {action} {resource}")
    what = f" {target.ref!r}" if target is not None and target.ref else ""
    raise ForbiddenError(
        f"{identity.login} may not {action} {resource}{what}: permission "
        f"'{resource}:{action}' is required (ask an administrator for a permission set "
        "that grants it)")


def visible(identity: Identity, resource: str, target: Target, action: str = "read") -> bool:
    """Whether a list may show this object to the identity."""
    return allowed(identity, resource, action, target)


def sees_all(identity: Identity, resource: str, action: str = "read") -> bool:
    """True when no constraint narrows what the identity may read: no filtering needed."""
    return unrestricted(identity.grants, resource, action)
