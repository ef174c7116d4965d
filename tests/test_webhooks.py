"""Webhooks through HTTP: a trigger's webhook switched on posts its body as an event
with source metadata; every refusal (unknown key, disabled, too large, address not
allowed, bad or missing HMAC, rate limit, not a JSON object, payload not fitting the
out_schema) answers its status and records no event. Keys and HMAC secrets never
appear in plaintext in the stream."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from attune.app.authorization import authorize
from attune.app.identities import Identity
from attune.app.webhook_receiver import RateLimiter
from attune.errors import ForbiddenError, TooManyRequestsError
from tests.api_http import Answer, Api, admin_api, assert_error
from tests.conftest import RunningPlatform, eventually

SECRET = "a-long-shared-hmac-secret"
HOOK = "/api/v1/triggers/core.webhook/webhooks"


async def _count(api: Api, trigger_ref: str) -> int:
    answer = await api.get("/api/v1/events", params={"trigger_ref": trigger_ref,
                                                     "include_total": "true"})
    return int(answer.body["pagination"]["total_items"])


async def _post(api: Api, url: str, body: Any = None, *, raw: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
    data = raw if raw is not None else orjson.dumps(body) if body is not None else None
    return await api.post(url, data=data, token=None,
                          headers={"Content-Type": "application/json", **(headers or {})})


async def _configure(api: Api, **security: Any) -> dict[str, Any]:
    answer = await api.request("PUT", HOOK, json=security)
    assert answer.status == 200, answer.body
    webhook: dict[str, Any] = answer.data["webhook"]
    return webhook


def _sign(body: bytes, algorithm: str = "sha256", secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


async def test_webhook_posts_events_and_refuses_bad_requests(platform: RunningPlatform
                                                             ) -> None:
    async with admin_api(platform) as api:
        shown = (await api.get("/api/v1/triggers/core.webhook")).data["webhook"]
        assert (shown["enabled"], shown["key"], shown["url"]) == (False, None, None)
        assert_error(await api.post("/api/v1/triggers/core.webhook/webhooks/regenerate"),
                     409, "CONFLICT", "disabled", "enable it")

        enabled = await api.post(f"{HOOK}/enable")
        assert enabled.status == 200, enabled.body
        webhook = enabled.data["webhook"]
        key = webhook["key"]
        assert re.fullmatch(r"wh_[A-Za-z0-9]{32}", key)
        assert webhook["enabled"] is True and webhook["url"] == f"/api/v1/webhooks/{key}"
        again = await api.post(f"{HOOK}/enable")
        assert again.data["webhook"]["key"] == key and again.sequence == enabled.sequence
        url = webhook["url"]

        # the body becomes the payload, with where it came from
        payload = {"action": "opened", "number": 7, "labels": ["bug"], "repo": {"id": 1}}
        accepted = await _post(api, url, payload, headers={
            "User-Agent": "GitHub-Hookshot/abc", "X-GitHub-Event": "issues",
            "X-Api-Token": "do-not-keep", "Cookie": "session=do-not-keep"})
        assert accepted.status == 202, accepted.body
        event_id = accepted.data["event_id"]
        assert accepted.data == {"event_id": event_id, "trigger_ref": "core.webhook"}
        assert accepted.sequence == event_id
        event = (await api.get(f"/api/v1/events/{event_id}", headers={
            "X-Attune-After-Sequence": str(event_id)})).data
        assert event["payload"] == payload
        assert (event["trigger_ref"], event["source"], event["source_ref"]) == (
            "core.webhook", "webhook", "core.webhook")
        metadata = event["metadata"]
        assert metadata["ip"] == "127.0.0.1"
        assert metadata["user_agent"] == "GitHub-Hookshot/abc"
        assert metadata["headers"]["x-github-event"] == "issues"
        assert "do-not-keep" not in orjson.dumps(metadata).decode()

        empty = await _post(api, url, raw=b"")
        assert empty.status == 202, empty.body
        first = await _post(api, url, {"n": 1}, headers={"Idempotency-Key": "delivery-1"})
        second = await _post(api, url, {"n": 1}, headers={"Idempotency-Key": "delivery-1"})
        assert first.data["event_id"] == second.data["event_id"]
        recorded = 3

        # refusals: none of them records an event
        assert_error(await _post(api, "/api/v1/webhooks/wh_" + "x" * 32, {}), 404,
                     "NOT_FOUND", "unknown webhook key")
        assert_error(await _post(api, "/api/v1/webhooks/not-a-key", {}), 404, "NOT_FOUND")
        assert_error(await _post(api, url, raw=b'{"a": '), 400, "BAD_REQUEST", "not valid JSON")
        for body, kind in ((b"[1, 2]", "an array"), (b'"text"', "a string"), (b"3", "a number"),
                           (b"null", "null")):
            assert_error(await _post(api, url, raw=body), 422, "VALIDATION_ERROR",
                         "must be a JSON object", kind)
        assert_error(await _post(api, url, raw=b'{"a": "\\u0000"}'), 422, "VALIDATION_ERROR",
                     "NUL")

        # size limit: by Content-Length, and while reading a body sent without one
        webhook = await _configure(api, max_payload_bytes=64)
        assert webhook["security"]["max_payload_bytes"] == 64
        assert_error(await _post(api, url, {"text": "x" * 100}), 413, "PAYLOAD_TOO_LARGE",
                     "at most 64")

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"text": "'
            yield b"x" * 100
            yield b'"}'
        assert_error(await api.post(url, data=chunks(), token=None), 413,
                     "PAYLOAD_TOO_LARGE", "exceeds 64")
        assert (await _post(api, url, {"text": "small"})).status == 202
        recorded += 1
        assert_error(await api.request("PUT", HOOK, json={"max_payload_bytes": 2**30}),
                     422, "VALIDATION_ERROR", "max_payload_bytes")

        # IP allow-list (the peer address)
        assert_error(await api.request("PUT", HOOK, json={"ip_allowlist": ["10.0.0.0/8",
                                                                            "not-a-net"]}),
                     422, "VALIDATION_ERROR", "ip_allowlist[1]", "not-a-net")
        await _configure(api, ip_allowlist=["10.0.0.0/8", "192.0.2.1"])
        assert_error(await _post(api, url, {}, headers={"X-Forwarded-For": "10.1.2.3"}),
                     403, "FORBIDDEN", "127.0.0.1 is not allowed")
        webhook = await _configure(api, ip_allowlist=["127.0.0.0/8"])
        assert webhook["security"]["ip_allowlist"] == ["127.0.0.0/8"]
        assert (await _post(api, url, {"ip": "ok"})).status == 202
        recorded += 1

        # HMAC: missing, wrong, the other algorithm's prefix -> 401; both headers accepted
        assert_error(await api.request("PUT", HOOK, json={"hmac_algorithm": "sha256"}),
                     422, "VALIDATION_ERROR", "hmac_secret", "is required")
        assert_error(await api.request("PUT", HOOK, json={"hmac_secret": SECRET}),
                     422, "VALIDATION_ERROR", "hmac_secret", "needs hmac_algorithm")
        webhook = await _configure(api, hmac_algorithm="sha256", hmac_secret=SECRET)
        assert webhook["security"]["hmac_secret_set"] is True
        body = orjson.dumps({"signed": True})
        assert_error(await _post(api, url, raw=body), 401, "UNAUTHORIZED", "signature missing")
        assert_error(await _post(api, url, raw=body, headers={
            "X-Webhook-Signature": "sha256=" + _sign(body, secret="wrong-secret-0123")}),
            401, "UNAUTHORIZED", "does not match")
        assert_error(await _post(api, url, raw=body + b" ", headers={
            "X-Webhook-Signature": "sha256=" + _sign(body)}), 401, "UNAUTHORIZED")
        assert_error(await _post(api, url, raw=body, headers={
            "X-Webhook-Signature": "sha512=" + _sign(body, "sha512")}),
            401, "UNAUTHORIZED", "expects sha256")
        ok = await _post(api, url, raw=body,
                         headers={"X-Hub-Signature-256": "sha256=" + _sign(body)})
        assert ok.status == 202, ok.body
        ok = await _post(api, url, raw=body, headers={"X-Webhook-Signature": _sign(body)})
        assert ok.status == 202, ok.body
        recorded += 2
        # changing another protection keeps the secret; sha512 works the same way
        await _configure(api, hmac_algorithm="sha512")
        assert_error(await _post(api, url, raw=body, headers={
            "X-Webhook-Signature": "sha256=" + _sign(body)}), 401, "UNAUTHORIZED")
        ok = await _post(api, url, raw=body,
                         headers={"X-Webhook-Signature": "sha512=" + _sign(body, "sha512")})
        assert ok.status == 202, ok.body
        recorded += 1
        await _configure(api)  # all protections off again

        # a new key: the old one is unknown at once; the rate limit counts per key
        regenerated = (await api.post(f"{HOOK}/regenerate")).data["webhook"]
        assert regenerated["key"] != key
        assert_error(await _post(api, url, {}), 404, "NOT_FOUND")
        url = regenerated["url"]
        await _configure(api, rate_limit_per_minute=2)
        assert [(await _post(api, url, {"n": n})).status for n in range(2)] == [202, 202]
        assert_error(await _post(api, url, {"n": 3}), 429, "TOO_MANY_REQUESTS",
                     "2 requests per minute")
        recorded += 2
        await _configure(api)

        # switched off: 403; on again: the same key works
        assert (await api.post(f"{HOOK}/disable")).data["webhook"]["enabled"] is False
        assert_error(await _post(api, url, {}), 403, "FORBIDDEN", "disabled")
        assert (await api.post(f"{HOOK}/enable")).data["webhook"]["key"] == regenerated["key"]
        # the trigger itself disabled: its events are refused
        await api.post("/api/v1/triggers/core.webhook/disable")
        assert_error(await _post(api, url, {}), 409, "CONFLICT", "trigger 'core.webhook' is "
                     "disabled")
        await api.post("/api/v1/triggers/core.webhook/enable")

        last = await _post(api, url, {"last": True})
        assert last.status == 202
        recorded += 1
        await api.get(f"/api/v1/events/{last.data['event_id']}",
                      headers={"X-Attune-After-Sequence": str(last.sequence)})
        assert await _count(api, "core.webhook") == recorded

        # a trigger's out_schema applies to webhook payloads (undeclared fields allowed)
        created = await api.post("/api/v1/triggers", json={
            "ref": "core.alert", "out_schema": {
                "severity": {"type": "string", "required": True,
                             "enum": ["low", "high"]}}})
        assert created.status == 201, created.body
        alert_url = (await api.post("/api/v1/triggers/core.alert/webhooks/enable")
                     ).data["webhook"]["url"]
        refused = await _post(api, alert_url, {"severity": "meh", "host": "db1"})
        assert_error(refused, 422, "VALIDATION_ERROR", "out_schema", "severity: must be one of")
        assert refused.body["details"] == [{"field": "payload.severity",
                                            "message": "severity: must be one of "
                                                       "['low', 'high']"}]
        assert_error(await _post(api, alert_url, {}), 422, "VALIDATION_ERROR",
                     "severity: is required")
        fine = await _post(api, alert_url, {"severity": "high", "host": "db1"})
        assert fine.status == 202, fine.body
        event = (await api.get(f"/api/v1/events/{fine.data['event_id']}", headers={
            "X-Attune-After-Sequence": str(fine.sequence)})).data
        assert event["payload"] == {"severity": "high", "host": "db1"}
        assert await _count(api, "core.alert") == 1

    # invariant 7: neither keys nor the HMAC secret are in the stream in plaintext
    envelopes, _ = await platform.ctx.store.load("trigger", "core.webhook")
    history = b"".join(orjson.dumps(e.event.model_dump(mode="json")) for e in envelopes)
    assert b"webhook_configured" in history and b"webhook_enabled" in history
    for plain in (SECRET, key, regenerated["key"]):
        assert plain.encode() not in history


def test_rate_limit_window_slides_per_key() -> None:
    now = [1000.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limiter.check("a", 2)
    now[0] += 30
    limiter.check("a", 2)
    limiter.check("b", 2)  # another key has its own window
    with pytest.raises(TooManyRequestsError, match="retry in 30 s"):
        limiter.check("a", 2)
    now[0] += 30  # the first request left the window
    limiter.check("a", 2)
    with pytest.raises(TooManyRequestsError):
        limiter.check("a", 2)
    for _ in range(5):
        limiter.check("a", None)  # no limit configured: never refused
    now[0] += 3600
    limiter._sweep(now[0])
    assert limiter._hits == {}


def test_sensor_tokens_carry_only_their_grants() -> None:
    admin = Identity(id=1, login="admin", display_name="A", permission_set_refs=["core.admin"])
    authorize(admin, "events", "create", token_type="sensor")
    for resource, action in (("events", "read"), ("actions", "execute"), ("rules", "create")):
        with pytest.raises(ForbiddenError, match=f"sensor token may not {action}"):
            authorize(admin, resource, action, token_type="sensor")
    authorize(admin, "rules", "create")  # the same identity with an access token


async def test_webhook_to_rule_to_execution(platform: RunningPlatform) -> None:
    """The whole automation path through the public interfaces: a webhook POST becomes
    an event, a rule matches it, and the execution's parameters come from its payload."""
    async with admin_api(platform) as api:
        created = await api.post("/api/v1/rules", json={
            "ref": "core.deploy-notice", "trigger_ref": "core.webhook",
            "action_ref": "core.echo",
            "conditions": [{"field": "ref", "operator": "startswith", "value": "refs/tags/"}],
            "action_params": {"message": "deploying {{ event.payload.ref }} for "
                                         "{{ event.payload.pusher.name }}"}})
        assert created.status in (200, 201), created.body
        url = (await api.post(f"{HOOK}/enable")).data["webhook"]["url"]
        ignored = await _post(api, url, {"ref": "refs/heads/main", "pusher": {"name": "x"}})
        matched = await _post(api, url, {"ref": "refs/tags/v1.2", "pusher": {"name": "ada"}})
        assert ignored.status == matched.status == 202

        async def ran() -> Any:
            page = await api.get("/api/v1/executions",
                                 params={"rule_ref": "core.deploy-notice"})
            items = page.body["items"]
            return items if items and items[0]["status"] == "completed" else None
        [execution] = await eventually(ran, timeout=30)
        assert execution["event_id"] == matched.data["event_id"]
        assert execution["parameters"] == {"message": "deploying refs/tags/v1.2 for ada",
                                           "uppercase": False}
        assert execution["result"]["stdout"] == "deploying refs/tags/v1.2 for ada\n"
        enforcements = await api.get("/api/v1/enforcements",
                                     params={"rule_ref": "core.deploy-notice"})
        assert [e["event_id"] for e in enforcements.body["items"]] == [
            matched.data["event_id"]]
