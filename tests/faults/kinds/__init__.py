"""The kinds of fault that found issue 13's defects, each injected into the campaign and checked after it.

Every kind has a name the summary prints (`KIND_NAMES`), an injection (run in the fault's own thread, at
its planned moment: it submits trades of its own when it needs some, so it meets trades whatever N is and
however long the load lasts) and a check of what it leaves behind, run once every trade settled. A kind
that was planned but never met a trade is a problem of the run, as is any broken check.

    alpaca.py    alpaca_resend_504_429, alpaca_resend_504_403, alpaca_disabled_after_crash,
                 alpaca_call_outlives_limit
    ingress.py   poison_number, rabbitmq_blocked
    outages.py   dynamodb_outage_long, stale_replay, rabbitmq_node_loss
    slack.py     slack_ambiguous_dm
    approvals.py approval_clicked_twice, approval_races_expiry
"""

from __future__ import annotations

KIND_NAMES = (
    "alpaca_resend_504_429",
    "alpaca_resend_504_403",
    "alpaca_disabled_after_crash",
    "alpaca_call_outlives_limit",
    "slack_ambiguous_dm",
    "dynamodb_outage_long",
    "stale_replay",
    "poison_number",
    "rabbitmq_blocked",
    "rabbitmq_node_loss",
    "approval_clicked_twice",
    "approval_races_expiry",
)
