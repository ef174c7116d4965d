"""Keys (secrets): bodies and answers. Lists never carry values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from attune.api.models.base import PageQuery, Request, Response

OwnerTypeField = Literal["system", "identity", "pack", "action", "sensor"]
TtlSeconds = Annotated[int, Field(ge=1, le=10 * 365 * 86400,
                                  description="the key expires this many seconds from now")]


class KeyCreateRequest(Request):
    """Either `ref` (e.g. `pack.slack.token`) or `owner_type` + `owner` + `name`: the
    server builds the canonical ref (`system.<name>`, `identity.<login>.<name>`,
    `pack.<pack>.<name>`, `action.<ref>.<name>`, `sensor.<ref>.<name>`)."""

    ref: Annotated[str, Field(min_length=3, max_length=400)] | None = None
    owner_type: OwnerTypeField | None = None
    owner: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z0-9_-]+$")] | None \
        = None
    value: Any = Field(description="any JSON value, at most 10,000 characters")
    encrypted: bool = Field(default=True, description="sealed with AES-256-GCM before it "
                            "is recorded; false keeps it readable with keys:read")
    ttl_seconds: TtlSeconds | None = None

    @model_validator(mode="after")
    def _one_way(self) -> KeyCreateRequest:
        if self.ref is None and (self.owner_type is None or self.name is None):
            raise ValueError("give either ref, or owner_type and name (and owner unless "
                             "owner_type is system)")
        if self.ref is not None and (self.owner_type or self.owner or self.name):
            raise ValueError("give either ref, or owner_type/owner/name, not both")
        return self


class KeyUpdateRequest(Request):
    value: Any = Field(description="the new JSON value")
    encrypted: bool | None = Field(default=None, description="unchanged when left out")
    ttl_seconds: TtlSeconds | None = Field(default=None, description="a new expiry from "
                                           "now; unchanged when left out")


class KeyListQuery(PageQuery):
    owner_type: OwnerTypeField | None = None
    owner: str | None = Field(default=None, max_length=255)
    q: str | None = Field(default=None, max_length=200, description="words in the ref")


class KeySummaryOut(Response):
    ref: str
    owner_type: str
    owner: str
    name: str
    encrypted: bool
    expires_at: datetime | None = None
    created: datetime
    updated: datetime


class KeyOut(KeySummaryOut):
    """`value` is the plaintext when the caller has keys:decrypt on this key (or the key
    is not encrypted), else null."""

    value: Any = None


class RotationOut(Response):
    resealed: int = Field(description="keys re-encrypted by this call")
    key_id: str = Field(description="id of the current encryption key")
