"""The `tradeflow` commands that start processes: up (the dev stack), worker, ingress, slack."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from workers.console.common import EXIT_OK, EXIT_USAGE
from workers.settings import Settings

WORKER_FORK_TIMEOUT_MS = 100


def up(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.stack.up import run_stack

    return run_stack(settings, processes=args.processes, threads=args.threads, as_json=args.json)


def worker(args: argparse.Namespace, settings: Settings) -> int:
    from workers.chain.routing import QUEUE_NAMES

    threads = args.threads or settings.tradeflow_worker_threads
    cmd = [
        sys.executable,
        "-m",
        "dramatiq",
        args.app,
        "--processes",
        str(args.processes),
        "--threads",
        str(threads),
        "--skip-logging",  # each worker process logs our way (build_worker); dramatiq's format would mix in
        # dramatiq's main process waits this long for its worker processes to come online before it reads
        # their log pipes (the wait exists for fork processes; tradeflow has none). A worker logging more
        # than a pipe holds while it boots (DEBUG_MODE: pika's every frame) blocked on its own log line
        # until dramatiq's default 30 s ran out: every DEBUG_MODE worker started 30 s late.
        "--worker-fork-timeout",
        str(WORKER_FORK_TIMEOUT_MS),
    ]
    stages = args.queues or list(QUEUE_NAMES)
    unknown = sorted(set(stages) - set(QUEUE_NAMES))
    if unknown:
        print(
            f"tradeflow worker: unknown stage {unknown[0]} (stages: {', '.join(QUEUE_NAMES)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # dramatiq consumes the delay queues too, so retries come back.
    cmd += ["--queues", *(settings.queue(s) for s in stages), *(f"{settings.queue(s)}.DQ" for s in stages)]
    os.execv(sys.executable, cmd)
    return EXIT_OK  # not reached


def ingress(args: argparse.Namespace, settings: Settings) -> int:
    import msgspec

    from workers.console.stack.ingress import run_ingress

    overrides = {"tradeflow_ingress_host": args.host, "tradeflow_ingress_port": args.port}
    given = {name: value for name, value in overrides.items() if value is not None}
    return run_ingress(msgspec.structs.replace(settings, **given))


def slack(args: argparse.Namespace, settings: Settings) -> int:
    from workers.console.stack.slack_trade import play_trade

    code, lines = asyncio.run(play_trade(settings, " ".join(args.words), args.user, args.timeout))
    print("\n".join(lines))
    return code
