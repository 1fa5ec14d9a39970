"""The messaging ceiling: five no-op dramatiq actors in a chain on the same RabbitMQ, publisher-confirmed,
on queues of the type tradeflow's stages use (quorum by default: each confirm waits for RabbitMQ's log).

Each actor only sends the next one its message; the last one records when the chain ended. A dramatiq
Worker runs in this process (8 threads, like a tradeflow worker process), so the clock is shared.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from typing import Any

import dramatiq

from workers.chain.rabbitmq import QueueType, TradeflowRabbitmq

HOPS = 5


class NoopChain:
    def __init__(self, url: str, prefix: str, queue_type: QueueType, threads: int = 8) -> None:
        self.broker = TradeflowRabbitmq(url=url, confirm_delivery=True, queue_type=queue_type)
        self.prefix = prefix
        self.threads = threads
        self.done: dict[str, float] = {}
        self._lock = threading.Lock()
        self._all_done = threading.Event()
        self._expected = 0
        self.actors = [self._declare(n) for n in range(HOPS)]
        self._worker: dramatiq.Worker | None = None

    def _start_worker(self) -> dramatiq.Worker:
        worker = dramatiq.Worker(self.broker, worker_threads=self.threads)
        worker.start()
        return worker

    def _declare(self, hop: int) -> dramatiq.Actor:
        def hop_fn(chain_id: str, started: float) -> None:
            if hop + 1 < HOPS:
                self.actors[hop + 1].send(chain_id, started)
                return
            with self._lock:
                self.done[chain_id] = (time.time() - started) * 1000
                if len(self.done) >= self._expected:
                    self._all_done.set()

        hop_fn.__name__ = f"noop_{hop}"
        name = f"{self.prefix}noop_{hop}"
        return dramatiq.actor(actor_name=name, queue_name=name, broker=self.broker)(hop_fn)

    def run(self, chains: int, rate_per_s: float | None = None, timeout_s: float = 300) -> dict[str, Any]:
        """Send `chains` chains (as fast as publishing goes, or at a steady rate); wait for all to end."""
        self.done.clear()
        self._all_done.clear()
        self._expected = chains
        self._worker = self._worker or self._start_worker()
        started = time.perf_counter()
        for n in range(chains):
            if rate_per_s:
                time.sleep(max(0.0, started + n / rate_per_s - time.perf_counter()))
            self.actors[0].send(uuid.uuid4().hex, time.time())
        if not self._all_done.wait(timeout_s):
            raise TimeoutError(f"only {len(self.done)} of {chains} no-op chains ended in {timeout_s}s")
        elapsed = time.perf_counter() - started
        return {"chains": chains, "elapsed_s": elapsed, "latencies_ms": list(self.done.values())}

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        for actor in self.actors:
            for queue in (actor.queue_name, f"{actor.queue_name}.DQ", f"{actor.queue_name}.XQ"):
                with contextlib.suppress(Exception):  # best effort: the bench's own queues
                    self.broker.channel.queue_delete(queue)
        self.broker.close()
