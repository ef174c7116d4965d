"""The checks a webhook request passes before its body becomes an event, in the order
the receiver applies them (cheapest and least revealing first):

    key known (404) -> webhook enabled (403) -> client address allowed (403)
    -> under the rate limit (429) -> body within the size limit (413)
    -> HMAC signature (401) -> JSON object (400/422) -> out_schema (422)

The rate limit is a sliding window per key *in this API process*: with several API
processes behind a load balancer each admits up to the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from attune.app.context import Context
from attune.app.webhooks import key_digest
from attune.domain.trigger import WEBHOOK_KEY_PREFIX, WebhookSecurity
from attune.errors import (
    ForbiddenError,
    NotFoundError,
    TooManyRequestsError,
    UnauthorizedError,
)

SIGNATURE_HEADERS = ("X-Webhook-Signature", "X-Hub-Signature-256")
#: request headers kept in the event's metadata: none that could carry a credential
KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Request-Id", "X-Forwarded-For",
                "X-Real-Ip", "X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID",
                "X-Gitlab-Event", "X-Gitlab-Event-UUID", "X-Event-Key", "X-Hook-UUID",
                "X-Request-UUID", "X-Attune-Source")
MAX_KEY_LENGTH = 128
MAX_HEADER_VALUE = 512


@dataclass(frozen=True)
class Hook:
    trigger_ref: str
    key_sha256: str
    security: WebhookSecurity


async def find(ctx: Context, key: str) -> Hook:
    """The enabled webhook of `key`: 404 for an unknown key, 403 when switched off."""
    if not key.startswith(WEBHOOK_KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        raise NotFoundError("unknown webhook key")
    digest = key_digest(key)
    row = await ctx.pool.fetchrow(
        "SELECT trigger_ref, enabled, security FROM webhooks WHERE key_sha256 = $1", digest)
    if row is None:
        raise NotFoundError("unknown webhook key (was it regenerated?)")
    if not row["enabled"]:
        raise ForbiddenError(f"the webhook of trigger {row['trigger_ref']!r} is disabled")
    return Hook(trigger_ref=row["trigger_ref"], key_sha256=digest,
                security=WebhookSecurity.model_validate(row["security"] or {}))


def check_client(hook: Hook, remote: str | None) -> None:
    """The peer address (not X-Forwarded-For, which any client can write) must be in
    the allow-list when there is one."""
    allowlist = hook.security.ip_allowlist
    if not allowlist:
        return
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        raise ForbiddenError("client address unknown: this webhook only accepts listed "
                             "addresses") from None
    if not any(address in ipaddress.ip_network(net, strict=False) for net in allowlist):
        raise ForbiddenError(f"client address {address} is not allowed to post to this "
                             "webhook")


class RateLimiter:
    """Sliding one-minute windows per key, in memory (one per API process)."""

    WINDOW = 60.0
    SWEEP_EVERY = 1000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._calls = 0

    def check(self, key: str, limit: int | None) -> None:
        if limit is None:
            return
        now = self.clock()
        self._calls += 1
        if self._calls % self.SWEEP_EVERY == 0:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.WINDOW:
            hits.popleft()
        if len(hits) >= limit:
            wait = math.ceil(hits[0] + self.WINDOW - now)
            raise TooManyRequestsError(f"rate limit of this webhook reached ({limit} requests "
                                       f"per minute): retry in {max(wait, 1)} s")
        hits.append(now)

    def _sweep(self, now: float) -> None:
        """Forget keys without a request in the last window (memory stays bounded)."""
        for key in [k for k, hits in self._hits.items() if not hits or
                    hits[-1] <= now - self.WINDOW]:
            del self._hits[key]


def check_signature(hook: Hook, ctx: Context, body: bytes, headers: Mapping[str, str]) -> None:
    """HMAC of the raw body, hex, in X-Webhook-Signature or X-Hub-Signature-256
    (`sha256=<hex>` or the bare hex), compared in constant time."""
    algorithm = hook.security.hmac_algorithm
    if algorithm is None or hook.security.hmac_secret is None:
        return
    sent = next((headers[h] for h in SIGNATURE_HEADERS if h in headers), None)
    if not sent:
        raise UnauthorizedError(f"signature missing: send the HMAC-{algorithm.upper()} of the "
                                f"body as 'X-Webhook-Signature: {algorithm}=<hex>'")
    named, sep, digest = sent.strip().partition("=")
    if not sep:
        named, digest = algorithm, named
    if named.lower() != algorithm:
        raise UnauthorizedError(f"signature uses {named!r}: this webhook expects {algorithm}")
    secret = str(ctx.sealer.open(hook.security.hmac_secret))
    expected = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    if not hmac.compare_digest(expected.encode(), digest.strip().lower().encode()):
        raise UnauthorizedError("signature does not match the body")


def metadata(remote: str | None, headers: Mapping[str, str]) -> dict[str, object]:
    kept = {name.lower(): headers[name][:MAX_HEADER_VALUE] for name in KEPT_HEADERS
            if name in headers}
    return {"ip": remote, "user_agent": headers.get("User-Agent"), "headers": kept}


def payload_limit(hook: Hook, server_limit: int) -> int:
    return min(hook.security.max_payload_bytes, server_limit)
