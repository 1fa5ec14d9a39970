"""Validation stage: SubmitTrade → TradeValidated, or TradeRejected recorded and audited."""

from __future__ import annotations

import logging
from decimal import Decimal

import msgspec

from brokers.port import MarketConditions, broker_for
from messages.events import SubmitTrade, TradeRejected, TradeValidated
from messages.records import Position, pending_record
from messages.trade import Rejection, TradeRequest
from workers.handlers.approvals import Held, approval_gate
from workers.handlers.audit import audit_event, expires_at, submitted_event
from workers.handlers.deps import Deps
from workers.handlers.halts import halt_of
from workers.handlers.limit_gate import TradeLimits, limit_refusals
from workers.handlers.records import rejection_of
from workers.handlers.rules import check_trade
from workers.handlers.sameness import ensure_same_trade

logger = logging.getLogger("tradeflow.stage.validation")
_DUPLICATE = {"outcome": "duplicate"}


async def validate_trade(command: SubmitTrade, deps: Deps) -> TradeValidated | TradeRejected | Held | None:
    """Check the trader's role, the policy, the kill switch, the trader's position and the market."""
    trade = command.trade
    is_trader = await deps.roles.has_role(trade.user_id, "trader")
    trade, account_refusal = await _in_account(trade, deps)
    kill_switch = await halt_of(deps.store, deps.policy.account_of(trade.account), trade.user_id)
    desk_limits = await deps.store.get_limits()  # read once: the limits' checks and the approval gate
    limits = TradeLimits.of(desk_limits, trade, deps.policy.account_of(trade.account))
    position: Position | None = None
    market: MarketConditions | None = None
    reference: Decimal | None = None
    quote: Decimal | None = None
    if is_trader and account_refusal is None:  # no trade, no position read and no stock-broker call
        if trade.side == "sell" or kill_switch.engaged or limits.needs_position:
            position = await deps.store.get_position(trade.user_id, trade.symbol, trade.account)
        market = await broker_for(deps.broker, trade.account).conditions(trade.symbol)
        priced = trade.limit_price is not None or trade.stop_price is not None
        if market.listed and (not priced or limits.needs_quote):
            quote = await deps.broker.reference_price(trade.symbol)
            reference = None if priced else quote
    reasons = check_trade(
        trade,
        deps.policy,
        is_trader=is_trader,
        kill_switch=kill_switch,
        position=position,
        reference_price=reference,
        market=market,
    )
    reasons += [account_refusal] if account_refusal is not None else []
    now = deps.clock()
    if is_trader and account_refusal is None:
        reasons += await limit_refusals(
            trade, limits, deps.store, now=now, position=position, market=market, quote=quote
        )
    if not reasons:
        cost = trade.cost_at(trade.limit_price or trade.stop_price or quote)
        held = await approval_gate(trade, cost, deps, desk_limits)
        if held is not None:  # waits for an approver (empty: an earlier delivery asked already)
            return held or None
        logger.info(
            "Trade validated: %s %s %s for %s",
            trade.side,
            trade.size_text,
            trade.symbol,
            trade.user_id,
            extra={"outcome": "validated"},
        )
        return TradeValidated(trade=trade, validated_at=now)
    # Refused as it was judged: in the account it would have traded in.
    return await _record_rejection(msgspec.structs.replace(command, trade=trade), tuple(reasons), deps)


async def _in_account(trade: TradeRequest, deps: Deps) -> tuple[TradeRequest, Rejection | None]:
    """The trade in the account it names, else the trader's default, else the desk's; and why the trader
    may not trade there, if so. A desk of one account names none."""
    desk = deps.policy.accounts
    if not desk:
        return trade, None
    mine = await deps.roles.accounts_of(trade.user_id)
    account = trade.account or (mine[0] if mine else desk[0])
    placed = msgspec.structs.replace(trade, account=account)
    if account not in desk:
        return placed, Rejection(
            field="account",
            code="UNKNOWN_ACCOUNT",
            message=f"The desk has no Alpaca account named {account}",
            next_step=f"Name one of: {', '.join(desk)}",
        )
    if account not in (mine or desk[:1]):
        return placed, Rejection(
            field="account",
            code="ACCOUNT_NOT_ALLOWED",
            message=f"{trade.user_id} may not trade in the {account} account",
            next_step=f"Trade in {', '.join(mine or desk[:1])}, or ask an admin to add {account} for you",
        )
    return placed, None


async def _record_rejection(
    command: SubmitTrade, reasons: tuple[Rejection, ...], deps: Deps
) -> TradeRejected | None:
    trade, now = command.trade, deps.clock()
    pending = pending_record(trade, recorded_at=now, expires_at=expires_at(now, deps.retention_days))
    record = msgspec.structs.replace(
        pending,
        status="rejected",
        rejection_reasons=reasons,
        error_code=reasons[0].code,
        error_message="; ".join(r.message for r in reasons),
    )
    details = {"reasons": [{"field": r.field, "code": r.code, "message": r.message} for r in reasons]}
    audit = [
        submitted_event(trade, retention_days=deps.retention_days),
        audit_event("trade_rejected", trade, at=now, retention_days=deps.retention_days, details=details),
    ]
    existing = await deps.store.put_new_trade(record, audit)
    if existing is None:
        logger.info(
            "Trade rejected: %s",
            record.error_message,
            extra={"outcome": "rejected", "error_code": record.error_code},
        )
        return TradeRejected(trade=trade, reasons=reasons, rejected_at=now)
    ensure_same_trade(existing, trade)
    if existing.status == "rejected":
        # Recorded by an earlier delivery that may have crashed before publishing: publish again.
        logger.info("Trade already rejected by an earlier delivery: publishing it again", extra=_DUPLICATE)
        return rejection_of(existing, trade, now)
    # The same trade was accepted by an earlier delivery; this duplicate changes nothing.
    logger.info(
        "Trade already %s: this duplicate rejection changes nothing", existing.status, extra=_DUPLICATE
    )
    return None
