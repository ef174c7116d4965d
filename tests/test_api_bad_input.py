"""Whatever a client sends gets a precise 4xx in the error envelope, never a 500."""

from __future__ import annotations

import pytest

import attune.api.endpoint
from tests.api_http import admin_api, assert_error
from tests.conftest import RunningPlatform

EXECUTE = "/api/v1/executions/execute"


async def test_bad_requests_get_precise_errors(platform: RunningPlatform,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    async with admin_api(platform) as api:
        async def execute(raw: bytes | str) -> object:
            return await api.post(EXECUTE, data=raw,
                                  headers={"Content-Type": "application/json"})

        # malformed JSON: 400 saying where
        assert_error(await execute('{"action_ref": "core.echo",'), 400, "BAD_REQUEST",
                     "malformed JSON", "line 1 column")
        assert_error(await execute(""), 400, "BAD_REQUEST", "empty")
        assert_error(await execute('"\\ud800"'), 400, "BAD_REQUEST", "malformed JSON")
        assert_error(await execute('{"action_ref": "core.echo", "parameters": {"x": NaN}}'),
                     400, "BAD_REQUEST", "malformed JSON")
        assert_error(await execute('{"action_ref": "core.echo", "parameters": {"m": '
                                   + "[" * 100 + "]" * 100 + "}}"),
                     400, "BAD_REQUEST", "nests deeper")
        assert_error(await execute("[1, 2]"), 422, "VALIDATION_ERROR", "valid dictionary")

        # wrong shapes and types: 422 listing each field
        wrong = await api.post(EXECUTE, json={"action_ref": 7, "parameters": ["hi"],
                                              "timeout_seconds": "30", "colour": "red"})
        assert_error(wrong, 422, "VALIDATION_ERROR", "action_ref", "parameters",
                     "timeout_seconds", "colour", "unknown field")
        fields = {d["field"] for d in wrong.body["details"]}
        assert fields == {"action_ref", "parameters", "timeout_seconds", "colour"}
        assert_error(await api.post(EXECUTE, json={"parameters": {}}), 422,
                     "VALIDATION_ERROR", "action_ref", "is required")
        assert_error(await api.post(EXECUTE, json={"action_ref": "core.echo",
                                                   "timeout_seconds": 0}),
                     422, "VALIDATION_ERROR", "timeout_seconds")
        assert_error(await api.post(EXECUTE, json={"action_ref": "core.echo",
                                                   "env_vars": {"A": 1}}),
                     422, "VALIDATION_ERROR", "env_vars.A", "valid string")
        assert_error(await api.post(EXECUTE, json={"action_ref": "core.echo",
                                                   "env_vars": {"1BAD": "x"}}),
                     422, "VALIDATION_ERROR", "env_vars", "1BAD")
        assert_error(await api.post(EXECUTE, json={"action_ref": "core.echo",
                                                   "env_vars": {"ATTUNE_EXEC_ID": "1"}}),
                     400, "BAD_REQUEST", "reserved")
        params = await api.post(EXECUTE, json={"action_ref": "core.echo",
                                               "parameters": {"message": 42, "loud": True}})
        assert_error(params, 422, "VALIDATION_ERROR", "message", "loud")
        assert {d["field"] for d in params.body["details"]} == {"message", "loud"}
        assert_error(await api.post(EXECUTE, json={"action_ref": "core.echo",
                                                   "parameters": {"message": "a\u0000b"}}),
                     422, "VALIDATION_ERROR", "parameters.message", "NUL")
        assert_error(await api.post(EXECUTE, json={"action_ref": "core.nope"}),
                     404, "NOT_FOUND", "core.nope")

        # too large: for the body limit, and for one event in the stream
        assert_error(await execute(b" " * (platform.settings.max_body_bytes + 1)),
                     413, "PAYLOAD_TOO_LARGE")
        # fits the body limit, but not one stream message once the action is added
        message = "x" * (platform.settings.max_body_bytes - 100)
        big = await api.post(EXECUTE, json={"action_ref": "core.echo",
                                            "parameters": {"message": message}})
        assert_error(big, 413, "PAYLOAD_TOO_LARGE", "send smaller values")

        # routing: unknown paths and methods
        assert_error(await api.get("/api/v1/nothing-here"), 404, "NOT_FOUND", "/docs")
        assert_error(await api.request("DELETE", "/api/v1/packs"), 405,
                     "METHOD_NOT_ALLOWED", "DELETE")
        assert_error(await api.get("/api/v1/packs/core", params={"verbose": "1"}), 422,
                     "VALIDATION_ERROR", "verbose")
        assert_error(await api.get("/api/v1/actions/%00"), 422, "VALIDATION_ERROR", "NUL")

        # read-your-writes header: malformed, and a sequence never reached
        assert_error(await api.get("/api/v1/packs",
                                   headers={"X-Attune-After-Sequence": "soon"}),
                     400, "BAD_REQUEST", "X-Attune-After-Sequence")
        monkeypatch.setattr(attune.api.endpoint, "READ_WAIT_SECONDS", 0.3)
        assert_error(await api.get("/api/v1/packs",
                                   headers={"X-Attune-After-Sequence": "99999999"}),
                     503, "SERVICE_UNAVAILABLE", "99999999")

        # after all that, the API still serves
        assert (await api.get("/api/v1/packs")).status == 200
