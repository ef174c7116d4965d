"""Policies defined through the API. Refused when created or changed, with a message
naming the field:

- the ref is `<pack>.<name>` of a registered pack; exactly one target (`action_ref` or
  `pack_ref`) that exists (404 naming which); concurrency and/or rate_limit,
- every concurrency `parameters` name is a parameter the target action declares (a
  group over an undeclared parameter would silently put every execution in one group).

Pack policies are changed through their pack (409, `attune.domain.catalog.decide`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attune.app import catalog, components
from attune.app.context import Context
from attune.app.executions import load_action
from attune.domain.policy import POLICY, PolicyDef
from attune.errors import NotFoundError, ValidationError
from attune.eventstore.envelope import Meta


def _targeted(values: Mapping[str, Any]) -> dict[str, Any]:
    """The API's `pack_ref` (the target) as the definition's `target_pack_ref`; setting
    one target clears the other, so an update can move a policy."""
    out = dict(values)
    if "pack_ref" in out:
        out["target_pack_ref"] = out.pop("pack_ref")
        if out["target_pack_ref"] is not None and "action_ref" not in out:
            out["action_ref"] = None
    if out.get("action_ref") is not None and "target_pack_ref" not in out:
        out["target_pack_ref"] = None
    return out


async def check(ctx: Context, policy: PolicyDef) -> PolicyDef:
    if policy.action_ref is not None:
        try:
            action, _ = await load_action(ctx, policy.action_ref)
        except NotFoundError:
            raise NotFoundError(f"action_ref: action {policy.action_ref!r} not found: GET "
                                "/api/v1/actions lists the actions",
                                details=[{"field": "action_ref", "message": "not found"}]
                                ) from None
        unknown = [name for name in (policy.concurrency.parameters if policy.concurrency
                                     else []) if name not in action.parameters]
        if unknown:
            declared = ", ".join(sorted(action.parameters)) or "none"
            message = (f"concurrency.parameters: {', '.join(map(repr, unknown))} not a "
                       f"parameter of action {policy.action_ref!r} (it declares: {declared})")
            raise ValidationError(message, details=[
                {"field": "concurrency.parameters", "message": message}])
    elif policy.target_pack_ref is not None and await ctx.pool.fetchval(
            "SELECT 1 FROM packs WHERE ref = $1", policy.target_pack_ref) is None:
        raise NotFoundError(f"pack_ref: pack {policy.target_pack_ref!r} not found: GET "
                            "/api/v1/packs lists the packs",
                            details=[{"field": "pack_ref", "message": "not found"}])
    return policy


def _shaped(policy: PolicyDef | None, values: Mapping[str, Any]) -> None:
    """The whole-policy rules (one target; some limit), said with the API's names
    before the model's own, field-less, message would."""
    merged = {**(policy.model_dump() if policy else {}), **values}
    if (merged.get("action_ref") is None) == (merged.get("target_pack_ref") is None):
        message = ("action_ref/pack_ref: give exactly one target: action_ref (one action) "
                   "or pack_ref (every action of a pack)")
        raise ValidationError(message, details=[{"field": "action_ref", "message": message}])
    if merged.get("concurrency") is None and merged.get("rate_limit") is None:
        message = ("concurrency/rate_limit: a policy needs concurrency {limit, method, "
                   "parameters} or rate_limit {max_executions, window_seconds} (or both)")
        raise ValidationError(message, details=[{"field": "concurrency", "message": message}])


async def create(ctx: Context, values: Mapping[str, Any], *, meta: Meta) -> int:
    """`values` are the API's fields: `pack_ref` is the target pack; the owning pack
    comes from the ref."""
    ref = str(values["ref"])
    owner = await components.pack_of(ctx, POLICY, ref)
    fields = {"label": ref.partition(".")[2], **_targeted(values), "pack_ref": owner}
    _shaped(None, fields)
    policy = await check(ctx, components.build(PolicyDef, fields))
    return await components.create(ctx, POLICY, policy, meta=meta)


async def update(ctx: Context, ref: str, changes: Mapping[str, Any], *, meta: Meta) -> int:
    changed = _targeted(changes)
    state, _ = await catalog.load(ctx, POLICY, ref)
    if state is not None:  # (unknown: components.update says 404)
        _shaped(state.definition, changed)

    async def checked(policy: PolicyDef) -> PolicyDef:
        return await check(ctx, policy)
    return await components.update(ctx, POLICY, ref, changed, checked, meta=meta)


async def delete(ctx: Context, ref: str, *, meta: Meta) -> int:
    return await components.delete(ctx, POLICY, ref, meta=meta)


async def set_enabled(ctx: Context, ref: str, enabled: bool, *, meta: Meta) -> int:
    return await components.set_enabled(ctx, POLICY, ref, enabled, meta=meta)
