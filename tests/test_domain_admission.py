"""Policy admission, pure: concurrency, cancel, FIFO, rate windows, effective policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from attune.domain import admission as adm
from attune.domain.policy import Concurrency, PolicyDef, RateLimit, effective

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def policy(**fields: object) -> PolicyDef:
    base: dict[str, object] = {"ref": "p.x", "pack_ref": "p", "label": "x",
                               "action_ref": "core.sleep"}
    return PolicyDef.model_validate({**base, **fields})


def test_concurrency_enqueue_then_release_admits_in_request_order() -> None:
    pol = policy(concurrency=Concurrency(limit=1))
    state = adm.Admission()
    state, v = adm.request(state, pol, 10, NOW)
    assert v.outcome == "admit"
    state, v = adm.request(state, pol, 30, NOW)
    assert v.outcome == "queue" and "concurrency limit 1" in v.reason
    state, v = adm.request(state, pol, 20, NOW)  # requested earlier, handled later
    assert state.queue == [20, 30]
    assert adm.request(state, pol, 10, NOW)[1].outcome == "admit"  # idempotent
    state, admitted = adm.admit_waiting(adm.release(state, 10), pol, NOW)
    assert admitted == [20] and state.running == [20] and state.queue == [30]


def test_cancel_method_rejects_but_rate_limits_always_wait() -> None:
    pol = policy(concurrency=Concurrency(limit=1, method="cancel"),
                 rate_limit=RateLimit(max_executions=5, window_seconds=60))
    state, _ = adm.request(adm.Admission(), pol, 1, NOW)
    assert adm.request(state, pol, 2, NOW)[1].outcome == "reject"
    rate = policy(rate_limit=RateLimit(max_executions=2, window_seconds=10))
    state = adm.Admission()
    for i in (1, 2):
        state, v = adm.request(state, rate, i, NOW)
        assert v.outcome == "admit"
    state = adm.release(adm.release(state, 1), 2)
    state, v = adm.request(state, rate, 3, NOW + timedelta(seconds=5))
    assert v.outcome == "queue" and "rate limit 2 per 10 s" in v.reason
    state, admitted = adm.admit_waiting(state, rate, NOW + timedelta(seconds=11))
    assert admitted == [3]


def test_groups_and_effective_policy() -> None:
    pol = policy(concurrency=Concurrency(limit=1, parameters=["host"]))
    a = adm.group_key(pol, "core.sleep", {"host": "a", "seconds": 1})
    assert a == adm.group_key(pol, "core.sleep", {"host": "a", "seconds": 9})
    assert a != adm.group_key(pol, "core.sleep", {"host": "b"})
    pack_wide = policy(ref="p.pack", action_ref=None, target_pack_ref="core", priority=9,
                       concurrency=Concurrency(limit=5))
    exact = policy(ref="p.exact", concurrency=Concurrency(limit=1))
    disabled = policy(ref="p.off", enabled=False, concurrency=Concurrency(limit=1),
                      priority=100)
    assert effective([pack_wide, exact, disabled], "core.sleep") is exact
    assert effective([pack_wide], "core.echo") is pack_wide
    assert effective([exact], "other.thing") is None


def test_a_policy_needs_one_target_and_a_limit() -> None:
    with pytest.raises(ValueError, match="exactly one of action_ref or pack_ref"):
        policy(target_pack_ref="core", concurrency=Concurrency(limit=1))
    with pytest.raises(ValueError, match="needs concurrency or rate_limit"):
        policy()
