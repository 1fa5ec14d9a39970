"""Memory of `tradeflow report` over 100,000 trades: peak RSS at 10k, 50k and 100k rows should be flat.

Starts its own DynamoDB Local (-inMemory), loads N trades (default 100,000) spread over a few UTC days, each
with its audit trail (executed: 5 events, failed: 4, rejected: 3), with BatchWriteItem 25 items at a time,
several batches in flight. Then runs the real command, `tradeflow report --format csv --output FILE`, in a
child process and samples the child's peak RSS (VmHWM in /proc) as the rows reach the file; the figure at
the last row is the child's own peak once it exited (wait4's rusage). Prints the figures and the times,
and writes bench/out/report_memory.json.

    python -m bench.report_memory                    # 100,000 trades, CSV
    python -m bench.report_memory --trades 20000 --format jsonl
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig

from bench.trade_history import trade_items
from workers.console.stack.local_dynamodb import start_local_dynamodb
from workers.console.stack.ports import free_port
from workers.store.dynamodb.store import DynamoTradeStore
from workers.store.dynamodb.tables import TableNames

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".cache"
BATCH = 25  # BatchWriteItem's limit
CHECKPOINTS = (10_000, 50_000, 100_000)
MB = 1024 * 1024


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
    child = subprocess.Popen([sys.executable, "-m", "workers.console.main", *args], env=env, cwd=REPO_ROOT)
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
