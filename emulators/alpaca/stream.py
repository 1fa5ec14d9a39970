"""The `trade_updates` websocket at /stream (and /paper/stream), speaking Alpaca's protocol.

Handshake (Alpaca docs "Websocket Streaming"; the replies as recorded by the apca client's tests):
  client → {"action":"authenticate","data":{"key_id":…,"secret_key":…}}   (alpaca-py; the older
           {"action":"auth","key":…,"secret":…} form is accepted too)
  server → {"stream":"authorization","data":{"action":"authenticate","status":"authorized"}}
           or status "unauthorized", after which the server closes the socket
  client → {"action":"listen","data":{"streams":["trade_updates"]}}
  server → {"stream":"listening","data":{"streams":["trade_updates"]}}
  server → {"stream":"trade_updates","data":{"event":"fill","order":{…},"timestamp":…,…}} per event
Encoding: the paper stream sends every message as a *binary* frame holding JSON (unlike the market
data stream's text frames); alpaca-py's `json.loads` reads bytes. A client that connects with the
header `Content-Type: application/msgpack` gets MessagePack instead, as Alpaca documents.
Each socket authenticates as one account (its key pair) and hears only that account's updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

TRADE_UPDATES = "trade_updates"


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    msgpack: bool
    account: str | None = None  # the account it authenticated as
    listening: bool = False
    outbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)

    def encode(self, message: dict[str, Any]) -> bytes:
        if self.msgpack:
            return msgspec.msgpack.encode(message)
        return json.dumps(message, separators=(",", ":")).encode()

    def decode(self, payload: str | bytes) -> Any:
        if self.msgpack and isinstance(payload, bytes):
            return msgspec.msgpack.decode(payload)
        return json.loads(payload)

    def send(self, message: dict[str, Any]) -> None:
        self.outbox.put_nowait(self.encode(message))

    async def write_outbox(self) -> None:
        """One writer per socket, so replies and events leave in the order they were made."""
        while (frame := await self.outbox.get()) is not None:
            try:
                await self.ws.send_bytes(frame)
            except (ConnectionError, RuntimeError):
                return


Authenticate = Callable[[Any, Any], str | None]  # (key_id, secret_key) → the account's name, or None


class TradeUpdatesHub:
    def __init__(self, authenticate: Authenticate) -> None:
        self._authenticate = authenticate
        self._connections: set[_Connection] = set()

    def listeners(self, account: str | None = None) -> int:
        """Sockets authenticated and listening to trade_updates (of `account`, or of any)."""
        return sum(1 for c in self._connections if c.listening and account in (None, c.account))

    def publish(self, update: dict[str, Any], *, account: str) -> None:
        message = {"stream": TRADE_UPDATES, "data": update}
        for connection in self._connections:
            if connection.listening and connection.account == account:
                connection.send(message)

    async def close_all(self, account: str | None = None) -> None:
        for connection in list(self._connections):
            if account in (None, connection.account):
                connection.outbox.put_nowait(None)
                await connection.ws.close()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = _Connection(ws, msgpack="msgpack" in request.headers.get("Content-Type", ""))
        self._connections.add(connection)
        writer = asyncio.create_task(connection.write_outbox())
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                with contextlib.suppress(ValueError, msgspec.DecodeError):
                    if not self._on_message(connection, connection.decode(message.data)):
                        break
        finally:
            self._connections.discard(connection)
            connection.listening = False
            connection.outbox.put_nowait(None)
            await writer
            await ws.close()
        return ws

    def _on_message(self, connection: _Connection, message: Any) -> bool:
        """Answer one client message; False ends the connection."""
        if not isinstance(message, dict):
            return True
        action, data = message.get("action"), message.get("data") or {}
        if action in ("authenticate", "auth"):
            key = data.get("key_id") if action == "authenticate" else message.get("key")
            secret = data.get("secret_key") if action == "authenticate" else message.get("secret")
            connection.account = self._authenticate(key, secret)
            status = "authorized" if connection.account is not None else "unauthorized"
            connection.send({"stream": "authorization", "data": {"action": "authenticate", "status": status}})
            return connection.account is not None
        if action == "listen":
            if connection.account is None:
                connection.send(
                    {"stream": "authorization", "data": {"action": "listen", "status": "unauthorized"}}
                )
                return True
            streams = [s for s in data.get("streams") or [] if s == TRADE_UPDATES]
            connection.listening = bool(streams)
            connection.send({"stream": "listening", "data": {"streams": streams}})
        return True
