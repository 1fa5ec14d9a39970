"""A real SMTP server on loopback (aiosmtpd) that keeps every email it receives: where `tradeflow up` sends
alert emails, and what `tradeflow alerts outbox` lists (mailbox.py holds the record of each)."""
