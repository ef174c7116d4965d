"""When the core timers fire: parsing a rule's `trigger_params` and the schedule arithmetic.

Pure (no I/O, no clock): the service passes every instant in, so all of this is tested
without servers.

    core.intervaltimer  {unit: seconds|minutes|hours|days, interval: N}
    core.crontimer      {expression, timezone}   5 fields, or 6 with the seconds FIRST
                                                 (`*/5 * * * * *` = every 5 seconds)
    core.datetimetimer  {fire_at, timezone}      one shot; `timezone` reads a fire_at
                                                 without offset

Missed ticks (the sensor was down, or a replica died and its lease had to expire) follow
one policy, `due()`:

* a tick counts only if it is scheduled after the schedule's start (the rule's last
  change: creation, update or enabling — a disabled rule misses nothing) and after the
  last tick fired;
* when several such ticks are already past, only the most recent one fires, once, at
  once; the schedule then continues from it (interval) or from the expression (cron);
* a date-time timer fires once if it never fired at its `fire_at`, even when that date
  was long past (a rule moved to another `fire_at` fires once more, at the new date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from attune.domain.params import ParamSchema, ParamSpec, validate_parameters
from attune.errors import ValidationError

INTERVAL = "core.intervaltimer"
CRON = "core.crontimer"
DATETIME = "core.datetimetimer"
TIMER_TRIGGERS = frozenset({INTERVAL, CRON, DATETIME})

#: The `parameters` of packs/core/triggers/*.yaml (a test keeps the two equal).
SCHEMAS: dict[str, ParamSchema] = {
    INTERVAL: {
        "unit": ParamSpec(type="string", enum=["seconds", "minutes", "hours", "days"],
                          default="seconds"),
        "interval": ParamSpec(type="integer", required=True, minimum=1),
    },
    CRON: {
        "expression": ParamSpec(type="string", required=True),
        "timezone": ParamSpec(type="string", default="UTC"),
    },
    DATETIME: {
        "fire_at": ParamSpec(type="string", required=True),
        "timezone": ParamSpec(type="string", default="UTC"),
    },
}

Unit = Literal["seconds", "minutes", "hours", "days"]
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
#: Longer intervals are a typo, not a schedule (and would overflow datetime arithmetic).
MAX_INTERVAL = timedelta(days=3660)


@dataclass(frozen=True)
class IntervalTimer:
    unit: Unit
    interval: int

    @property
    def every(self) -> timedelta:
        return timedelta(seconds=self.interval * _UNIT_SECONDS[self.unit])


@dataclass(frozen=True)
class CronTimer:
    expression: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def with_seconds(self) -> bool:
        return len(self.expression.split()) == 6


@dataclass(frozen=True)
class DateTimeTimer:
    #: Aware, in UTC.
    fire_at: datetime
    timezone: str


TimerSpec = IntervalTimer | CronTimer | DateTimeTimer


def parse(trigger_ref: str, params: dict[str, Any]) -> TimerSpec:
    """The timer a rule's `trigger_params` describe, or a ValidationError saying what is
    wrong (every problem at once) and how to write it."""
    if trigger_ref not in SCHEMAS:
        raise ValidationError(f"{trigger_ref!r} is not a core timer trigger (known: "
                              f"{', '.join(sorted(SCHEMAS))})")
    given = validate_parameters(SCHEMAS[trigger_ref], params)
    if trigger_ref == INTERVAL:
        timer = IntervalTimer(unit=given["unit"], interval=given["interval"])
        if timer.interval * _UNIT_SECONDS[timer.unit] > MAX_INTERVAL.total_seconds():
            _invalid("interval", f"at most {MAX_INTERVAL.days} days, got {timer.interval} "
                                 f"{timer.unit}")
        return timer
    zone_name: str = given["timezone"]
    _check_zone(zone_name)
    if trigger_ref == CRON:
        return _cron(given["expression"], zone_name)
    return DateTimeTimer(fire_at=_fire_at(given["fire_at"], ZoneInfo(zone_name)),
                         timezone=zone_name)


def next_fire(spec: TimerSpec, after: datetime) -> datetime | None:
    """The first tick strictly after `after` (aware); None when there is none.

    For an interval timer `after` is its previous tick or its start: ticks are
    `start + k * every`."""
    _aware(after)
    match spec:
        case IntervalTimer():
            return after + spec.every
        case CronTimer():
            return _cron_next(spec, after)
        case DateTimeTimer():
            return spec.fire_at if spec.fire_at > after else None


def due(spec: TimerSpec, *, start: datetime, last: datetime | None, now: datetime
        ) -> datetime | None:
    """The scheduled time of the next tick to fire: in the future (wait for it), at or
    before `now` (a missed tick: fire it at once), or None (nothing left: a date-time
    timer that fired). `start` is when the schedule began (the rule's last change),
    `last` the scheduled time of the last tick fired (None: never)."""
    for value in (start, now, *([last] if last else [])):
        _aware(value)
    if isinstance(spec, DateTimeTimer):
        return None if last == spec.fire_at else spec.fire_at
    since = max(start, last) if last is not None else start
    upcoming = next_fire(spec, since)
    if upcoming is None or upcoming > now:
        return upcoming
    # missed ticks: only the most recent one fires
    if isinstance(spec, IntervalTimer):
        return since + spec.every * ((now - since) // spec.every)
    return _cron_latest(spec, now)


def timer_type(spec: TimerSpec) -> str:
    """The original's name for the kind of timer (payload field `type`)."""
    match spec:
        case IntervalTimer():
            return "interval"
        case CronTimer():
            return "cron"
        case DateTimeTimer():
            return "datetime"


def payload(spec: TimerSpec, *, scheduled: datetime, executed: datetime, count: int,
            sensor_ref: str) -> dict[str, Any]:
    """The event payload: `executed_at` and `scheduled_at` (ISO 8601, UTC) plus the
    fields the original's timer sensor sends for each kind of timer."""
    fired = iso(executed)
    body: dict[str, Any] = {"executed_at": fired, "scheduled_at": iso(scheduled),
                            "fired_at": fired, "type": timer_type(spec),
                            "execution_count": count, "sensor_ref": sensor_ref}
    match spec:
        case IntervalTimer():
            body |= {"unit": spec.unit, "interval": spec.interval,
                     "interval_seconds": int(spec.every.total_seconds())}
        case CronTimer():
            following = next_fire(spec, scheduled)
            body |= {"expression": spec.expression, "timezone": spec.timezone,
                     "next_fire_at": iso(following) if following else None}
        case DateTimeTimer():
            body |= {"fire_at": iso(spec.fire_at), "timezone": spec.timezone,
                     "delay_ms": max(0, int((executed - spec.fire_at).total_seconds() * 1000))}
    return body


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, always with microseconds: one width, so the strings
    sort like the instants they stand for."""
    utc = _aware(moment).astimezone(UTC)
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _invalid(field: str, message: str) -> NoReturn:
    raise ValidationError(f"invalid parameters: {field}: {message}",
                          details=[{"field": field, "message": f"{field}: {message}"}])


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: timers need aware datetimes")
    return moment


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        _invalid("timezone", f"unknown time zone {name!r}: use an IANA name such as "
                             "'UTC' or 'Europe/Paris'")


def _cron(expression: str, zone: str) -> CronTimer:
    fields = expression.split()
    if len(fields) not in (5, 6):
        _invalid("expression", f"{expression!r} has {len(fields)} fields: write 5 (minute "
                               "hour day-of-month month day-of-week) or 6 with the seconds "
                               "first ('*/5 * * * * *' = every 5 seconds)")
    spec = CronTimer(expression=" ".join(fields), timezone=zone)
    if not croniter.is_valid(spec.expression, second_at_beginning=spec.with_seconds):
        _invalid("expression", f"{expression!r} is not a valid cron expression")
    # an expression can be valid and still never match (February 30th)
    if _cron_next(spec, datetime(2000, 1, 1, tzinfo=UTC)) is None:
        _invalid("expression", f"{expression!r} never matches a date")
    return spec


def _iterator(spec: CronTimer, start: datetime) -> croniter:
    return croniter(spec.expression, start.astimezone(spec.zone),
                    second_at_beginning=spec.with_seconds)


def _cron_next(spec: CronTimer, after: datetime) -> datetime | None:
    try:
        found: datetime = _iterator(spec, after).get_next(datetime)
    except (CroniterBadDateError, CroniterBadCronError, CroniterError):
        return None
    return found.astimezone(UTC)


def _cron_latest(spec: CronTimer, now: datetime) -> datetime | None:
    """The last occurrence at or before `now` (croniter's get_prev is strictly before
    its start, and occurrences fall on whole seconds)."""
    ceiling = now.replace(microsecond=0) + timedelta(seconds=1)
    try:
        found: datetime = _iterator(spec, ceiling).get_prev(datetime)
    except (CroniterBadDateError, CroniterBadCronError, CroniterError):
        return None
    return found.astimezone(UTC)


def _fire_at(text: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        _invalid("fire_at", f"{text!r} is not an ISO 8601 date and time (write e.g. "
                            "'2030-01-27T15:00:00Z' or '2030-01-27T15:00:00' with timezone)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)
