"""The `tradeflow` command line: every subcommand and its options."""

from __future__ import annotations

import argparse
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from workers.console.alert_prefs.args import add_alerts_desk_command
from workers.console.alerts.args import add_alerts_outbox_command
from workers.console.common import EXIT_CODES_HELP
from workers.console.limits.args import add_limits_command
from workers.console.trades.submit_args import add_submit_command


def package_version() -> str:
    try:
        return version("tradeflow")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradeflow",
        description="tradeflow: the trade-execution back end of a Slack trading bot",
        epilog="Settings come from the environment and ./.env (the environment wins): `tradeflow config`. "
        f"Exit codes: {EXIT_CODES_HELP}.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser(
        "up", help="start DynamoDB Local, the trace sink and workers on loopback; Ctrl-C stops all"
    )
    up.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    up.add_argument("--threads", type=int, default=None, help="threads per worker process")
    up.add_argument("--json", action="store_true", help="print what started as one JSON object")

    worker = sub.add_parser("worker", help="run the five stage actors (dramatiq workers)")
    worker.add_argument("--processes", "-p", type=int, default=1, help="worker processes (default 1)")
    worker.add_argument(
        "--threads",
        "-t",
        type=int,
        default=None,
        help="threads per process (default TRADEFLOW_WORKER_THREADS)",
    )
    worker.add_argument("--queues", "-Q", nargs="*", default=None, help="stages to consume (default: all)")
    worker.add_argument("--app", default="workers.app:rabbitmq", help="dramatiq app (module:attribute)")

    ingress = sub.add_parser(
        "ingress", help="serve the Slack ingress (POST /slack/events, /healthz, /readyz)"
    )
    ingress.add_argument("--host", default=None, help="address to listen on (default TRADEFLOW_INGRESS_HOST)")
    ingress.add_argument(
        "--port", type=int, default=None, help="port to listen on (default TRADEFLOW_INGRESS_PORT)"
    )

    config = sub.add_parser(
        "config", help="the effective settings, secrets redacted, and where each came from"
    )
    config.add_argument("--json", action="store_true", help="print them as one JSON object")

    slack = sub.add_parser("slack", help="play Slack's side against the running stack (the Slack emulator)")
    slack_sub = slack.add_subparsers(dest="slack_command", required=True)
    slack_trade = slack_sub.add_parser(
        "trade", help="/trade TEXT, Execute Trade, and print what the trader saw"
    )
    slack_trade.add_argument("words", nargs="+", help="e.g. buy 10 AAPL")
    slack_trade.add_argument("--user", default="U123", help="the trader's Slack user id (default U123)")
    slack_trade.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the trader's DM (default 60)"
    )

    add_submit_command(sub)

    dlq = sub.add_parser("dlq", help="inspect, replay or purge dead letters (<queue>.XQ)")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_sub.add_parser("list", help="counts and one line per dead letter")
    dlq_list.add_argument("queue", nargs="?", default=None, help="a stage's queue (default: every stage)")
    dlq_show = dlq_sub.add_parser("show", help="body, reason, traceback and history of one dead letter")
    dlq_show.add_argument("queue", help="the stage's queue, e.g. execution")
    dlq_show.add_argument("message_id", help="the dead letter's message id (from dlq list)")
    dlq_replay = dlq_sub.add_parser(
        "replay", help="re-enqueue with retries reset; removed only once confirmed"
    )
    dlq_replay.add_argument("queue", help="the stage's queue, e.g. execution")
    dlq_replay.add_argument("message_id", nargs="?", default=None, help="the dead letter to replay")
    dlq_replay.add_argument("--all", action="store_true", help="replay every dead letter of the queue")
    dlq_purge = dlq_sub.add_parser("purge", help="delete a queue's dead letters (asks first)")
    dlq_purge.add_argument("queue", help="the stage's queue, e.g. execution")
    dlq_purge.add_argument("--yes", action="store_true", help="do not ask")
    for command in (dlq_list, dlq_show, dlq_replay, dlq_purge):
        command.add_argument("--json", action="store_true", help="print the result as JSON")
        add_identity(command, "replay and purge need the operator role")

    health = sub.add_parser(
        "health",
        help="check RabbitMQ, the queues and the workers that beat for them, DynamoDB, Alpaca (and the "
        "positions against its account) and Slack",
    )
    health.add_argument("--json", action="store_true", help="print every check as JSON")

    alive = sub.add_parser(
        "worker-alive",
        help="exit 0 if every worker process on this host beat lately (a container healthcheck)",
    )
    alive.add_argument(
        "--max-age",
        type=float,
        default=None,
        metavar="SECONDS",
        help="the oldest last beat accepted (default: 4 x TRADEFLOW_HEARTBEAT_S)",
    )

    trade = sub.add_parser("trade", help="inspect a trade")
    trade_sub = trade.add_subparsers(dest="trade_command", required=True)
    show = trade_sub.add_parser("show", help="the trade and its audit trail")
    show.add_argument("trade_id", type=uuid.UUID, help="the trade id (also its trace id)")
    show.add_argument("--json", action="store_true", help="print the trade and its trail as JSON")
    cancel = trade_sub.add_parser(
        "cancel", help="cancel working orders at Alpaca, through the chain (audited, the trader told)"
    )
    cancel.add_argument(
        "target",
        metavar="TRADE_ID|SYMBOL|all|everyone",
        help="one trade; a trader's orders in a symbol, or all of them (with --user); every trader's",
    )
    cancel.add_argument("--user", default=None, metavar="USER_ID", help="whose orders SYMBOL or all means")
    cancel.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait up to this long for each order to end",
    )
    cancel.add_argument("--json", action="store_true", help="print the orders as JSON")
    add_identity(cancel, "needs the operator role")
    modify = trade_sub.add_parser(
        "modify", help="change a working order's quantity, prices or time in force (Alpaca's replace order)"
    )
    modify.add_argument("trade_id", type=uuid.UUID, help="the working order's trade id")
    modify.add_argument("--quantity", default=None, help="whole shares still to fill (default: what is left)")
    modify.add_argument("--limit-price", default=None, help="the new limit price")
    modify.add_argument("--stop-price", default=None, help="the new stop price")
    modify.add_argument(
        "--tif",
        dest="time_in_force",
        choices=("day", "gtc", "ioc", "fok"),
        default=None,
        help="the new time in force (default: the order's)",
    )
    modify.add_argument(
        "--wait", type=float, default=None, metavar="SECONDS", help="wait up to this long for the replacement"
    )
    modify.add_argument("--json", action="store_true", help="print the modify as JSON")
    add_identity(modify, "needs the operator role")

    reconcile = sub.add_parser(
        "reconcile",
        help="send stuck open trades (pending, working, unknown) to be settled with the stock broker",
    )
    age = reconcile.add_mutually_exclusive_group()
    age.add_argument(
        "--older-than",
        type=float,
        default=None,
        metavar="SECONDS",
        help="only trades recorded at least this long ago (default: TRADEFLOW_STUCK_AFTER_S, as the sweeper)",
    )
    age.add_argument("--all", action="store_true", help="every open trade, whatever its age")
    reconcile.add_argument("--json", action="store_true", help="print what was sent as JSON")
    add_identity(reconcile, "needs the operator role")

    metrics = sub.add_parser("metrics", help="the seed's execution metrics from the store")
    metrics.add_argument("--since", default="1h", help="1h, 30m, 2d or an ISO time (default 1h)")
    metrics.add_argument("--json", action="store_true", help="print the metrics as JSON")

    report = sub.add_parser(
        "report", help="the regulatory export: every trade of a window with fills, stages and audit trail"
    )
    report.add_argument(
        "--from", dest="since", required=True, help="window start: ISO date/time (UTC if naive) or 7d, 24h"
    )
    report.add_argument("--to", dest="until", default=None, help="window end, excluded (default: now)")
    report.add_argument(
        "--format", dest="report_format", choices=("csv", "jsonl"), default="csv", help="default csv"
    )
    report.add_argument("--output", "-o", default=None, help="file to write (default: stdout)")

    doctor = sub.add_parser(
        "doctor", help="the seed's test_enhanced_execution checks: Alpaca, database, one execution"
    )
    doctor.add_argument("--json", action="store_true", help="print each check's facts as one JSON object")

    trace = sub.add_parser("trace", help="a trade's spans as a tree (the trace id is the trade id)")
    trace.add_argument("trade_id", type=uuid.UUID, help="the trade id (the trace id without dashes)")
    trace.add_argument(
        "--backend",
        choices=("file", "jaeger", "phoenix"),
        default=None,
        help="where the spans are (default: TRADEFLOW_TRACES_BACKEND, else file)",
    )
    trace.add_argument(
        "--url",
        default=None,
        help="Jaeger's or Phoenix's URL (default: TRADEFLOW_TRACES_QUERY_URL, else :16686 / :6006)",
    )
    trace.add_argument("--spans", default=None, help="span file (default: DATA_DIR/spans.jsonl)")
    trace.add_argument("--json", action="store_true", help="print the spans as JSON")

    positions = sub.add_parser(
        "positions", help="a trader's positions, or `positions reconcile`: every trader's against Alpaca's"
    )
    positions.add_argument(
        "user_id",
        metavar="USER_ID|reconcile|close",
        help="the trader's Slack user id; `reconcile`: tradeflow's positions summed per symbol beside the "
        "account's at Alpaca, and any drift (exit 1 when a symbol drifts); `close USER_ID SYMBOL|all`: "
        "flatten the trader's position(s) at market through the chain (operators)",
    )
    positions.add_argument("words", nargs="*", help=argparse.SUPPRESS)
    positions.add_argument("--json", action="store_true", help="print the positions as JSON")
    add_identity(positions, "`close` needs the operator role")

    account = sub.add_parser("account", help="the Alpaca paper account: cash, buying power, equity, today")
    account.add_argument("--json", action="store_true", help="print the account as JSON")
    account.add_argument("--account", default=None, help="which of the desk's accounts (default: the first)")

    orders = sub.add_parser("orders", help="a trader's working orders and most recent trades")
    orders.add_argument("user_id", help="the trader's Slack user id")
    orders.add_argument("--recent", type=int, default=10, help="how many recent trades besides (default 10)")
    orders.add_argument("--json", action="store_true", help="print the orders as JSON")

    for name, text in (("halt", "engage the kill switch: refuse every new trade"), ("resume", "release it")):
        control = sub.add_parser(name, help=text)
        control.add_argument("--reason", default="", help="why, for the journal and the traders' notices")
        control.add_argument(
            "--account", default=None, help="only this Alpaca account (default: the whole desk)"
        )
        control.add_argument("--user", default=None, help="only this trader (default: the whole desk)")
        add_identity(control, "needs the operator role")
        control.add_argument("--json", action="store_true", help="print the switch's state as JSON")
        if name == "halt":
            control.add_argument(
                "--reducing",
                action="store_true",
                help="let through only trades that reduce a position (REDUCING), not none",
            )
            control.add_argument(
                "--cancel-working",
                action="store_true",
                help="also cancel every working order of every trader at Alpaca (through the chain)",
            )

    add_users_command(sub)
    add_limits_command(sub, add_identity)
    # Every alerts subcommand goes under `alerts_sub` (`tradeflow alerts desk|…`).
    alerts = sub.add_parser("alerts", help="alerts outside Slack (email, SMS): who hears of what")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    add_alerts_desk_command(alerts_sub, add_identity)
    add_alerts_outbox_command(alerts_sub)
    # Every audit subcommand goes under `audit_sub` (`tradeflow audit activity|…`).
    audit = sub.add_parser("audit", help="the trades' audit trail and the activity journal")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    add_activity_command(audit_sub)
    add_verify_command(audit_sub)
    return parser


def add_identity(command: argparse.ArgumentParser, needs: str) -> None:
    """`--as USER_ID`: who runs the command, checked for its role and named in the audit."""
    command.add_argument(
        "--as", dest="operator", default=None, metavar="USER_ID", help=f"default: TRADEFLOW_OPERATOR; {needs}"
    )


def add_users_command(sub: Any) -> None:
    """`users add|remove|list`: admins manage roles."""
    from messages.records import ROLES

    users = sub.add_parser("users", help="who may trade, view, operate and manage roles (admins only)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="grant roles to a user")
    add.add_argument("user_id", help="the user's Slack user id")
    add.add_argument(
        "--role", dest="roles", action="append", choices=ROLES, default=[], help="a role to grant (repeat)"
    )
    add.add_argument(
        "--account",
        dest="accounts",
        action="append",
        default=None,
        help="an Alpaca account the trader trades in, the first their default (repeat; replaces the list)",
    )
    remove = users_sub.add_parser("remove", help="remove a user's roles (all of them without --role)")
    remove.add_argument("user_id", help="the user's Slack user id")
    remove.add_argument(
        "--role", dest="roles", action="append", choices=ROLES, default=None, help="a role to remove (repeat)"
    )
    listed = users_sub.add_parser("list", help="every user and their roles")
    for command in (add, remove, listed):
        command.add_argument("--json", action="store_true", help="print the result as JSON")
        add_identity(command, "needs the admin role")


def add_activity_command(audit_sub: Any) -> None:
    """`audit activity`: the journal of operator actions, Slack sessions and refusals."""
    from messages.records import ACTIVITY_STREAMS

    activity = audit_sub.add_parser(
        "activity", help="the journal: operator actions, Slack sessions, refusals (oldest first)"
    )
    activity.add_argument("--stream", choices=ACTIVITY_STREAMS, default=None, help="default: all three")
    activity.add_argument("--since", default="1h", help="1h, 30m, 2d or an ISO time (default 1h)")
    activity.add_argument("--json", action="store_true", help="print the entries as JSON")


def add_verify_command(audit_sub: Any) -> None:
    """`audit verify`: recompute each trade's audit hash chain and name the first event that breaks it."""
    verify = audit_sub.add_parser(
        "verify", help="recompute a trade's audit hash chain (or every trade's) and name where it breaks"
    )
    verify.add_argument("trade_id", nargs="?", type=uuid.UUID, default=None, help="the trade to verify")
    verify.add_argument("--all", action="store_true", help="every trade submitted in the window")
    verify.add_argument(
        "--since", default=None, help="with --all: 1h, 2d or an ISO time (default: the retention period)"
    )
    verify.add_argument("--json", action="store_true", help="print the verdicts as JSON")
