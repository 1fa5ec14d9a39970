"""`tradeflow`: the console script that starts every process and runs the operator commands.

Every command is one row of COMMANDS; its runner lives in the wing it belongs to (stack, trades, dlq,
checks, traces, audit, access). Adding a command touches its wing, args.py and this table.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from workers.console.access import commands as access
from workers.console.alert_prefs import commands as alert_prefs
from workers.console.alerts import commands as alerts
from workers.console.args import build_parser
from workers.console.audit import commands as audit
from workers.console.checks import commands as checks
from workers.console.common import EXIT_USAGE, Command
from workers.console.config import commands as config
from workers.console.config.env_file import load_env_file
from workers.console.dlq import commands as dlq
from workers.console.failures import run_reporting_failures
from workers.console.limits import commands as limits
from workers.console.stack import commands as stack
from workers.console.traces import commands as traces
from workers.console.trades import commands as trades
from workers.console.trades import halts
from workers.settings import SettingsError, load_settings

# The words an operator types, to the runner. A command whose subcommands share one runner (dlq, users,
# trade, slack, limits) is one row; `audit`'s and `alerts`' subcommands are rows of their own.
COMMANDS: dict[str, Command] = {
    "up": stack.up,
    "worker": stack.worker,
    "ingress": stack.ingress,
    "config": config.config,
    "slack": stack.slack,
    "submit": trades.submit,
    "trade": trades.trade,
    "positions": trades.positions,
    "orders": trades.orders,
    "account": trades.account,
    "reconcile": trades.reconcile,
    "report": trades.report,
    "halt": halts.halt,
    "resume": halts.resume,
    "dlq": dlq.dlq,
    "health": checks.health,
    "worker-alive": checks.worker_alive,
    "metrics": checks.metrics,
    "doctor": checks.doctor,
    "trace": traces.trace,
    "audit activity": audit.activity,
    "audit verify": audit.verify,
    "users": access.users,
    "limits": limits.limits,
    "alerts desk": alert_prefs.desk,
    "alerts outbox": alerts.outbox,
}


def command_of(args: argparse.Namespace) -> Command:
    """The runner of the command `args` were parsed for: its own row, else its subcommand's."""
    subcommand = getattr(args, f"{args.command}_command", None)
    return COMMANDS.get(args.command) or COMMANDS[f"{args.command} {subcommand}"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.env_sources = load_env_file()  # before the settings: they read what .env adds
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"tradeflow: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command not in ("worker", "ingress"):  # each of those configures its own processes
        from telemetry.logs import configure_logging

        # An operator command's stdout is its answer: only its warnings, on stderr. `up` logs as a service.
        if args.command == "up":
            configure_logging(settings, "tradeflow-up")
        else:
            configure_logging(settings, "tradeflow-cli", at_least="WARNING")
            # A connection failure is told once, by run_reporting_failures: not again by the client libraries;
            # nor is a span a one-shot command could not hand to a trace sink that is not running.
            for library in ("pika", "dramatiq", "botocore", "aiobotocore", "opentelemetry"):
                logging.getLogger(library).setLevel(logging.CRITICAL)
    run = command_of(args)
    return run_reporting_failures(args.command, lambda: run(args, settings), settings)


if __name__ == "__main__":
    raise SystemExit(main())
