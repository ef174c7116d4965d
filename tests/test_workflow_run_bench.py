"""`attune bench workflows` end to end with tiny numbers, on the test's servers: the
report has every measure and counts what it ran (no speed is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

from attune.cli.bench import render_workflows
from attune.config import Settings


def test_bench_workflows_reports_every_measure(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from attune.cli.main import main; main()", "bench",
         "workflows", "--chain", "5", "--small", "10", "--large", "30", "--concurrency", "4",
         "--nats-url", settings.nats_url, "--database-url", settings.database_url,
         "--output", "json", "--quiet"],
        capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert set(report) == {"machine", "servers", "children", "transition", "with_items"}
    chain, items = report["transition"], report["with_items"]
    assert (chain["tasks"], chain["transitions"]) == (5, 4)
    assert 0 < chain["p50_ms"] <= chain["p99_ms"]
    assert items["small"]["items"] == 10 and items["large"]["items"] == 30
    assert items["small"]["concurrency"] == 4
    assert items["small"]["per_item_ms"] > 0 and items["ratio"] > 0
    assert isinstance(chain["met"], bool) and isinstance(items["met"], bool)
    assert render_workflows(report).row_count == 5
