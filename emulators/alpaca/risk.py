"""Whether the account may place an order: tradable asset, shares to sell, buying power to buy.

Alpaca's rules (docs "Placing Orders" › Buying Power): an opening buy costs its limit price (a market
buy: the ask, the far side of the quote) times its quantity; an opening short sell costs
max(limit price, 3 % above the ask) times its quantity; open buy orders hold buying power until they
fill or are canceled; selling more than a long position holds (net of open sells) is refused.
"""

from __future__ import annotations

from decimal import Decimal

from emulators.alpaca import errors
from emulators.alpaca.account import Account
from emulators.alpaca.assets import Asset
from emulators.alpaca.market import PriceBook
from emulators.alpaca.order_classes import check_base_prices
from emulators.alpaca.orders import HELD, Order
from emulators.alpaca.validation import OrderTicket

SHORT_SALE_BUFFER = Decimal("1.03")
ZERO = Decimal(0)


def position_intent(side: str, position_qty: Decimal) -> str:
    if side == "buy":
        return "buy_to_close" if position_qty < 0 else "buy_to_open"
    return "sell_to_close" if position_qty > 0 else "sell_to_open"


def admit(
    ticket: OrderTicket, asset: Asset, account: Account, open_orders: list[Order], prices: PriceBook
) -> None:
    """Raise Alpaca's refusal if the account may not place this order now."""
    if not asset.tradable:
        raise errors.unprocessable(f'asset "{asset.symbol}" is not tradable')
    quote, last = prices.quote(asset.symbol), prices.last_trade(asset.symbol).price
    if ticket.exits is not None:
        far_side = quote.ask if ticket.side == "buy" else quote.bid
        check_base_prices(ticket.order_class, ticket.side, ticket.limit_price, ticket.exits, far_side, last)
    if ticket.stop_price is not None:
        if ticket.side == "sell" and ticket.stop_price >= last:
            raise errors.unprocessable("stop price must be less than current price")
        if ticket.side == "buy" and ticket.stop_price <= last:
            raise errors.unprocessable("stop price must be greater than current price")

    shares = ticket.qty if ticket.qty is not None else (ticket.notional or ZERO) / quote.bid
    position = account.position_qty(asset.symbol)
    if ticket.side == "sell" and position > 0:
        selling = [o for o in open_orders if o.symbol == asset.symbol and o.side == "sell"]
        held = sum((_open_shares(o, prices) for o in selling), ZERO)
        if shares > position - held:
            raise errors.insufficient_qty(asset.symbol, shares, position, held, [o.id for o in selling])
        return
    if ticket.side == "sell":
        if not asset.shortable:
            raise errors.unprocessable(f'asset "{asset.symbol}" cannot be sold short')
        if shares != shares.to_integral_value():
            raise errors.unprocessable("fractional orders cannot be sold short")  # (emulator wording)
    cost = order_cost(ticket.side, ticket.type, shares, ticket.limit_price, ticket.stop_price, prices, asset)
    if ticket.notional is not None:
        cost = ticket.notional
    available = available_buying_power(account, open_orders, prices)
    if cost > available:
        raise errors.insufficient_buying_power(max(ZERO, available), cost)


def available_buying_power(account: Account, open_orders: list[Order], prices: PriceBook) -> Decimal:
    """The account's buying power less what its open buy orders hold."""
    reserved = sum((_reserved(o, prices) for o in open_orders), ZERO)
    return account.buying_power(prices.mark) - reserved


def order_cost(
    side: str,
    order_type: str,
    shares: Decimal,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    prices: PriceBook,
    asset: Asset,
) -> Decimal:
    ask = prices.quote(asset.symbol).ask
    if side == "sell":
        return max(limit_price or ZERO, ask * SHORT_SALE_BUFFER) * shares
    price = {"limit": limit_price, "stop": stop_price, "stop_limit": limit_price}.get(order_type, ask)
    return (price or ask) * shares


def _open_shares(order: Order, prices: PriceBook) -> Decimal:
    if order.status == HELD:
        return ZERO  # a waiting exit leg: the group's other exit (or its entry) holds the shares
    remaining = order.remaining_qty()
    if remaining is not None:
        return remaining
    return order.remaining_notional() / prices.quote(order.symbol).bid


def _reserved(order: Order, prices: PriceBook) -> Decimal:
    if order.side != "buy" or order.parent is not None:
        return ZERO  # sells, and exit legs (they close the entry's position), hold no buying power
    if order.notional is not None:
        return order.remaining_notional()
    return order_cost(
        "buy",
        order.type,
        _open_shares(order, prices),
        order.limit_price,
        order.stop_price,
        prices,
        order.asset,
    )
