"""The composition root: picks each adapter by name from the settings, once, and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import dramatiq
import msgspec

from brokers.port import BrokerBusy, BrokerUnavailable, StockBroker
from workers.access.journal import Journal
from workers.access.roles import CachedRoles, seed_from_settings
from workers.handlers.deps import ApprovalPolicy, Deps, ReconcilePolicy, TradingPolicy
from workers.handlers.ports import AlertChannels, Notifier
from workers.notify.log import LogNotifier
from workers.settings import (
    ATTEMPT_MARGIN_FLOOR_S,
    DYNAMODB_LOCAL_KEY,
    AlpacaAccount,
    Settings,
    attempt_limit_s,
)
from workers.store.port import TradeStore

if TYPE_CHECKING:  # alpaca-py (and the pandas it loads) only where a broker is opened: a CLI command that
    # reads the store starts a second sooner without it
    from brokers.alpaca_budget import AccountBudget
    from brokers.shared_state import SharedState
    from brokers.simulated import SimulatedBroker

logger = logging.getLogger("tradeflow.bootstrap")


def dynamodb_keys(settings: Settings) -> tuple[str | None, str | None]:
    """The key id and secret DynamoDB requests are signed with: (None, None) leaves it to boto.

    The defaults are DynamoDB Local's placeholders. On AWS (no custom endpoint, or an amazonaws.com one)
    they are not passed, so boto's default credential chain finds the real ones (an instance or task
    role, a profile, SSO) instead of AWS refusing the placeholders.
    """
    keys = (settings.aws_access_key_id, settings.aws_secret_access_key)
    endpoint = settings.aws_endpoint_url_dynamodb
    host = (urlsplit(endpoint).hostname or "").lower() if endpoint is not None else ""
    on_aws = endpoint is None or host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
    if on_aws and keys == (DYNAMODB_LOCAL_KEY, DYNAMODB_LOCAL_KEY):
        return None, None
    return keys


async def _dynamodb_store(settings: Settings) -> TradeStore:
    from workers.store.dynamodb.store import DynamoTradeStore

    access_key_id, secret_access_key = dynamodb_keys(settings)
    return await DynamoTradeStore.open(
        table_prefix=settings.dynamodb_table_prefix,
        region=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url_dynamodb,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        kms_key_id=settings.tradeflow_dynamodb_kms_key_id,
    )


async def _memory_store(settings: Settings) -> TradeStore:
    from workers.store.memory.store import MemoryTradeStore

    return MemoryTradeStore()


STORES: dict[str, Callable[[Settings], Awaitable[TradeStore]]] = {
    "dynamodb": _dynamodb_store,
    "memory": _memory_store,
}


def alpaca_attempt_budget_s(settings: Settings) -> float:
    """How long one Alpaca attempt's requests may take in all: the fill wait and a few requests, but never
    closer than ATTEMPT_MARGIN_FLOOR_S to the end of the trade's order lease."""
    lease_s = reconcile_policy(settings).attempt_limit.total_seconds()
    wanted = settings.tradeflow_fill_timeout_s + 4 * settings.tradeflow_alpaca_timeout_s
    return min(wanted, lease_s - ATTEMPT_MARGIN_FLOOR_S)


def _redis_state(settings: Settings) -> SharedState:
    from brokers.shared_state import RedisState

    return RedisState(settings.redis_url)


def _memory_state(settings: Settings) -> SharedState:
    from brokers.shared_state import MemoryState

    return MemoryState()


SHARED_STATES: dict[str, Callable[[Settings], SharedState]] = {"redis": _redis_state, "memory": _memory_state}


def alpaca_budget(settings: Settings, state: SharedState, api_key: str | None = None) -> AccountBudget:
    """An Alpaca account's request budget (the default account's unless `api_key` names another), counted
    in `state` by every process that shares it."""
    from brokers.alpaca_budget import AccountBudget

    return AccountBudget(
        state,
        api_key=api_key or settings.alpaca_paper_api_key,
        server=settings.alpaca_paper_base_url,
        limits={
            "trading": settings.tradeflow_alpaca_rate_limit,
            "data": settings.tradeflow_alpaca_data_rate_limit,
        },
        window_s=settings.tradeflow_alpaca_rate_window_s,
    )


def _simulated_broker(settings: Settings) -> SimulatedBroker:
    from brokers.simulated import SimulatedBroker

    return SimulatedBroker(seed=settings.tradeflow_sim_seed, delay_ms=settings.tradeflow_sim_delay_ms)


async def open_broker(settings: Settings, on_order_done: Callable[[str], None] | None = None) -> StockBroker:
    """Alpaca paper trading with the simulation as its fallback, or the simulation alone when Alpaca is off;
    with several accounts configured, one such broker per account behind one (brokers/accounts.py).

    The safety checks run here first: a failing one disables Alpaca loudly, and no order is ever sent.
    """
    if not settings.alpaca_paper_enabled:
        logger.info("Alpaca paper trading is off (ALPACA_PAPER_ENABLED=false): every trade is simulated")
        return _simulated_broker(settings)
    accounts = settings.alpaca_accounts
    if len(accounts) == 1:
        return await _open_account(settings, accounts[0], on_order_done)
    from brokers.accounts import AccountBrokers

    return AccountBrokers({a.name: await _open_account(settings, a, on_order_done) for a in accounts})


async def _open_account(
    settings: Settings, account: AlpacaAccount, on_order_done: Callable[[str], None] | None
) -> StockBroker:
    from brokers.alpaca import AlpacaPaperBroker
    from brokers.alpaca_stream import TradeUpdates
    from brokers.fallback import FallbackBroker
    from brokers.paper_guard import PaperGuard, PaperGuardFailed

    simulated = _simulated_broker(settings)
    if account.secret_id is not None:
        from brokers.account_keys import AccountKeysUnavailable, keys_from_secret

        try:
            api_key, secret_key = await keys_from_secret(account.secret_id, region=settings.aws_region)
        except AccountKeysUnavailable as exc:
            logger.error("Alpaca paper trading DISABLED for account %s: %s", account.name, exc)
            return FallbackBroker(None, simulated, disabled_reason=f"account {account.name}: {exc}")
        account = msgspec.structs.replace(account, api_key=api_key, secret_key=secret_key)
    guard = PaperGuard(
        api_key=account.api_key,
        base_url=settings.alpaca_paper_base_url,
        environment=settings.tradeflow_env,
    )
    try:
        guard.check_configuration()
    except PaperGuardFailed as exc:
        logger.error("Alpaca paper trading DISABLED: %s", exc)
        return FallbackBroker(None, simulated, disabled_reason=str(exc))
    updates = None
    if settings.tradeflow_alpaca_stream:
        updates = TradeUpdates(
            api_key=account.api_key,
            secret_key=account.secret_key,
            stream_url=settings.alpaca_trade_stream_url,
        )
        updates.on_done = on_order_done
    shared = SHARED_STATES[settings.tradeflow_rate_limiter](settings)
    alpaca = AlpacaPaperBroker(
        api_key=account.api_key,
        secret_key=account.secret_key,
        base_url=settings.alpaca_paper_base_url,
        data_url=settings.alpaca_data_base_url,
        guard=guard,
        fill_timeout_s=settings.tradeflow_fill_timeout_s,
        request_timeout_s=settings.tradeflow_alpaca_timeout_s,
        attempt_budget_s=alpaca_attempt_budget_s(settings),
        updates=updates,
        budget=alpaca_budget(settings, shared, account.api_key),
        shared=shared,
        account_max_age_s=settings.tradeflow_alpaca_account_max_age_s,
        quote_max_age_s=settings.tradeflow_alpaca_quote_max_age_s,
    )
    try:
        number = await alpaca.verify()
        logger.info(
            "Alpaca paper trading ENABLED: account %s (%s) at %s",
            account.name,
            number,
            settings.alpaca_paper_base_url,
        )
    except PaperGuardFailed as exc:
        logger.error("Alpaca paper trading DISABLED: %s", exc)
        await alpaca.close()
        return FallbackBroker(None, simulated, disabled_reason=str(exc))
    except BrokerUnavailable as exc:
        logger.warning("Alpaca unreachable at start (%s): the checks run again before every order", exc)
    except BrokerBusy as exc:  # the account's budget is spent: a worker starting then must not die of it
        logger.warning("Alpaca not asked at start (%s): the checks run again before every order", exc)
    if updates is not None:
        updates.start()
    return FallbackBroker(alpaca, simulated)


def _slack_notifier(settings: Settings, store: TradeStore, broker: StockBroker) -> Notifier:
    from workers.slack.notifier import SlackNotifier

    return SlackNotifier.open(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        store=store,
        # The App Home shows the last quote read however recent: it spends no Alpaca request a trade needs.
        prices=getattr(broker, "display_price", broker.reference_price),
        roles=CachedRoles(store, ttl_s=settings.tradeflow_role_cache_s),
        home_refresh_s=settings.tradeflow_home_refresh_s,
        approvers_channel=settings.tradeflow_approvers_channel,
    )


NOTIFIERS: dict[str, Callable[[Settings, TradeStore, StockBroker], Notifier]] = {
    "log": lambda settings, store, broker: LogNotifier(outbox=settings.data_dir / "notifications.log"),
    "slack": _slack_notifier,
}


def trading_policy(settings: Settings) -> TradingPolicy:
    return TradingPolicy(
        symbols=settings.symbols,
        max_quantity=settings.tradeflow_max_quantity,
        max_notional=settings.tradeflow_max_notional,
        allow_short=settings.tradeflow_allow_short,
        accounts=settings.account_names if len(settings.account_names) > 1 else (),
        default_account=settings.tradeflow_alpaca_account,
        large_trade_notional=settings.tradeflow_large_trade_notional,
    )


def reconcile_policy(settings: Settings) -> ReconcilePolicy:
    return ReconcilePolicy(
        stuck_after=timedelta(seconds=settings.tradeflow_stuck_after_s),
        sweep_interval=timedelta(seconds=settings.tradeflow_sweep_interval_s),
        attempt_limit=timedelta(seconds=attempt_limit_s(settings)),
    )


async def open_store(settings: Settings) -> TradeStore:
    store = await STORES[settings.tradeflow_store](settings)
    try:
        await store.create_tables()
    except BaseException:
        await store.close()  # else its HTTP session leaks when the store cannot be reached
        raise
    return store


async def open_roles(settings: Settings, store: TradeStore) -> CachedRoles:
    """Seed the roster from the settings (workers/access/roles.py says how), and read it through a cache."""
    journal = Journal(store, settings.tradeflow_audit_retention_days)
    await seed_from_settings(store, journal, settings)
    return CachedRoles(store, ttl_s=settings.tradeflow_role_cache_s)


async def open_deps(settings: Settings, on_order_done: Callable[[str], None] | None = None) -> Deps:
    """Open every adapter the handlers need (on the event loop that will use them)."""
    store = await open_store(settings)
    roles = await open_roles(settings, store)
    broker = await open_broker(settings, on_order_done)
    return Deps(
        store=store,
        broker=broker,
        notifier=NOTIFIERS[settings.tradeflow_notifier](settings, store, broker),
        policy=trading_policy(settings),
        retention_days=settings.tradeflow_audit_retention_days,
        roles=roles,
        reconcile=reconcile_policy(settings),
        approvals=ApprovalPolicy(ttl=timedelta(seconds=settings.tradeflow_approval_ttl_s)),
        # The same Redis as the Alpaca budget (connected on first use): a held notice's claim.
        shared=SHARED_STATES[settings.tradeflow_rate_limiter](settings),
        alerts=await open_alerts(settings),
    )


async def open_alerts(settings: Settings) -> AlertChannels | None:
    """Email (SMTP) and SMS (SNS) for the alerts service, or None when TRADEFLOW_ALERTS is off."""
    from workers.alerts.channels import open_alert_channels  # aiosmtplib: only where alerts are sent

    return await open_alert_channels(settings)


async def close_deps(deps: Deps) -> None:
    await deps.notifier.close()
    await deps.broker.close()
    await deps.store.close()
    if deps.shared is not None:
        deps.shared.close()
    if deps.alerts is not None:
        await deps.alerts.close()


def build_worker(settings: Settings, *extra_middleware: dramatiq.Middleware) -> dramatiq.Broker:
    """Compose a worker process: RabbitMQ with the middleware stack and the five stage actors."""
    from telemetry.logs import configure_logging
    from telemetry.metrics import configure_metrics, observe_queues
    from telemetry.redaction import secrets_of
    from telemetry.tracing import configure_tracing
    from workers.chain.actors import Runtime, declare_stage_actors
    from workers.chain.liveness.middleware import WorkerHeartbeat
    from workers.chain.rabbitmq import build_rabbitmq, queue_depths
    from workers.chain.rate_limit import RateLimitNotices

    # Runs in each worker process after dramatiq's CLI set up its logging there: ours replaces it.
    configure_logging(settings, "tradeflow-worker")
    configure_tracing("tradeflow-worker", secrets=secrets_of(settings))
    if configure_metrics("tradeflow-worker") is not None:
        observe_queues(lambda: queue_depths(settings))
    runtime = Runtime(settings, open_deps, close_deps)
    # Before the Runtime: the heartbeat stops (and forgets its beat) while the store is still open.
    heartbeat = WorkerHeartbeat(
        settings.tradeflow_heartbeat_s,
        settings.data_dir,
        store=lambda: runtime.deps.store if runtime.deps else None,
    )
    # After DeadLetters, so its hook runs first and a queued trade's wait is in the message it puts back.
    notices = RateLimitNotices(
        notice_after_ms=int(settings.tradeflow_rate_limit_notice_after_s * 1000), queue_of=settings.queue
    )
    rabbitmq = build_rabbitmq(settings, heartbeat, runtime, notices, *extra_middleware)
    declare_stage_actors(rabbitmq, settings, runtime)
    dramatiq.set_broker(rabbitmq)
    return rabbitmq
