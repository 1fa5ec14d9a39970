"""Pre-trade rules: pure checks that turn a trade into the reasons it must be refused."""

from __future__ import annotations

from decimal import Decimal

from brokers.port import MarketConditions
from messages.order_shape import misplaced_exits
from messages.records import KillSwitch, Position
from messages.trade import Rejection, TradeRequest
from workers.handlers.deps import TradingPolicy


def check_trade(
    trade: TradeRequest,
    policy: TradingPolicy,
    *,
    is_trader: bool,
    kill_switch: KillSwitch,
    position: Position | None,
    reference_price: Decimal | None,
    market: MarketConditions | None = None,
) -> list[Rejection]:
    """Every reason to refuse the trade, each saying what the trader can change; empty when it may go."""
    reasons: list[Rejection] = []
    if not is_trader:
        reasons.append(
            Rejection(
                field="user_id",
                code="NOT_A_TRADER",
                message=f"{trade.user_id} does not have the trader role",
                next_step="Ask an admin to grant you the trader role",
            )
        )
    price = trade.limit_price or trade.stop_price or reference_price
    halted = _halt_reason(trade, kill_switch, position, price)
    if halted is not None:
        reasons.append(halted)
    if policy.symbols and trade.symbol not in policy.symbols:
        sample = ", ".join(sorted(policy.symbols)[:12])
        reasons.append(
            Rejection(
                field="symbol",
                code="SYMBOL_NOT_ALLOWED",
                message=f"{trade.symbol} is not on the tradable list",
                next_step=f"Pick one of: {sample}…",
            )
        )
    if trade.quantity is not None and trade.quantity > policy.max_quantity:
        reasons.append(
            Rejection(
                field="quantity",
                code="QUANTITY_TOO_LARGE",
                message=f"Quantity {trade.quantity} is above the limit of {policy.max_quantity} per trade",
                next_step="Split the order or lower the quantity",
            )
        )
    cost = trade.cost_at(price)
    if cost is not None and cost > policy.max_notional:
        reasons.append(
            Rejection(
                field="notional" if trade.notional is not None else "quantity",
                code="NOTIONAL_TOO_LARGE",
                message=f"Notional ${cost:,.2f} is above the limit of ${policy.max_notional:,.2f} per trade",
                next_step="Lower the amount" if trade.notional is not None else "Lower the quantity",
            )
        )
    if trade.side == "sell" and not policy.allow_short:
        held = position.quantity if position else Decimal(0)
        selling = trade.quantity if trade.quantity is not None else _shares_at(trade.notional, price)
        if selling is not None and selling > held:
            reasons.append(
                Rejection(
                    field="quantity",
                    code="INSUFFICIENT_POSITION",
                    message=f"You hold {held} {trade.symbol}; you can sell at most {max(held, Decimal(0))}",
                    next_step="Sell at most what you hold: short selling is not enabled",
                )
            )
    reasons += _exit_reasons(trade, reference_price)
    if market is not None:
        reasons += _market_reasons(trade, market, price)
    return reasons


def _halt_reason(
    trade: TradeRequest, switch: KillSwitch, position: Position | None, price: Decimal | None
) -> Rejection | None:
    """A halt refuses every trade; a REDUCING one all but those that bring the position closer to flat
    without crossing it (a sell of at most what is held long, a buy of at most what is short)."""
    if not switch.engaged:
        return None
    why = f": {switch.reason}" if switch.reason else ""
    where = f" {switch.scope}" if switch.scope else ""
    if switch.mode == "halted":
        return Rejection(
            field="trade",
            code="TRADING_HALTED",
            message=f"Trading{where} is halted{why}",
            next_step="Try again once operators resume trading",
        )
    if reduces_exposure(trade, position, price):
        return None
    held = position.quantity if position else Decimal(0)
    return Rejection(
        field="side",
        code="TRADING_REDUCING",
        message=f"Trading{where} is limited to reducing positions{why}; you hold {held} {trade.symbol}",
        next_step="Only sell what you hold (or buy back what you are short), or ask an operator to lift "
        "the halt",
    )


def reduces_exposure(trade: TradeRequest, position: Position | None, price: Decimal | None) -> bool:
    """Whether the trade brings the trader's position in its symbol closer to flat without crossing it."""
    held = position.quantity if position else Decimal(0)
    size = trade.quantity if trade.quantity is not None else _shares_at(trade.notional, price)
    if size is None or held == 0:
        return False
    if trade.side == "sell":
        return held > 0 and size <= held
    return held < 0 and size <= -held


def _exit_reasons(trade: TradeRequest, market_price: Decimal | None) -> list[Rejection]:
    """A bracket's, OTO's or OCO's exits on the right side of its price (a limit entry's limit, else the
    market's): the take-profit beyond it, the stop-loss short of it (messages/order_shape.py)."""
    if trade.order_class == "simple":
        return []
    if trade.order_class == "oco":  # the position's own exits: the order is the take-profit itself
        take_profit, base, base_name = trade.limit_price, market_price, "the market price"
    else:
        take_profit, base = trade.take_profit_price, trade.limit_price or market_price
        base_name = "the entry's limit" if trade.limit_price is not None else "the market price"
    if base is None:
        return []
    reasons = []
    for leg, value, above in misplaced_exits(trade.shape(), take_profit, base):
        name, where = leg.replace("_", "-"), "above" if above else "below"
        reasons.append(
            Rejection(
                field=leg,
                code="EXIT_PRICE_WRONG_SIDE",
                message=f"The {name} at ${value} must be {where} {base_name} (${base}) to "
                f"{'take a profit' if leg == 'take_profit' else 'limit a loss'}",
                next_step=f"Set the {name} {where} ${base}",
            )
        )
    return reasons


def _market_reasons(trade: TradeRequest, market: MarketConditions, price: Decimal | None) -> list[Rejection]:
    """What the stock broker says: tradable, open for this kind of order, enough buying power."""
    reasons: list[Rejection] = []
    if not market.listed:
        reasons.append(
            Rejection(
                field="symbol",
                code="SYMBOL_UNKNOWN",
                message=f"{(market.source or 'the stock broker').capitalize()} lists no asset {trade.symbol}",
                next_step="Check the ticker (e.g. BRK.B, not BRKB)",
            )
        )
    elif not market.tradable:
        reasons.append(
            Rejection(
                field="symbol",
                code="SYMBOL_NOT_TRADABLE",
                message=f"{trade.symbol} is not tradable at the stock broker right now",
                next_step="Pick another symbol",
            )
        )
    elif _fractional(trade) and not market.fractionable:
        dollars = trade.notional is not None
        reasons.append(
            Rejection(
                field="notional" if dollars else "quantity",
                code="NOTIONAL_NOT_FRACTIONABLE" if dollars else "QUANTITY_NOT_FRACTIONABLE",
                message=f"{trade.symbol} cannot be traded in fractional shares"
                + (", so not by a dollar amount" if dollars else ""),
                next_step="Give a whole number of shares instead" if dollars else "Use a whole quantity",
            )
        )
    closed = _session_reason(trade, market)
    if closed is not None:
        reasons.append(closed)
    notional = trade.cost_at(price)
    buying_power = market.buying_power
    if trade.side == "buy" and buying_power is not None and notional is not None and notional > buying_power:
        reasons.append(
            Rejection(
                field="notional" if trade.notional is not None else "quantity",
                code="INSUFFICIENT_BUYING_POWER",
                message=f"The order needs ${notional:,.2f} but buying power is ${buying_power:,.2f}",
                next_step="Reduce the amount" if trade.notional is not None else "Reduce the quantity",
            )
        )
    return reasons


def _fractional(trade: TradeRequest) -> bool:
    """A dollar amount buys fractional shares; so does a quantity with a fraction."""
    quantity = trade.quantity
    return trade.notional is not None or (quantity is not None and quantity != quantity.to_integral())


def _shares_at(notional: Decimal | None, price: Decimal | None) -> Decimal | None:
    return None if notional is None or not price else notional / price


def _session_reason(trade: TradeRequest, market: MarketConditions) -> Rejection | None:
    """Whether the trade may go in the session the market is in (the regular one, the pre-market or the
    after-hours one, or none), as Alpaca decides: in the extended sessions only limit orders marked extended
    hours trade; outside the regular session a market order never rests, and any order may wait for the
    open if it is gtc (a limit, stop or trailing stop) or an extended-hours limit."""
    session = market.session
    if session == "regular":
        return None
    extended = session in ("pre", "post")
    if extended and trade.extended_hours:
        return None
    resting_allowed = trade.order_type != "market" and (trade.time_in_force == "gtc" or trade.extended_hours)
    if resting_allowed:
        return None
    opens = f" (it opens at {market.next_open:%Y-%m-%d %H:%M %Z})" if market.next_open else ""
    if extended:
        name = "pre-market" if session == "pre" else "after-hours"
        return Rejection(
            field="order_type",
            code="EXTENDED_HOURS_ONLY",
            message=f"Only extended-hours limit orders trade in the {name} session",
            next_step=f"Place a limit order with extended hours on, or wait for the regular session{opens}",
        )
    return Rejection(
        field="order_type",
        code="MARKET_CLOSED",
        message="Market is closed",
        next_step=f"Check market hours and try again{opens}, or place a limit order with time in force gtc",
    )
