"""Packs and actions through HTTP: registering a directory, reading it back, and hostile
pack content refused with a message naming the file and field, changing nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.api_http import Api, admin_api, assert_error
from tests.conftest import RunningPlatform

PACK_YAML = "ref: demo\nlabel: Demo\nversion: 1.0.0\ndescription: A test pack.\n"
ACTION_YAML = """\
name: hello
runner_type: shell
entry_point: hello.sh
parameters:
  name: {type: string, required: true, description: Who to greet.}
  token: {type: string, secret: true}
"""


def make_pack(root: Path, *, action: str = ACTION_YAML) -> Path:
    (root / "actions").mkdir(parents=True)
    (root / "pack.yaml").write_text(PACK_YAML)
    (root / "actions" / "hello.yaml").write_text(action)
    (root / "actions" / "hello.sh").write_text("#!/bin/sh\ncat\n")
    return root


async def _register(api: Api, path: Path | str) -> tuple[int, dict[str, object]]:
    answer = await api.post("/api/v1/packs/register", json={"path": str(path)})
    return answer.status, answer.body


async def test_register_and_read_packs(platform: RunningPlatform, tmp_path: Path) -> None:
    pack_dir = make_pack(tmp_path / "demo")
    async with admin_api(platform) as api:
        answer = await api.post("/api/v1/packs/register", json={"path": str(pack_dir)})
        assert answer.status == 200, answer.body
        pack = answer.data
        assert (pack["ref"], pack["version"], pack["path"]) == ("demo", "1.0.0", str(pack_dir))
        assert [a["ref"] for a in pack["actions"]] == ["demo.hello"]
        assert answer.sequence > 0
        again = await api.post("/api/v1/packs/register", json={"path": str(pack_dir)})
        assert again.sequence == answer.sequence  # identical content appends nothing

        packs = await api.get("/api/v1/packs", params={"include_total": "true"})
        assert [p["ref"] for p in packs.body["items"]] == ["core", "demo"]
        assert packs.body["pagination"]["total_items"] == 2
        shown = await api.get("/api/v1/packs/demo")
        assert shown.data == pack

        actions = await api.get("/api/v1/actions", params={"pack_ref": "demo"})
        assert [a["ref"] for a in actions.body["items"]] == ["demo.hello"]
        core = await api.get("/api/v1/actions", params={"pack_ref": "core", "page_size": "2"})
        assert [a["ref"] for a in core.body["items"]] == ["core.ask", "core.echo"]
        assert core.body["pagination"]["has_next"] is True
        hello = (await api.get("/api/v1/actions/demo.hello")).data
        assert hello["parameters"]["name"]["required"] is True
        assert hello["parameters"]["token"]["secret"] is True
        assert hello["runtime"] == "shell"

        assert_error(await api.get("/api/v1/packs/nope"), 404, "NOT_FOUND", "'nope'",
                     "GET /api/v1/packs")
        assert_error(await api.get("/api/v1/actions/demo.nope"), 404, "NOT_FOUND",
                     "'demo.nope'", "GET /api/v1/actions")

        # secret parameters never come back in clear
        run = await api.post("/api/v1/executions/execute", json={
            "action_ref": "demo.hello", "parameters": {"name": "Ada", "token": "s3cret"}})
        assert run.status == 201, run.body
        assert run.data["parameters"] == {
            "name": "Ada", "token": {"$attune_secret": True, "redacted": True}}
        assert "s3cret" not in str((await api.get("/api/v1/executions")).body)


async def test_hostile_packs_are_refused(platform: RunningPlatform, tmp_path: Path) -> None:
    good = make_pack(tmp_path / "good")
    async with admin_api(platform) as api:
        status, _ = await _register(api, good)
        assert status == 200
        before = (await api.get("/api/v1/packs/demo")).body
        before_actions = (await api.get("/api/v1/actions", params={"pack_ref": "demo"})).body

        def variant(name: str, action: str = ACTION_YAML) -> Path:
            return make_pack(tmp_path / name, action=action)

        traversal = variant("traversal", ACTION_YAML.replace("hello.sh", "../../etc/passwd"))
        symlink = variant("symlink")
        (symlink / "actions" / "escape.sh").symlink_to("/etc/passwd")
        bad_yaml = variant("bad-yaml", "name: hello\nrunner_type: [shell\n")
        unknown_runner = variant("runner", ACTION_YAML.replace("runner_type: shell",
                                                               "runner_type: cobol"))
        missing_entry = variant("missing", ACTION_YAML.replace("hello.sh", "absent.sh"))
        bad_param = variant("param", ACTION_YAML.replace("type: string, required",
                                                         "type: strnig, required"))
        cases = {
            traversal: ("actions/hello.yaml", "entry_point"),
            symlink: ("actions/escape.sh", "symlink"),
            bad_yaml: ("actions/hello.yaml", "invalid YAML"),
            unknown_runner: ("actions/hello.yaml", "runner_type", "cobol"),
            missing_entry: ("actions/hello.yaml", "entry_point"),
            bad_param: ("actions/hello.yaml", "parameters.name.type"),
        }
        for path, fragments in cases.items():
            answer = await api.post("/api/v1/packs/register", json={"path": str(path)})
            assert_error(answer, 422, "VALIDATION_ERROR", *fragments)

        assert_error(await api.post("/api/v1/packs/register", json={"path": "relative/dir"}),
                     422, "VALIDATION_ERROR", "absolute")
        assert_error(await api.post("/api/v1/packs/register",
                                    json={"path": str(tmp_path / "absent")}),
                     422, "VALIDATION_ERROR", "not a directory")
        assert_error(await api.post("/api/v1/packs/register",
                                    json={"path": str(good / "pack.yaml")}),
                     422, "VALIDATION_ERROR", "not a directory")
        assert_error(await api.post("/api/v1/packs/register",
                                    json={"path": "/" + "x" * 5000}),
                     422, "VALIDATION_ERROR", "path")
        assert_error(await api.post("/api/v1/packs/register", json={"path": "/" + "x" * 300}),
                     422, "VALIDATION_ERROR", "File name too long")
        assert_error(await api.post("/api/v1/packs/register", json={"path": "/tmp/\u0000"}),
                     422, "VALIDATION_ERROR", "path")
        no_manifest = tmp_path / "no-manifest"
        shutil.copytree(good, no_manifest)
        (no_manifest / "pack.yaml").unlink()
        assert_error(await api.post("/api/v1/packs/register", json={"path": str(no_manifest)}),
                     422, "VALIDATION_ERROR", "pack.yaml")

        assert (await api.get("/api/v1/packs/demo")).body == before
        assert (await api.get("/api/v1/actions", params={"pack_ref": "demo"})
                ).body == before_actions
