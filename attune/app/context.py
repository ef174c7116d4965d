"""What a running service holds: settings, the event store, the read-model pool,
the sealer, the token issuer and the clock (injected so replays are deterministic)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from nats.aio.client import Client

from attune.config import Settings
from attune.eventstore.store import EventStore
from attune.security.crypto import Sealer
from attune.security.tokens import TokenIssuer


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    settings: Settings
    nc: Client
    pool: asyncpg.Pool
    store: EventStore
    sealer: Sealer
    tokens: TokenIssuer
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def build(cls, settings: Settings, nc: Client, pool: asyncpg.Pool) -> Context:
        return cls(settings=settings, nc=nc, pool=pool, store=EventStore(nc),
                   sealer=Sealer(settings.encryption_key,
                                 settings.previous_encryption_keys),
                   tokens=TokenIssuer(settings.jwt_secret,
                                      access_ttl=settings.access_token_ttl,
                                      refresh_ttl=settings.refresh_token_ttl))
