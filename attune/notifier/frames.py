"""WebSocket text frames as a server sends them (RFC 6455 §5.2: final, unmasked, no
compression), built once per notification and written as is to every recipient."""

from __future__ import annotations

import struct

_TEXT = 0x81  # FIN + opcode 1 (text)


def text_frame(payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", _TEXT, length) + payload
    if length < 65536:
        return struct.pack("!BBH", _TEXT, 126, length) + payload
    return struct.pack("!BBQ", _TEXT, 127, length) + payload
