"""An emulator of the parts of Alpaca's Trading API v2, Market Data API v2 and trade_updates stream
that tradeflow uses: a real HTTP server on loopback that unmodified alpaca-py clients talk to through
their `url_override` options. See runner.AlpacaEmulator, admin_client.AdminClient and faults.py.
"""

from emulators.alpaca.admin_client import AdminClient, AdminError
from emulators.alpaca.config import DEFAULT_KEY_ID, DEFAULT_SECRET_KEY, EmulatorConfig
from emulators.alpaca.runner import AlpacaEmulator

__all__ = [
    "DEFAULT_KEY_ID",
    "DEFAULT_SECRET_KEY",
    "AdminClient",
    "AdminError",
    "AlpacaEmulator",
    "EmulatorConfig",
]
