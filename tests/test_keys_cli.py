"""`attune key list|get|set|delete|rotate-encryption-key` as real processes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningPlatform
from tests.test_cli_commands import Cli


async def test_key_commands(platform: RunningPlatform, tmp_path: Path) -> None:
    cli = Cli(platform.api_url, tmp_path)
    await cli.login()

    async def ok(*args: str) -> str:
        ran = await cli(*args, COLUMNS="200")
        assert ran.code == 0, (args, ran)
        return ran.out

    assert "Key system.smtp created." in await ok("key", "set", "system.smtp", "hunter2-pw")
    assert "Key pack.core.cfg created." in await ok(
        "key", "set", "pack.core.cfg", '{"channel": "#ops"}', "--json", "--ttl", "3600")
    assert "Key system.smtp changed." in await ok("key", "set", "system.smtp", "new-pw-1")
    listed = await ok("key", "list")
    assert "system.smtp" in listed and "pack.core.cfg" in listed
    assert "new-pw-1" not in listed
    shown = json.loads(await ok("key", "get", "system.smtp", "-o", "json"))
    assert shown["value"] == "new-pw-1" and shown["encrypted"] is True
    assert json.loads(await ok("key", "get", "pack.core.cfg", "--value-only")) == {
        "channel": "#ops"}
    assert "new-pw-1" in await ok("key", "get", "system.smtp")
    assert "re-encrypted" in await ok("keys", "rotate-encryption-key")

    bad = await cli("key", "set", "nowhere.x", "1")
    assert bad.code == 1 and "system.<name>" in bad.err, bad
    bad_json = await cli("key", "set", "system.j", "{", "--json")
    assert bad_json.code == 1 and "not valid JSON" in bad_json.err, bad_json

    assert "Key system.smtp deleted." in await ok("key", "delete", "system.smtp", "--yes")
    gone = await cli("key", "get", "system.smtp")
    assert gone.code == 1 and "not found" in gone.err, gone


def test_new_encryption_key_keeps_the_old_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from attune.cli.main import cli as attune_cli
    from attune.embedded.datadir import DataDir
    from attune.security.crypto import Sealer

    data = DataDir(tmp_path / "data")
    data.create()
    old = data.secret("encryption_key")
    sealed = Sealer(old).seal({"pw": "x"})
    runner = CliRunner()
    ran = runner.invoke(attune_cli, ["key", "new-encryption-key", "--data-dir",
                                     str(data.root)])
    assert ran.exit_code == 0, ran.output
    assert "rotate-encryption-key" in ran.output
    new = data.secret("encryption_key")
    assert new != old and data.previous_secrets("encryption_key") == (old,)
    assert Sealer(new, data.previous_secrets("encryption_key")).open(sealed) == {"pw": "x"}
    again = runner.invoke(attune_cli, ["key", "new-encryption-key", "--data-dir",
                                       str(data.root)])
    assert again.exit_code == 0
    assert data.previous_secrets("encryption_key") == (new, old)
    with data.locked():
        busy = runner.invoke(attune_cli, ["key", "new-encryption-key", "--data-dir",
                                          str(data.root)])
    assert busy.exit_code == 1 and "another `attune up`" in busy.output, busy.output
    missing = runner.invoke(attune_cli, ["key", "new-encryption-key", "--data-dir",
                                         str(tmp_path / "nothing")])
    assert missing.exit_code == 1 and "no secrets/" in missing.output
