"""Many light WebSocket clients for `attune bench notifier`: a bare asyncio protocol per
connection (HTTP upgrade, then server frames read straight from the byte stream), so
that hundreds of clients cost little next to the notifier they measure. Each
notification's stream sequence and arrival time go to `on_notification`; other frames
(welcome, subscribed, resync, errors) to the client's `control` queue.

`main()` runs them in a process of their own (the benchmark's clients process):

    ATTUNE_BENCH_TOKEN=<jwt> python -c "from attune.bench.notifier_clients import main;
        main()" HOST PORT CLIENTS FILTER OUTPUT_FILE

It connects and subscribes every client, prints `ready`, then reads `expect N` on
stdin, waits until its clients have read N notifications in all (or 60 s), writes
the (sequence, arrival) pairs to OUTPUT_FILE (two arrays: int64 sequences, then
float64 arrival times) and prints `done <received> <resyncs> <its CPU seconds>`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
import sys
import time
from array import array
from collections.abc import Callable

import orjson

NOTIFICATION = b'{"type":"notification"'
SEQUENCE = b'"sequence":'

OnNotification = Callable[[int, float], None]


class WsClient(asyncio.Protocol):
    def __init__(self, host: str, port: int, token: str, on_notification: OnNotification
                 ) -> None:
        self.host, self.port, self.token = host, port, token
        self.on_notification = on_notification
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.upgraded = asyncio.get_running_loop().create_future()
        self.control: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.received = 0
        self.closed = asyncio.Event()

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET /ws HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {self.token}\r\n\r\n"
            .encode())

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            status = buffer[:end].split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(
                    f"the notifier refused the WebSocket: {status.decode(errors='replace')}"))
                return
            self.upgraded.set_result(None)
            buffer = buffer[end + 4:]
        offset, size = 0, len(buffer)
        while size - offset >= 2:
            length = buffer[offset + 1] & 0x7F
            start = offset + 2
            if length == 126:
                if size - offset < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, offset + 2)
                start = offset + 4
            elif length == 127:
                if size - offset < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, offset + 2)
                start = offset + 10
            end = start + length
            if end > size:
                break
            opcode = buffer[offset] & 0x0F
            if opcode == 0x1:
                self._text(buffer[start:end], now)
            elif opcode == 0x8:
                self.closed.set()
            offset = end
        self.buffer = buffer[offset:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("connection closed"))

    # -- frames ------------------------------------------------------------------------

    def _text(self, payload: bytes, now: float) -> None:
        if payload.startswith(NOTIFICATION):
            # the sequence is the envelope's last field: no need to parse the rest
            at = payload.rfind(SEQUENCE) + len(SEQUENCE)
            self.received += 1
            self.on_notification(int(payload[at:payload.index(b"}", at)]), now)
        else:
            self.control.put_nowait(orjson.loads(payload))

    def send_text(self, message: dict[str, object]) -> None:
        """One masked text frame (clients must mask, RFC 6455 5.3)."""
        assert self.transport is not None
        payload = orjson.dumps(message)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        self.transport.write(header + mask + masked)

    async def next_control(self, kind: str, timeout: float = 30.0) -> dict[str, object]:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.control.get()
                if frame.get("type") == kind:
                    return frame
                if frame.get("type") == "error":
                    raise ConnectionError(f"the notifier answered: {frame.get('message')}")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(host: str, port: int, token: str, on_notification: OnNotification
                  ) -> WsClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: WsClient(host, port, token, on_notification), host, port)
    await client.upgraded
    return client


class Recorder:
    """(sequence, arrival) of every notification read; `reached` once `target` are."""

    def __init__(self) -> None:
        self.sequences, self.arrivals = array("q"), array("d")
        self.target: int | None = None
        self.reached = asyncio.Event()

    def record(self, sequence: int, at: float) -> None:
        self.sequences.append(sequence)
        self.arrivals.append(at)
        if self.target is not None and len(self.sequences) >= self.target:
            self.reached.set()

    def expect(self, target: int) -> None:
        self.target = target
        if len(self.sequences) >= target:
            self.reached.set()

    def save(self, output: str) -> None:
        with open(output, "wb") as out:
            self.sequences.tofile(out)
            self.arrivals.tofile(out)


async def _serve(host: str, port: int, count: int, filter: str, output: str) -> None:
    token = os.environ["ATTUNE_BENCH_TOKEN"]
    recorder = Recorder()
    clients = []
    for _ in range(count):
        client = await connect(host, port, token, recorder.record)
        client.send_text({"type": "subscribe", "filter": filter})
        clients.append(client)
    for client in clients:
        await client.next_control("subscribed")
    print("ready", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    recorder.expect(int(line.split()[1]))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(recorder.reached.wait(), 60)
    resyncs = 0
    for client in clients:
        while not client.control.empty():
            resyncs += client.control.get_nowait().get("type") == "resync"
        client.close()
    await asyncio.to_thread(recorder.save, output)
    # its own CPU time too: the process is gone before anyone could read it in /proc
    print(f"done {len(recorder.sequences)} {resyncs} {time.process_time():.3f}", flush=True)


def main() -> None:
    host, port, count, filter, output = sys.argv[1:6]
    asyncio.run(_serve(host, int(port), int(count), filter, output))
