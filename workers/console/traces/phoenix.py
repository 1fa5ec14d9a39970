"""Arize Phoenix as a trace backend: `GET /v1/projects/{project}/spans?trace_id=…`, the REST route its own
client uses (`getSpans` in src/phoenix/server/api/routers/v1/spans.py).

Each span comes back as Phoenix's `Span` model: `context.trace_id` / `context.span_id`, `parent_id`, ISO
`start_time` / `end_time`, `status_code`, `status_message`, flattened `attributes`, and pages chained by
`next_cursor`. Phoenix keeps neither the resource's `service.name` nor the OTel span kind (its
`span_kind` is OpenInference's), so those stay None. Spans without an `openinference.project.name`
resource attribute land in the project "default".
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from workers.console.traces.http_json import get_json
from workers.console.traces.span import StatusCode, TraceBackendError, TraceSpan

DEFAULT_URL = "http://127.0.0.1:6006"
DEFAULT_PROJECT = "default"
PAGE_SIZE = 1000  # the route's maximum
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PhoenixBackend:
    """Read a trace from a Phoenix server; its UI is on the same address."""

    def __init__(
        self, url: str = DEFAULT_URL, project: str = DEFAULT_PROJECT, page_size: int = PAGE_SIZE
    ) -> None:
        self.url = url.rstrip("/")
        self.project = project
        self.page_size = page_size

    @property
    def source(self) -> str:
        return f"{self.url} (project {self.project})"

    def spans(self, trace_id: str) -> list[TraceSpan]:
        spans: list[TraceSpan] = []
        cursor: str | None = None
        while True:
            query = {"trace_id": trace_id, "limit": self.page_size} | ({"cursor": cursor} if cursor else {})
            path = f"/v1/projects/{urllib.parse.quote(self.project, safe='')}/spans"
            page = get_json(f"{self.url}{path}?{urllib.parse.urlencode(query)}")
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise TraceBackendError(f"{self.url} did not answer like Phoenix's REST API")
            spans += [span_of_phoenix(row) for row in page["data"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return spans

    def ui_link(self, trace_id: str) -> str | None:
        # The UI's own redirect route finds the trace's project: /projects/{project id}/traces/{trace id}.
        return f"{self.url}/redirects/traces/{trace_id}"


def span_of_phoenix(row: dict[str, Any]) -> TraceSpan:
    """Normalize one span of Phoenix's REST API."""
    status = row.get("status_code")
    return TraceSpan(
        trace_id=row["context"]["trace_id"],
        span_id=row["context"]["span_id"],
        parent_span_id=row.get("parent_id"),
        name=row["name"],
        service=None,
        kind=None,
        start_ns=_unix_nano(row["start_time"]),
        end_ns=_unix_nano(row["end_time"]),
        status=_STATUS.get(status, "UNSET") if isinstance(status, str) else "UNSET",
        status_message=row.get("status_message") or "",
        attributes=row.get("attributes") or {},
    )


_STATUS: dict[str, StatusCode] = {"OK": "OK", "ERROR": "ERROR", "UNSET": "UNSET"}


def _unix_nano(iso: str) -> int:
    # Integer arithmetic: a float timestamp would lose the microseconds' last digits.
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1_000


def phoenix_answers(url: str = DEFAULT_URL, timeout_s: float = 1.0) -> bool:
    """Tell whether Phoenix answers at `url`: its version route, not merely something on the port."""
    version_url = f"{url.rstrip('/')}/arize_phoenix_version"
    try:
        with urllib.request.urlopen(version_url, timeout=timeout_s) as response:
            version = response.read(64).decode("ascii", "replace")
    except (urllib.error.URLError, OSError):
        return False
    return re.fullmatch(r"\d+\.\d+\S*", version.strip()) is not None
