"""`attune bench pipeline` end to end with tiny numbers: its own embedded servers, the
platform in process, a report with every measure (no speed is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

from attune.cli.bench import render


def test_bench_pipeline_reports_every_measure() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from attune.cli.main import main; main()", "bench", "pipeline",
         "--executions", "20", "--concurrency", "8", "--rate", "10", "--duration", "1",
         "--raw-messages", "500", "--output", "json", "--quiet"],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"machine", "servers", "platform", "raw_jetstream", "saturation",
                           "latency", "ratio_appends_to_raw_publish"}
    raw, sat, lat = report["raw_jetstream"], report["saturation"], report["latency"]
    assert raw["messages"] == 500
    assert raw["publish_msgs_per_s"] > 0 and raw["consume_msgs_per_s"] > 0
    assert sat["executions"] == 20 and sat["outcomes"] == {"completed": 20}
    assert sat["executions_per_s"] > 0
    # requested, scheduled, started, completed on ATTUNE_EVENTS + one work message
    assert sat["appends_per_execution"] == 5
    assert sat["appends"] == 100
    assert lat["executions"] == 10 and lat["outcomes"] == {"completed": 10}
    assert 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    assert 0 < lat["http_p50_ms"] <= lat["http_p99_ms"]
    assert report["ratio_appends_to_raw_publish"] > 0
    assert "sync_interval 1s" in report["servers"]["durability"]
    assert "fsync on" in report["servers"]["durability"]
    assert render(report).row_count == 10


def test_bench_refuses_half_of_the_external_servers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from attune.cli.main import main; main()", "bench", "pipeline",
         "--nats-url", "nats://127.0.0.1:1", "--quiet"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "give both --nats-url and --database-url" in done.stderr
