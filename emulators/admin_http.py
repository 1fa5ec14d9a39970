"""The emulators' admin clients share this: JSON over urllib to `{origin}/admin/…`, and the common calls."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from decimal import Decimal
from typing import Any


class AdminError(RuntimeError):
    """The admin API refused a request (HTTP 400/404) or could not be reached."""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class AdminHttp:
    def __init__(self, origin: str, *, timeout_s: float = 10.0) -> None:
        self.origin = origin.rstrip("/")
        self.timeout_s = timeout_s

    def _call(
        self, verb: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        url = f"{self.origin}/admin{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        data = None if body is None else json.dumps(body, default=_encode).encode()
        request = urllib.request.Request(
            url, data=data, method=verb, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise AdminError(f"{verb} /admin{path}: {exc.code} {exc.read().decode()}") from None
        return json.loads(text) if text else None

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/status")

    def reset(self, **config: Any) -> None:
        """Back to the start state; keyword arguments change the config until the next reset."""
        self._call("POST", "/reset", config)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self._call("POST", "/config", changes)

    def add_fault(self, kind: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/faults", {"kind": kind, **fields})
