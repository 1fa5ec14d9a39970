"""`tradeflow ingress`: compose the Slack ingress and serve it until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass
from functools import partial

import msgspec
from aiohttp import web
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from brokers.account_summary import account_summary
from brokers.port import StockBroker
from telemetry.logs import configure_logging
from telemetry.redaction import secrets_of
from telemetry.tracing import configure_tracing, shutdown_tracing
from workers.bootstrap import open_broker, open_roles, open_store
from workers.chain.publisher import Publisher
from workers.chain.rabbitmq import rabbitmq_answers
from workers.console.common import EXIT_USAGE
from workers.settings import Settings
from workers.slack.credentials import UnsafeSlackCredentials, check_ingress_credentials
from workers.slack.ingress import Ingress
from workers.slack.web_client import SessionWebClient
from workers.store.port import TradeStore

logger = logging.getLogger("tradeflow.ingress")


def slack_client(settings: Settings) -> SessionWebClient:
    client = SessionWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


def run_ingress(settings: Settings) -> int:
    try:
        check_ingress_credentials(settings)  # before anything listens or connects
    except UnsafeSlackCredentials as exc:
        print(f"tradeflow ingress: refusing to start: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings, "tradeflow-ingress")
    configure_tracing("tradeflow-ingress", secrets=secrets_of(settings))
    publisher = Publisher(settings)
    try:
        asyncio.run(_serve(settings, publisher))
    finally:
        publisher.close()
        shutdown_tracing()
    return 0


@dataclass
class IngressParts:
    """The ingress and what it holds open, closed in the reverse order of opening."""

    ingress: Ingress
    client: SessionWebClient
    broker: StockBroker
    store: TradeStore

    async def close(self) -> None:
        await self.ingress.close()
        await self.client.close()
        await self.broker.close()
        await self.store.close()


async def compose_ingress(settings: Settings, publisher: Publisher) -> IngressParts:
    """The ingress process's composition: a store, the roles, a price source and the Slack client."""
    store = await open_store(settings)
    roles = await open_roles(settings, store)  # seeded from the settings, as the workers do
    # Prices for the App Home only: no trade_updates stream in the ingress.
    broker = await open_broker(msgspec.structs.replace(settings, tradeflow_alpaca_stream=False))
    client = slack_client(settings)
    ingress = Ingress(
        signing_secret=settings.slack_signing_secret,
        client=client,
        publish=publisher.submit,
        send=publisher.send,
        ready=lambda: rabbitmq_answers(settings.rabbitmq_urls),
        store=store,
        prices=broker.reference_price,
        roles=roles,
        account=partial(account_summary, broker) if settings.alpaca_paper_enabled else None,
        retention_days=settings.tradeflow_audit_retention_days,
        desk_accounts=settings.account_names if len(settings.account_names) > 1 else (),
        store_outage_budget_s=settings.tradeflow_store_outage_budget_s,
    )
    return IngressParts(ingress, client, broker, store)


async def _serve(settings: Settings, publisher: Publisher) -> None:
    parts = await compose_ingress(settings, publisher)
    runner = web.AppRunner(parts.ingress.web_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.tradeflow_ingress_host, settings.tradeflow_ingress_port).start()
    logger.info(
        "Slack ingress on http://%s:%d/slack/events",
        settings.tradeflow_ingress_host,
        settings.tradeflow_ingress_port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    await parts.close()
