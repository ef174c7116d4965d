"""Sensors: code of a pack that watches the world and emits events of its trigger types.
A sensor is a catalogue component keyed by its ref (`attune.sensor.<pack>:<name>.*`),
with the catalogue's lifecycle (defined, enabled, disabled, deleted).

Two modes, as in the original:

    managed   one long-running process per sensor (an SDK `Sensor`/`PollingSensor`
              or any program speaking the managed-sensor protocol: it gets its rules in
              ATTUNE_SENSOR_TRIGGERS, follows rule changes through the notifier and
              posts events to the API with its sensor token)
    poll      `poll_sensor(config)` (Python, Node.js) or a shell script printing
              `{"events": [...]}`, run every `poll_interval` seconds with a `timeout`;
              each payload becomes an event of the sensor's first trigger type
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.domain.catalog import DefinedEvent, Kind
from attune.domain.events import Event, register

SensorRunner = Literal["python", "nodejs", "shell", "native"]
SensorMode = Literal["managed", "poll"]

#: Aliases a pack may write for `runner_type` (case-insensitive).
RUNNER_ALIASES: dict[str, SensorRunner] = {
    "python": "python", "python3": "python", "core.python": "python",
    "node": "nodejs", "nodejs": "nodejs", "node.js": "nodejs", "core.nodejs": "nodejs",
    "shell": "shell", "bash": "shell", "sh": "shell", "core.shell": "shell",
    "native": "native", "standalone": "native", "core.native": "native",
}
#: Poll-style runners: the seed's `poll_sensor(config)` languages and shell.
POLL_RUNNERS: tuple[SensorRunner, ...] = ("python", "nodejs", "shell")


class SensorDef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str
    pack_ref: str
    label: str
    description: str = ""
    enabled: bool = True
    runner_type: SensorRunner
    #: Path of the code under the pack's `sensors/` directory.
    entry_point: str
    #: The trigger types it emits (its token is limited to them); the first is where
    #: a poll sensor's events go.
    trigger_types: list[str] = Field(min_length=1)
    mode: SensorMode = "managed"
    #: Poll sensors: seconds between two polls, and how long one poll may take.
    poll_interval: int = Field(default=30, ge=1, le=86_400)
    timeout: int = Field(default=30, ge=1, le=3_600)
    #: Explicit configuration: a poll's `config` argument, ATTUNE_SENSOR_CONFIG_<NAME>
    #: for managed sensors.
    config: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


@register
class SensorDefined(DefinedEvent[SensorDef]):
    type: Literal["sensor.defined"] = "sensor.defined"


@register
class SensorEnabled(Event):
    type: Literal["sensor.enabled"] = "sensor.enabled"


@register
class SensorDisabled(Event):
    type: Literal["sensor.disabled"] = "sensor.disabled"


@register
class SensorDeleted(Event):
    type: Literal["sensor.deleted"] = "sensor.deleted"


SENSOR = Kind(name="sensor", defined=SensorDefined, enabled=SensorEnabled,
              disabled=SensorDisabled, deleted=SensorDeleted)
