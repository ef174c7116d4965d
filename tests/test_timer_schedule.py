"""The pure part of the timer sensor: parsing trigger_params, next ticks, missed ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from attune.errors import ValidationError
from attune.packs.loader import load_pack
from attune.platform import core_pack_dir
from attune.sensor import schedule
from attune.sensor.keys import timer_key
from attune.sensor.schedule import (
    CRON,
    DATETIME,
    INTERVAL,
    CronTimer,
    DateTimeTimer,
    IntervalTimer,
    due,
    next_fire,
    parse,
)

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- parsing ---------------------------------------------------------------------------

def test_interval_params_with_unit_default() -> None:
    assert parse(INTERVAL, {"interval": 5}) == IntervalTimer(unit="seconds", interval=5)
    spec = parse(INTERVAL, {"unit": "hours", "interval": 2})
    assert isinstance(spec, IntervalTimer) and spec.every == timedelta(hours=2)
    days = parse(INTERVAL, {"unit": "days", "interval": 1})
    assert isinstance(days, IntervalTimer) and days.every == timedelta(days=1)


@pytest.mark.parametrize(("params", "message"), [
    ({}, "interval: is required"),
    ({"interval": 0}, "interval: must be >= 1"),
    ({"interval": "5"}, "interval: expected integer"),
    ({"interval": 1.5}, "interval: expected integer"),
    ({"interval": 5, "unit": "weeks"}, "unit: must be one of"),
    ({"interval": 5, "type": "interval"}, "type: unknown parameter"),
    ({"interval": 10**9, "unit": "days"}, "interval: at most"),
])
def test_bad_interval_params_say_what_is_wrong(params: dict[str, object], message: str
                                               ) -> None:
    with pytest.raises(ValidationError, match=message):
        parse(INTERVAL, params)


def test_cron_params_five_and_six_fields() -> None:
    five = parse(CRON, {"expression": "0 9 * * 1-5"})
    assert five == CronTimer(expression="0 9 * * 1-5", timezone="UTC")
    assert isinstance(five, CronTimer) and not five.with_seconds
    six = parse(CRON, {"expression": "  */5  * * * * * ", "timezone": "Europe/Paris"})
    assert six == CronTimer(expression="*/5 * * * * *", timezone="Europe/Paris")
    assert isinstance(six, CronTimer) and six.with_seconds


@pytest.mark.parametrize(("params", "message"), [
    ({}, "expression: is required"),
    ({"expression": "* * * *"}, "has 4 fields: write 5"),
    ({"expression": "* * * * * * *"}, "has 7 fields"),
    ({"expression": "61 * * * *"}, "not a valid cron expression"),
    ({"expression": "*/0 * * * *"}, "not a valid cron expression"),
    ({"expression": "0 0 30 2 *"}, "never matches"),
    ({"expression": "* * * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"expression": "* * * * *", "timezone": "../../etc/passwd"}, "unknown time zone"),
])
def test_bad_cron_params_say_what_is_wrong(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse(CRON, params)


def test_datetime_params_offset_or_timezone() -> None:
    assert parse(DATETIME, {"fire_at": "2030-01-27T15:00:00Z"}) == DateTimeTimer(
        fire_at=datetime(2030, 1, 27, 15, tzinfo=UTC), timezone="UTC")
    # no offset: read in `timezone` (Paris is UTC+1 in January)
    spec = parse(DATETIME, {"fire_at": "2030-01-27T15:00:00", "timezone": "Europe/Paris"})
    assert isinstance(spec, DateTimeTimer)
    assert spec.fire_at == datetime(2030, 1, 27, 14, tzinfo=UTC)
    # an explicit offset wins over `timezone`
    spec = parse(DATETIME, {"fire_at": "2030-01-27T15:00:00+05:00", "timezone": "Europe/Paris"})
    assert isinstance(spec, DateTimeTimer)
    assert spec.fire_at == datetime(2030, 1, 27, 10, tzinfo=UTC)


@pytest.mark.parametrize(("params", "message"), [
    ({}, "fire_at: is required"),
    ({"fire_at": "tomorrow"}, "not an ISO 8601 date"),
    ({"fire_at": 1735689600}, "fire_at: expected string"),
    ({"fire_at": "2030-01-27T15:00:00", "timezone": "Nowhere"}, "unknown time zone"),
])
def test_bad_datetime_params_say_what_is_wrong(params: dict[str, object], message: str
                                               ) -> None:
    with pytest.raises(ValidationError, match=message):
        parse(DATETIME, params)


def test_a_non_timer_trigger_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a core timer trigger"):
        parse("core.webhook", {})


def test_schemas_match_the_core_pack_triggers() -> None:
    """The sensor validates with the same parameter schema the core pack declares."""
    triggers = {t.ref: t for t in load_pack(core_pack_dir()).triggers}
    for ref, schema in schedule.SCHEMAS.items():
        declared = triggers[ref].param_schema
        assert set(declared) == set(schema), ref
        for name, spec in schema.items():
            mine = spec.model_dump(exclude={"description"})
            theirs = declared[name].model_dump(exclude={"description"})
            assert mine == theirs, (ref, name)


# --- next_fire -------------------------------------------------------------------------

def test_interval_next_fire_is_one_interval_later() -> None:
    spec = parse(INTERVAL, {"unit": "minutes", "interval": 3})
    assert next_fire(spec, T0) == at(180)


def test_cron_with_seconds_first_fires_on_those_seconds() -> None:
    spec = parse(CRON, {"expression": "*/5 * * * * *"})
    assert next_fire(spec, at(0)) == at(5)        # strictly after
    assert next_fire(spec, at(0.5)) == at(5)
    assert next_fire(spec, at(4.999)) == at(5)
    assert next_fire(spec, at(7)) == at(10)
    # seconds first: "0 30 * * * *" is second 0 of minute 30, not minute 0 second 30
    spec = parse(CRON, {"expression": "0 30 * * * *"})
    assert next_fire(spec, T0) == T0.replace(minute=30)


def test_cron_five_fields_is_minute_resolution() -> None:
    spec = parse(CRON, {"expression": "*/15 * * * *"})
    assert next_fire(spec, at(1)) == T0.replace(minute=15)


def test_cron_reads_the_expression_in_its_timezone() -> None:
    spec = parse(CRON, {"expression": "0 9 * * *", "timezone": "America/New_York"})
    # 9:00 in New York in January is 14:00 UTC
    assert next_fire(spec, T0) == datetime(2030, 1, 1, 14, tzinfo=UTC)
    assert next_fire(spec, datetime(2030, 1, 1, 14, tzinfo=UTC)) == \
        datetime(2030, 1, 2, 14, tzinfo=UTC)
    # after the switch to summer time it is 13:00 UTC
    assert next_fire(spec, datetime(2030, 7, 1, tzinfo=UTC)) == \
        datetime(2030, 7, 1, 13, tzinfo=UTC)


def test_cron_over_a_dst_gap_fires_once_at_the_next_valid_time() -> None:
    spec = parse(CRON, {"expression": "30 2 * * *", "timezone": "Europe/Paris"})
    # 2030-03-31 02:30 does not exist in Paris (clocks go 02:00 -> 03:00)
    fired = next_fire(spec, datetime(2030, 3, 30, 12, tzinfo=UTC))
    assert fired is not None
    local = fired.astimezone(ZoneInfo("Europe/Paris"))
    assert (local.month, local.day) == (3, 31) and local.hour == 3


def test_datetime_next_fire_only_before_its_date() -> None:
    spec = parse(DATETIME, {"fire_at": "2030-01-01T12:00:10Z"})
    assert next_fire(spec, T0) == at(10)
    assert next_fire(spec, at(10)) is None


def test_naive_datetimes_are_refused() -> None:
    spec = parse(INTERVAL, {"interval": 1})
    with pytest.raises(ValueError, match="naive"):
        next_fire(spec, datetime(2030, 1, 1))


# --- due: the missed-tick policy -------------------------------------------------------

def test_interval_first_tick_is_one_interval_after_the_start() -> None:
    spec = parse(INTERVAL, {"interval": 10})
    assert due(spec, start=T0, last=None, now=at(3)) == at(10)


def test_interval_continues_from_the_last_tick() -> None:
    spec = parse(INTERVAL, {"interval": 10})
    assert due(spec, start=T0, last=at(30), now=at(31)) == at(40)


def test_interval_after_downtime_fires_the_latest_missed_tick_once_then_on_schedule() -> None:
    spec = parse(INTERVAL, {"interval": 10})
    # down from 35 s to 72 s: ticks 40, 50, 60, 70 were missed -> only 70 fires, at once
    missed = due(spec, start=T0, last=at(30), now=at(72))
    assert missed == at(70)
    # and then the schedule goes on from it
    assert due(spec, start=T0, last=missed, now=at(72.5)) == at(80)


def test_a_rule_change_restarts_the_schedule() -> None:
    spec = parse(INTERVAL, {"interval": 10})
    # fired at 30 s, rule re-enabled at 100 s: nothing is owed for the disabled time
    assert due(spec, start=at(100), last=at(30), now=at(101)) == at(110)


def test_cron_after_downtime_fires_the_latest_missed_occurrence_once() -> None:
    spec = parse(CRON, {"expression": "*/5 * * * * *"})
    assert due(spec, start=T0, last=at(10), now=at(11)) == at(15)
    missed = due(spec, start=T0, last=at(10), now=at(33.7))
    assert missed == at(30)
    assert due(spec, start=T0, last=missed, now=at(33.8)) == at(35)
    # exactly on an occurrence: that one
    assert due(spec, start=T0, last=at(10), now=at(30)) == at(30)


def test_cron_occurrences_before_the_rule_existed_are_not_missed() -> None:
    spec = parse(CRON, {"expression": "0 9 * * *"})
    start = datetime(2030, 1, 1, 9, 30, tzinfo=UTC)
    assert due(spec, start=start, last=None, now=start + timedelta(seconds=1)) == \
        datetime(2030, 1, 2, 9, tzinfo=UTC)


def test_datetime_in_the_past_is_due_at_once_until_fired() -> None:
    spec = parse(DATETIME, {"fire_at": "2020-06-01T00:00:00Z"})
    fire_at = datetime(2020, 6, 1, tzinfo=UTC)
    assert due(spec, start=T0, last=None, now=T0) == fire_at
    assert due(spec, start=T0, last=fire_at, now=T0 + timedelta(days=30)) is None


def test_datetime_in_the_future_waits_for_its_date() -> None:
    spec = parse(DATETIME, {"fire_at": "2030-01-01T12:00:10Z"})
    assert due(spec, start=T0, last=None, now=T0) == at(10)


def test_datetime_moved_to_another_date_fires_again() -> None:
    spec = parse(DATETIME, {"fire_at": "2030-01-01T12:00:10Z"})
    assert due(spec, start=T0, last=datetime(2029, 1, 1, tzinfo=UTC), now=T0) == at(10)


# --- payload and keys ------------------------------------------------------------------

def test_payload_has_the_times_in_utc_and_the_originals_fields() -> None:
    spec = parse(INTERVAL, {"unit": "minutes", "interval": 2})
    body = schedule.payload(spec, scheduled=at(120), executed=at(120.25), count=3,
                            sensor_ref="core.timer_sensor")
    assert body == {"executed_at": "2030-01-01T12:02:00.250000Z",
                    "scheduled_at": "2030-01-01T12:02:00.000000Z",
                    "fired_at": "2030-01-01T12:02:00.250000Z", "type": "interval",
                    "execution_count": 3, "sensor_ref": "core.timer_sensor",
                    "unit": "minutes", "interval": 2, "interval_seconds": 120}
    cron = parse(CRON, {"expression": "*/5 * * * * *"})
    body = schedule.payload(cron, scheduled=at(5), executed=at(5.1), count=1,
                            sensor_ref="core.timer_sensor")
    assert body["type"] == "cron" and body["next_fire_at"] == "2030-01-01T12:00:10.000000Z"
    once = parse(DATETIME, {"fire_at": "2030-01-01T12:00:00Z"})
    body = schedule.payload(once, scheduled=T0, executed=at(1.5), count=1,
                            sensor_ref="core.timer_sensor")
    assert body["fire_at"] == "2030-01-01T12:00:00.000000Z" and body["delay_ms"] == 1500


def test_timer_keys_are_valid_kv_keys_and_one_to_one() -> None:
    assert timer_key("pack.every_second") == "timer.pack.every_second"
    odd = ["pack.räte", "pack.a b", "b64.x", "pack..x", "pack.x:y"]
    keys = [timer_key(r) for r in odd] + [timer_key("pack.every_second")]
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert all(c.isascii() and (c.isalnum() or c in "-/_=.") for c in key), key
