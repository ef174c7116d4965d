"""A minimal WebSocket client (RFC 6455) on the standard library, enough for the
notifier: text frames out (masked, as clients must), text/binary frames in (fragments
joined), pings answered, close handshakes honoured. No extensions, no compression.

`recv(timeout)` raises `TimeoutError` when nothing complete arrived in time; a frame
half-read when the timeout struck stays buffered, so the next call continues it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_MESSAGE = 64 * 1024 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketError(OSError):
    """The handshake failed or the peer broke the protocol."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class WebSocketClosedError(ConnectionError):
    """The peer closed the connection; `code` and `reason` are what it said (1006 when
    the connection simply dropped)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"websocket closed: {code} {reason}".strip())
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class _Frame:
    fin: bool
    opcode: int
    payload: bytes


class WebSocket:
    def __init__(self, sock: socket.socket, leftover: bytes = b"",
                 subprotocol: str | None = None) -> None:
        self.sock = sock
        self.subprotocol = subprotocol
        self._buffer = bytearray(leftover)
        self._fragments: list[bytes] = []
        self._fragment_opcode = OP_TEXT
        self.closed = False

    # -- sending ---------------------------------------------------------------------------
    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytearray([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 1 << 16:
            header.append(0x80 | 126)
            header += struct.pack("!H", length)
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", length)
        mask = os.urandom(4)
        header += mask
        self.sock.sendall(bytes(header) + _mask(payload, mask))

    def send(self, text: str) -> None:
        self._send_frame(OP_TEXT, text.encode("utf-8"))

    def ping(self, data: bytes = b"") -> None:
        self._send_frame(OP_PING, data)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:120])
        except OSError:
            pass  # the peer is gone already: nothing left to tell it
        finally:
            self.sock.close()

    # -- receiving -------------------------------------------------------------------------
    def _parse(self) -> _Frame | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        fin, opcode = bool(buf[0] & 0x80), buf[0] & 0x0F
        masked, length = bool(buf[1] & 0x80), buf[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length = struct.unpack("!H", buf[2:4])[0]
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length = struct.unpack("!Q", buf[2:10])[0]
            offset = 10
        if length > _MAX_MESSAGE:
            raise WebSocketError(f"frame of {length} bytes is larger than allowed")
        mask = b""
        if masked:
            if len(buf) < offset + 4:
                return None
            mask = bytes(buf[offset:offset + 4])
            offset += 4
        if len(buf) < offset + length:
            return None
        payload = bytes(buf[offset:offset + length])
        del buf[:offset + length]
        if masked:
            payload = _mask(payload, mask)
        return _Frame(fin, opcode, payload)

    def _next_frame(self) -> _Frame:
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            data = self.sock.recv(65536)  # raises TimeoutError (socket.timeout)
            if not data:
                self.closed = True
                raise WebSocketClosedError(1006, "connection dropped")
            self._buffer += data

    def recv(self, timeout: float | None = None) -> str | bytes:
        """The next whole message (str for text, bytes for binary)."""
        if self.closed:
            raise WebSocketClosedError(1006, "already closed")
        self.sock.settimeout(timeout)
        while True:
            frame = self._next_frame()
            if frame.opcode == OP_PING:
                self._send_frame(OP_PONG, frame.payload)
                continue
            if frame.opcode == OP_PONG:
                continue
            if frame.opcode == OP_CLOSE:
                code = struct.unpack("!H", frame.payload[:2])[0] if len(frame.payload) >= 2 \
                    else 1005
                reason = frame.payload[2:].decode("utf-8", "replace")
                self.close(code if code not in (1005, 1006) else 1000)
                raise WebSocketClosedError(code, reason)
            if frame.opcode in (OP_TEXT, OP_BINARY):
                self._fragment_opcode = frame.opcode
                self._fragments = [frame.payload]
            elif frame.opcode == OP_CONT:
                self._fragments.append(frame.payload)
            else:
                raise WebSocketError(f"unknown websocket opcode {frame.opcode}")
            if frame.fin:
                data = b"".join(self._fragments)
                self._fragments = []
                return data.decode("utf-8") if self._fragment_opcode == OP_TEXT else data


def _mask(data: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key repeated (one big-integer XOR, not a loop per byte)."""
    if not data:
        return data
    size = len(data)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def connect(url: str, *, headers: dict[str, str] | None = None,
            subprotocols: list[str] | None = None, timeout: float = 10.0) -> WebSocket:
    """Open `ws://` or `wss://` `url` and complete the handshake (raises WebSocketError
    with the HTTP status when the server refuses the upgrade, e.g. 401)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise WebSocketError(f"not a websocket URL: {url!r} (expected ws://host/... or wss://)")
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    sock = socket.create_connection((parts.hostname, port), timeout=timeout)
    try:
        if secure:
            import ssl

            sock = ssl.create_default_context().wrap_socket(sock,
                                                            server_hostname=parts.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        lines = [f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
                 f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if subprotocols:
            lines.append(f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head, leftover = _read_head(sock)
        status_line, *header_lines = head.split("\r\n")
        fields = status_line.split(" ", 2)
        status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
        answer = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            answer[name.strip().lower()] = value.strip()
        if status != 101:
            raise WebSocketError(f"websocket upgrade refused by {url}: {status_line}", status)
        expected = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324 - RFC 6455
        if answer.get("sec-websocket-accept") != expected:
            raise WebSocketError(f"websocket handshake with {url}: bad Sec-WebSocket-Accept")
        return WebSocket(sock, leftover, answer.get("sec-websocket-protocol"))
    except BaseException:
        sock.close()
        raise


def _read_head(sock: socket.socket) -> tuple[str, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise WebSocketError("connection closed during the websocket handshake")
        data += chunk
        if len(data) > 65536:
            raise WebSocketError("websocket handshake answer too large")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("iso-8859-1"), rest
