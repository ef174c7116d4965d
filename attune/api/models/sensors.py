"""Sensors (`/api/v1/sensors`), their logs, and sensor tokens
(`POST /auth/internal/sensor-token`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from attune.api.models.base import PageQuery, Query, Request, Response
from attune.app.sensors import DEFAULT_TTL, MAX_TTL, MIN_TTL

_REF = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$"


class SensorOut(Response):
    ref: str
    pack_ref: str
    label: str
    description: str
    enabled: bool
    runner_type: Literal["python", "nodejs", "shell", "native"]
    entry_point: str
    trigger_types: list[str]
    mode: Literal["managed", "poll"]
    poll_interval: int
    timeout: int
    config: dict[str, Any]
    tags: list[str]
    source: Literal["pack", "api"]
    created: datetime | None = None
    updated: datetime | None = None
    #: The sensor service replica running it now (`GET /api/v1/sensors/{ref}` only).
    running_on: str | None = None


class SensorListQuery(PageQuery):
    q: str | None = Field(default=None, max_length=255,
                          description="words that must all appear in ref, label, "
                                      "description or pack (case-insensitive)")
    pack_ref: str | None = Field(default=None, max_length=255)
    trigger_ref: str | None = Field(default=None, max_length=255,
                                    description="sensors emitting this trigger type")
    enabled: bool | None = None


class SensorLogQuery(Query):
    since_seconds: int = Field(default=3600, ge=1, le=7 * 86400,
                               description="lines written in the last N seconds (max a week)")
    limit: int = Field(default=200, ge=1, le=5000, description="the newest N lines")
    stream: Literal["stdout", "stderr", "service"] | None = Field(
        default=None, description="only the process's stdout, stderr, or the service's "
                                  "own lines about it (started, exited, restarting)")


class SensorLogLine(Response):
    at: datetime
    stream: Literal["stdout", "stderr", "service"]
    text: str


class SensorLogOut(Response):
    sensor_ref: str
    lines: list[SensorLogLine]
    #: Older lines of the window were left out (raise `limit` to see them).
    truncated: bool


class SensorTokenRequest(Request):
    sensor_ref: str = Field(min_length=1, max_length=255, pattern=_REF,
                            description="the sensor the token is for, e.g. mypack.watcher")
    trigger_types: list[str] = Field(min_length=1, max_length=100,
                                     description="trigger refs it may emit events of")
    ttl_seconds: int = Field(default=DEFAULT_TTL, ge=MIN_TTL, le=MAX_TTL,
                             description="lifetime: 3600 (1 h) to 259200 (72 h)")


class SensorTokenOut(Response):
    identity_id: int
    sensor_ref: str
    token: str
    expires_at: datetime
    trigger_types: list[str]
