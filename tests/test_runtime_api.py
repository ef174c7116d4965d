"""GET /api/v1/runtimes, /runtimes/{ref}, /packs/{ref}/runtimes: the runtimes packs define."""

from __future__ import annotations

from tests.api_http import admin_api, assert_error
from tests.conftest import RunningPlatform


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
