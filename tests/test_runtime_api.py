"""GET /api/v1/runtimes, /runtimes/{ref}, /packs/{ref}/runtimes and `attune runtime
list|show`: the runtimes packs define."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api_http import admin_api, assert_error
from tests.conftest import RunningPlatform
from tests.test_cli_commands import Cli


async def test_runtimes_are_listed_filtered_and_shown(platform: RunningPlatform) -> None:
    async with admin_api(platform) as api:
        listed = await api.get("/api/v1/runtimes", params={"include_total": "true"})
        assert listed.status == 200, listed.body
        refs = [r["ref"] for r in listed.body["items"]]
        assert refs == ["core.http", "core.native", "core.nodejs", "core.python", "core.shell"]
        assert listed.body["pagination"]["total_items"] == 5

        python = await api.get("/api/v1/runtimes", params={"family": "python"})
        assert [r["ref"] for r in python.body["items"]] == ["core.python"]
        shown = (await api.get("/api/v1/runtimes/core.python")).data
        assert shown["aliases"] == ["python", "python3"] and shown["source"] == "pack"
        assert shown["execution_config"]["dependencies"]["manifest_file"] == "requirements.txt"
        assert {v["version"] for v in shown["versions"]} >= {"3.11", "3.12"}

        of_core = await api.get("/api/v1/packs/core/runtimes", params={"page_size": "2"})
        assert [r["ref"] for r in of_core.body["items"]] == ["core.http", "core.native"]
        assert of_core.body["pagination"]["has_next"] is True

        assert_error(await api.get("/api/v1/runtimes/core.cobol"), 404, "NOT_FOUND",
                     "'core.cobol'")
        assert_error(await api.get("/api/v1/runtimes", params={"family": "cobol"}), 422,
                     "VALIDATION_ERROR", "family")
        assert_error(await api.get("/api/v1/packs/nope/runtimes"), 404, "NOT_FOUND", "'nope'")


async def test_runtime_commands(platform: RunningPlatform, tmp_path: Path) -> None:
    cli = Cli(platform.api_url, tmp_path)
    await cli.login()
    table = await cli("runtime", "list", COLUMNS="200")
    assert table.code == 0, table
    assert "core.nodejs" in table.out and "node, nodejs, node.js" in table.out
    listed = json.loads((await cli("runtime", "list", "--pack", "core", "-o", "json")).out)
    assert listed["pagination"]["total_items"] == 5
    shown = await cli("runtime", "show", "core.python", COLUMNS="200")
    assert shown.code == 0 and "python3 -u" in shown.out and "requirements.txt" in shown.out
    assert "3.12" in shown.out and "python3.12" in shown.out
    http = await cli("runtime", "show", "core.http", COLUMNS="200")
    assert "built in" in http.out
    missing = await cli("runtime", "show", "core.cobol")
    assert missing.code == 1 and "'core.cobol'" in missing.err
