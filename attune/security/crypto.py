"""AES-256-GCM sealing of secret values before they touch a stream (invariant 7).

A sealed value is `{"$sealed": "v1:<key id>:<base64(nonce | ciphertext)>"}`; the key id
(first 8 hex of SHA-256 of the key) is recorded so the key can later be rotated.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from attune.errors import BadRequestError

SEALED = "$sealed"
REDACTED: dict[str, Any] = {"$attune_secret": True, "redacted": True}


class Sealer:
    def __init__(self, key_material: str) -> None:
        digest = hashlib.sha256(key_material.encode()).digest()
        self._aead = AESGCM(digest)
        self.key_id = hashlib.sha256(digest).hexdigest()[:8]

    def seal(self, value: Any) -> dict[str, str]:
        nonce = os.urandom(12)
        blob = nonce + self._aead.encrypt(nonce, orjson.dumps(value), self.key_id.encode())
        return {SEALED: f"v1:{self.key_id}:{base64.b64encode(blob).decode()}"}

    def open(self, sealed: dict[str, str]) -> Any:
        try:
            version, key_id, data = sealed[SEALED].split(":", 2)
            if version != "v1" or key_id != self.key_id:
                raise BadRequestError(f"secret sealed with unknown key {key_id!r}")
            blob = base64.b64decode(data)
            return orjson.loads(self._aead.decrypt(blob[:12], blob[12:], key_id.encode()))
        except (KeyError, ValueError, InvalidTag) as exc:
            raise BadRequestError("sealed secret cannot be opened") from exc


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED}


def redact(parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters for display: sealed values replaced by the redaction marker."""
    return {k: (REDACTED if is_sealed(v) else v) for k, v in parameters.items()}
