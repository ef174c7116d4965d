"""`attune bench rules` end to end with tiny numbers: its own embedded servers, the
services in process, a report with every measure (no speed is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

from attune.cli.bench import render_rules


def test_bench_rules_reports_every_measure() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from attune.cli.main import main; main()", "bench", "rules",
         "--rules", "20", "--triggers", "4", "--events", "40", "--rate", "10",
         "--duration", "1", "--output", "json", "--quiet"],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"machine", "servers", "rules", "throughput", "webhook_latency"}
    assert report["rules"]["rules"] == 20 and report["rules"]["triggers"] == 4
    assert report["rules"]["rules_per_trigger"] == 5
    rate, lat = report["throughput"], report["webhook_latency"]
    # every event matched exactly one rule, and each enforcement requested its execution
    assert rate["events"] == rate["enforcements"] == 40
    assert rate["outcomes"] == {"processed": 40}
    assert rate["events_per_s"] > 0 and rate["enforcements_per_s"] > 0
    assert rate["cpu_seconds"] > 0 and rate["events_per_cpu_s"] > 0
    assert rate["appends_per_s"] > 0
    assert lat["events"] == 10
    assert 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    assert 0 < lat["http_p50_ms"] <= lat["http_p99_ms"]
    assert render_rules(report).row_count == 7


def test_bench_rules_refuses_more_triggers_than_rules() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from attune.cli.main import main; main()", "bench", "rules",
         "--rules", "5", "--triggers", "10", "--quiet"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "at least as many rules" in done.stderr
