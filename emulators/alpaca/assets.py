"""The asset catalog: which US equities exist, and which of them can be traded, shorted, split."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

# Stable asset ids: the same symbol has the same id in every run, like Alpaca's.
ASSET_NAMESPACE = uuid.UUID("5f0f8a54-6c1e-4e1b-9d0e-a1fa5ca0e317")
SYMBOL_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,5}(\.[A-Z])?$")

CATALOG: dict[str, tuple[str, str]] = {
    "AAPL": ("Apple Inc. Common Stock", "NASDAQ"),
    "MSFT": ("Microsoft Corporation Common Stock", "NASDAQ"),
    "GOOGL": ("Alphabet Inc. Class A Common Stock", "NASDAQ"),
    "GOOG": ("Alphabet Inc. Class C Capital Stock", "NASDAQ"),
    "AMZN": ("Amazon.com, Inc. Common Stock", "NASDAQ"),
    "META": ("Meta Platforms, Inc. Class A Common Stock", "NASDAQ"),
    "NVDA": ("NVIDIA Corporation Common Stock", "NASDAQ"),
    "TSLA": ("Tesla, Inc. Common Stock", "NASDAQ"),
    "AMD": ("Advanced Micro Devices, Inc. Common Stock", "NASDAQ"),
    "INTC": ("Intel Corporation Common Stock", "NASDAQ"),
    "NFLX": ("Netflix, Inc. Common Stock", "NASDAQ"),
    "ORCL": ("Oracle Corporation Common Stock", "NYSE"),
    "CRM": ("Salesforce, Inc. Common Stock", "NYSE"),
    "ADBE": ("Adobe Inc. Common Stock", "NASDAQ"),
    "IBM": ("International Business Machines Corporation Common Stock", "NYSE"),
    "JPM": ("JP Morgan Chase & Co. Common Stock", "NYSE"),
    "BAC": ("Bank of America Corporation Common Stock", "NYSE"),
    "GS": ("Goldman Sachs Group, Inc. (The) Common Stock", "NYSE"),
    "V": ("Visa Inc.", "NYSE"),
    "MA": ("Mastercard Incorporated Common Stock", "NYSE"),
    "WMT": ("Walmart Inc. Common Stock", "NASDAQ"),
    "KO": ("Coca-Cola Company (The) Common Stock", "NYSE"),
    "PEP": ("PepsiCo, Inc. Common Stock", "NASDAQ"),
    "DIS": ("Walt Disney Company (The) Common Stock", "NYSE"),
    "XOM": ("Exxon Mobil Corporation Common Stock", "NYSE"),
    "CVX": ("Chevron Corporation Common Stock", "NYSE"),
    "SPY": ("SPDR S&P 500 ETF Trust", "ARCA"),
    "QQQ": ("Invesco QQQ Trust, Series 1", "NASDAQ"),
    "IWM": ("iShares Russell 2000 ETF", "ARCA"),
    "DIA": ("SPDR Dow Jones Industrial Average ETF Trust", "ARCA"),
    "BRK.B": ("Berkshire Hathaway Inc.", "NYSE"),
    "F": ("Ford Motor Company Common Stock", "NYSE"),
    "GM": ("General Motors Company Common Stock", "NYSE"),
    "T": ("AT&T Inc.", "NYSE"),
    "PFE": ("Pfizer, Inc. Common Stock", "NYSE"),
    "UBER": ("Uber Technologies, Inc. Common Stock", "NYSE"),
    "PLTR": ("Palantir Technologies Inc. Class A Common Stock", "NASDAQ"),
}


@dataclass(frozen=True)
class Asset:
    symbol: str
    name: str
    exchange: str
    tradable: bool = True

    @property
    def id(self) -> str:
        return str(uuid.uuid5(ASSET_NAMESPACE, self.symbol))

    @property
    def shortable(self) -> bool:
        return self.tradable

    def to_json(self) -> dict[str, Any]:
        """Alpaca's asset object; `tradable=false, status=active` is its "closing trades only" case."""
        return {
            "id": self.id,
            "class": "us_equity",
            "exchange": self.exchange,
            "symbol": self.symbol,
            "name": self.name,
            "status": "active",
            "tradable": self.tradable,
            "marginable": self.tradable,
            "maintenance_margin_requirement": 30,
            "margin_requirement_long": "30",
            "margin_requirement_short": "30",
            "shortable": self.shortable,
            "easy_to_borrow": self.shortable,
            "fractionable": self.tradable,
            "attributes": ["fractional_eh_enabled", "has_options"] if self.tradable else [],
        }


class AssetCatalog:
    def __init__(self, *, non_tradable: tuple[str, ...] = (), extra_symbols: tuple[str, ...] = ()) -> None:
        self._assets: dict[str, Asset] = {}
        entries = dict(CATALOG)
        for symbol in extra_symbols:
            entries.setdefault(symbol.upper(), (f"{symbol.upper()} Common Stock", "NASDAQ"))
        blocked = {symbol.upper() for symbol in non_tradable}
        for symbol in blocked:
            entries.setdefault(symbol, (f"{symbol} Common Stock", "OTC"))
        for symbol, (name, exchange) in entries.items():
            self._assets[symbol] = Asset(symbol, name, exchange, tradable=symbol not in blocked)
        self._by_id = {asset.id: asset for asset in self._assets.values()}

    def find(self, symbol_or_id: str) -> Asset | None:
        return self._assets.get(symbol_or_id.upper()) or self._by_id.get(symbol_or_id.lower())

    def symbols(self) -> list[str]:
        return sorted(self._assets)
