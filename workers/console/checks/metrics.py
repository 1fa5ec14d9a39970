"""`tradeflow metrics`: the seed's execution metrics over a window of trades, read from the store."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from messages.types import OPEN_STATUSES
from workers.console.moments import parse_moment
from workers.store.arguments import trade_window
from workers.store.port import TradeStore

# Executions are the trades that reached the stock broker or the simulation: rejected ones never did.
EXECUTION_STATUSES = ("executed", "failed")
EXECUTION_METHODS = ("alpaca", "simulation")
UNRECORDED_METHOD = "unrecorded"  # a failure before a method was chosen
_PERCENT = Decimal("0.01")
_BPS = Decimal("0.01")
_MS = Decimal("0.1")


async def execution_metrics(
    store: TradeStore, since: datetime, until: datetime | None = None, *, limit: int = 100_000
) -> dict[str, Any]:
    """The execution metrics of the trades submitted in [since, until), `until` defaulting to now.

    Total executions counts trades that ended executed or failed; rejected trades are counted apart and
    open ones (awaiting approval, pending, working, unknown) are not executions yet. Every amount is a
    Decimal, rounded for display; an average over no trades is None. `truncated` is True when `limit`
    trades were read.
    """
    start, end = trade_window(since, until, limit)
    trades = await store.list_trades_since(start, end, limit=limit)
    by_status = Counter(trade.status for trade in trades)
    executions = [trade for trade in trades if trade.status in EXECUTION_STATUSES]
    executed = [trade for trade in executions if trade.status == "executed"]
    times = sorted(trade.execution_time_ms for trade in executions if trade.execution_time_ms is not None)
    slippages = [trade.slippage_bps for trade in executed if trade.slippage_bps is not None]
    methods = Counter(trade.execution_method or UNRECORDED_METHOD for trade in executions)
    errors = Counter(
        trade.error_code for trade in executions if trade.status == "failed" and trade.error_code
    )
    return {
        "since": start,
        "until": end,
        "trades": len(trades),
        "truncated": len(trades) >= limit,
        "total_executions": len(executions),
        "executed": len(executed),
        "failed": by_status["failed"],
        "rejected": by_status["rejected"],
        "open": sum(1 for trade in trades if trade.status in OPEN_STATUSES),
        "success_rate_pct": _percent(len(executed), len(executions)),
        "average_execution_time_ms": _round(_mean(times), _MS),
        "p50_execution_time_ms": _round(_percentile(times, 50), _MS),
        "p95_execution_time_ms": _round(_percentile(times, 95), _MS),
        "average_slippage_bps": _round(_mean(slippages), _BPS),
        "execution_methods": {
            method: {"count": methods[method], "pct": _percent(methods[method], len(executions))}
            for method in (*EXECUTION_METHODS, *sorted(set(methods) - set(EXECUTION_METHODS)))
        },
        "by_status": dict(sorted(by_status.items())),
        "by_error_code": dict(sorted(errors.items(), key=lambda item: (-item[1], item[0]))),
        "by_account": _by_account(trades),
    }


def _by_account(trades: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Per Alpaca account (a desk of several): its trades, executions, and success rate; empty otherwise."""
    accounts = sorted({trade.account for trade in trades if trade.account is not None})
    figures = {}
    for account in accounts:
        theirs = Counter(trade.status for trade in trades if trade.account == account)
        executions = theirs["executed"] + theirs["failed"]
        figures[account] = {
            "trades": sum(theirs.values()),
            "executed": theirs["executed"],
            "failed": theirs["failed"],
            "rejected": theirs["rejected"],
            "success_rate_pct": _percent(theirs["executed"], executions),
        }
    return figures


def render_metrics(doc: dict[str, Any]) -> str:
    """The metrics as a few aligned lines for a person at a terminal."""
    methods = doc["execution_methods"]
    lines = [
        f"Execution metrics, trades submitted {_moment(doc['since'])} to {_moment(doc['until'])}",
        _line("Trades", f"{doc['trades']} ({doc['open']} still open)"),
        _line(
            "Total executions",
            f"{doc['total_executions']} (executed {doc['executed']}, failed {doc['failed']});"
            f" rejected {doc['rejected']}",
        ),
        _line("Success rate", _unit(doc["success_rate_pct"], "%")),
        _line(
            "Execution time",
            f"avg {_unit(doc['average_execution_time_ms'], ' ms')}"
            f" · p50 {_unit(doc['p50_execution_time_ms'], ' ms')}"
            f" · p95 {_unit(doc['p95_execution_time_ms'], ' ms')}",
        ),
        _line("Average slippage", _unit(doc["average_slippage_bps"], " bps")),
        _line(
            "Execution method",
            " · ".join(f"{name} {_unit(m['pct'], '%')} ({m['count']})" for name, m in methods.items()),
        ),
        _line("By status", _counts(doc["by_status"])),
        _line("By error code", _counts(doc["by_error_code"])),
    ]
    for account, figures in doc.get("by_account", {}).items():
        lines.append(
            _line(
                f"Account {account}",
                f"{figures['trades']} trades · executed {figures['executed']}, failed {figures['failed']},"
                f" rejected {figures['rejected']} · success {_unit(figures['success_rate_pct'], '%')}",
            )
        )
    if doc["truncated"]:
        lines.append(f"(only the first {doc['trades']} trades of the window were read: narrow --since)")
    return "\n".join(lines)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """The start of a window: a duration back from `now` ("30m", "1h", "2d"; s m h d w) or an ISO datetime.

    A naive ISO datetime is read as UTC. Raises ValueError for anything else, a zero duration, or a moment
    after `now`.
    """
    now = datetime.now(UTC) if now is None else now
    moment = parse_moment(
        "--since",
        text,
        now,
        examples="a duration such as 30m, 1h or 2d, or an ISO datetime such as 2026-11-25T14:30:00Z",
    )
    if moment > now:
        raise ValueError(f"--since {text!r} is in the future")
    return moment


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None


def _percentile(ordered: Sequence[Decimal], percent: int) -> Decimal | None:
    # Nearest rank: always one of the observed times, never an interpolation between two.
    if not ordered:
        return None
    return ordered[max(math.ceil(percent * len(ordered) / 100), 1) - 1]


def _percent(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else _round(Decimal(part) * 100 / whole, _PERCENT)


def _round(value: Decimal | None, places: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(places, rounding=ROUND_HALF_UP)


def _moment(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"


def _line(label: str, value: str) -> str:
    return f"  {label:<18}{value}"


def _unit(value: Decimal | None, unit: str) -> str:
    return "—" if value is None else f"{value}{unit}"


def _counts(counts: dict[str, int]) -> str:
    return " · ".join(f"{name} {count}" for name, count in counts.items()) or "—"
