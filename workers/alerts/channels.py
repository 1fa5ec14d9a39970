"""The AlertChannels tradeflow runs: each alert routed by its channel, email to SMTP and SMS to SNS, both
opened once from the settings (TRADEFLOW_ALERTS=off: none, and the alerts service sends nothing)."""

from __future__ import annotations

from urllib.parse import urlsplit

from messages.alerts import AlertChannel
from workers.alerts.addresses import email_problem, phone_problem
from workers.alerts.email import SmtpEmail
from workers.alerts.sms import SnsSms
from workers.handlers.ports import AlertRefused
from workers.settings import DYNAMODB_LOCAL_KEY, Settings

__all__ = ["EmailAndSms", "email_problem", "open_alert_channels", "phone_problem", "sns_keys"]


class EmailAndSms:
    """Sends an alert on the channel it names: "email" through SMTP, "sms" through SNS."""

    def __init__(self, email: SmtpEmail, sms: SnsSms) -> None:
        self.email = email
        self.sms = sms

    async def send(
        self, channel: AlertChannel, address: str, subject: str, body: str, *, key: str | None = None
    ) -> None:
        if channel == "email":
            await self.email.send(address, subject, body, key=key)
        elif channel == "sms":
            await self.sms.send(address, subject, body)
        else:  # a channel a newer sender knows and this process does not: it can never send it
            raise AlertRefused(f"no alert channel {channel!r} here (channels: email, sms)")

    async def close(self) -> None:
        await self.email.close()
        await self.sms.close()


async def open_alert_channels(settings: Settings) -> EmailAndSms | None:
    """Email and SMS as the settings configure them, or None when TRADEFLOW_ALERTS is off."""
    if settings.tradeflow_alerts == "off":
        return None
    email = SmtpEmail(
        host=settings.tradeflow_smtp_host,
        port=settings.tradeflow_smtp_port,
        sender=settings.tradeflow_smtp_from,
        username=settings.tradeflow_smtp_username,
        password=settings.tradeflow_smtp_password,
        starttls=settings.tradeflow_smtp_starttls,
        timeout_s=settings.tradeflow_alerts_timeout_s,
    )
    access_key_id, secret_access_key = sns_keys(settings)
    sms = await SnsSms.open(
        region=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url_sns,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        timeout_s=settings.tradeflow_alerts_timeout_s,
    )
    return EmailAndSms(email, sms)


def sns_keys(settings: Settings) -> tuple[str | None, str | None]:
    """The key id and secret SNS requests are signed with: (None, None) leaves it to boto's default chain.

    As for DynamoDB (bootstrap.dynamodb_keys): the placeholder keys go to a loopback moto server only; on
    AWS (no custom endpoint, or an amazonaws.com one) boto finds the real ones (a task role, a profile).
    """
    keys = (settings.aws_access_key_id, settings.aws_secret_access_key)
    endpoint = settings.aws_endpoint_url_sns
    host = (urlsplit(endpoint).hostname or "").lower() if endpoint is not None else ""
    on_aws = endpoint is None or host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
    if on_aws and keys == (DYNAMODB_LOCAL_KEY, DYNAMODB_LOCAL_KEY):
        return None, None
    return keys
