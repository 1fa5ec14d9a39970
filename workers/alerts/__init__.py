"""Alerts outside Slack: email over SMTP (email.py), SMS through Amazon SNS (sms.py), routed by channel
(channels.py), and the address checks every entry point applies (addresses.py)."""
