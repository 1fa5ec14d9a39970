"""`tradeflow report`: the regulatory export, every trade of a window with its fills, stages and audit trail.

Trades stream from the store a page at a time (the trades-by-day index, never a Scan); each trade's audit
events are read with a bounded number of Queries in flight; each row is written as soon as it is whole.
Memory holds one page and the rows waiting on their audit reads, whatever the window's size.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from messages.records import AuditEvent, TradeRecord
from workers.console.moments import parse_moment
from workers.console.trades.progress import WindowProgress
from workers.console.trades.report_rows import Redactor, ReportFormat, RowWriter, report_row
from workers.store.port import TradeStore

PAGE_SIZE = 500
AUDIT_READS_IN_FLIGHT = 16


async def trades_with_audit(
    store: TradeStore,
    since: datetime,
    until: datetime,
    *,
    page_size: int = PAGE_SIZE,
    in_flight: int = AUDIT_READS_IN_FLIGHT,
) -> AsyncIterator[tuple[TradeRecord, list[AuditEvent]]]:
    """Each trade of [since, until), oldest first, with its audit events; `in_flight` audit reads at most."""
    waiting: deque[tuple[TradeRecord, asyncio.Task[list[AuditEvent]]]] = deque()
    try:
        async for record in store.iter_trades(since, until, page_size=page_size):
            waiting.append((record, asyncio.create_task(store.list_audit(record.trade_id))))
            if len(waiting) >= in_flight:
                oldest, audit = waiting.popleft()
                yield oldest, await audit
        while waiting:
            oldest, audit = waiting.popleft()
            yield oldest, await audit
    finally:
        for _, audit in waiting:
            audit.cancel()


async def write_report(
    store: TradeStore,
    out: TextIO,
    *,
    since: datetime,
    until: datetime,
    report_format: ReportFormat,
    secrets: Iterable[str],
    on_row: Callable[[TradeRecord], None] | None = None,
    page_size: int = PAGE_SIZE,
) -> int:
    """Write every trade of [since, until) to `out`, redacted, and return how many.

    `on_row` is called with each trade once its row is written (the progress bar's hook).
    """
    writer = RowWriter(out, report_format)
    redactor = Redactor(secrets)
    rows = 0
    async for record, audit in trades_with_audit(store, since, until, page_size=page_size):
        writer.write(redactor(report_row(record, audit)))
        rows += 1
        if on_row is not None:
            on_row(record)
    return rows


async def export_report(
    store: TradeStore,
    *,
    since: datetime,
    until: datetime,
    report_format: ReportFormat,
    secrets: Iterable[str],
    output: Path | None,
    progress_stream: TextIO = sys.stderr,
) -> dict[str, Any]:
    """Export the window to `output` (stdout when None) with a progress bar when `progress_stream` is a
    terminal, and describe what was written.

    A file is written under a `.partial` name and renamed once whole, so a failed export never leaves a
    file that looks complete.
    """
    # Rows on the same terminal as the bar would be torn by it: then no bar.
    progress = (
        None
        if output is None and sys.stdout.isatty()
        else WindowProgress.on_terminal(progress_stream, since, until)
    )
    on_row = None if progress is None else (lambda record: progress.advance(record.timestamp))
    arguments: dict[str, Any] = {
        "since": since,
        "until": until,
        "report_format": report_format,
        "secrets": secrets,
        "on_row": on_row,
    }
    if output is None:
        rows = await write_report(store, sys.stdout, **arguments)
        sys.stdout.flush()
    else:
        partial = output.with_name(output.name + ".partial")
        newline = "" if report_format == "csv" else None  # the csv module writes its own line ends
        try:
            with partial.open("w", encoding="utf-8", newline=newline) as out:
                rows = await write_report(store, out, **arguments)
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    if progress is not None:
        progress.finish()
    return {
        "rows": rows,
        "format": report_format,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "output": None if output is None else str(output),
    }


def parse_window(since: str, until: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The window [since, until) from `--from` and `--to`, each an ISO date or time or a duration ago.

    A naive time is read as UTC; a date alone is its UTC midnight. `--to` defaults to now.
    Raises ValueError, naming the option, for anything else or a window that ends before it starts.
    """
    now = datetime.now(UTC) if now is None else now
    start = _moment("--from", since, now)
    end = now if until is None else _moment("--to", until, now)
    if end < start:
        raise ValueError(f"--to ({end.isoformat()}) is before --from ({start.isoformat()})")
    return start, end


def _moment(option: str, text: str, now: datetime) -> datetime:
    examples = (
        "an ISO date or time such as 2026-11-25 or 2026-11-25T14:30:00Z, or a duration back from now"
        " such as 30m, 24h or 7d"
    )
    return parse_moment(option, text, now, examples=examples)
