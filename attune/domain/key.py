"""Keys (secrets): JSON values under owner-scoped refs, one aggregate per ref.

    system.<name>              identity.<login>.<name>      pack.<pack>.<name>
    action.<action ref>.<name> sensor.<sensor ref>.<name>

The value in an event is sealed (AES-256-GCM, `attune.security.crypto`) unless the key
was set with `encrypted: false`; the stream never holds the plaintext of an encrypted
key. Pure: refs, events, the fold and the keystore lookup, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

from attune.domain.events import Event, register
from attune.errors import NotFoundError, ValidationError

OwnerType = Literal["system", "identity", "pack", "action", "sensor"]
OWNER_TYPES: tuple[OwnerType, ...] = ("system", "identity", "pack", "action", "sensor")
NAME = re.compile(r"^[a-z0-9_-]{1,63}$")
MAX_VALUE_CHARS = 10_000


@dataclass(frozen=True)
class KeyRef:
    owner_type: OwnerType
    owner: str
    name: str

    @property
    def ref(self) -> str:
        if self.owner_type == "system":
            return f"system.{self.name}"
        return f"{self.owner_type}.{self.owner}.{self.name}"

    @property
    def pack_ref(self) -> str | None:
        """The pack the key belongs to (pack keys, and those of a pack's action/sensor)."""
        if self.owner_type == "pack":
            return self.owner
        if self.owner_type in ("action", "sensor"):
            return self.owner.split(".", 1)[0]
        return None


def build_ref(owner_type: str, owner: str | None, name: str) -> KeyRef:
    """The canonical ref of a key; 422 naming what is wrong."""
    if owner_type not in OWNER_TYPES:
        raise ValidationError(f"owner_type must be one of {', '.join(OWNER_TYPES)}, "
                              f"got {owner_type!r}")
    if not NAME.match(name):
        raise ValidationError(f"key name {name!r} must be 1-63 characters of a-z, 0-9, _ "
                              "and -")
    if owner_type == "system":
        if owner:
            raise ValidationError("a system key has no owner: leave owner out")
        return KeyRef("system", "", name)
    if not owner or owner != owner.strip() or len(owner) > 255:
        raise ValidationError(f"a {owner_type} key needs its owner (the "
                              f"{'login' if owner_type == 'identity' else owner_type + ' ref'})")
    if owner_type in ("action", "sensor") and "." not in owner:
        raise ValidationError(f"a {owner_type} key's owner is a ref like core.echo, got "
                              f"{owner!r}")
    return KeyRef(owner_type, owner, name)


def parse_ref(ref: str) -> KeyRef:
    """`identity.john.doe.token` -> identity / john.doe / token: the owner type is the
    first segment and the name the last (names have no dots; owners may)."""
    owner_type, _, rest = ref.partition(".")
    if owner_type == "system":
        return build_ref("system", None, rest)
    owner, _, name = rest.rpartition(".")
    if owner_type not in OWNER_TYPES or not owner:
        raise ValidationError(
            f"key ref {ref!r} is not one of system.<name>, identity.<login>.<name>, "
            "pack.<pack>.<name>, action.<action ref>.<name>, sensor.<sensor ref>.<name>")
    return build_ref(owner_type, owner, name)


def check_value(value: Any) -> None:
    if len(orjson.dumps(value)) > MAX_VALUE_CHARS:
        raise ValidationError(f"value too large: at most {MAX_VALUE_CHARS} characters of "
                              "JSON")


@register
class KeySet(Event):
    """Created or changed. `value` is sealed when `encrypted` (key id inside it)."""

    type: Literal["key.set"] = "key.set"
    ref: str
    owner_type: OwnerType
    owner: str
    #: the key's own name (the last segment of its ref)
    key_name: str
    encrypted: bool
    value: Any
    expires_at: datetime | None = None


@register
class KeyResealed(Event):
    """Re-encrypted under the current encryption key (rotation); the value is unchanged."""

    type: Literal["key.resealed"] = "key.resealed"
    ref: str
    value: dict[str, str]


@register
class KeyDeleted(Event):
    type: Literal["key.deleted"] = "key.deleted"
    ref: str


@dataclass(frozen=True)
class StoredKey:
    """A key as its events leave it (value still sealed when encrypted)."""

    ref: str
    owner_type: OwnerType
    owner: str
    name: str
    encrypted: bool
    value: Any
    expires_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def evolve(state: StoredKey | None, event: Event) -> StoredKey | None:
    match event:
        case KeySet() as e:
            return StoredKey(e.ref, e.owner_type, e.owner, e.key_name, e.encrypted, e.value,
                             e.expires_at)
        case KeyResealed() as e if state is not None:
            return StoredKey(state.ref, state.owner_type, state.owner, state.name,
                             state.encrypted, e.value, state.expires_at)
        case KeyDeleted():
            return None
        case _:
            return state


def lookup(keys: Mapping[str, StoredKey], ref: str, now: datetime,
           open_sealed: Callable[[Any], Any]) -> Any:
    """The plaintext value of `ref` in a snapshot of keys — what the `keystore`
    namespace of rule templates and workflows resolves. Expired keys are absent."""
    key = keys.get(ref)
    if key is None or key.expired(now):
        raise NotFoundError(f"key {ref!r} not found")
    return open_sealed(key.value) if key.encrypted else key.value


def keystore(keys: Mapping[str, StoredKey], now: datetime,
             open_sealed: Callable[[Any], Any]) -> Callable[[str], Any]:
    """The lookup the `keystore` namespace of workflows and rule templates takes
    (`attune.workflow.scope.Keystore`): ref -> plaintext value, None when absent or
    expired."""
    def find(ref: str) -> Any:
        try:
            return lookup(keys, ref, now, open_sealed)
        except NotFoundError:
            return None
    return find
