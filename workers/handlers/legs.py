"""A bracket's, OCO's or OTO's exits as trades of their own.

Alpaca keeps each exit (take-profit, stop-loss) as an order of its own, with its own id and client order id,
under the order that carries it. tradeflow records each as a trade whose id is the leg's client order id (so
the stream's reports and lookups find it like any trade's), naming its parent trade; it goes down the chain
from persistence on: recorded and audited, settled by the execution stage (which only ever looks a leg up,
never places one: Alpaca placed it with its parent), its fill applied to the position once, its trader told.
A leg is sent down again with each outcome of its parent, which the store makes a no-op the second time.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from messages.events import TradeValidated
from messages.records import TradeRecord
from messages.trade import LegOrder, TradeRequest

LEG_NAMESPACE = uuid.UUID("0c6a7e55-1e09-4d8e-9f3e-6b2b8e1f4a7d")


def leg_trade_id(leg: LegOrder) -> uuid.UUID:
    """The leg's client order id when it is a UUID (Alpaca's are), else one derived from its order id."""
    try:
        return uuid.UUID(leg.client_order_id)
    except ValueError:
        return uuid.uuid5(LEG_NAMESPACE, leg.order_id)


def leg_request(parent: TradeRecord, leg: LegOrder, *, at: datetime) -> TradeRequest:
    return TradeRequest(
        trade_id=leg_trade_id(leg),
        user_id=parent.user_id,
        channel_id=parent.channel_id,
        symbol=parent.symbol,
        side=leg.side,
        quantity=leg.quantity,
        order_type=leg.order_type,
        limit_price=leg.limit_price,
        stop_price=leg.stop_price,
        time_in_force=leg.time_in_force,
        submitted_at=at,
        source="leg",
        parent_trade_id=parent.trade_id,
        leg=leg.leg,
        leg_order_id=leg.order_id,
    )


def leg_messages(parent: TradeRecord, *, at: datetime) -> tuple[TradeValidated, ...]:
    """Each exit of the parent, to be recorded (a no-op for one already recorded)."""
    return tuple(
        TradeValidated(trade=leg_request(parent, leg, at=at), validated_at=at) for leg in parent.legs
    )
