"""The conductor micro-benchmark helpers run the workflows they time to the end (their
numbers are reported by `attune bench workflows`, never asserted here)."""

from __future__ import annotations

from attune.workflow import bench


def test_chain_and_with_items_helpers_drive_workflows_to_success() -> None:
    timing = bench.chain(20)
    assert timing.status == "succeeded" and timing.transitions == 20
    assert timing.p50_us > 0 and timing.per_transition_us > 0
    small, large, ratio = bench.linearity(30, 300, concurrency=7)
    assert (small.transitions, large.transitions) == (30, 300)
    assert small.status == large.status == "succeeded"
    assert ratio > 0
    # one request and one finish per item, plus the workflow start and finish, the task
    # start and finish and the transition
    assert large.events == 2 * 300 + 5
