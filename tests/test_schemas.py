"""`schemas/` holds the JSON Schemas of the current models, and drift is caught."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from attune.cli.main import cli
from attune.domain.events import catalogue
from attune.paths import schemas_dir
from attune.schemas_export import check, export, generate


def test_committed_schemas_match_the_models() -> None:
    drift = check(schemas_dir())
    assert drift.clean, ("schemas/ is out of date, run `attune schemas export` and commit:\n"
                         + "\n".join(drift.lines()))


def test_every_event_type_has_a_schema_naming_it() -> None:
    files = generate()
    for type_name, event in catalogue().items():
        schema = json.loads(files[f"events/{type_name}.json"])
        assert schema["properties"]["type"]["const"] == type_name
        assert schema["title"] == event.__name__
        assert schema["x-attune-schema-version"] >= 1
    assert "api/ExecuteRequest.json" in files


def test_generation_is_deterministic() -> None:
    first, second = generate(), generate()
    assert first == second
    assert all(text.endswith("}\n") for text in first.values())


def test_check_lists_stale_missing_and_extra_files_and_export_repairs(tmp_path: Path) -> None:
    written = export(tmp_path)
    assert sorted(written.missing) == sorted(generate())
    assert check(tmp_path).clean

    (tmp_path / "events" / "execution.completed.json").write_text("{}\n")
    (tmp_path / "api" / "ExecuteRequest.json").unlink()
    (tmp_path / "events" / "execution.exploded.json").write_text("{}\n")
    (tmp_path / "README.md").write_text("not ours\n")  # outside events/ and api/: ignored

    drift = check(tmp_path)
    assert drift.stale == ["events/execution.completed.json"]
    assert drift.missing == ["api/ExecuteRequest.json"]
    assert drift.extra == ["events/execution.exploded.json"]

    runner = CliRunner()
    result = runner.invoke(cli, ["schemas", "export", "--check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "stale:   events/execution.completed.json" in result.stdout
    assert "missing: api/ExecuteRequest.json" in result.stdout
    assert "extra:   events/execution.exploded.json" in result.stdout

    result = runner.invoke(cli, ["schemas", "export", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "removed: events/execution.exploded.json" in result.stdout
    assert check(tmp_path).clean
    assert (tmp_path / "README.md").exists()

    result = runner.invoke(cli, ["schemas", "export", "--check", "--dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "up to date" in result.stdout
