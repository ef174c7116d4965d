"""What one connection may see, asked of the one permission check point
(`attune.app.authorization`) as the API asks it for list items: per resource first
("may read some executions"), then, when the caller's grants are narrowed by
constraints (pack_refs, refs, owner), per notification with the entity as a list row
shows it (`attune.api.row_access.item_target`). Answers per resource are remembered for
the connection's life, as the original captures a subscriber's grants when it connects.
"""

from __future__ import annotations

from attune.api.row_access import item_target
from attune.app import authorization
from attune.app.identities import Identity
from attune.domain.permission import unrestricted
from attune.errors import ForbiddenError
from attune.notifier.filters import Filter, FilterError
from attune.notifier.notification import Notification
from attune.security.tokens import Claims


class Access:
    def __init__(self, identity: Identity, claims: Claims) -> None:
        self.identity = identity
        self.claims = claims
        self._reads: dict[str, bool] = {}
        #: resource -> True: sees every entity, False: none, None: asks per entity
        self._verdicts: dict[str, bool | None] = {}
        #: A sensor token's trigger types (None for other tokens), read once.
        self.sensor_triggers = authorization.sensor_trigger_types(claims)

    def may_read(self, resource: str) -> bool:
        """May read some objects of `resource` (the route-level question)."""
        allowed = self._reads.get(resource)
        if allowed is None:
            try:
                authorization.authorize(self.identity, resource, "read",
                                        token_type=self.claims.token_type)
                allowed = True
            except ForbiddenError:
                allowed = False
            self._reads[resource] = allowed
        return allowed

    def may_see(self, notification: Notification) -> bool:
        """May read the entity this notification is about."""
        resource = notification.resource
        kinds = self.sensor_triggers
        if kinds is not None and notification.trigger_ref not in kinds:
            return False  # a sensor sees its own trigger types only
        try:
            verdict = self._verdicts[resource]
        except KeyError:
            verdict = self._verdicts[resource] = self._verdict(resource)
        if verdict is not None:
            return verdict
        target = item_target(resource, notification.row)
        return target is None or authorization.allowed(
            self.identity, resource, "read", target, token_type=self.claims.token_type)

    def _verdict(self, resource: str) -> bool | None:
        if not self.may_read(resource):
            return False
        grants = authorization.grants_of(self.identity, self.claims.token_type)
        return True if unrestricted(grants, resource, "read") else None

    def check(self, filter: Filter) -> None:
        """Refuse (FilterError) a filter that could never show this caller anything."""
        kinds = self.sensor_triggers
        if kinds is not None:
            if filter.kind != "trigger_ref":
                raise FilterError("a sensor token may only subscribe to trigger_ref:<ref> "
                                  "filters")
            if filter.trigger_ref not in kinds:
                raise FilterError(f"this sensor token is not for trigger "
                                  f"{filter.trigger_ref!r} (it is for: "
                                  f"{', '.join(kinds) or 'none'})")
        if filter.kind == "all":
            missing = [r for r in filter.resources if not self.may_read(r)]
            if missing:
                raise FilterError(f"the 'all' filter needs read permission on "
                                  f"{', '.join(filter.resources)}: "
                                  f"{self.identity.login} may not read {', '.join(missing)}")
        elif not any(self.may_read(r) for r in filter.resources):
            who = (f"a {self.claims.token_type} token" if self.claims.token_type != "access"
                   else self.identity.login)
            raise FilterError(f"{who} may not read {' or '.join(filter.resources)}: "
                              f"'{filter.text}' would show nothing")
