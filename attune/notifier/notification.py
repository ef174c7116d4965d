"""A notification as clients receive it: the original's envelope
`{type, notification_type, entity_type, entity_id, user_id, payload, timestamp}` plus our
`sequence` (the stream sequence of the event it reports), encoded once for every
recipient."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from attune.notifier.frames import text_frame

#: Payloads larger than this go out compact with `auth_mode: "deferred"`: the client
#: fetches the entity through the API (as the original does above 7000 bytes).
MAX_PAYLOAD_BYTES = 7000


@dataclass(frozen=True, slots=True)
class Notification:
    notification_type: str
    entity_type: str
    entity_id: int | str
    payload: dict[str, Any]
    timestamp: datetime
    sequence: int
    #: The API resource whose `read` permission a recipient needs (`executions`, ...).
    resource: str
    user_id: int | None = None
    #: The trigger this notification concerns, for `trigger_ref:<ref>` filters.
    trigger_ref: str | None = None
    #: The entity as a list row of the API shows it, for RBAC constraints (pack_refs,
    #: refs, owner); the payload when None.
    target_row: dict[str, Any] | None = None
    #: The WebSocket frame of this notification, built once and sent as is to everyone.
    frame: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", text_frame(orjson.dumps(self.as_dict())))

    @property
    def row(self) -> dict[str, Any]:
        return self.payload if self.target_row is None else self.target_row

    def as_dict(self) -> dict[str, Any]:
        return {"type": "notification", "notification_type": self.notification_type,
                "entity_type": self.entity_type, "entity_id": self.entity_id,
                "user_id": self.user_id, "payload": compact(self.payload),
                "timestamp": self.timestamp.isoformat(), "sequence": self.sequence}

    def filter_keys(self) -> tuple[str, ...]:
        """The filters this notification matches (see `filters`)."""
        keys = ["all", f"entity_type:{self.entity_type}",
                f"entity:{self.entity_type}:{self.entity_id}",
                f"notification_type:{self.notification_type}"]
        if self.trigger_ref is not None:
            keys.append(f"trigger_ref:{self.trigger_ref}")
        if self.user_id is not None:
            keys.append(f"user:{self.user_id}")
        return tuple(keys)


def compact(payload: dict[str, Any]) -> dict[str, Any]:
    """`payload`, or its scalar fields plus `auth_mode: "deferred"` when it is too large."""
    if len(orjson.dumps(payload)) <= MAX_PAYLOAD_BYTES:
        return payload
    small = {k: v for k, v in payload.items()
             if v is None or isinstance(v, bool | int | float)
             or (isinstance(v, str) and len(v) <= 200)}
    small["auth_mode"] = "deferred"
    return small
