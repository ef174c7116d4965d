"""Webhooks: switch a trigger's webhook on/off, regenerate its key, set its
protections — and the public receiver `POST /api/v1/webhooks/{key}`, where the key
in the path is the credential (no token) and the body becomes an event.

The receiver's checks and their order are in `attune.app.webhook_receiver`; its rate
limit counts per API process.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from attune.api import envelopes
from attune.api.handlers import written
from attune.api.handlers.executions import idempotency_key
from attune.api.handlers.triggers import reader
from attune.api.models import (
    CommandAccepted,
    KeyPath,
    RefPath,
    TriggerOut,
    WebhookAccepted,
    WebhookSecurityRequest,
)
from attune.api.parsing import check_values
from attune.api.routing import PUBLIC, Call, Permission, Route
from attune.app import events, webhook_receiver, webhooks
from attune.errors import BadRequestError, PayloadTooLargeError, ValidationError

#: one per API process: the rate limit is per process (see the module docstring)
LIMITER = webhook_receiver.RateLimiter()
READ_CHUNK = 64 * 1024


async def enable_webhook(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await webhooks.enable(call.ctx, ref, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def disable_webhook(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await webhooks.disable(call.ctx, ref, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def regenerate_webhook(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    seq = await webhooks.regenerate(call.ctx, ref, meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def configure_webhook(call: Call) -> web.Response:
    ref = call.path_as(RefPath).ref
    body = call.body_as(WebhookSecurityRequest)
    seq = await webhooks.configure(
        call.ctx, ref, hmac_algorithm=body.hmac_algorithm, hmac_secret=body.hmac_secret,
        rate_limit_per_minute=body.rate_limit_per_minute,
        max_payload_bytes=body.max_payload_bytes, ip_allowlist=body.ip_allowlist,
        meta=call.meta)
    return await written.component(call, ref, seq, reader(call, ref))


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to exceed `limit`: from
    Content-Length before reading, else while reading — never read unbounded."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"webhook body is {request.content_length} bytes; this "
                                   f"webhook accepts at most {limit}")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"webhook body exceeds {limit} bytes, the limit of "
                                       "this webhook")
        chunks.append(chunk)
    return b"".join(chunks)


def payload_of(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"webhook body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        kind = ("an array" if isinstance(data, list) else "a string" if isinstance(data, str)
                else "null" if data is None else "a boolean" if isinstance(data, bool)
                else "a number")
        raise ValidationError(f"webhook body must be a JSON object (or empty), got {kind}",
                              details=[{"field": "body", "message": "not an object"}])
    check_values(data, "body")
    return data


async def receive_webhook(call: Call) -> web.Response:
    request, ctx = call.request, call.ctx
    hook = await webhook_receiver.find(ctx, call.path_as(KeyPath).key)
    webhook_receiver.check_client(hook, request.remote)
    LIMITER.check(hook.key_sha256, hook.security.rate_limit_per_minute)
    raw = await read_limited(request, webhook_receiver.payload_limit(
        hook, ctx.settings.max_body_bytes))
    webhook_receiver.check_signature(hook, ctx, raw, request.headers)
    event_id = await events.create(
        ctx, hook.trigger_ref, payload_of(raw), source="webhook", source_ref=hook.trigger_ref,
        trigger_instance_id=idempotency_key(request),
        metadata=webhook_receiver.metadata(request.remote, request.headers), meta=call.meta)
    return envelopes.single(WebhookAccepted(event_id=event_id, trigger_ref=hook.trigger_ref),
                            status=202, sequence=event_id)


_UPDATE = Permission("triggers", "update")
_ACCEPTED = {202: CommandAccepted}

ROUTES = [
    Route("POST", "/api/v1/triggers/{ref}/webhooks/enable", enable_webhook,
          "Switch the trigger's webhook on (a new key, or the key it had)", _UPDATE,
          "webhooks", params=RefPath, response=TriggerOut, alternatives=_ACCEPTED,
          command=True),
    Route("POST", "/api/v1/triggers/{ref}/webhooks/disable", disable_webhook,
          "Switch the trigger's webhook off (its key answers 403)", _UPDATE, "webhooks",
          params=RefPath, response=TriggerOut, alternatives=_ACCEPTED, command=True),
    Route("POST", "/api/v1/triggers/{ref}/webhooks/regenerate", regenerate_webhook,
          "Give the webhook a new key; the old one stops working", _UPDATE, "webhooks",
          params=RefPath, response=TriggerOut, alternatives=_ACCEPTED, command=True),
    Route("PUT", "/api/v1/triggers/{ref}/webhooks", configure_webhook,
          "Set the webhook's protections: HMAC, rate limit, size limit, IP allow-list",
          _UPDATE, "webhooks", params=RefPath, body=WebhookSecurityRequest,
          response=TriggerOut, alternatives=_ACCEPTED, command=True),
    Route("POST", "/api/v1/webhooks/{key}", receive_webhook,
          "Post an event to a trigger through its webhook: no token, the key is the "
          "credential (404 unknown key, 403 disabled or address not allowed, 413 too large, "
          "401 bad HMAC signature, 429 rate limit, 422 not a JSON object)", PUBLIC,
          "webhooks", params=KeyPath, response=WebhookAccepted, status=202, command=True),
]
