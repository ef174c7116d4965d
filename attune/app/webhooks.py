"""A trigger's webhook: switched on with a key (`wh_` + 32 random characters), off,
its key regenerated, its protections configured. The webhook is part of the trigger
aggregate (its events are on the trigger's subject), so every change states the
trigger's version and loses no race.

Keys and HMAC secrets are sealed before they are appended (invariant 7); requests
are looked up by the key's SHA-256 (the `webhooks` read model).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from attune.app.components import build
from attune.app.context import Context
from attune.domain.events import Event
from attune.domain.trigger import (
    WEBHOOK_KEY_PREFIX,
    TriggerDefined,
    TriggerDeleted,
    WebhookConfigured,
    WebhookDisabled,
    WebhookEnabled,
    WebhookSecurity,
)
from attune.errors import ConcurrencyError, ConflictError, NotFoundError, ValidationError
from attune.eventstore.envelope import Meta

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 32
MAX_ATTEMPTS = 5
WEBHOOK_PATH = "/api/v1/webhooks/{key}"


def new_key() -> str:
    return WEBHOOK_KEY_PREFIX + "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def path_of(key: str) -> str:
    return WEBHOOK_PATH.format(key=key)


@dataclass(frozen=True)
class WebhookState:
    """The webhook part of a trigger's history (the catalogue fold ignores it)."""

    exists: bool = False  # the trigger
    enabled: bool = False
    key: dict[str, str] | None = None
    key_sha256: str | None = None
    security: WebhookSecurity = field(default_factory=WebhookSecurity)


def fold(events: Sequence[Event]) -> WebhookState:
    state = WebhookState()
    for event in events:
        match event:
            case TriggerDefined():
                state = state if state.exists else WebhookState(exists=True)
            case TriggerDeleted():
                state = WebhookState()  # a trigger defined again starts without a webhook
            case WebhookEnabled():
                state = WebhookState(exists=state.exists, enabled=True, key=event.key,
                                     key_sha256=event.key_sha256, security=state.security)
            case WebhookDisabled():
                state = WebhookState(exists=state.exists, enabled=False, key=state.key,
                                     key_sha256=state.key_sha256, security=state.security)
            case WebhookConfigured():
                state = WebhookState(exists=state.exists, enabled=state.enabled, key=state.key,
                                     key_sha256=state.key_sha256, security=event.security)
    return state


async def _change(ctx: Context, ref: str, decide: Any, *, meta: Meta) -> tuple[WebhookState, int]:
    """Load the trigger, `decide(state) -> [events]`, append them at its version."""
    for attempt in range(MAX_ATTEMPTS):
        envelopes, version = await ctx.store.load("trigger", ref)
        state = fold([e.event for e in envelopes])
        if not state.exists:
            raise NotFoundError(f"trigger {ref!r} not found: GET /api/v1/triggers lists them")
        events: list[Event] = decide(state)
        try:
            for event in events:
                # a random id: the version check (not de-duplication) settles races
                version = await ctx.store.append(ref, event, expected_version=version,
                                                 msg_id=uuid4().hex, meta=meta)
        except ConcurrencyError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            continue
        return fold([*(e.event for e in envelopes), *events]), version
    raise AssertionError("unreachable")


def _enabled_event(ctx: Context, key: str, *, regenerated: bool) -> WebhookEnabled:
    return WebhookEnabled(at=ctx.clock(), key=ctx.sealer.seal(key), key_sha256=key_digest(key),
                          regenerated=regenerated)


async def enable(ctx: Context, ref: str, *, meta: Meta) -> int:
    """Switch the webhook on; a webhook switched off before gets its old key back (so
    callers' URLs keep working). Idempotent."""
    def decide(state: WebhookState) -> list[Event]:
        if state.enabled:
            return []
        if state.key is not None and state.key_sha256 is not None:
            return [WebhookEnabled(at=ctx.clock(), key=state.key, key_sha256=state.key_sha256)]
        return [_enabled_event(ctx, new_key(), regenerated=False)]
    return (await _change(ctx, ref, decide, meta=meta))[1]


async def disable(ctx: Context, ref: str, *, meta: Meta) -> int:
    def decide(state: WebhookState) -> list[Event]:
        return [WebhookDisabled(at=ctx.clock())] if state.enabled else []
    return (await _change(ctx, ref, decide, meta=meta))[1]


async def regenerate(ctx: Context, ref: str, *, meta: Meta) -> int:
    """A new key; the old one stops working at once."""
    def decide(state: WebhookState) -> list[Event]:
        if not state.enabled:
            raise ConflictError(f"the webhook of trigger {ref!r} is disabled: enable it "
                                f"(POST /api/v1/triggers/{ref}/webhooks/enable) first")
        return [_enabled_event(ctx, new_key(), regenerated=True)]
    return (await _change(ctx, ref, decide, meta=meta))[1]


def _invalid(field_name: str, message: str) -> ValidationError:
    return ValidationError(f"{field_name}: {message}",
                           details=[{"field": field_name, "message": message}])


def check_allowlist(entries: Sequence[str]) -> list[str]:
    """CIDRs (or single addresses) in their normal form; 422 naming a bad entry."""
    out: list[str] = []
    for i, entry in enumerate(entries):
        try:
            out.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise _invalid(f"ip_allowlist[{i}]", f"{entry!r} is not an IP address or CIDR "
                           "(e.g. 192.0.2.0/24 or 2001:db8::/32)") from None
    return out


async def configure(ctx: Context, ref: str, *, hmac_algorithm: str | None,
                    hmac_secret: str | None, rate_limit_per_minute: int | None,
                    max_payload_bytes: int | None, ip_allowlist: Sequence[str],
                    meta: Meta) -> int:
    """Replace the webhook's protections. The HMAC secret is sealed; left out, the
    current one is kept (it cannot be read back), so a change of another field needs
    not repeat it."""
    if hmac_secret is not None and hmac_algorithm is None:
        raise _invalid("hmac_secret", "needs hmac_algorithm (sha256 or sha512)")
    if max_payload_bytes is not None and max_payload_bytes > ctx.settings.max_body_bytes:
        raise _invalid("max_payload_bytes", f"at most {ctx.settings.max_body_bytes} (the "
                       "API's request body limit)")
    allowlist = check_allowlist(ip_allowlist)

    def decide(state: WebhookState) -> list[Event]:
        secret = (ctx.sealer.seal(hmac_secret) if hmac_secret is not None
                  else state.security.hmac_secret if hmac_algorithm else None)
        if hmac_algorithm and secret is None:
            raise _invalid("hmac_secret", "is required with hmac_algorithm (the webhook "
                           "has no secret yet)")
        values: dict[str, Any] = {"hmac_algorithm": hmac_algorithm, "hmac_secret": secret,
                                  "rate_limit_per_minute": rate_limit_per_minute,
                                  "ip_allowlist": allowlist}
        if max_payload_bytes is not None:
            values["max_payload_bytes"] = max_payload_bytes
        security = build(WebhookSecurity, values)
        if security == state.security:
            return []
        return [WebhookConfigured(at=ctx.clock(), security=security)]
    return (await _change(ctx, ref, decide, meta=meta))[1]
