"""Pass the OTLP trace requests the sink received on to an upstream OTLP/HTTP receiver (Phoenix, Jaeger).

The sink keeps its span file either way; forwarding runs on its own thread so that a slow or absent
upstream never holds up an exporter, and a full backlog drops requests for the upstream only.
"""

from __future__ import annotations

import logging
import queue
import threading
import urllib.error
import urllib.request

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

logger = logging.getLogger(__name__)


class OtlpForwarder:
    """POST each request, as protobuf (the one encoding every receiver accepts), to `traces_url`."""

    def __init__(self, traces_url: str, *, timeout_s: float = 5.0, backlog: int = 1000) -> None:
        self.traces_url = traces_url
        self.timeout_s = timeout_s
        self.sent = self.failed = self.dropped = 0
        self._pending: queue.Queue[bytes | None] = queue.Queue(maxsize=backlog)
        self._thread: threading.Thread | None = None
        self._warned = False

    def start(self) -> OtlpForwarder:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="otlp-forward", daemon=True)
            self._thread.start()
        return self

    def submit(self, request: ExportTraceServiceRequest) -> None:
        """Queue one request for the upstream; drop it when the backlog is full."""
        try:
            self._pending.put_nowait(request.SerializeToString())
        except queue.Full:
            self.dropped += 1

    def stop(self) -> None:
        """Send what is queued, then stop."""
        if self._thread is None:
            return
        self._pending.put(None)  # the end mark, after everything queued
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        while (body := self._pending.get()) is not None:
            self._post(body)

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(
            self.traces_url,
            data=body,
            headers={"Content-Type": "application/x-protobuf"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except (urllib.error.URLError, OSError) as error:
            self.failed += 1
            if not self._warned:  # once: the upstream may simply not be started yet
                self._warned = True
                logger.warning("OTLP forward to %s failed: %s", self.traces_url, error)
            return
        self.sent += 1
