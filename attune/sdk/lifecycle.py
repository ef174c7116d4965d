"""Following rule changes live: a thread connects to the notifier WebSocket
(`ATTUNE_NOTIFIER_WS_URL`, `Authorization: Bearer <current token>`), subscribes to
`trigger_ref:<ref>` for each trigger type the sensor serves, and hands every
`rule_lifecycle_changed` payload to the sensor.

* Reconnects after any failure (after `reconnect_delay`), and before the token expires
  or as soon as it was rotated (checked every `recv_timeout`), with the new token.
* Subscribes with `since: <last sequence seen>` so nothing published while it was away
  is lost (the notifier reads it back in order). On a first connection that is the
  position the notifier's `welcome` reports, or `ATTUNE_SENSOR_TRIGGERS_SEQUENCE` when
  the sensor service sets it (the position of the bootstrap rules). A `resync` (we read
  too slowly and some were dropped) subscribes again from the sequence it names.
* A compact payload (`auth_mode: "deferred"`, no `trigger_params`) is completed from
  `GET /api/v1/rules/{ref}`.
* `ws://` only to a loopback host unless `ATTUNE_ALLOW_INSECURE_NOTIFIER_WS` is set.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from attune.sdk.websocket import WebSocket, connect

if TYPE_CHECKING:
    from attune.sdk.sensor import Sensor

RECONNECT_DELAY = 5.0
RECV_TIMEOUT = 5.0


def check_notifier_url(url: str, allow_insecure: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise RuntimeError(f"Notifier WebSocket URL {url!r} must be ws:// or wss:// with a host")
    if parts.scheme == "ws" and not allow_insecure and not _loopback(parts.hostname):
        raise RuntimeError(
            f"Insecure notifier WebSocket URL is not loopback: {url!r}. Use wss:// or set "
            "ATTUNE_ALLOW_INSECURE_NOTIFIER_WS=1.")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LifecycleListener:
    def __init__(self, sensor: Sensor, *, reconnect_delay: float = RECONNECT_DELAY,
                 recv_timeout: float = RECV_TIMEOUT) -> None:
        self.sensor = sensor
        self.reconnect_delay = reconnect_delay
        self.recv_timeout = recv_timeout
        self.last_sequence: int | None = _int(os.environ.get("ATTUNE_SENSOR_TRIGGERS_SEQUENCE"))
        self._ws: WebSocket | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attune-rule-lifecycle",
                                        daemon=True)
        #: Set each time the subscriptions have been sent (tests and callers may wait on it).
        self.subscribed = threading.Event()

    @property
    def log(self) -> Any:
        return self.sensor.logger

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(OSError):  # wakes a recv() blocked in the listener
                ws.sock.shutdown(socket.SHUT_RDWR)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _done(self) -> bool:
        return self._stopping.is_set() or self.sensor.is_shutting_down

    def _run(self) -> None:
        while not self._done():
            refs = self.sensor.managed_trigger_refs()
            if not refs:
                return
            try:
                self._session(refs)
                continue  # left on purpose (token rotated, resync): reconnect at once
            except Exception as exc:
                if self._done():
                    return
                self.log.warning("rule lifecycle connection failed; reconnecting",
                                 extra={"error": str(exc),
                                        "url": self.sensor.context.notifier_ws_url})
            if self._stopping.wait(self.reconnect_delay) or self.sensor.is_shutting_down:
                return

    def _session(self, refs: list[str]) -> None:
        ctx = self.sensor.context
        check_notifier_url(ctx.notifier_ws_url, ctx.allow_insecure_notifier_ws)
        token = ctx.require_token()
        ws = connect(ctx.notifier_ws_url, headers={"Authorization": f"Bearer {token}"})
        self._ws = ws
        try:
            self._greeted(ws)
            self._subscribe(ws, refs, self.last_sequence)
            self.subscribed.set()
            while not self._done():
                try:
                    raw = ws.recv(self.recv_timeout)
                except TimeoutError:
                    if self._should_reconnect(token):
                        self.log.info("reconnecting with the current token")
                        return
                    continue
                self._handle(ws, refs, raw)
        finally:
            self._ws = None
            self.subscribed.clear()
            ws.close()

    def _greeted(self, ws: WebSocket) -> None:
        """Read the `welcome`. Ours carries the stream position: on a first connection
        that is where `since` starts, so a change made while the subscriptions are on
        their way is not missed (the protocol has no acknowledgement to wait for)."""
        try:
            raw = ws.recv(self.recv_timeout)
        except TimeoutError:
            return
        message = _json(raw)
        if message is not None and message.get("type") == "welcome":
            if self.last_sequence is None:
                self.last_sequence = _int(message.get("sequence"))
            return
        self._handle(ws, [], raw)

    def _subscribe(self, ws: WebSocket, refs: list[str], since: int | None) -> None:
        for ref in refs:
            message: dict[str, Any] = {"type": "subscribe", "filter": f"trigger_ref:{ref}"}
            if since is not None:
                message["since"] = since
            ws.send(json.dumps(message))

    def _should_reconnect(self, token: str) -> bool:
        ctx = self.sensor.context
        try:
            state = ctx.current_token_state
        except RuntimeError:
            return False  # the state file is unreadable right now: keep what works
        return state.token != token or state.expires_within(ctx.token_reconnect_window_seconds)

    def _handle(self, ws: WebSocket, refs: list[str], raw: str | bytes) -> None:
        message = _json(raw)
        if message is None:
            self.log.warning("notifier sent a frame that is not a JSON object",
                             extra={"frame": str(raw)[:200]})
            return
        kind = message.get("type")
        if kind == "notification":
            payload = message.get("payload")
            if isinstance(payload, dict):
                self._apply(payload)
            sequence = _int(message.get("sequence"))
            if sequence is not None:
                self.last_sequence = sequence
        elif kind == "resync":
            # We read too slowly and the notifier dropped some: it has sent everything up
            # to `sequence`; subscribing again from there reads the rest back.
            since = _int(message.get("sequence"))
            since = self.last_sequence if since is None else since
            self.log.warning("notifier dropped notifications; reading them back",
                             extra={"since": since})
            self._subscribe(ws, refs, since)
        elif kind == "error":
            self.log.warning("notifier error", extra={"error": message.get("message")})

    def _apply(self, payload: dict[str, Any]) -> None:
        try:
            completed = self._complete_deferred(payload)
            if completed is not None:
                self.sensor.handle_rule_message(completed)
        except Exception:
            self.log.exception("rule lifecycle change failed", extra={"change": payload})

    def _complete_deferred(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A compact payload completed from the API (or from what we know); None when
        it cannot be completed."""
        event_type = str(payload.get("event_type", ""))
        if (payload.get("auth_mode") != "deferred" or "trigger_params" in payload
                or event_type in ("rule.disabled", "rule.deleted")):
            return payload
        rule_id = _int(payload.get("rule_id"))
        ref = payload.get("rule_ref")
        try:
            answer = self.sensor.http_client.get(f"/api/v1/rules/{quote(str(ref), safe='')}")
            data = answer.get("data") if isinstance(answer, dict) else None
            if isinstance(data, dict) and data.get("id") in (None, rule_id):
                return {**payload, "rule_ref": data.get("ref", ref),
                        "trigger_ref": data.get("trigger_ref", payload.get("trigger_ref")),
                        "trigger_params": data.get("trigger_params") or {},
                        "active": bool(data.get("enabled", True))}
        except Exception as exc:
            self.log.warning("could not load deferred rule", extra={"rule_ref": ref,
                                                                    "error": str(exc)})
        known = self.sensor.rule(rule_id) if rule_id is not None else None
        if known is None:
            return None
        return {**payload, "trigger_params": known.trigger_params}


def _json(raw: str | bytes) -> dict[str, Any] | None:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
