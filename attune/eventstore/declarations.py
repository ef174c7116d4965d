"""Apply `streams/streams.yaml` idempotently: create what is missing, update what changed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    KeyValueConfig,
    ObjectStoreConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BucketNotFoundError, NotFoundError

import attune.log as log
from attune.errors import BadRequestError
from attune.paths import streams_dir

_log = log.get("streams")


@dataclass(frozen=True)
class Declarations:
    streams: list[StreamConfig]
    consumers: list[tuple[str, ConsumerConfig]]
    kv: list[KeyValueConfig] = field(default_factory=list)
    object_stores: list[ObjectStoreConfig] = field(default_factory=list)


def replicas() -> int:
    """Copies of each stream and bucket: 1 on one server; 3 on a NATS cluster
    (ATTUNE_STREAM_REPLICAS=3, see ops/nats/)."""
    raw = os.environ.get("ATTUNE_STREAM_REPLICAS", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise BadRequestError(f"ATTUNE_STREAM_REPLICAS must be 1-5, got {raw!r}")
    return int(raw)


def load(path: Path | None = None) -> Declarations:
    doc: dict[str, Any] = yaml.safe_load((path or streams_dir() / "streams.yaml").read_text())
    copies = replicas()
    streams = [
        StreamConfig(
            name=s["name"], description=s.get("description"), subjects=s["subjects"],
            retention=RetentionPolicy(s.get("retention", "limits")),
            storage=StorageType(s.get("storage", "file")),
            max_age=float(s.get("max_age", 0)), max_msg_size=s.get("max_msg_size"),
            max_bytes=s.get("max_bytes"),
            duplicate_window=float(s.get("duplicate_window", 120)),
            allow_direct=s.get("allow_direct"), allow_atomic=s.get("allow_atomic"),
            num_replicas=copies,
        )
        for s in doc.get("streams", [])
    ]
    consumers = [
        (c["stream"], ConsumerConfig(
            durable_name=c["durable"], description=c.get("description"),
            filter_subjects=c.get("filter_subjects"), ack_policy=AckPolicy.EXPLICIT,
            ack_wait=float(c.get("ack_wait", 30)), max_deliver=c.get("max_deliver", -1),
            max_ack_pending=c.get("max_ack_pending", 1000)))
        for c in doc.get("consumers", [])
    ]
    kv = [KeyValueConfig(bucket=k["bucket"], description=k.get("description"),
                         ttl=float(k["ttl"]) if k.get("ttl") else None,
                         history=k.get("history", 1), replicas=copies)
          for k in doc.get("kv", [])]
    objects = [ObjectStoreConfig(bucket=o["bucket"], description=o.get("description"),
                                 storage=StorageType(o.get("storage", "file")),
                                 max_bytes=o.get("max_bytes"), replicas=copies)
               for o in doc.get("object_stores", [])]
    return Declarations(streams, consumers, kv, objects)


async def apply(js: JetStreamContext, decl: Declarations | None = None) -> list[str]:
    """Make the server match the declarations. Returns a line per change made."""
    decl = decl or load()
    changes: list[str] = []
    for cfg in decl.streams:
        assert cfg.name is not None
        try:
            info = await js.stream_info(cfg.name)
        except NotFoundError:
            await js.add_stream(cfg)
            changes.append(f"stream {cfg.name}: created")
            continue
        if _differs(info.config, cfg):
            await js.update_stream(cfg)
            changes.append(f"stream {cfg.name}: updated")
    for stream, ccfg in decl.consumers:
        try:
            cinfo = await js.consumer_info(stream, ccfg.durable_name or "")
        except NotFoundError:
            await js.add_consumer(stream, ccfg)
            changes.append(f"consumer {stream}/{ccfg.durable_name}: created")
            continue
        if _differs(cinfo.config, ccfg):
            await js.add_consumer(stream, ccfg)  # same durable name = update
            changes.append(f"consumer {stream}/{ccfg.durable_name}: updated")
    for kcfg in decl.kv:
        try:
            await js.key_value(kcfg.bucket)
        except BucketNotFoundError:
            await js.create_key_value(kcfg)
            changes.append(f"kv {kcfg.bucket}: created")
    for ocfg in decl.object_stores:
        try:
            await js.object_store(ocfg.bucket or "")
        except BucketNotFoundError:
            await js.create_object_store(ocfg.bucket or "", ocfg)
            changes.append(f"object store {ocfg.bucket}: created")
    for line in changes:
        _log.info("streams.applied", change=line)
    return changes


def _differs(current: Any, wanted: Any) -> bool:
    """True when a field set in `wanted` has another value on the server."""
    for name, value in vars(wanted).items():
        if value is None:
            continue
        have = getattr(current, name, None)
        if isinstance(value, float) and isinstance(have, int | float):
            if abs(have - value) > 1e-6:
                return True
        elif have != value:
            return True
    return False
