"""How old an XQ's oldest dead letter is, and how long until RabbitMQ's TTL drops it unseen.

Every XQ keeps a dead letter DEAD_MESSAGE_TTL (dramatiq's 7 days, declared in workers/chain/rabbitmq.py;
changing it would make every existing XQ refuse its redeclaration), then RabbitMQ deletes it without a
trace. `tradeflow health` says, per queue with dead letters, how old the oldest one is and when it goes,
and raises an ALERT once it is older than TRADEFLOW_DEAD_LETTER_ALERT_AGE_S (a day by default).

The letters are read as `tradeflow dlq list` reads them (dlq/channel.py): `basic_get` without ack of at
most READ_LIMIT of them from the head, then one nack hands every one back; nothing is ever removed. A
letter's age is its own `dead_lettered_at` (workers/chain/dead_letters.py) or, for a body RabbitMQ
dead-lettered itself, its `x-death` time; RabbitMQ's TTL counts from the letter's arrival in the XQ, a
moment later, so the expiry said is early by that moment at most.

Order. RabbitMQ expires an XQ head-first, and the head is its oldest letter as long as nothing moved them.
A classic queue puts letters handed back at their places again; a quorum queue (the default) puts them at
its tail, in their order. A read of the whole XQ therefore leaves the order as it was, but a letter that
arrived during a read now stands ahead of those read, and a read of only the first READ_LIMIT (an XQ
holding more; by this check or `dlq list`'s line limit) puts those behind the rest. So the oldest is the
minimum over every letter read, never just the head's; past READ_LIMIT letters it is the oldest of those
read (the detail says "of the first N"): an older one may wait further back, and on a quorum queue each
look reads the next READ_LIMIT. A letter moved behind expires only once those ahead of it have, never
sooner, so the expiry said is the earliest it can happen. Each look adds one to a quorum queue's
`x-delivery-count`: on RabbitMQ 4 mind its delivery-limit (docs/deployment.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL

from workers.console.dlq.channel import DeadLetterChannel
from workers.console.dlq.letters import DeadLetter

READ_LIMIT = 1000
TTL_S = DEAD_MESSAGE_TTL / 1000


@dataclass(frozen=True)
class OldestDeadLetter:
    read: int  # letters read (at most READ_LIMIT)
    age_s: float | None  # of the oldest read; None when none of them carries a time

    @property
    def expires_in_s(self) -> float | None:
        """The earliest RabbitMQ's TTL can drop it (0: it is past the TTL, and goes once at the head)."""
        return None if self.age_s is None else max(0.0, TTL_S - self.age_s)


def oldest_dead_letter(
    channel: DeadLetterChannel, queue: str, now_ms: int, limit: int = READ_LIMIT
) -> OldestDeadLetter:
    """Read up to `limit` letters of `queue` (an absent queue has none), hand every one back, and return
    the oldest's age."""
    read = 0
    stamps: list[int] = []
    with channel.hold(queue, limit) as held:
        for delivery in held:
            read += 1
            at = DeadLetter.read(delivery.properties, delivery.body).dead_lettered_at_ms
            if at is not None:
                stamps.append(at)
    return OldestDeadLetter(read, max(0, now_ms - min(stamps)) / 1000 if stamps else None)


def format_span(seconds: float) -> str:
    """`2d 4h`, `5h 12m`, `12m`, `40s`: the two largest units, rounded down."""
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


def expiry_words(expires_in_s: float) -> str:
    if expires_in_s > 0:
        return f"expires in {format_span(expires_in_s)}"
    return f"past the {format_span(TTL_S)} TTL: expires once at the queue's head"


def dead_letter_words(dead: int, oldest: OldestDeadLetter) -> str:
    """`3 dead (oldest 2d 4h, expires in 4d 20h)`, for health's detail."""
    if oldest.age_s is None or oldest.expires_in_s is None:
        return f"{dead} dead (oldest: no time on the {oldest.read} read)"
    of = f" of the first {oldest.read}" if oldest.read < dead else ""
    return f"{dead} dead (oldest{of} {format_span(oldest.age_s)}, {expiry_words(oldest.expires_in_s)})"


def dead_letter_alert(oldest: OldestDeadLetter, alert_age_s: float) -> str | None:
    """The ALERT when the oldest dead letter is older than `alert_age_s`, else None."""
    if oldest.age_s is None or oldest.expires_in_s is None or oldest.age_s <= alert_age_s:
        return None
    return (
        f"ALERT: oldest dead letter is {format_span(oldest.age_s)} old, "
        f"{expiry_words(oldest.expires_in_s)}: replay or purge it (tradeflow dlq)"
    )
