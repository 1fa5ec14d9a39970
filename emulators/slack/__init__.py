"""An emulator of the parts of Slack that tradeflow uses: a real HTTP server on loopback that unmodified
slack-sdk clients talk to through `base_url` (the Web API), and a driver that plays Slack's side
towards the app (signed slash commands, interactivity and events). See runner.SlackEmulator,
admin_client.AdminClient, driver.SlackDriver and faults.py.
"""

from emulators.slack.admin_client import AdminClient, AdminError
from emulators.slack.config import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, EmulatorConfig
from emulators.slack.driver import AckTimeout, AppResponse, SlackDriver
from emulators.slack.runner import SlackEmulator

__all__ = [
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_SIGNING_SECRET",
    "AckTimeout",
    "AdminClient",
    "AdminError",
    "AppResponse",
    "EmulatorConfig",
    "SlackDriver",
    "SlackEmulator",
]
