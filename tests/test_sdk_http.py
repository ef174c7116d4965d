"""The SDK's HTTP side against a tiny standard-library HTTP server in the test: the
requests the API client and the artifact helpers send (method, path, headers, JSON
body) and how they treat answers. The artifact endpoints are not served by the real
API yet, so their request shapes are checked here, as sdk-contract.md §3 gives them."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from attune.sdk import artifacts
from attune.sdk.api_client import ApiError, AuthenticatedClient, Client, TransportError
from attune.sdk.api_client.api import events, packs, rules
from attune.sdk.client import AttuneClient
from attune.sdk.context import ActionContext, _build_sensor_context
from attune.sdk.polling import AsyncPollingSensor
from attune.sdk.rules import RuleState
from attune.sdk.sensor import Sensor

Answer = tuple[int, Any]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeApi:
    """Answers from `routes[(method, path)]` (an answer or a function of the request);
    404 otherwise. Every request is recorded in `seen`."""

    url: str = ""
    routes: dict[tuple[str, str], Answer | Callable[[Seen], Answer]] = field(
        default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        seen = Seen(method, path, headers, json.loads(raw) if raw else None)
        self.seen.append(seen)
        route = self.routes.get((method, path))
        if route is None:
            return 404, {"code": "NOT_FOUND", "message": f"no route {method} {path}"}
        return route(seen) if callable(route) else route


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body = fake.answer(self.command, self.path,
                                       {k.lower(): v for k, v in self.headers.items()}, raw)
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


# -- the API client ------------------------------------------------------------------------

def test_authenticated_client_sends_bearer_json_and_query(api: FakeApi) -> None:
    api.routes[("POST", "/api/v1/things")] = (201, {"data": {"id": 7}})
    api.routes[("GET", "/api/v1/things?enabled=true&tag=a&tag=b&page=2")] = (
        200, {"items": [], "pagination": {"page": 2}})
    client = AuthenticatedClient(api.url + "/", "tok-1")
    assert client.post("/api/v1/things", json={"name": "x", "n": 1}) == {"data": {"id": 7}}
    page = client.get("/api/v1/things", params={"enabled": True, "tag": ["a", "b"],
                                                "page": 2, "skip": None})
    assert page["pagination"] == {"page": 2}
    post, get = api.seen
    assert post.headers["authorization"] == "Bearer tok-1"
    assert post.headers["content-type"] == "application/json"
    assert post.body == {"name": "x", "n": 1}
    assert get.body is None and get.headers["accept"] == "application/json"


def test_error_status_raises_api_error_with_the_message(api: FakeApi) -> None:
    api.routes[("DELETE", "/api/v1/things/1")] = (409, {"code": "CONFLICT",
                                                        "message": "still in use"})
    with pytest.raises(ApiError) as caught:
        Client(api.url).delete("/api/v1/things/1")
    assert caught.value.status == 409
    assert caught.value.message == "still in use"
    assert "DELETE" in str(caught.value) and "409" in str(caught.value)


def test_unreachable_api_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match=r"GET http://127\.0\.0\.1:9/x failed"):
        Client("http://127.0.0.1:9", timeout=2).get("/x")


def test_delete_without_body_returns_none(api: FakeApi) -> None:
    api.routes[("DELETE", "/api/v1/things/2")] = (204, None)
    assert AttuneClient(api_url=api.url, api_token="t").delete("/api/v1/things/2") is None


def test_attune_client_defaults_from_environment(monkeypatch: pytest.MonkeyPatch,
                                                 api: FakeApi) -> None:
    monkeypatch.setenv("ATTUNE_API_URL", api.url + "/")
    monkeypatch.setenv("ATTUNE_API_TOKEN", "env-token")
    client = AttuneClient()
    assert client.api_url == api.url
    assert isinstance(client.api_client, AuthenticatedClient)
    monkeypatch.delenv("ATTUNE_API_TOKEN")
    anonymous = AttuneClient()
    assert type(anonymous.api_client) is Client
    api.routes[("GET", "/health")] = (200, {"status": "ok"})
    assert anonymous.get("/health") == {"status": "ok"}
    assert "authorization" not in api.seen[-1].headers


def test_endpoints_sync_detailed_and_async(api: FakeApi) -> None:
    api.routes[("GET", "/api/v1/packs")] = (200, {"items": [{"ref": "core"}]})
    api.routes[("GET", "/api/v1/rules/my%2Fodd.rule")] = (200, {"data": {"ref": "x"}})
    api.routes[("POST", "/api/v1/events")] = (201, {"data": {"id": 5}})
    client = AuthenticatedClient(api.url, "tok")
    assert packs.list_packs.sync(client=client) == {"items": [{"ref": "core"}]}
    detailed = rules.get_rule.sync_detailed("my/odd.rule", client=client)
    assert detailed.status_code == 200 and detailed.parsed == {"data": {"ref": "x"}}
    assert detailed.headers["content-type"] == "application/json"
    # an error status gives None (the generated client's way) ...
    assert packs.get_pack.sync(ref="nothing", client=client) is None
    # ... or raises when the client asks for it
    strict = AuthenticatedClient(api.url, "tok", raise_on_unexpected_status=True)
    with pytest.raises(ApiError):
        packs.get_pack.sync("nothing", client=strict)

    async def both() -> tuple[Any, Any]:
        return await asyncio.gather(
            events.create_event.asyncio(client=client, body={"trigger_ref": "p.t"}),
            packs.list_packs.asyncio_detailed(client=client, page=1))

    api.routes[("GET", "/api/v1/packs?page=1")] = (200, {"items": []})
    created, listed = asyncio.run(both())
    assert created == {"data": {"id": 5}}
    assert listed.status_code == 200 and listed.parsed == {"items": []}
    with pytest.raises(TypeError, match="missing path argument 'ref'"):
        rules.get_rule.sync(client=client)


def test_async_client_methods(api: FakeApi) -> None:
    api.routes[("PUT", "/api/v1/things/3")] = (200, {"data": {"ok": True}})
    client = AttuneClient(api_url=api.url, api_token="t")
    assert asyncio.run(client.aput("/api/v1/things/3", json={"a": 1})) == {
        "data": {"ok": True}}
    assert api.seen[-1].body == {"a": 1}


# -- artifact helpers -----------------------------------------------------------------------

def action_ctx(api: FakeApi, tmp_path: Path, **changes: Any) -> ActionContext:
    values: dict[str, Any] = {
        "action_ref": "mypack.build", "pack_ref": "mypack", "execution_id": "42",
        "api_url": api.url, "api_token": "exec-token", "artifacts_dir": tmp_path / "art"}
    values.update(changes)
    return ActionContext(**values)


VERSION = {"id": 301, "artifact": 12, "version": 3, "file_path": "mypack/build/log/v3.txt",
           "content_type": "text/plain", "created_by": "mypack.build", "execution": 42,
           "meta": None, "size_bytes": None}


def test_allocate_file_version_request_and_local_path(api: FakeApi, tmp_path: Path) -> None:
    path = "/api/v1/artifacts/ref/mypack.build%2Flog/versions/file"
    api.routes[("POST", path)] = (201, {"data": VERSION})
    allocation = artifacts.allocate_file_version(
        "mypack.build/log", name="Execution Log", content_type="text/plain",
        retention_policy="versions", retention_limit=10, context=action_ctx(api, tmp_path))
    sent = api.seen[-1]
    assert sent.headers["authorization"] == "Bearer exec-token"
    assert sent.body == {"scope": "action", "owner": "mypack.build", "type": "file_text",
                         "visibility": "private", "retention_policy": "versions",
                         "retention_limit": 10, "name": "Execution Log", "execution": 42,
                         "content_type": "text/plain", "created_by": "mypack.build"}
    assert (allocation.artifact_id, allocation.version_id, allocation.version) == (12, 301, 3)
    expected = (tmp_path / "art" / "mypack/build/log/v3.txt").resolve()
    assert allocation.absolute_path == expected and expected.parent.is_dir()
    allocation.write_text("hello\n")
    assert expected.read_text() == "hello\n"
    assert allocation.raw_version == VERSION


def test_allocate_file_version_refuses_a_path_outside_the_volume(api: FakeApi,
                                                                 tmp_path: Path) -> None:
    api.routes[("POST", "/api/v1/artifacts/ref/x/versions/file")] = (
        201, {"data": {**VERSION, "file_path": "../../etc/passwd"}})
    with pytest.raises(artifacts.ArtifactHelperError, match="escapes ATTUNE_ARTIFACTS_DIR"):
        artifacts.allocate_file_version("x", context=action_ctx(api, tmp_path))


@pytest.mark.parametrize(("changes", "message"), [
    ({"action_ref": ""}, "ATTUNE_ACTION is not set"),
    ({"artifacts_dir": None}, "ATTUNE_ARTIFACTS_DIR is not set"),
    ({"api_token": None}, "ATTUNE_API_TOKEN is not set"),
    ({"execution_id": "abc"}, "ATTUNE_EXEC_ID must be an integer"),
])
def test_allocate_file_version_preconditions(api: FakeApi, tmp_path: Path,
                                             changes: dict[str, Any], message: str) -> None:
    with pytest.raises(artifacts.ArtifactHelperError, match=message):
        artifacts.allocate_file_version("x", context=action_ctx(api, tmp_path, **changes))
    assert api.seen == []


def test_allocate_file_version_api_failure_is_explained(api: FakeApi, tmp_path: Path) -> None:
    api.routes[("POST", "/api/v1/artifacts/ref/x/versions/file")] = (
        403, {"message": "not allowed"})
    with pytest.raises(artifacts.ArtifactHelperError,
                       match="Failed while allocating a file version of artifact 'x': 403"):
        artifacts.allocate_file_version("x", context=action_ctx(api, tmp_path))


PROGRESS = {"id": 77, "ref": "mypack.progress", "type": "progress",
            "content_type": "application/json", "name": None, "description": None,
            "data": []}


def test_create_progress_and_append(api: FakeApi, tmp_path: Path) -> None:
    api.routes[("POST", "/api/v1/artifacts")] = (201, {"data": PROGRESS})

    def append(seen: Seen) -> Answer:
        return 200, {"data": {**PROGRESS, "data": [seen.body["entry"]]}}

    api.routes[("POST", "/api/v1/artifacts/77/progress")] = append
    progress = artifacts.create_progress("mypack.progress", context=action_ctx(api, tmp_path))
    assert api.seen[0].body == {"ref": "mypack.progress", "scope": "action",
                                "owner": "mypack.build", "type": "progress",
                                "visibility": "private", "content_type": "application/json"}
    assert progress.append({"message": "started", "percent": 10}) is progress
    assert api.seen[1].body == {"entry": {"message": "started", "percent": 10}}
    assert progress.data == [{"message": "started", "percent": 10}]


def test_create_progress_reuses_the_existing_artifact(api: FakeApi, tmp_path: Path) -> None:
    api.routes[("POST", "/api/v1/artifacts")] = (409, {"message": "exists"})
    api.routes[("GET", "/api/v1/artifacts/ref/mypack.progress")] = (200, {"data": PROGRESS})
    ctx = action_ctx(api, tmp_path)
    assert artifacts.create_progress("mypack.progress", context=ctx).artifact_id == 77
    with pytest.raises(artifacts.ArtifactHelperError, match=r"creating progress .* 409"):
        artifacts.create_progress("mypack.progress", reuse_existing=False, context=ctx)


def test_create_progress_refuses_another_type(api: FakeApi, tmp_path: Path) -> None:
    api.routes[("POST", "/api/v1/artifacts")] = (409, {"message": "exists"})
    api.routes[("GET", "/api/v1/artifacts/ref/r")] = (200, {"data": {**PROGRESS,
                                                                     "type": "file_text"}})
    with pytest.raises(artifacts.ArtifactHelperError, match="not 'progress'"):
        artifacts.create_progress("r", context=action_ctx(api, tmp_path))


def test_helpers_take_any_client_with_get_and_post(tmp_path: Path) -> None:
    calls: list[tuple[str, Any]] = []

    class Recorder:
        def get(self, path: str, *, params: Any = None) -> Any:
            raise AssertionError("not expected")

        def post(self, path: str, *, json: Any = None) -> Any:
            calls.append((path, json))
            return {"data": PROGRESS}

    ctx = ActionContext(action_ref="p.a")  # no token needed with a client of one's own
    progress = artifacts.create_progress("p.prog", client=Recorder(), context=ctx)
    assert progress.artifact_id == 77 and calls[0][0] == "/api/v1/artifacts"


# -- Sensor.emit: the request -----------------------------------------------------------------

def emitting_sensor(api: FakeApi) -> Sensor:
    return Sensor(_build_sensor_context({"ATTUNE_SENSOR_REF": "mypack.watcher",
                                         "ATTUNE_API_URL": api.url,
                                         "ATTUNE_API_TOKEN": "sensor-jwt"}))


def test_emit_request_shapes(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    api.routes[("POST", "/api/v1/events")] = (201, {"data": {"id": 1099511627776}})
    sensor = emitting_sensor(api)
    rule = RuleState(17, "mypack.r17", "mypack.tick", {"interval": 5})
    assert sensor.emit({"temp": 101}, rule=rule) == 1099511627776
    sensor.emit({"a": 1}, rule=rule, target_rule=False)
    sensor.emit({"b": 2}, rule=rule, trigger_ref="mypack.other", instance_id="x-1")
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "mypack.tick")
    sensor.emit({"c": 3})  # the sensor's only trigger type
    monkeypatch.setenv("ATTUNE_SENSOR_TRIGGER_TYPES", "mypack.tick,mypack.tock")
    sensor.emit({"d": 4})  # several: the sensor ref, as the original does
    assert [seen.body for seen in api.seen] == [
        {"trigger_ref": "mypack.tick", "payload": {"temp": 101}, "rule_ref": "mypack.r17"},
        {"trigger_ref": "mypack.tick", "payload": {"a": 1}},
        {"trigger_ref": "mypack.other", "payload": {"b": 2}, "rule_ref": "mypack.r17",
         "trigger_instance_id": "x-1"},
        {"trigger_ref": "mypack.tick", "payload": {"c": 3}},
        {"trigger_ref": "mypack.watcher", "payload": {"d": 4}}]
    assert {seen.headers["authorization"] for seen in api.seen} == {"Bearer sensor-jwt"}


def test_emit_retries_unavailable_api_but_not_refusals(api: FakeApi) -> None:
    answers = iter([(503, {"message": "busy"}), (201, {"data": {"id": 9}}),
                    (403, {"message": "not your trigger"})])
    api.routes[("POST", "/api/v1/events")] = lambda _seen: next(answers)
    sensor = emitting_sensor(api)
    assert sensor.emit({"n": 1}, trigger_ref="mypack.tick") == 9
    assert len(api.seen) == 2
    assert sensor.emit({"n": 2}, trigger_ref="mypack.tick") is None
    assert len(api.seen) == 3  # a 4xx is final


def test_async_emit(api: FakeApi) -> None:
    api.routes[("POST", "/api/v1/events")] = (202, {"data": {"id": 3, "accepted": True}})

    class Async(AsyncPollingSensor):
        pass

    sensor = Async(emitting_sensor(api).context)
    assert asyncio.run(sensor.async_emit({"n": 1}, trigger_ref="mypack.tick")) == 3
