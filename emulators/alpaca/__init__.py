"""An emulator of the parts of Alpaca's Trading API v2, Market Data API v2 and trade_updates stream
that tradeflow uses: a real HTTP server on loopback that unmodified alpaca-py clients talk to through
their `url_override` options. See runner.AlpacaEmulator, admin_client.AdminClient and faults.py.

Beyond simple orders it runs bracket, oco and oto orders (order_classes.py for the request, legs.py for
the group at run time), trailing stops (trailing.py), the pre-market / regular / after-hours sessions and
/v2/calendar (sessions.py; `POST /admin/clock {"session": "pre"}`), and several paper accounts, one per
API key pair, in one shared market (exchange.py holds the market, brokerage.py one account; extra
accounts come from EmulatorConfig.accounts, `--account NAME:KEY_ID:SECRET[:CASH]` or
ALPACA_EMULATOR_ACCOUNTS, and the admin views take `?account=`).
"""

from emulators.alpaca.admin_client import AdminClient, AdminError
from emulators.alpaca.config import DEFAULT_KEY_ID, DEFAULT_SECRET_KEY, AccountSpec, EmulatorConfig
from emulators.alpaca.runner import AlpacaEmulator

__all__ = [
    "DEFAULT_KEY_ID",
    "DEFAULT_SECRET_KEY",
    "AccountSpec",
    "AdminClient",
    "AdminError",
    "AlpacaEmulator",
    "EmulatorConfig",
]
