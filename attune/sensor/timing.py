"""The sensor service's clocks for managed and poll sensors (tests shorten them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SensorTiming:
    #: How often the service looks for sensors enabled, disabled, changed or removed.
    refresh_every: float = 1.0
    #: A replica not holding a sensor's lease tries to take it this often (jittered).
    acquire_every: float = 2.0
    #: The holder renews it this often (the lease's TTL is 30 s).
    renew_every: float = 5.0
    #: A crashed sensor is started again after `backoff_initial` s, doubling per
    #: consecutive crash up to `backoff_max`; after `max_restarts` restarts in a row
    #: it is left stopped (logged) until its definition changes or it is re-enabled.
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    max_restarts: int = 5
    #: A run this long was healthy: the crash count starts again.
    healthy_after: float = 60.0
    #: SIGTERM, then SIGKILL after this long.
    stop_grace: float = 5.0
    #: Lifetime of the sensor tokens the service issues, and when the next one is
    #: issued (when less than this share of the lifetime is left).
    token_ttl: int = 6 * 3600
    rotate_when_left: float = 0.25
