"""Closing a motion: by hand (voting/services.motion_close) or when its closing time has passed
(the timer, a late ballot, a page that finds it due). The result is computed once, in the
transaction that holds the motion row lock, so racing closers see one outcome."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agora.roster.audit import audit_record
from sessions.events import announce, live_event
from sessions.models import TopicSession
from voting import selectors
from voting.models import Motion, MotionState, Resolution
from voting.results import resolution_compute
from voting.secrecy import sealed_ballots_mix


def close_locked(locked: Motion, *, by: User | None, at: datetime) -> Resolution:
    """Precondition: inside a transaction holding the motion row lock, state open."""
    locked.state = MotionState.CLOSED
    locked.closed_at = at
    locked.closed_by = by
    locked.save(update_fields=["state", "closed_at", "closed_by"])
    sealed_ballots_mix(motion=locked)  # a secret vote's ballots, unsealed in a random order
    outcome, data, hashes = resolution_compute(motion=locked)
    resolution = Resolution.objects.create(motion=locked, outcome=outcome, data=data, receipt_hashes=hashes)
    if locked.session_id is None:
        # A decision's matter: the decision closes its matters together and says so
        # (voting/decisions/lifecycle.py).
        return resolution
    community_id = TopicSession.objects.values_list("community_id", flat=True).get(pk=locked.session_id)
    audit_record(
        kind="motion.closed",
        community=community_id,
        actor=by,
        session_id=locked.session_id,
        motion_id=locked.pk,
        outcome=outcome,
        by_timer=by is None,
    )
    announce(
        locked.session_id,
        live_event(
            kind="motion.closed",
            payload={"motion_id": locked.pk, "outcome": outcome, "tally": selectors.tally_payload(data)},
            template="voting/partials/_motion.html",
            context={"motion": selectors.motion_data(locked), "result": selectors.resolution_data(resolution), "tally": None},
        ),
    )
    return resolution


def motion_close_due(*, session_id: int | None = None, now: datetime | None = None) -> list[int]:
    """Close every open motion whose closing time has passed (lazily, and from the job)."""
    now = now or timezone.now()
    due = Motion.objects.filter(state=MotionState.OPEN, closes_at__lte=now)
    if session_id is not None:
        due = due.filter(session_id=session_id)
    closed = []
    for motion_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            locked = Motion.objects.select_for_update().get(pk=motion_id)
            if locked.state == MotionState.OPEN and locked.closes_at is not None and locked.closes_at <= now:
                close_locked(locked, by=None, at=locked.closes_at)
                closed.append(motion_id)
    return closed
