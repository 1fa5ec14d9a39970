"""Settings: one frozen Struct read once from the environment and checked at start (DESIGN §7)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Literal

import msgspec

from messages.records import SEVEN_YEARS_DAYS

# How long an XQ keeps a dead letter: dramatiq's DEAD_MESSAGE_TTL (7 days), in seconds; the health check
# imports dramatiq's own value, this module keeps clear of dramatiq.
DEAD_LETTER_TTL_S = 7 * 86_400
DYNAMODB_LOCAL_KEY = "local"  # DynamoDB Local's placeholder key id and secret: never sent to AWS
# Every request of one Alpaca attempt has been answered this long before its order lease (the stage's time
# limit) runs out: no thread of an attempt acts once another attempt may have taken over.
ATTEMPT_MARGIN_FLOOR_S = 15.0
# RABBITMQ_URL's URLs are separated by a comma (or dramatiq's `;`) where the next URL's scheme begins, so a
# comma inside a password or a query never splits one.
_URL_SEPARATOR = re.compile(r"\s*[,;]\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


class SettingsError(ValueError):
    """A missing, misspelt or malformed setting; the message names the variable."""


ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class AlpacaAccount(msgspec.Struct, frozen=True, kw_only=True):
    """One Alpaca paper account tradeflow trades in: its name on the desk and its key pair, or the AWS
    Secrets Manager secret that holds the pair (read when the account's broker opens; never stored)."""

    name: str
    api_key: str = ""
    secret_key: str = ""
    secret_id: str | None = None


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything tradeflow reads from its environment. Defaults point at loopback, so `up` needs none."""

    tradeflow_env: Literal["development", "test", "staging", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    debug_mode: bool = False
    tradeflow_log_format: Literal["text", "json"] = "text"
    tradeflow_data_dir: str = ".data"

    # One URL, or one per node of a cluster separated by commas: every process connects to the first that
    # answers, and to the next one when that node goes away (`rabbitmq_urls`).
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    tradeflow_queue_prefix: str = ""
    # Replicated quorum queues (RabbitMQ 3.10+, which the XQ's TTL needs) unless told otherwise; a queue
    # already declared with the other type stops the process with its name (chain/rabbitmq.py says why).
    tradeflow_queue_type: Literal["quorum", "classic"] = "quorum"
    tradeflow_max_retries: int = 5
    tradeflow_min_backoff_ms: int = 200
    tradeflow_max_backoff_ms: int = 30_000
    # A store outage is retried this long from a message's first failure (backoff up to the max above),
    # whatever TRADEFLOW_MAX_RETRIES says; a trader whose trade waits longer than the second is told.
    tradeflow_store_outage_budget_s: float = 600.0
    tradeflow_held_notice_after_s: float = 5.0
    tradeflow_worker_threads: int = 8
    # Seconds a RabbitMQ connection may stay blocked by a resource alarm (connection.blocked) before it is
    # closed and its publish fails, rather than waiting forever (the URL's blocked_connection_timeout wins).
    tradeflow_rabbitmq_blocked_timeout_s: float = 5.0
    # Seconds between a worker process's heartbeats: into the store (`tradeflow health`) and into
    # DATA_DIR/heartbeats/<pid> (`tradeflow worker-alive`, the containers' healthcheck).
    tradeflow_heartbeat_s: float = 15.0
    # `tradeflow health` raises an ALERT on a queue whose oldest dead letter is older than this: RabbitMQ
    # drops a dead letter after its XQ's 7-day TTL (dramatiq's DEAD_MESSAGE_TTL), so it must be less.
    tradeflow_dead_letter_alert_age_s: float = 86_400.0

    tradeflow_store: Literal["dynamodb", "memory"] = "dynamodb"
    dynamodb_table_prefix: str = "tradeflow"
    aws_region: str = "us-east-1"
    # Absent: DynamoDB Local on loopback. Set but empty: no custom endpoint, AWS's regional one (and then
    # the placeholder keys below are not sent: boto's default credential chain applies, see bootstrap.py).
    aws_endpoint_url_dynamodb: str | None = "http://127.0.0.1:8000"
    aws_access_key_id: str = DYNAMODB_LOCAL_KEY
    aws_secret_access_key: str = DYNAMODB_LOCAL_KEY
    tradeflow_audit_retention_days: int = SEVEN_YEARS_DAYS
    # The KMS key the tables are encrypted with on AWS (id, ARN or alias); unset: the AWS managed key.
    tradeflow_dynamodb_kms_key_id: str | None = None

    # Alpaca paper trading, preferred when enabled; the defaults point at the emulator `up` starts. The key
    # and secret below are the emulator's placeholders, not credentials: real ones come from the environment.
    alpaca_paper_enabled: bool = True
    alpaca_paper_api_key: str = "PKEMULATOR00000000001"
    alpaca_paper_secret_key: str = "emulator-secret-not-a-real-key"
    alpaca_paper_base_url: str = "http://127.0.0.1:8765/paper"
    alpaca_data_base_url: str = "http://127.0.0.1:8765"
    alpaca_stream_url: str | None = None  # default: the base URL's host, ws(s), path /stream
    alpaca_starting_cash: Decimal = Decimal(500_000)
    # Several paper accounts: the one above is named TRADEFLOW_ALPACA_ACCOUNT; each other one named in
    # TRADEFLOW_ALPACA_ACCOUNTS ("growth,income") has its keys in ALPACA_<NAME>_API_KEY and
    # ALPACA_<NAME>_SECRET_KEY, read at start (alpaca_accounts below). Same API, same paper guard.
    tradeflow_alpaca_account: str = "main"
    tradeflow_alpaca_accounts: str = ""
    alpaca_other_accounts: tuple[AlpacaAccount, ...] = ()  # filled by load_settings, never from one variable
    tradeflow_alpaca_timeout_s: float = 10.0
    tradeflow_alpaca_stream: bool = True
    # Alpaca's rate limit, per account and per API (DESIGN §9): every process sending for the account counts
    # against one budget kept in Redis (REDIS_URL; `memory`: this process alone, for a single process).
    tradeflow_rate_limiter: Literal["redis", "memory"] = "redis"
    redis_url: str = "redis://127.0.0.1:6379/0"
    tradeflow_alpaca_rate_limit: int = 200
    tradeflow_alpaca_data_rate_limit: int = 200
    tradeflow_alpaca_rate_window_s: int = 60  # Alpaca counts per minute; shorter only to test
    # A trade waiting for the budget longer than this has its trader told it is queued behind the limit.
    tradeflow_rate_limit_notice_after_s: float = 5.0
    # How old Alpaca's account (buying power; its number for the paper guard) and a quote may be when a
    # pre-trade check, an order or the App Home uses them (the execution's own quote is at most 2 s old).
    tradeflow_alpaca_account_max_age_s: float = 60.0
    tradeflow_alpaca_quote_max_age_s: float = 30.0
    tradeflow_sim_seed: int = 42
    tradeflow_sim_delay_ms: int = 25
    tradeflow_fill_timeout_s: float = 30.0
    # An execution attempt may run this long past the fill wait; then the stage stops it and the trade's
    # order lease lapses, so a redelivery asks Alpaca for the order first. Shorter only to test.
    tradeflow_attempt_margin_s: float = 60.0
    # An open trade recorded this long ago is stuck: the sweeper settles it, and a pending one is never placed
    # late. The sweeper looks every interval (0: never; `tradeflow reconcile` still works on demand).
    tradeflow_stuck_after_s: float = 300.0
    tradeflow_sweep_interval_s: float = 60.0
    # Four eyes (limits' approval_notional): a trade above it waits this long for an approver, who decides
    # in this Slack channel (an id; the default is the emulator's #trade-approvals), then it expires.
    tradeflow_approval_ttl_s: float = 900.0
    tradeflow_approvers_channel: str = "C0APPROVALS"

    tradeflow_notifier: Literal["slack", "log"] = "slack"
    # Slack; the defaults point at the emulator `up` starts, and are its placeholders, not credentials.
    slack_api_url: str = "http://127.0.0.1:8766/api/"
    slack_bot_token: str = "xoxb-emulator-token-not-a-real-token"
    slack_signing_secret: str = "emulator-signing-secret-not-real"
    # A trader's App Home is redrawn at most this often (its last notice's redraw comes at the end of it).
    tradeflow_home_refresh_s: float = 5.0
    tradeflow_ingress_host: str = "127.0.0.1"
    tradeflow_ingress_port: int = 3000

    # Alerts outside Slack (workers/alerts/): email through an SMTP server, SMS through Amazon SNS. The
    # defaults point at what `up` starts on loopback: its SMTP capture server and moto's SNS
    # (`tradeflow alerts outbox` lists what each received). off: the alerts service sends nothing.
    tradeflow_alerts: Literal["on", "off"] = "on"
    tradeflow_smtp_host: str = "127.0.0.1"
    tradeflow_smtp_port: int = 8025
    tradeflow_smtp_from: str = "alerts@tradeflow.localhost"
    # Both or neither: the relay's login (after STARTTLS when that is on).
    tradeflow_smtp_username: str | None = None
    tradeflow_smtp_password: str | None = None
    tradeflow_smtp_starttls: bool = False  # true: STARTTLS required (a real relay on port 587)
    # Seconds one email or SMS may take in all before it counts as failed (at most 20: see _check_alerts).
    tradeflow_alerts_timeout_s: float = 10.0
    # Absent: moto's SNS on loopback. Set but empty: AWS's regional SNS endpoint for AWS_REGION.
    aws_endpoint_url_sns: str | None = "http://127.0.0.1:8767"

    # Where `tradeflow trace` reads a trade's spans: the file `up`'s sink writes, Jaeger's query API or
    # Phoenix's REST API. No URL: the backend's loopback default (Jaeger 16686 as in compose.yaml, Phoenix
    # 6006 as `make traces` runs it). With phoenix, `up`'s sink also forwards every span there.
    tradeflow_traces_backend: Literal["file", "jaeger", "phoenix"] = "file"
    tradeflow_traces_query_url: str | None = None

    # An optional allow-list, for a desk that wants one; empty (the default): whatever the stock broker
    # trades (Alpaca's own asset list says what is tradable, fractionable and shortable).
    tradeflow_symbols: str = ""
    # Roles live in the store (workers/access/roles.py); these two only seed it: trader and admin.
    tradeflow_traders: str = "U123"
    tradeflow_admins: str = ""
    # Who runs a `tradeflow` command when it is not given `--as USER_ID`: the identity checked and audited.
    tradeflow_operator: str | None = None
    # How old a process's roster may get before it rereads it (workers/access/roles.py: CachedRoles).
    tradeflow_role_cache_s: float = 5.0
    # Who `tradeflow doctor` trades as: always a trader (its 1-share paper buys land in its own position)
    # and DMed like one, so on real Slack set it to an operators' account.
    tradeflow_doctor_user: str = "UDOCTOR"
    tradeflow_max_quantity: Decimal = Decimal(10_000)
    tradeflow_max_notional: Decimal = Decimal(1_000_000)
    tradeflow_allow_short: bool = False
    # An executed trade this large (dollars) is alerted as a large trade to whoever chose large_trade alerts
    # (each recipient's own threshold, `/trade notify above N`, may raise it for them).
    tradeflow_large_trade_notional: Decimal = Decimal(50_000)

    @property
    def rabbitmq_urls(self) -> tuple[str, ...]:
        """RABBITMQ_URL's URLs in the order they are tried: one per node of a cluster, or just one."""
        return rabbitmq_urls(self.rabbitmq_url)

    @property
    def symbols(self) -> frozenset[str]:
        """The allow-list; empty: no list, the stock broker's assets decide."""
        return frozenset(s.strip().upper() for s in self.tradeflow_symbols.split(",") if s.strip())

    @property
    def traders(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.tradeflow_traders.split(",") if u.strip())

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.tradeflow_admins.split(",") if u.strip())

    @property
    def alpaca_trade_stream_url(self) -> str:
        if self.alpaca_stream_url:
            return self.alpaca_stream_url
        base = self.alpaca_paper_base_url.rstrip("/")
        return base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/stream"

    @property
    def alpaca_accounts(self) -> tuple[AlpacaAccount, ...]:
        """Every account, the default (TRADEFLOW_ALPACA_ACCOUNT, ALPACA_PAPER_* keys) first."""
        default = AlpacaAccount(
            name=self.tradeflow_alpaca_account,
            api_key=self.alpaca_paper_api_key,
            secret_key=self.alpaca_paper_secret_key,
        )
        return (default, *self.alpaca_other_accounts)

    @property
    def account_names(self) -> tuple[str, ...]:
        return tuple(account.name for account in self.alpaca_accounts)

    @property
    def data_dir(self) -> Path:
        return Path(self.tradeflow_data_dir)

    def queue(self, stage: str) -> str:
        """The RabbitMQ queue name of a stage (a prefix isolates test runs on a shared RabbitMQ)."""
        return f"{self.tradeflow_queue_prefix}{stage}"


def rabbitmq_urls(value: str) -> tuple[str, ...]:
    """A RABBITMQ_URL value's URLs, in order."""
    return tuple(url for url in _URL_SEPARATOR.split(value.strip(" ,;")) if url)


# Variables read under their own names; every other field is read from its upper-cased name.
_OWNED_PREFIXES = ("TRADEFLOW_",)
_FIELDS = {name.upper(): name for name in Settings.__struct_fields__ if name != "alpaca_other_accounts"}


def setting_variables() -> dict[str, str]:
    """Each environment variable tradeflow reads, to the Settings field it fills."""
    return dict(_FIELDS)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings once; a misspelt TRADEFLOW_* name or a bad value fails with its name."""
    env = os.environ if environ is None else environ
    unknown = sorted(k for k in env if k.startswith(_OWNED_PREFIXES) and k not in _FIELDS)
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]} (known: {', '.join(sorted(_FIELDS))})")
    raw: dict[str, str | None] = {
        field: env[var] for var, field in _FIELDS.items() if var in env and env[var] != ""
    }
    if env.get("AWS_ENDPOINT_URL_DYNAMODB") == "":  # an empty value is the default, save here:
        raw["aws_endpoint_url_dynamodb"] = None  # "no custom endpoint", AWS's regional one
    if env.get("AWS_ENDPOINT_URL_SNS") == "":  # the same for SNS
        raw["aws_endpoint_url_sns"] = None
    raw["alpaca_other_accounts"] = _other_accounts(env)  # type: ignore[assignment]
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_name_the_variable(str(exc))) from exc
    _check(settings)
    return settings


def _other_accounts(env: Mapping[str, str]) -> list[dict[str, str]]:
    """The accounts TRADEFLOW_ALPACA_ACCOUNTS names, each with its ALPACA_<NAME>_API_KEY and _SECRET_KEY, or
    its ALPACA_<NAME>_SECRET_ID (an AWS Secrets Manager secret: {"api_key": …, "secret_key": …}); neither is
    an error naming the variables."""
    names = [n.strip() for n in env.get("TRADEFLOW_ALPACA_ACCOUNTS", "").split(",") if n.strip()]
    accounts = []
    for name in names:
        if not ACCOUNT_NAME.match(name):
            raise SettingsError(
                f"TRADEFLOW_ALPACA_ACCOUNTS: {name!r} is not an account name (lower-case letters, digits, _)"
            )
        secret_id = env.get(f"ALPACA_{name.upper()}_SECRET_ID")
        if secret_id:
            accounts.append({"name": name, "secret_id": secret_id})
            continue
        keys = {}
        for part in ("API_KEY", "SECRET_KEY"):
            variable = f"ALPACA_{name.upper()}_{part}"
            if not env.get(variable):
                raise SettingsError(
                    f"{variable} is not set: account {name!r} needs its key pair (or "
                    f"ALPACA_{name.upper()}_SECRET_ID, a Secrets Manager secret holding it)"
                )
            keys[part.lower()] = env[variable]
        accounts.append({"name": name, **keys})
    return accounts


def _name_the_variable(message: str) -> str:
    # msgspec says "... - at `$.tradeflow_max_retries`"; operators know the variable, not the field.
    for var, field in _FIELDS.items():
        message = message.replace(f"`$.{field}`", var)
    return f"invalid setting: {message}"


def _check(settings: Settings) -> None:
    if settings.tradeflow_max_retries < 0:
        raise SettingsError("TRADEFLOW_MAX_RETRIES must be 0 or more")
    if settings.tradeflow_worker_threads < 1:
        raise SettingsError("TRADEFLOW_WORKER_THREADS must be 1 or more")
    if settings.tradeflow_rabbitmq_blocked_timeout_s <= 0:
        raise SettingsError("TRADEFLOW_RABBITMQ_BLOCKED_TIMEOUT_S must be greater than 0")
    if settings.tradeflow_heartbeat_s <= 0:
        raise SettingsError("TRADEFLOW_HEARTBEAT_S must be greater than 0")
    if not 0 < settings.tradeflow_dead_letter_alert_age_s < DEAD_LETTER_TTL_S:
        raise SettingsError(
            f"TRADEFLOW_DEAD_LETTER_ALERT_AGE_S must be greater than 0 and less than {DEAD_LETTER_TTL_S} "
            "(the 7 days RabbitMQ keeps a dead letter)"
        )
    if settings.tradeflow_audit_retention_days < SEVEN_YEARS_DAYS:
        raise SettingsError(
            f"TRADEFLOW_AUDIT_RETENTION_DAYS must be at least {SEVEN_YEARS_DAYS} (7-year regulatory minimum)"
        )
    if settings.tradeflow_max_quantity <= 0 or settings.tradeflow_max_notional <= 0:
        raise SettingsError("TRADEFLOW_MAX_QUANTITY and TRADEFLOW_MAX_NOTIONAL must be greater than 0")
    if settings.tradeflow_role_cache_s < 0:
        raise SettingsError("TRADEFLOW_ROLE_CACHE_S must be 0 (no cache) or more")
    if settings.tradeflow_fill_timeout_s <= 0:
        raise SettingsError("TRADEFLOW_FILL_TIMEOUT_S must be greater than 0")
    if settings.tradeflow_attempt_margin_s <= ATTEMPT_MARGIN_FLOOR_S:
        raise SettingsError(
            f"TRADEFLOW_ATTEMPT_MARGIN_S must be more than {ATTEMPT_MARGIN_FLOOR_S:.0f} "
            "(an attempt's Alpaca requests end that long before its order lease)"
        )
    if settings.tradeflow_alpaca_timeout_s <= 0:
        raise SettingsError("TRADEFLOW_ALPACA_TIMEOUT_S must be greater than 0")
    if settings.tradeflow_stuck_after_s <= 0:
        raise SettingsError("TRADEFLOW_STUCK_AFTER_S must be greater than 0")
    if settings.tradeflow_sweep_interval_s < 0:
        raise SettingsError("TRADEFLOW_SWEEP_INTERVAL_S must be 0 (no sweeps) or more")
    if settings.tradeflow_approval_ttl_s <= 0 or not settings.tradeflow_approvers_channel:
        raise SettingsError(
            "TRADEFLOW_APPROVAL_TTL_S must be greater than 0 and TRADEFLOW_APPROVERS_CHANNEL a channel id"
        )
    if settings.tradeflow_alpaca_rate_window_s < 1:
        raise SettingsError("TRADEFLOW_ALPACA_RATE_WINDOW_S must be 1 or more")
    if min(settings.tradeflow_alpaca_rate_limit, settings.tradeflow_alpaca_data_rate_limit) < 1:
        raise SettingsError(
            "TRADEFLOW_ALPACA_RATE_LIMIT and TRADEFLOW_ALPACA_DATA_RATE_LIMIT must be 1 or more"
        )
    if min(settings.tradeflow_alpaca_account_max_age_s, settings.tradeflow_alpaca_quote_max_age_s) <= 0:
        raise SettingsError(
            "TRADEFLOW_ALPACA_ACCOUNT_MAX_AGE_S and TRADEFLOW_ALPACA_QUOTE_MAX_AGE_S must be greater than 0"
        )
    if settings.tradeflow_rate_limit_notice_after_s < 0 or settings.tradeflow_home_refresh_s < 0:
        raise SettingsError(
            "TRADEFLOW_RATE_LIMIT_NOTICE_AFTER_S and TRADEFLOW_HOME_REFRESH_S must be 0 or more"
        )
    names = settings.account_names
    if not ACCOUNT_NAME.match(names[0]):
        raise SettingsError("TRADEFLOW_ALPACA_ACCOUNT must be lower-case letters, digits and _ (e.g. main)")
    if len(set(names)) != len(names):
        raise SettingsError(f"TRADEFLOW_ALPACA_ACCOUNTS names an account twice: {', '.join(names)}")
    if not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
    _check_alerts(settings)
    urls = settings.rabbitmq_urls
    if not urls or not all(url.startswith(("amqp://", "amqps://")) for url in urls):
        raise SettingsError("RABBITMQ_URL must be an amqp:// or amqps:// URL, or several separated by commas")


def _check_alerts(settings: Settings) -> None:
    if not 0 < settings.tradeflow_smtp_port < 65_536:
        raise SettingsError("TRADEFLOW_SMTP_PORT must be a port number (1 to 65535)")
    if (settings.tradeflow_smtp_username is None) != (settings.tradeflow_smtp_password is None):
        raise SettingsError(
            "TRADEFLOW_SMTP_USERNAME and TRADEFLOW_SMTP_PASSWORD go together: set both or neither"
        )
    if not 0 < settings.tradeflow_alerts_timeout_s <= 20:  # well inside the alerts service's 30 s lease
        raise SettingsError("TRADEFLOW_ALERTS_TIMEOUT_S must be greater than 0 and at most 20")
    local, at, domain = settings.tradeflow_smtp_from.rpartition("@")
    if not (local and at and "." in domain.strip(".")) or any(c.isspace() for c in domain + local):
        raise SettingsError("TRADEFLOW_SMTP_FROM must be an email address, e.g. alerts@example.com")


def attempt_limit_s(settings: Settings) -> float:
    """How long one message of a stage may run (dramatiq's time limit), and so how long a trade's order lease
    lasts: the execution stage waits up to the fill wait, and is stopped only well past it."""
    return settings.tradeflow_fill_timeout_s + settings.tradeflow_attempt_margin_s
