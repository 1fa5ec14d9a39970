"""`python -m emulators.smtp --host 127.0.0.1 --port 8025 --mailbox .data/mail.jsonl`: serve the SMTP
capture server in the foreground until SIGINT or SIGTERM; every email it takes is appended to the mailbox."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from emulators.background import until_signalled
from emulators.smtp.mailbox import Mailbox
from emulators.smtp.server import start_server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.smtp", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--mailbox", type=Path, default=Path(".data/mail.jsonl"), help="the JSON-lines file")
    parser.add_argument("--json", action="store_true", help="print where it listens as one JSON line")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = await start_server(Mailbox(args.mailbox), args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    where = {"TRADEFLOW_SMTP_HOST": args.host, "TRADEFLOW_SMTP_PORT": str(port), "mailbox": str(args.mailbox)}
    if args.json:
        print(json.dumps(where), flush=True)
    else:
        print(f"SMTP capture server on {args.host}:{port}, keeping every email in {args.mailbox}", flush=True)
    try:
        await until_signalled()
    finally:
        server.close()
        await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
