"""Notifications: one per problem, counted while open, reopened when the problem returns."""

from __future__ import annotations

from sqlalchemy import func, select

from tradewind.db import Database
from tradewind.monitoring import notifications
from tradewind.monitoring.notifications import Notification, NotificationKind

KIND = NotificationKind.PLATFORM_UNAVAILABLE


def _raise(db: Database, message: str, subject: str = "shop") -> int:
    with db.unit_of_work() as session:
        return notifications.raise_notification(session, KIND, subject=subject, message=message).id


def test_a_problem_that_comes_back_reopens_its_notification(db: Database) -> None:
    """#10 item 23: resolved, then raised again, is the same notification reopened —
    unread, one more occurrence, the latest message — not a second one."""
    first = _raise(db, "down")
    assert _raise(db, "still down") == first  # open: counted
    with db.unit_of_work() as session:
        notifications.mark_read(session)
        assert notifications.resolve(session, KIND) == 1
    assert _raise(db, "down again") == first
    assert _raise(db, "down again") == first  # and counted while open again
    other = _raise(db, "another shop", subject="other")
    assert other != first
    with db.read() as session:
        note = session.get(Notification, first)
        assert note is not None
        assert (note.resolved_at, note.read_at, note.occurrences, note.message) == (
            None,
            None,
            4,
            "down again",
        )
        assert note.first_seen < note.last_seen
        assert session.scalar(select(func.count()).select_from(Notification)) == 2
        assert notifications.unread_count(session) == 2
