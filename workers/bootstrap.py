"""The composition root: picks each adapter by name from the settings, once, and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

import dramatiq

from brokers.port import StockBroker
from brokers.simulated import SimulatedBroker
from workers.handlers.deps import Deps, TradingPolicy
from workers.handlers.ports import Notifier
from workers.notify.log import LogNotifier
from workers.settings import Settings
from workers.store.port import TradeStore


async def _dynamodb_store(settings: Settings) -> TradeStore:
    from workers.store.dynamodb import DynamoTradeStore

    return await DynamoTradeStore.open(
        table_prefix=settings.dynamodb_table_prefix,
        region=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url_dynamodb,
        access_key_id=settings.aws_access_key_id,
        secret_access_key=settings.aws_secret_access_key,
    )


async def _memory_store(settings: Settings) -> TradeStore:
    from workers.store.memory import MemoryTradeStore

    return MemoryTradeStore()


STORES: dict[str, Callable[[Settings], Awaitable[TradeStore]]] = {
    "dynamodb": _dynamodb_store,
    "memory": _memory_store,
}


def _simulated_broker(settings: Settings) -> SimulatedBroker:
    return SimulatedBroker(seed=settings.tradeflow_sim_seed, delay_ms=settings.tradeflow_sim_delay_ms)


BROKERS: dict[str, Callable[[Settings], StockBroker]] = {"simulated": _simulated_broker}

NOTIFIERS: dict[str, Callable[[Settings], Notifier]] = {
    "log": lambda s: LogNotifier(outbox=s.data_dir / "notifications.log"),
}


class BrokerPrices:
    """Reference prices from a stock broker that can quote (the simulated one can)."""

    def __init__(self, broker: StockBroker) -> None:
        self.broker = broker

    async def reference_price(self, symbol: str) -> Decimal | None:
        quote = getattr(self.broker, "quote", None)
        return quote(symbol) if quote is not None else None


def trading_policy(settings: Settings) -> TradingPolicy:
    return TradingPolicy(
        symbols=settings.symbols,
        traders=settings.traders,
        max_quantity=settings.tradeflow_max_quantity,
        max_notional=settings.tradeflow_max_notional,
        allow_short=settings.tradeflow_allow_short,
    )


async def open_store(settings: Settings) -> TradeStore:
    store = await STORES[settings.tradeflow_store](settings)
    await store.create_tables()
    return store


async def open_deps(settings: Settings) -> Deps:
    """Open every adapter the handlers need (on the event loop that will use them)."""
    store = await open_store(settings)
    broker = BROKERS[settings.tradeflow_broker](settings)
    return Deps(
        store=store,
        broker=broker,
        prices=BrokerPrices(broker),
        notifier=NOTIFIERS[settings.tradeflow_notifier](settings),
        policy=trading_policy(settings),
        retention_days=settings.tradeflow_audit_retention_days,
    )


async def close_deps(deps: Deps) -> None:
    await deps.notifier.close()
    await deps.broker.close()
    await deps.store.close()


def build_worker(settings: Settings, *extra_middleware: dramatiq.Middleware) -> dramatiq.Broker:
    """Compose a worker process: RabbitMQ with the middleware stack and the five stage actors."""
    from telemetry.tracing import configure_tracing
    from workers.actors import Runtime, declare_stage_actors
    from workers.rabbitmq import build_rabbitmq

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_tracing("tradeflow-worker")
    runtime = Runtime(settings, open_deps, close_deps)
    rabbitmq = build_rabbitmq(settings, runtime, *extra_middleware)
    declare_stage_actors(rabbitmq, settings, runtime)
    dramatiq.set_broker(rabbitmq)
    return rabbitmq
