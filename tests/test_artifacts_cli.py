"""`attune artifact upload|list|show|download`, `attune audit list|request` and
`attune history` as real processes against the platform."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningPlatform, eventually
from tests.test_cli_commands import Cli


async def test_artifact_audit_and_history_commands(platform: RunningPlatform,
                                                   tmp_path: Path) -> None:
    cli = Cli(platform.api_url, tmp_path)
    await cli.login()

    async def ok(*args: str) -> str:
        ran = await cli(*args, COLUMNS="200")
        assert ran.code == 0, (args, ran)
        return ran.out

    source = tmp_path / "report.csv"
    source.write_bytes(b"a,b\n1,2\n" * 50_000)
    uploaded = await ok("artifact", "upload", "ops.report", str(source), "--type",
                        "file_datatable", "--keep", "1")
    assert "as version 1 of ops.report" in uploaded
    source.write_bytes(b"a,b\n3,4\n")
    assert "version 2" in await ok("artifact", "upload", "ops.report", str(source))

    listed = await ok("artifact", "list")
    assert "ops.report" in listed and "file_datatable" in listed
    shown = json.loads(await ok("artifact", "show", "ops.report", "-o", "json"))
    assert [v["version"] for v in shown["version_list"]] == [2]  # --keep 1
    assert shown["type"] == "file_datatable"

    target = tmp_path / "back.csv"
    assert "written to" in await ok("artifact", "download", str(shown["id"]), "-f",
                                    str(target))
    assert target.read_bytes() == b"a,b\n3,4\n"
    assert (await cli("artifact", "download", "ops.report", "-f", "-")).out == "a,b\n3,4\n"
    old = await cli("artifact", "download", "ops.report", "--version", "1")
    assert old.code == 1 and "no version 1" in old.err, old
    missing = await cli("artifact", "download", "ops.nothing")
    assert missing.code == 1 and "not found" in missing.err, missing

    async def audited() -> str | None:
        out = await ok("audit", "list", "--category", "artifacts", "--kind", "request")
        return out if "/versions/upload" in out else None
    assert "admin" in await eventually(audited)
    changes = json.loads(await ok("audit", "list", "--kind", "change", "--ref",
                                  "ops.report", "-o", "json"))
    kinds = {row["event_type"] for row in changes["items"]}
    assert {"artifact.created", "artifact.version_added",
            "artifact.versions_removed"} <= kinds

    assert "Deleted version 2 of ops.report." in await ok(
        "artifact", "delete", "ops.report", "--version", "2", "--yes")
    assert "Deleted artifact ops.report." in await ok("artifact", "delete", "ops.report",
                                                      "--yes")
    assert "ops.report" not in await ok("artifact", "list")
    chain = json.loads(await ok("audit", "chain", changes["items"][0]["request_id"],
                                "-o", "json"))
    assert any(row["kind"] == "request" for row in chain["items"])

    await ok("key", "set", "system.cli_hist", "first-value")
    await ok("key", "set", "system.cli_hist", "second-value")
    told = await ok("history", "key", "system.cli_hist")
    assert told.count("key.set") == 2 and "admin" in told
    assert "first-value" not in told and "second-value" not in told
    action = json.loads(await ok("history", "action", "core.echo", "-o", "json"))
    assert action[0]["event_type"] == "action.defined"
    bad = await cli("history", "rule", "core.nothing_here")
    assert bad.code == 1 and "no history" in bad.err, bad
