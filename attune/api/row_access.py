"""Row-level RBAC at the one check point: the object a request names (a ref in its path,
the action an execute request runs) and the items of a list answer are checked
against the constraints of the caller's grants (pack_refs, refs, owner). Routes
declare only `resource:action`; this module knows how each resource's objects show
their ref, pack and owner.

Keys and identities check their own objects in their handlers (their refs are not
`<pack>.<name>`), so they are left out here."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel

from attune.app.authorization import allowed, authorize, grants_of
from attune.app.identities import Identity
from attune.domain.permission import Target, unrestricted
from attune.security.tokens import TokenType

#: resources whose objects are `<pack>.<name>` components (packs are their own pack)
CATALOGUE = frozenset({"packs", "actions", "rules", "triggers", "sensors", "policies",
                       "runtimes"})


def _pack_of(ref: str | None) -> str | None:
    return ref.split(".", 1)[0] if ref else None


def request_target(resource: str, action: str, route_path: str, path: BaseModel | None,
                   body: BaseModel | None) -> Target | None:
    """The object a request is about, when its path or body names one. A `{ref}` is the
    object only on the resource's own paths (`/api/v1/rules/{ref}...`); elsewhere it
    names a parent (`/api/v1/packs/{ref}/rules`), whose items the list filter checks."""
    ref = getattr(path, "ref", None) if path is not None else None
    own = route_path.startswith(f"/api/v1/{resource}/{{ref}}")
    if resource in CATALOGUE and own and isinstance(ref, str):
        return Target(ref=ref, pack_ref=ref if resource == "packs" else _pack_of(ref))
    action_ref = getattr(body, "action_ref", None) if body is not None else None
    if resource == "actions" and action == "execute" and isinstance(action_ref, str):
        return Target(ref=action_ref, pack_ref=_pack_of(action_ref))
    return None


def item_target(resource: str, item: dict[str, Any]) -> Target | None:
    """What constraints see of one list item (None: not narrowed per item)."""
    if resource in CATALOGUE:
        ref = item.get("ref")
        pack = ref if resource == "packs" else (item.get("pack_ref") or _pack_of(ref))
        return Target(ref=ref, pack_ref=pack)
    if resource == "executions":
        ref = item.get("action_ref")
        return Target(ref=ref, pack_ref=_pack_of(ref), owner_id=item.get("requested_by"))
    if resource == "events":
        ref = item.get("trigger_ref")
        return Target(ref=ref, pack_ref=_pack_of(ref))
    if resource == "enforcements":
        ref = item.get("rule_ref")
        return Target(ref=ref, pack_ref=_pack_of(ref))
    return None


def check_request(identity: Identity, resource: str, action: str, route_path: str,
                  path: BaseModel | None, body: BaseModel | None, token_type: TokenType
                  ) -> None:
    target = request_target(resource, action, route_path, path, body)
    if target is not None:
        authorize(identity, resource, action, target, token_type=token_type)


def filter_list(identity: Identity, resource: str, response: web.StreamResponse,
                token_type: TokenType) -> web.StreamResponse:
    """Drop the items of a list answer the caller may not read. Callers whose grants
    are not narrowed (administrators, most roles) pay nothing."""
    if (unrestricted(grants_of(identity, token_type), resource, "read")
            or not isinstance(response, web.Response)
            or not isinstance(response.body, bytes) or response.status != 200):
        return response
    page = orjson.loads(response.body)
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(items, list):
        return response
    kept = []
    for item in items:
        target = item_target(resource, item) if isinstance(item, dict) else None
        if target is None or allowed(identity, resource, "read", target,
                                     token_type=token_type):
            kept.append(item)
    if len(kept) == len(items):
        return response
    page["items"] = kept
    # totals counted before filtering would tell what the caller may not see
    page.get("pagination", {}).pop("total_items", None)
    page.get("pagination", {}).pop("total_pages", None)
    response.body = orjson.dumps(page)
    return response
