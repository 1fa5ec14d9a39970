"""`python -m emulators.alpaca --host 127.0.0.1 --port 8765 [--seed 42]`: serve in the foreground.

Paper accounts beside the default one (ALPACA_PAPER_API_KEY's, key PKEMULATOR00000000001): each is
`NAME:KEY_ID:SECRET[:STARTING_CASH]`, given by a repeatable `--account` or, comma-separated, by the
ALPACA_EMULATOR_ACCOUNTS variable (both may be used; the options come after the variable's). E.g.
  python -m emulators.alpaca --account desk2:PKEMULATOR00000000002:emulator-secret-2:250000
  ALPACA_EMULATOR_ACCOUNTS=desk2:PKEMULATOR00000000002:emulator-secret-2 python -m emulators.alpaca
Each account has its own account number, cash, orders, positions, rate-limit window and trade_updates
stream; the market is shared. Placeholder keys only: start each key with PK, as a paper key does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from decimal import Decimal

from emulators.alpaca.config import (
    DEFAULT_RATE_LIMIT,
    AccountSpec,
    EmulatorConfig,
    parse_accounts,
    starting_cash_from_env,
)
from emulators.alpaca.exchange import Exchange
from emulators.alpaca.runner import open_site
from emulators.background import serve_until_signalled


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.alpaca", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--starting-cash", type=Decimal, default=None, help="default: ALPACA_STARTING_CASH or 500000"
    )
    parser.add_argument("--fill-delay-ms", type=int, default=50)
    parser.add_argument("--partial-fills", type=int, default=1)
    parser.add_argument("--tick-interval-ms", type=int, default=200)
    parser.add_argument("--closed", action="store_true", help="start with the market closed")
    parser.add_argument("--non-tradable", default="", help="comma-separated symbols that may not be traded")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=DEFAULT_RATE_LIMIT,
        help="Trading API requests a minute per API key, as Alpaca allows (default 200; 0: no limit)",
    )
    parser.add_argument(
        "--data-rate-limit",
        type=int,
        default=DEFAULT_RATE_LIMIT,
        help="Market Data API requests a minute per API key (default 200; 0: no limit)",
    )
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="NAME:KEY_ID:SECRET[:STARTING_CASH]",
        help="another paper account (repeatable); also ALPACA_EMULATOR_ACCOUNTS, comma-separated",
    )
    parser.add_argument("--json", action="store_true", help="print the URLs as one JSON line")
    return parser.parse_args(argv)


def accounts_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> tuple[AccountSpec, ...]:
    """The extra accounts: ALPACA_EMULATOR_ACCOUNTS's, then each --account's."""
    text = (os.environ if environ is None else environ).get("ALPACA_EMULATOR_ACCOUNTS", "")
    return parse_accounts(",".join([text, *args.account]))


async def serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        seed=args.seed,
        starting_cash=args.starting_cash if args.starting_cash is not None else starting_cash_from_env(),
        fill_delay_ms=args.fill_delay_ms,
        partial_fills=args.partial_fills,
        tick_interval_ms=args.tick_interval_ms,
        market_open=not args.closed,
        non_tradable=tuple(s.strip().upper() for s in args.non_tradable.split(",") if s.strip()),
        rate_limit=args.rate_limit,
        data_rate_limit=args.data_rate_limit,
        accounts=accounts_from(args),
    )
    runner = await open_site(Exchange(config), args.host, args.port)
    port = runner.addresses[0][1]
    origin = f"http://{args.host}:{port}"
    urls = {
        "ALPACA_PAPER_BASE_URL": f"{origin}/paper",
        "ALPACA_DATA_BASE_URL": origin,
        "ALPACA_PAPER_API_KEY": config.key_id,
        "ALPACA_PAPER_SECRET_KEY": config.secret_key,
        "stream_url": f"ws://{args.host}:{port}/paper/stream",
        "admin_url": f"{origin}/admin",
    }
    for spec in config.accounts:
        urls[f"account {spec.name}"] = spec.key_id
    await serve_until_signalled(
        runner,
        f"Alpaca emulator (paper, placeholder credentials) on {origin}",
        urls,
        config,
        as_json=args.json,
    )


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
