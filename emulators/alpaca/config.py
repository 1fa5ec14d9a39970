"""The emulator's settings: credentials and accounts, starting cash, the fill model and the price path."""

from __future__ import annotations

import os
from decimal import Decimal

import msgspec

# Placeholders for the emulator only: never real credentials. The key starts with PK (a paper key)
# so tradeflow's paper guard accepts it, exactly as it would a real paper key.
DEFAULT_KEY_ID = "PKEMULATOR00000000001"
DEFAULT_SECRET_KEY = "emulator-secret-not-a-real-key"
DEFAULT_STARTING_CASH = Decimal("500000")
DEFAULT_RATE_LIMIT = 200  # requests a minute per API key (Alpaca's documented limit)


DEFAULT_ACCOUNT = "default"


class AccountSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A paper account beside the default one: its own key pair, cash, orders, positions, stream and rate
    limit window; the market is shared. starting_cash None: the config's; account_number None: "PA…"."""

    name: str
    key_id: str
    secret_key: str
    starting_cash: Decimal | None = None
    account_number: str | None = None


class EmulatorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything `POST /admin/config` may change; `POST /admin/reset` returns to the start values."""

    key_id: str = DEFAULT_KEY_ID
    secret_key: str = DEFAULT_SECRET_KEY
    starting_cash: Decimal = DEFAULT_STARTING_CASH
    seed: int = 42
    # A market order fills this long after it is accepted, in `partial_fills` executions
    # `partial_interval_ms` apart (1 = a single fill).
    fill_delay_ms: int = 50
    partial_fills: int = 1
    partial_interval_ms: int = 20
    # The price path moves every `tick_interval_ms` (0 = prices move only when set by admin) by a
    # Gaussian step of `step_bps` basis points, and is quoted `spread_bps` wide.
    tick_interval_ms: int = 200
    step_bps: Decimal = Decimal(2)
    spread_bps: Decimal = Decimal(2)
    market_open: bool = True
    # Open and close by the clock's schedule (next_open / next_close, by default the real 09:30 and
    # 16:00 New York times); off by default, so the market changes only when told (admin, a fault).
    auto_clock: bool = False
    non_tradable: tuple[str, ...] = ()
    extra_symbols: tuple[str, ...] = ()
    # None: a paper number ("PA…"). Set to a live-looking one to prove the paper guard refuses it.
    account_number: str | None = None
    # Alpaca's rate limit (rate_limit.py): requests per window per API key, the Trading API and the
    # Market Data API each their own; 0 turns one off. On by default, at Alpaca's documented 200 a minute.
    rate_limit: int = DEFAULT_RATE_LIMIT
    data_rate_limit: int = DEFAULT_RATE_LIMIT
    rate_limit_window_s: int = 60
    # Paper accounts after the default one (key_id / secret_key / starting_cash / account_number above,
    # named "default"); each is authenticated by its own key pair. Takes effect at start and at a reset.
    accounts: tuple[AccountSpec, ...] = ()

    def account_specs(self) -> list[AccountSpec]:
        """Every account, the default first."""
        default = AccountSpec(
            name=DEFAULT_ACCOUNT,
            key_id=self.key_id,
            secret_key=self.secret_key,
            starting_cash=self.starting_cash,
            account_number=self.account_number,
        )
        return [default, *self.accounts]

    def __post_init__(self) -> None:
        if self.partial_fills < 1:
            raise ValueError("partial_fills must be at least 1")
        if min(self.fill_delay_ms, self.partial_interval_ms, self.tick_interval_ms) < 0:
            raise ValueError("delays and intervals must not be negative")
        if self.starting_cash < 0 or self.spread_bps < 0 or self.step_bps < 0:
            raise ValueError("starting_cash, spread_bps and step_bps must not be negative")
        if min(self.rate_limit, self.data_rate_limit) < 0 or self.rate_limit_window_s < 1:
            raise ValueError("rate limits must not be negative, and their window must be 1 s or more")
        specs = self.account_specs()
        for field in ("name", "key_id"):
            values = [getattr(spec, field) for spec in specs]
            if len(set(values)) != len(values):
                raise ValueError(f"every account needs its own {field} (the default one is {values[0]!r})")


def parse_accounts(text: str) -> tuple[AccountSpec, ...]:
    """`NAME:KEY_ID:SECRET[:STARTING_CASH]`, several separated by commas (ALPACA_EMULATOR_ACCOUNTS)."""
    specs = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        fields = item.split(":")
        if len(fields) not in (3, 4) or not all(fields[:3]):
            raise ValueError(f"an account is NAME:KEY_ID:SECRET[:STARTING_CASH], not {item!r}")
        try:
            cash = Decimal(fields[3]) if len(fields) == 4 else None
        except ArithmeticError as exc:
            raise ValueError(f"{fields[0]}: starting cash is not a number: {fields[3]!r}") from exc
        specs.append(AccountSpec(name=fields[0], key_id=fields[1], secret_key=fields[2], starting_cash=cash))
    return tuple(specs)


def starting_cash_from_env(default: Decimal = DEFAULT_STARTING_CASH) -> Decimal:
    """ALPACA_STARTING_CASH, the emulator's account balance (DESIGN §7), else the default."""
    text = os.environ.get("ALPACA_STARTING_CASH", "").strip()
    if not text:
        return default
    try:
        return Decimal(text)
    except ArithmeticError as exc:
        raise ValueError(f"ALPACA_STARTING_CASH is not a number: {text!r}") from exc


def updated(config: EmulatorConfig, changes: dict[str, object]) -> EmulatorConfig:
    """Apply a JSON object of changes, validated like the config itself (unknown names refused)."""
    merged = msgspec.to_builtins(config)
    merged.update(changes)
    return msgspec.convert(merged, EmulatorConfig, strict=False)
