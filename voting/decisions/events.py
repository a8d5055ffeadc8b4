"""What a decision tells the pages that show it while they are open.

``decision_group(id)`` is the live group of a decision's progress page (voting/decisions/live.py).
``vote_recorded`` is sent after the transaction that counted (or held) a unit's ballot commits;
the progress page's announcer listens to it, so recording a ballot never waits for a page.
``step_taken`` is sent after a lifecycle step commits (announced, opened, extended, closed …).
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

vote_recorded = Signal()  # kwargs: decision_id
step_taken = Signal()  # kwargs: decision_id, kind


def decision_group(decision_id: int) -> str:
    return f"decision-{decision_id}"


def vote_recorded_on_commit(*, decision_id: int) -> None:
    transaction.on_commit(lambda: vote_recorded.send(sender=None, decision_id=decision_id))


def step_taken_on_commit(*, decision_id: int, kind: str) -> None:
    transaction.on_commit(lambda: step_taken.send(sender=None, decision_id=decision_id, kind=kind))
