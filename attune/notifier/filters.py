"""Subscription filters, as the original names them (a connection's filters are ORed):

    all                       everything the caller may read
    entity_type:<t>           e.g. entity_type:execution
    entity:<t>:<id>           e.g. entity:execution:7311
    notification_type:<type>  e.g. notification_type:execution_status_changed
    trigger_ref:<ref>         notifications about one trigger (the only filter a sensor
                              token may use, for the trigger types it names)
    user:<id>                 notifications about what identity <id> asked for

A filter is kept as its normalised text, which is also one of the `filter_keys()` of each
notification it matches, so matching is a set lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from attune.notifier.channels import ALL_RESOURCES, CHANNELS, ENTITY_RESOURCES

KINDS = ("all", "entity_type", "entity", "notification_type", "trigger_ref", "user")
_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")
_ID = re.compile(r"^[0-9]{1,19}$")


class FilterError(ValueError):
    """A filter that cannot be understood; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Filter:
    kind: str
    text: str
    #: Resources whose read permission the subscriber needs for this filter to show
    #: anything (all of them for `all`, any one for the rest).
    resources: tuple[str, ...]
    #: For trigger_ref filters: the trigger.
    trigger_ref: str | None = None


def parse(raw: object) -> Filter:
    if not isinstance(raw, str) or not raw.strip():
        raise FilterError(_usage("a filter is a non-empty string"))
    text = raw.strip()
    kind, _, rest = text.partition(":")
    if kind == "all" and not rest:
        return Filter("all", "all", ALL_RESOURCES)
    if kind == "entity_type":
        return Filter(kind, text, (_entity_resource(rest),))
    if kind == "entity":
        entity_type, _, id = rest.partition(":")
        resource = _entity_resource(entity_type)
        if not _ID.match(id):
            raise FilterError(f"{text!r}: the id of entity:<type>:<id> must be a number, "
                              f"e.g. entity:{entity_type}:42")
        return Filter(kind, f"entity:{entity_type}:{int(id)}", (resource,))
    if kind == "notification_type":
        channel = CHANNELS.get(rest)
        if channel is None:
            raise FilterError(f"unknown notification type {rest!r} (known: "
                              f"{', '.join(sorted(CHANNELS))})")
        return Filter(kind, text, (channel.resource,))
    if kind == "trigger_ref":
        if not _REF.match(rest):
            raise FilterError(f"{text!r}: trigger_ref:<ref> needs a trigger ref such as "
                              "core.intervaltimer")
        return Filter(kind, text, ("events", "enforcements", "executions", "rules"),
                      trigger_ref=rest)
    if kind == "user":
        if not _ID.match(rest):
            raise FilterError(f"{text!r}: user:<id> needs a numeric identity id")
        return Filter(kind, f"user:{int(rest)}", ("executions",))
    raise FilterError(_usage(f"unknown filter {text!r}"))


def _entity_resource(entity_type: str) -> str:
    resource = ENTITY_RESOURCES.get(entity_type)
    if resource is None:
        raise FilterError(f"unknown entity type {entity_type!r} (known: "
                          f"{', '.join(sorted(ENTITY_RESOURCES))})")
    return resource


def _usage(problem: str) -> str:
    return (f"{problem}; use one of: all, entity_type:<type>, entity:<type>:<id>, "
            "notification_type:<type>, trigger_ref:<ref>, user:<id>")
