"""The sensor's notifier connection against a small WebSocket server written here with
the standard library: the handshake (Bearer token), one `trigger_ref:` subscription per
trigger type, rule lifecycle notifications turned into hooks, compact (deferred)
payloads completed from the API, reconnects (after a drop, on `resync`, on token
rotation) resubscribing `since` the last sequence seen, and the URL check."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from attune.sdk.context import _build_sensor_context
from attune.sdk.lifecycle import LifecycleListener, check_notifier_url
from attune.sdk.rules import RuleState
from attune.sdk.sensor import Sensor
from attune.sdk.websocket import WebSocket, WebSocketClosedError, WebSocketError, connect

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def server_frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: never masked."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return head + payload


@dataclass
class Peer:
    """One client connection as the server sees it."""

    sock: socket.socket
    headers: dict[str, str]
    received: list[dict[str, Any]] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(server_frame(0x1, json.dumps(message).encode()))

    def drop(self) -> None:
        # shutdown first: a bare close() does not end a recv() blocked in another thread
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class FakeNotifier:
    def __init__(self, refuse_with: int | None = None) -> None:
        self.refuse_with = refuse_with
        #: Ours reports the stream position in `welcome`; the original does not.
        self.welcome_sequence: int | None = None
        self.peers: list[Peer] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.listener.getsockname()[1]}/ws"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in lines[1:])}
        if self.refuse_with:
            sock.sendall(f"HTTP/1.1 {self.refuse_with} Unauthorized\r\n"
                         "Content-Length: 0\r\n\r\n".encode())
            sock.close()
            return
        accept = base64.b64encode(hashlib.sha1(
            (headers["sec-websocket-key"] + GUID).encode()).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        peer = Peer(sock, headers)
        self.peers.append(peer)
        welcome = {"type": "welcome", "client_id": f"client_{len(self.peers)}",
                   "message": "Connected to Attune Notifier"}
        if self.welcome_sequence is not None:
            welcome["sequence"] = self.welcome_sequence
        peer.send(welcome)
        # The client's frames are masked: the SDK's own reader unmasks them.
        reader = WebSocket(sock, rest)
        try:
            while True:
                frame = reader.recv(None)
                peer.received.append(json.loads(frame))
        except (OSError, ValueError):
            peer.closed.set()

    def stop(self) -> None:
        self.listener.close()
        for peer in self.peers:
            peer.drop()


@pytest.fixture
def notifier() -> Iterator[FakeNotifier]:
    server = FakeNotifier()
    yield server
    server.stop()


def wait_for(probe: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"condition not reached in {timeout} s")


class Recorder(Sensor):
    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(_build_sensor_context(env))
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def on_rule_created(self, rule: RuleState) -> None:
        self.calls.append(("created", rule.rule_ref, dict(rule.trigger_params)))

    def on_rule_disabled(self, rule: RuleState) -> None:
        self.calls.append(("disabled", rule.rule_ref, dict(rule.trigger_params)))


def lifecycle(rule_id: int, event_type: str, seq: int, **payload: Any) -> dict[str, Any]:
    body = {"entity_type": "rule_lifecycle", "entity_id": rule_id, "event_type": event_type,
            "rule_id": rule_id, "rule_ref": f"mypack.r{rule_id}",
            "trigger_ref": "mypack.tick", **payload}
    return {"type": "notification", "notification_type": "rule_lifecycle_changed",
            "entity_type": "rule_lifecycle", "entity_id": rule_id, "user_id": None,
            "payload": body, "timestamp": "2026-11-23T07:00:00Z", "sequence": seq}


def start(sensor: Sensor, **kw: Any) -> LifecycleListener:
    listener = LifecycleListener(sensor, reconnect_delay=0.05, **kw)
    listener.start()
    return listener


def test_subscribes_and_turns_notifications_into_hooks(notifier: FakeNotifier,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", '["mypack.tock", "mypack.tick"]')
    sensor = Recorder({"ATTUNE_SENSOR_REF": "mypack.s", "ATTUNE_API_TOKEN": "sensor-jwt",
                       "ATTUNE_NOTIFIER_WS_URL": notifier.url})
    listener = start(sensor)
    try:
        peer = wait_for(lambda: notifier.peers and len(notifier.peers[0].received) == 2
                        and notifier.peers[0])
        assert peer.headers["authorization"] == "Bearer sensor-jwt"
        assert peer.received == [{"type": "subscribe", "filter": "trigger_ref:mypack.tick"},
                                 {"type": "subscribe", "filter": "trigger_ref:mypack.tock"}]
        peer.send(lifecycle(7, "rule.created", 100, trigger_params={"n": 1}, active=True))
        peer.send({"type": "error", "message": "Invalid filter 'x'"})  # logged, harmless
        peer.sock.sendall(server_frame(0x1, b"not json"))  # logged and skipped
        peer.send(lifecycle(7, "rule.disabled", 101, active=False))
        wait_for(lambda: len(sensor.calls) == 2)
        assert sensor.calls == [("created", "mypack.r7", {"n": 1}),
                                ("disabled", "mypack.r7", {"n": 1})]
        assert listener.last_sequence == 101
    finally:
        listener.stop()


def test_reconnects_resubscribing_since_the_last_sequence(
        notifier: FakeNotifier, monkeypatch: pytest.MonkeyPatch) -> None:
    # no ATTUNE_SENSOR_TRIGGER_TYPES: the trigger types are those of the bootstrap rules
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGERS", json.dumps([
        {"id": 1, "ref": "mypack.r1", "trigger_ref": "mypack.tick"}]))
    sensor = Recorder({"ATTUNE_API_TOKEN": "t", "ATTUNE_NOTIFIER_WS_URL": notifier.url})
    sensor._bootstrap_rules()
    listener = start(sensor)
    try:
        first = wait_for(lambda: notifier.peers and notifier.peers[0].received
                         and notifier.peers[0])
        assert first.received == [{"type": "subscribe", "filter": "trigger_ref:mypack.tick"}]
        first.send(lifecycle(2, "rule.created", 41, trigger_params={}, active=True))
        wait_for(lambda: listener.last_sequence == 41)
        first.drop()  # the notifier went away
        second = wait_for(lambda: len(notifier.peers) == 2 and notifier.peers[1].received
                          and notifier.peers[1])
        assert second.received == [{"type": "subscribe", "filter": "trigger_ref:mypack.tick",
                                    "since": 41}]
        second.send(lifecycle(2, "rule.updated", 42, trigger_params={"v": 2}, active=True))
        # dropped for reading too slowly: subscribe again, on the same connection, from
        # the sequence the notifier names
        second.send({"type": "resync", "sequence": 45, "dropped": 3})
        wait_for(lambda: len(second.received) == 2)
        assert second.received[1] == {"type": "subscribe", "filter": "trigger_ref:mypack.tick",
                                      "since": 45}
        assert len(notifier.peers) == 2
        assert sensor.calls == [("created", "mypack.r1", {}), ("created", "mypack.r2", {}),
                                ("disabled", "mypack.r2", {"v": 2}),
                                ("created", "mypack.r2", {"v": 2})]
    finally:
        listener.stop()


def test_first_since_is_the_welcome_position(notifier: FakeNotifier,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # a change made while the subscription is on its way is read back, not missed
    notifier.welcome_sequence = 17
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "mypack.tick")
    sensor = Recorder({"ATTUNE_API_TOKEN": "t", "ATTUNE_NOTIFIER_WS_URL": notifier.url})
    listener = start(sensor)
    try:
        peer = wait_for(lambda: notifier.peers and notifier.peers[0].received
                        and notifier.peers[0])
        assert peer.received == [{"type": "subscribe", "filter": "trigger_ref:mypack.tick",
                                  "since": 17}]
    finally:
        listener.stop()


def test_bootstrap_position_is_the_first_since(notifier: FakeNotifier,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    notifier.welcome_sequence = 17
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "mypack.tick")
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGERS_SEQUENCE", "12")
    sensor = Recorder({"ATTUNE_API_TOKEN": "t", "ATTUNE_NOTIFIER_WS_URL": notifier.url})
    listener = start(sensor)
    try:
        peer = wait_for(lambda: notifier.peers and notifier.peers[0].received
                        and notifier.peers[0])
        assert peer.received[0]["since"] == 12
    finally:
        listener.stop()


def test_reconnects_with_a_rotated_token(notifier: FakeNotifier, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "mypack.tick")
    state = tmp_path / "token.json"
    state.write_text(json.dumps({"token": "old", "expires_at": time.time() + 3600}))
    sensor = Recorder({"ATTUNE_SENSOR_TOKEN_STATE_PATH": str(state),
                       "ATTUNE_NOTIFIER_WS_URL": notifier.url})
    listener = start(sensor, recv_timeout=0.05)
    try:
        first = wait_for(lambda: notifier.peers and notifier.peers[0])
        assert first.headers["authorization"] == "Bearer old"
        replacement = tmp_path / "token.json.new"
        replacement.write_text(json.dumps({"token": "new",
                                           "expires_at": time.time() + 3600}))
        replacement.replace(state)  # atomically, as the sensor service does
        second = wait_for(lambda: len(notifier.peers) == 2 and notifier.peers[1])
        assert second.headers["authorization"] == "Bearer new"
        wait_for(first.closed.is_set)  # the old connection was closed, not leaked
        # a token about to expire also reconnects (to pick up the one replacing it)
        state.write_text(json.dumps({"token": "new", "expires_at": time.time() + 5}))
        wait_for(lambda: len(notifier.peers) >= 3)
    finally:
        listener.stop()


def test_deferred_payload_is_completed_from_the_api(notifier: FakeNotifier,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "mypack.tick")
    asked: list[tuple[str, str]] = []

    class Rules(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append((self.path, self.headers["Authorization"]))
            body = json.dumps({"data": {"ref": "mypack.r3", "trigger_ref": "mypack.tick",
                                        "trigger_params": {"big": "x" * 10},
                                        "enabled": True}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    api = ThreadingHTTPServer(("127.0.0.1", 0), Rules)
    threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    sensor = Recorder({"ATTUNE_API_TOKEN": "t", "ATTUNE_NOTIFIER_WS_URL": notifier.url,
                       "ATTUNE_API_URL": f"http://127.0.0.1:{api.server_address[1]}"})
    listener = start(sensor)
    try:
        peer = wait_for(lambda: notifier.peers and notifier.peers[0].received
                        and notifier.peers[0])
        peer.send(lifecycle(3, "rule.created", 5, auth_mode="deferred", active=True))
        wait_for(lambda: sensor.calls)
        assert sensor.calls == [("created", "mypack.r3", {"big": "x" * 10})]
        assert asked == [("/api/v1/rules/mypack.r3", "Bearer t")]
    finally:
        listener.stop()
        api.shutdown()
        api.server_close()


def test_stop_interrupts_a_waiting_listener(notifier: FakeNotifier,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "mypack.tick")
    sensor = Recorder({"ATTUNE_API_TOKEN": "t", "ATTUNE_NOTIFIER_WS_URL": notifier.url})
    listener = LifecycleListener(sensor, recv_timeout=60.0)
    listener.start()
    wait_for(listener.subscribed.is_set)
    listener.stop(timeout=10)
    assert not listener._thread.is_alive()


def test_notifier_url_rules() -> None:
    for url in ("ws://localhost:8081/ws", "ws://127.0.0.1/ws", "ws://[::1]:1/ws",
                "wss://notifier.example/ws"):
        check_notifier_url(url, allow_insecure=False)
    check_notifier_url("ws://notifier.example/ws", allow_insecure=True)
    with pytest.raises(RuntimeError, match="Insecure notifier WebSocket URL is not loopback"):
        check_notifier_url("ws://notifier.example/ws", allow_insecure=False)
    with pytest.raises(RuntimeError, match="must be ws:// or wss://"):
        check_notifier_url("http://localhost/ws", allow_insecure=True)


def test_refused_upgrade_reports_the_status() -> None:
    server = FakeNotifier(refuse_with=401)
    try:
        with pytest.raises(WebSocketError) as caught:
            connect(server.url, headers={"Authorization": "Bearer expired"})
        assert caught.value.status == 401
    finally:
        server.stop()


def test_websocket_frames_of_every_length(notifier: FakeNotifier) -> None:
    ws = connect(notifier.url)
    try:
        assert json.loads(ws.recv(10))["type"] == "welcome"
        peer = notifier.peers[0]
        for size in (10, 300, 70_000):  # 7-bit, 16-bit and 64-bit length encodings
            ws.send(json.dumps({"type": "ping", "pad": "x" * size}))
            peer.send({"type": "notification", "pad": "y" * size})
            assert len(json.loads(ws.recv(10))["pad"]) == size
        wait_for(lambda: len(peer.received) == 3)
        assert [len(m["pad"]) for m in peer.received] == [10, 300, 70_000]
        # a server ping is answered and never surfaces as a message
        peer.sock.sendall(server_frame(0x9, b"are you there"))
        peer.send({"type": "after-ping"})
        assert json.loads(ws.recv(10)) == {"type": "after-ping"}
        # a message split into fragments arrives whole
        peer.sock.sendall(struct.pack("!BB", 0x01, 3) + b'{"a' + struct.pack("!BB", 0x80, 4)
                          + b'":1}')
        assert json.loads(ws.recv(10)) == {"a": 1}
        # the notifier closing an expired token's socket: code and reason reach the caller
        peer.sock.sendall(server_frame(0x8, struct.pack("!H", 4401) + b"token expired"))
        with pytest.raises(WebSocketClosedError) as closed:
            ws.recv(10)
        assert (closed.value.code, closed.value.reason) == (4401, "token expired")
    finally:
        ws.close()
