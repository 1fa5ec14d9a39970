"""`python -m emulators.slack --host 127.0.0.1 --port 8766`: serve the Slack emulator in the foreground.

The bot token and signing secret default to SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET when set (so an app
configured with its own placeholders still talks to it), else to the emulator's placeholders.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from emulators.background import serve_until_signalled
from emulators.slack.config import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, EmulatorConfig
from emulators.slack.runner import open_site
from emulators.slack.workspace import Workspace


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.slack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--bot-token", default=os.environ.get("SLACK_BOT_TOKEN") or DEFAULT_BOT_TOKEN)
    parser.add_argument(
        "--signing-secret", default=os.environ.get("SLACK_SIGNING_SECRET") or DEFAULT_SIGNING_SECRET
    )
    parser.add_argument("--trigger-ttl-s", type=float, default=3.0)
    parser.add_argument("--post-burst", type=int, default=5)
    parser.add_argument("--post-per-s", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print the URLs as one JSON line")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        bot_token=args.bot_token,
        signing_secret=args.signing_secret,
        trigger_ttl_s=args.trigger_ttl_s,
        post_burst=args.post_burst,
        post_per_s=args.post_per_s,
    )
    runner = await open_site(Workspace(config), args.host, args.port)
    origin = f"http://{args.host}:{runner.addresses[0][1]}"
    urls = {
        "SLACK_API_URL": f"{origin}/api/",
        "SLACK_BOT_TOKEN": config.bot_token,
        "SLACK_SIGNING_SECRET": config.signing_secret,
        "admin_url": f"{origin}/admin",
    }
    await serve_until_signalled(
        runner, f"Slack emulator (placeholder credentials) on {origin}", urls, config, as_json=args.json
    )


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
