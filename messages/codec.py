"""Encode and decode wire messages; a bad field is refused with its path and name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from messages.events import AnyMessage


class MessageDecodeError(ValueError):
    """A message that cannot be decoded: permanent, never worth a retry."""


T = TypeVar("T")

_json_decoder = msgspec.json.Decoder(AnyMessage)
_json_encoder = msgspec.json.Encoder()


def encode(message: AnyMessage) -> bytes:
    return _json_encoder.encode(message)


def decode(data: bytes | str) -> AnyMessage:
    try:
        return _json_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise MessageDecodeError(str(exc)) from exc


def to_payload(message: AnyMessage) -> dict[str, Any]:
    """The message as JSON-ready builtins (Decimals as strings), for a queue envelope."""
    payload: dict[str, Any] = msgspec.to_builtins(message)
    return payload


def from_payload(payload: Any) -> AnyMessage:
    """Rebuild a message from builtins taken off a queue envelope."""
    try:
        return msgspec.convert(payload, AnyMessage, strict=False)
    except msgspec.ValidationError as exc:
        raise MessageDecodeError(str(exc)) from exc


def to_item(value: msgspec.Struct) -> dict[str, Any]:
    """A record as builtins that keep Decimal exact (DynamoDB numbers), dropping None fields."""
    raw: dict[str, Any] = msgspec.to_builtins(value, builtin_types=(Decimal,))
    return {k: v for k, v in raw.items() if v is not None}


def from_item(item: dict[str, Any], kind: type[T]) -> T:
    return msgspec.convert(item, kind, strict=False)
