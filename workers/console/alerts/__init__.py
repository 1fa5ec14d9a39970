"""`tradeflow alerts outbox`: what the dev stack's SMTP capture server and moto's SNS received."""
