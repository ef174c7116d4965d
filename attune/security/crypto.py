"""AES-256-GCM sealing of secret values before they touch a stream (invariant 7).

A sealed value is `{"$sealed": "v1:<key id>:<base64(nonce | ciphertext | tag)>"}` with a
random 96-bit nonce; the key is SHA-256 of the key material and the key id (first 8 hex
of SHA-256 of the key) is recorded, so the key can be rotated: a `Sealer` is a keyring
that seals with its current key and opens values sealed with any key it holds
(`ATTUNE_PREVIOUS_ENCRYPTION_KEYS`), and `attune key rotate-encryption-key` re-seals the
stored keys under the current one.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attune.errors import BadRequestError

SEALED = "$sealed"
REDACTED: dict[str, Any] = {"$attune_secret": True, "redacted": True}


def _key_and_id(key_material: str) -> tuple[bytes, str]:
    digest = hashlib.sha256(key_material.encode()).digest()
    return digest, hashlib.sha256(digest).hexdigest()[:8]


class Sealer:
    def __init__(self, key_material: str, previous: Sequence[str] = ()) -> None:
        key, self.key_id = _key_and_id(key_material)
        self._aead = AESGCM(key)
        #: every key this sealer can open with, by key id (the current one included)
        self._ring: dict[str, AESGCM] = {}
        for material in previous:
            old, old_id = _key_and_id(material)
            self._ring[old_id] = AESGCM(old)
        self._ring[self.key_id] = self._aead

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._ring)

    def seal(self, value: Any) -> dict[str, str]:
        nonce = os.urandom(12)
        blob = nonce + self._aead.encrypt(nonce, orjson.dumps(value), self.key_id.encode())
        return {SEALED: f"v1:{self.key_id}:{base64.b64encode(blob).decode()}"}

    def open(self, sealed: dict[str, str]) -> Any:
        try:
            version, key_id, data = sealed[SEALED].split(":", 2)
            aead = self._ring.get(key_id)
            if version != "v1" or aead is None:
                raise BadRequestError(
                    f"secret sealed with unknown key {key_id!r}: add the key material it "
                    "was sealed with to ATTUNE_PREVIOUS_ENCRYPTION_KEYS")
            blob = base64.b64decode(data)
            return orjson.loads(aead.decrypt(blob[:12], blob[12:], key_id.encode()))
        except (KeyError, ValueError, InvalidTag) as exc:
            raise BadRequestError("sealed secret cannot be opened") from exc

    def reseal(self, sealed: dict[str, str]) -> dict[str, str] | None:
        """The value sealed under the current key, or None when it already is."""
        if sealed_key_id(sealed) == self.key_id:
            return None
        return self.seal(self.open(sealed))


def sealed_key_id(sealed: dict[str, str]) -> str | None:
    parts = sealed.get(SEALED, "").split(":", 2)
    return parts[1] if len(parts) == 3 else None


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED}


def redact(parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters for display: sealed values replaced by the redaction marker."""
    return {k: (REDACTED if is_sealed(v) else v) for k, v in parameters.items()}
