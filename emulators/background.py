"""Run an emulator's aiohttp app on loopback in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from typing import Self

import msgspec
from aiohttp import web

SHUTDOWN_TIMEOUT_S = 1.0


async def serve_app(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port in the running loop; the caller cleans up the runner."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


class BackgroundServer:
    """`start()` serves `make_app()` on a thread of its own (port 0 picks a free port), `stop()` ends it."""

    thread_name = "emulator"

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    def make_app(self) -> web.Application:
        raise NotImplementedError

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        started = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(started, failure), name=self.thread_name, daemon=True
        )
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def _serve(self, started: threading.Event, failure: list[BaseException]) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._open())
        except BaseException as exc:
            failure.append(exc)
            started.set()
            self._loop.close()
            return
        started.set()
        self._loop.run_forever()
        self._loop.close()

    async def _open(self) -> None:
        self._runner = await serve_app(self.make_app(), self.host, self.port)
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def serve_until_signalled(
    runner: web.AppRunner, title: str, urls: dict[str, str], config: object, *, as_json: bool
) -> None:
    """Print where clients connect, then serve in the foreground until SIGINT or SIGTERM."""
    if as_json:
        print(json.dumps(urls), flush=True)
    else:
        print(title, flush=True)
        for name, value in urls.items():
            print(f"  {name}={value}", flush=True)
        print(f"  config: {json.dumps(msgspec.to_builtins(config))}", flush=True)
    try:
        await until_signalled()
    finally:
        await runner.cleanup()


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM: a foreground server's life."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
