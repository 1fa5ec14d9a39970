"""Four eyes on large trades: a trade above the approval threshold waits for an approver, and its one
decision lets it go down the chain or ends it rejected.

Validation calls the gate once a trade passed every check: above the threshold (the desk's or its
account's, the lower one), the trade is recorded `awaiting_approval` and the approvers are asked. Nothing
leaves for Alpaca before an approval: the execution stage and the sweeper's settling never touch a trade
awaiting approval. A DecideApproval decides it: an approver's click (approve, reject: never the trader's
own), the trader's cancel (withdraw) or the sweeper once its time ran out (expire). The first decision
written wins (TradeRecords.decide_approval, one conditional write); a later one changes nothing and sends
nothing, and a redelivery of the winner publishes its outcome again (every stage after it is idempotent).

    gate.py       the threshold, and a trade held for an approver (validation calls it)
    decisions.py  the one decision (the validation stage's DecideApproval)
    notices.py    the approvers' message and the trader's notices (the notifications stage)
"""

from workers.handlers.approvals.decisions import EXPIRY_ACTOR, Decided, decide_approval, decided_event
from workers.handlers.approvals.gate import Held, approval_gate, approval_threshold

__all__ = [
    "EXPIRY_ACTOR",
    "Decided",
    "Held",
    "approval_gate",
    "approval_threshold",
    "decide_approval",
    "decided_event",
]
