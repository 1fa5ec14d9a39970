"""GET a JSON document from a trace backend's HTTP API, turning every failure into a TraceBackendError."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from workers.console.traces.span import TraceBackendError

TIMEOUT_S = 10.0


def get_json(url: str, *, not_found_ok: bool = False, timeout_s: float = TIMEOUT_S) -> Any:
    """Return the decoded body; None on 404 when `not_found_ok` (Jaeger answers 404 for an unknown trace)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404 and not_found_ok:
            return None
        detail = error.read()[:300].decode("utf-8", "replace")
        raise TraceBackendError(f"GET {url}: HTTP {error.code} {detail}".strip()) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TraceBackendError(f"GET {url}: {reason}") from error
    try:
        return json.loads(body)
    except ValueError as error:
        raise TraceBackendError(f"GET {url}: not JSON ({error})") from error
