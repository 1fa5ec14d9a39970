"""Memory of `tradeflow report` over 100,000 trades: peak RSS at 10k, 50k and 100k rows should be flat.

Starts its own DynamoDB Local (-inMemory), loads N trades (default 100,000) spread over a few UTC days, each
with its audit trail (executed: 5 events, failed: 4, rejected: 3), with BatchWriteItem 25 items at a time,
several batches in flight. Then runs the real command, `tradeflow report --format csv --output FILE`, in a
child process and samples the child's peak RSS (VmHWM in /proc) as the rows reach the file; the figure at
the last row is the child's own peak once it exited (wait4's rusage). Prints the figures and the times,
and writes bench/out/report_memory.json.

    python bench/report_memory.py                    # 100,000 trades, CSV
    python bench/report_memory.py --trades 20000 --format jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig

from messages.records import AuditEvent, TradeRecord
from messages.trade import Fill, Rejection, TradeRequest
from workers.handlers.audit import audit_event, submitted_event
from workers.store.dynamodb import DynamoTradeStore
from workers.store.items import to_attributes, trade_attributes
from workers.store.local import free_port, start_local_dynamodb
from workers.store.tables import TableNames

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".cache"
RETENTION_DAYS = 2557
BATCH = 25  # BatchWriteItem's limit
SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "JPM", "TSLA", "AMZN", "META")
CHECKPOINTS = (10_000, 50_000, 100_000)
MB = 1024 * 1024


def trade_items(count: int, first: datetime, last: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table kind, item) for `count` trades spread evenly over [first, last], each with its audit trail."""
    step = (last - first) / max(count - 1, 1)
    for n in range(count):
        record, events = _trade(n, first + step * n)
        yield "trades", trade_attributes(record)
        for event in events:
            yield "audit", to_attributes(event)


def _trade(n: int, submitted: datetime) -> tuple[TradeRecord, list[AuditEvent]]:
    request = TradeRequest(
        trade_id=uuid.uuid4(),
        user_id=f"U{n % 50:03d}",
        channel_id="C0BENCH",
        symbol=SYMBOLS[n % len(SYMBOLS)],
        side="buy" if n % 3 else "sell",
        quantity=Decimal(1 + n % 20),
        submitted_at=submitted,
    )
    at = [submitted + timedelta(milliseconds=ms) for ms in (0, 12, 61, 75, 90)]
    trail = [submitted_event(request, retention_days=RETENTION_DAYS)]
    base = TradeRecord(
        trade_id=request.trade_id,
        user_id=request.user_id,
        channel_id=request.channel_id,
        symbol=request.symbol,
        quantity=request.quantity,
        trade_type=request.side,
        status="rejected",
        timestamp=submitted,
        recorded_at=at[1],
        expires_at=trail[0].expires_at,
    )

    def event(kind: str, moment: datetime, **details: Any) -> AuditEvent:
        return audit_event(kind, request, at=moment, retention_days=RETENTION_DAYS, details=details)

    if n % 100 < 7:
        reason = Rejection(field="symbol", code="SYMBOL_NOT_ALLOWED", message="not on the allow-list")
        trail += [event("trade_rejected", at[1], reasons=["SYMBOL_NOT_ALLOWED"])]
        record = TradeRecord(**{**_fields(base), "rejection_reasons": (reason,)})
    elif n % 100 < 15:
        trail += [event("trade_recorded", at[1], status="pending")]
        trail += [event("trade_failed", at[2], error_code="ORDER_REJECTED", execution_method="alpaca")]
        record = TradeRecord(
            **{
                **_fields(base),
                "status": "failed",
                "execution_method": "alpaca",
                "alpaca_order_id": str(uuid.uuid4()),
                "error_code": "ORDER_REJECTED",
                "error_message": "Alpaca rejected the order: unable to process order",
                "error_next_steps": ("Check the order's parameters", "Try again later"),
                "execution_timestamp": at[2],
            }
        )
    else:
        alpaca = n % 2 == 0
        price = Decimal("150.0523") + Decimal(n % 97) / 100
        fills = (Fill(quantity=request.quantity, price=price, timestamp=at[2]),)
        trail += [event("trade_recorded", at[1], status="pending")]
        trail += [event("trade_executed", at[2], execution_price=str(price), method="alpaca")]
        trail += [event("position_updated", at[3], quantity=str(request.quantity))]
        record = TradeRecord(
            **{
                **_fields(base),
                "status": "executed",
                "execution_id": uuid.uuid4(),
                "execution_method": "alpaca" if alpaca else "simulation",
                "alpaca_order_id": str(uuid.uuid4()) if alpaca else None,
                "order_status": "filled" if alpaca else None,
                "execution_price": price,
                "filled_quantity": request.quantity,
                "execution_timestamp": at[2],
                "execution_time_ms": Decimal("48.7"),
                "reference_price": price - Decimal("0.02"),
                "slippage_bps": Decimal("1.33"),
                "market_impact_bps": Decimal("0.42"),
                "fills": fills,
            }
        )
    trail += [event("trade_notified", at[4], notifier="slack", outcome=record.status)]
    return record, trail


def _fields(record: TradeRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__struct_fields__}


async def load(
    endpoint: str, prefix: str, count: int, first: datetime, last: datetime, in_flight: int
) -> int:
    """Write the trades and their audit items with BatchWriteItem; return how many items were written."""
    store = await DynamoTradeStore.open(
        table_prefix=prefix,
        region="us-east-1",
        endpoint_url=endpoint,
        access_key_id="bench",
        secret_access_key="bench",
    )
    await store.create_tables()
    await store.close()
    tables = TableNames.from_prefix(prefix)
    names = {"trades": tables.trades, "audit": tables.audit}
    session = aioboto3.Session()
    config = AioConfig(max_pool_connections=in_flight, retries={"mode": "standard", "max_attempts": 10})
    async with session.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=config,
    ) as client:
        slots = asyncio.Semaphore(in_flight)
        tasks: set[asyncio.Task[None]] = set()
        batch: list[tuple[str, dict[str, Any]]] = []
        written = 0

        async def write(items: list[tuple[str, dict[str, Any]]]) -> None:
            request: dict[str, list[dict[str, Any]]] = {}
            for kind, item in items:
                request.setdefault(names[kind], []).append({"PutRequest": {"Item": item}})
            try:
                while request:
                    answer = await client.batch_write_item(RequestItems=request)
                    request = answer.get("UnprocessedItems") or {}
            finally:
                slots.release()

        for entry in trade_items(count, first, last):
            batch.append(entry)
            if len(batch) == BATCH:
                await slots.acquire()  # at most `in_flight` batches outstanding: the generator waits
                task = asyncio.create_task(write(batch))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                written += len(batch)
                batch = []
                if written % 50_000 < BATCH:
                    print(f"  {written:,} items written", file=sys.stderr)
        if batch:
            await slots.acquire()
            await write(batch)
            written += len(batch)
        await asyncio.gather(*tasks)
    return written


def export(env: dict[str, str], args: list[str], partial: Path) -> tuple[list[dict[str, float]], float, int]:
    """Run `tradeflow report`; sample its peak RSS as rows reach the file. Returns the samples at each
    checkpoint, the elapsed seconds, and the child's peak RSS in bytes from getrusage."""
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "workers.cli", *args], env=env, cwd=REPO_ROOT)
    header = 1 if "csv" in args else 0
    rows, offset, samples = 0, 0, []
    wanted = list(CHECKPOINTS)
    while True:
        time.sleep(0.02)
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)  # this child's own rusage, no other's
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            break
        if partial.exists():
            with partial.open("rb") as out:
                out.seek(offset)
                chunk = out.read()
            offset += len(chunk)
            rows += chunk.count(b"\n")
        peak, now = _status(child.pid)
        while wanted and rows - header >= wanted[0] and peak:
            samples.append(
                {
                    "rows": wanted.pop(0),
                    "peak_rss_mb": peak / MB,
                    "rss_mb": now / MB,
                    "elapsed_s": time.monotonic() - started,
                }
            )
    elapsed = time.monotonic() - started
    if child.returncode != 0:
        raise SystemExit(f"tradeflow report exited {child.returncode}")
    return samples, elapsed, usage.ru_maxrss * 1024  # KiB on Linux


def _status(pid: int) -> tuple[int, int]:
    """The process's peak and current RSS in bytes (VmHWM, VmRSS); zeros once it has exited."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    kib = [int(fields.get(name, "0 kB").split()[0]) for name in ("VmHWM", "VmRSS")]
    return kib[0] * 1024, kib[1] * 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=3, help="UTC days the trades are spread over")
    parser.add_argument("--format", dest="report_format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--in-flight", type=int, default=8, help="BatchWriteItem calls in flight")
    options = parser.parse_args()

    out_dir = REPO_ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    first = last - timedelta(days=options.days)
    local = start_local_dynamodb(cache_dir=CACHE_DIR, data_dir=None, port=free_port(), allow_moto=False)
    try:
        prefix = f"bench-{uuid.uuid4().hex[:6]}"
        started = time.monotonic()
        items = asyncio.run(load(local.endpoint_url, prefix, options.trades, first, last, options.in_flight))
        load_s = time.monotonic() - started
        rate = items / load_s
        print(f"Loaded {options.trades:,} trades, {items:,} items, in {load_s:.1f} s ({rate:,.0f} items/s)")

        output = out_dir / f"report_memory.{options.report_format}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEFLOW_", "OTEL_", "AWS_"))}
        env |= {
            "AWS_ENDPOINT_URL_DYNAMODB": local.endpoint_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "DYNAMODB_TABLE_PREFIX": prefix,
            "OTEL_TRACES_EXPORTER": "none",
            "PYTHONPATH": str(REPO_ROOT),
        }
        window = [
            "--from",
            (first - timedelta(minutes=1)).isoformat(),
            "--to",
            (last + timedelta(minutes=1)).isoformat(),
        ]
        args = ["report", *window, "--format", options.report_format, "--output", str(output)]
        samples, elapsed, peak = export(env, args, output.with_name(output.name + ".partial"))
    finally:
        local.stop()

    lines = sum(1 for _ in output.open("rb")) - (1 if options.report_format == "csv" else 0)
    size_mb = output.stat().st_size / MB
    print(f"Exported {lines:,} rows ({options.report_format}, {size_mb:,.1f} MB) in {elapsed:.1f} s")
    print(f"  {'rows':>8}  {'peak RSS':>10}  {'RSS':>10}  {'elapsed':>8}")
    for x in samples:
        rss = f"{x['rss_mb']:>7.1f} MB"
        print(f"  {x['rows']:>8,}  {x['peak_rss_mb']:>7.1f} MB  {rss}  {x['elapsed_s']:>6.1f} s")
    whole = f"{peak / MB:>7.1f} MB"
    print(
        f"  {lines:>8,}  {whole}  {'(exited)':>10}  {elapsed:>6.1f} s  (the whole run's peak, wait4 rusage)"
    )
    result = {
        "trades": options.trades,
        "items_loaded": items,
        "load_s": load_s,
        "format": options.report_format,
        "rows": lines,
        "export_s": elapsed,
        "rows_per_s": lines / elapsed,
        "checkpoints": samples,
        "peak_rss_mb": peak / MB,
    }
    (out_dir / "report_memory.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
