"""Where each xdist worker's time went, printed after the slowest tests: which worker ended the run, when,
and on which module. The suite's wall time is its last worker's, so a run that took long says here whether
one worker's modules (the campaign's, say) or every worker's work made it so.

On the controller only (the workers' reports reach it with their `node`); a run without xdist prints nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class WorkerSpan:
    tests: int = 0
    busy_s: float = 0.0  # setup, call and teardown of its tests
    last_stop: float = 0.0
    last_module: str = ""
    modules: list[str] = field(default_factory=list)


_STARTED = time.time()
_SPANS: dict[str, WorkerSpan] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    node: Any = getattr(report, "node", None)
    if node is None:
        return
    span = _SPANS.setdefault(str(node.gateway.id), WorkerSpan())
    span.busy_s += report.duration
    module = report.nodeid.split("::", 1)[0]
    if module not in span.modules:
        span.modules.append(module)
    if report.when == "call":
        span.tests += 1
    if report.stop > span.last_stop:
        span.last_stop, span.last_module = report.stop, module


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _SPANS:
        return
    terminalreporter.section("where each worker's time went")
    for worker, span in sorted(_SPANS.items(), key=lambda item: item[1].last_stop):
        terminalreporter.write_line(
            f"{worker}: {span.tests} tests in {len(span.modules)} modules, {span.busy_s:.0f} s in tests, "
            f"done at {span.last_stop - _STARTED:.0f} s after {span.last_module}"
        )
