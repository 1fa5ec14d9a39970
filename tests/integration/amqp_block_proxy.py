"""A TCP proxy in front of RabbitMQ that plays a resource alarm at the AMQP level, for one test's connections.

RabbitMQ, under a memory or disk alarm, sends `connection.blocked` to a connection when it publishes and
stops reading from it until the alarm clears (`connection.unblocked`); other connections go on. This proxy
does the same on `block()`: the first Basic.Publish a connection sends after it is held back with all that
follows, and `connection.blocked` is sent to that client; `unblock()` sends `connection.unblocked` and lets
the held frames through, so a publish made during the alarm may still complete after it. The machine's
RabbitMQ itself is never touched (other tests share it).

One difference from a real node, measured on a RabbitMQ 3.10 node of our own under
`set_vm_memory_high_watermark 0`: it reads and enqueues the publish that triggered the block (into a quorum
queue) and never confirms it, so dramatiq's enqueue retry after the blocked-connection timeout enqueues a
second copy of the same message (same trade id: the chain's idempotency absorbs it). Here that publish is
held, and reaches RabbitMQ only on `unblock()`.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Coroutine
from typing import Any

PROTOCOL_HEADER = 8  # b"AMQP\x00\x00\x09\x01", client to server only
FRAME_METHOD, FRAME_END = 1, b"\xce"
CONNECTION, BASIC = 10, 60
BLOCKED, UNBLOCKED, PUBLISH = 60, 61, 40


def method_frame(class_id: int, method_id: int, arguments: bytes = b"") -> bytes:
    payload = struct.pack(">HH", class_id, method_id) + arguments
    return struct.pack(">BHI", FRAME_METHOD, 0, len(payload)) + payload + FRAME_END


def blocked_frame(reason: str = "low on memory") -> bytes:
    encoded = reason.encode()
    return method_frame(CONNECTION, BLOCKED, bytes([len(encoded)]) + encoded)


def split_frames(buffer: bytearray) -> list[bytes]:
    """Take the whole frames off the front of `buffer`; a partial frame stays for the next read."""
    frames = []
    while len(buffer) >= 7:
        (size,) = struct.unpack(">I", buffer[3:7])
        if len(buffer) < 7 + size + 1:
            break
        frames.append(bytes(buffer[: 7 + size + 1]))
        del buffer[: 7 + size + 1]
    return frames


def is_method(frame: bytes, class_id: int, method_id: int) -> bool:
    return frame[0] == FRAME_METHOD and struct.unpack(">HH", frame[7:11]) == (class_id, method_id)


class _Link:
    def __init__(self, proxy: AmqpBlockProxy, client: asyncio.StreamWriter, server: asyncio.StreamWriter):
        self.proxy = proxy
        self.client, self.server = client, server
        self.held: list[bytes] | None = None  # frames held back from RabbitMQ while blocked

    def from_client(self, frame: bytes) -> None:
        if self.held is None and self.proxy.blocked and is_method(frame, BASIC, PUBLISH):
            self.held = []
            self.client.write(blocked_frame())
            self.proxy.blocked_links += 1
        if self.held is not None:
            self.held.append(frame)
        else:
            self.server.write(frame)

    def release(self) -> None:
        if self.held is None or self.client.is_closing() or self.server.is_closing():
            self.held = None
            return
        self.client.write(method_frame(CONNECTION, UNBLOCKED))
        for frame in self.held:
            self.server.write(frame)
        self.held = None


class AmqpBlockProxy:
    """Listens on 127.0.0.1 (`url`), forwards to `upstream` (host, port); `block()`/`unblock()` the alarm."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.blocked = False
        self.blocked_links = 0  # connections sent connection.blocked so far
        self.port = 0
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="amqp-block-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    def url(self, rabbitmq_url: str) -> str:
        """`rabbitmq_url` with its host and port replaced by the proxy's."""
        scheme, _, rest = rabbitmq_url.partition("://")
        credentials, _, location = rest.rpartition("@")
        _, _, path = location.partition("/")
        return f"{scheme}://{credentials}@127.0.0.1:{self.port}/{path}"

    def start(self) -> AmqpBlockProxy:
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def block(self) -> None:
        self._run(self._set(True))

    def unblock(self) -> None:
        self._run(self._set(False))

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for link in list(self._links):
                link.client.close()
                link.server.close()

        self._run(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    async def _set(self, blocked: bool) -> None:
        self.blocked = blocked
        if not blocked:
            for link in self._links:
                link.release()

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.close()
            return
        link = _Link(self, client_out, server_out)
        self._links.add(link)
        try:
            await asyncio.gather(self._client_to_server(client_in, link), self._pipe(server_in, client_out))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._links.discard(link)
            client_out.close()
            server_out.close()

    async def _client_to_server(self, reader: asyncio.StreamReader, link: _Link) -> None:
        link.server.write(await reader.readexactly(PROTOCOL_HEADER))
        buffer = bytearray()
        while chunk := await reader.read(65536):
            buffer += chunk
            for frame in split_frames(buffer):
                link.from_client(frame)
        link.server.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Whole frames only, so a connection.blocked written by from_client never lands inside one.
        buffer = bytearray()
        while chunk := await reader.read(65536):
            buffer += chunk
            for frame in split_frames(buffer):
                writer.write(frame)
        writer.close()
