"""Silence is an alarm: a plugin whose webhooks go quiet against its own usual rate — no
delivery for as long as would have brought at least ``EXPECTED`` of them — while the
platform shows orders changed in that time has lost its subscriptions (or the platform
cannot reach Tradewind). It raises a *Webhooks silent* notification, has the plugin's
subscriptions checked and registered again, and runs the reconciliation poll now. A
quiet store (nothing changed on the platform either) is not an alarm; the notification
resolves once deliveries arrive again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradewind.sync.models import InboxDelivery

# How far back the usual rate is taken, and how many deliveries a silence must have
# missed to count (at 12 an hour: silent after 30 minutes without one).
HISTORY = dt.timedelta(days=7)
EXPECTED = 6
LONGEST = dt.timedelta(hours=6)  # a rate too low to judge within this is not judged
SHORTEST = dt.timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Silence:
    since: dt.datetime  # the last delivery
    usual_per_hour: float
    window: dt.timedelta  # the silence that counts at that rate


def silent(session: Session, plugin_id: int, now: dt.datetime) -> Silence | None:
    """The plugin's silence, if its webhooks have been quiet for longer than its usual
    rate allows."""
    last = session.scalar(
        select(func.max(InboxDelivery.received_at)).where(InboxDelivery.plugin_id == plugin_id)
    )
    if last is None:
        return None  # never had a webhook: nothing to compare with
    first = session.scalar(
        select(func.min(InboxDelivery.received_at)).where(
            InboxDelivery.plugin_id == plugin_id, InboxDelivery.received_at >= now - HISTORY
        )
    )
    if first is None:
        return None
    count = session.scalar(
        select(func.count()).where(
            InboxDelivery.plugin_id == plugin_id, InboxDelivery.received_at >= first
        )
    )
    span_hours = max((last - first).total_seconds() / 3600, 1.0)
    rate = float(count or 0) / span_hours
    if rate <= 0:
        return None
    window = dt.timedelta(hours=EXPECTED / rate)
    if window > LONGEST:
        return None
    window = max(window, SHORTEST)
    if now - last < window:
        return None
    return Silence(last, rate, window)
