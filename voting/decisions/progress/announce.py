"""The progress page's live frames: after a ballot (``vote_recorded``) or a step (``step_taken``)
commits, the decision's progress is read once and announced to ``decision_group(id)``.

Coalesced per decision (agora/infra/coalesce.py): one leading and at most one trailing frame per
``AGORA_PROGRESS_INTERVAL`` seconds (0.5) in each process, whatever the vote rate; the trailing one
reads when it fires, so the last frame shows every committed ballot. Reading never runs in the
ballot's request: the leading read is handed to ``run_later`` too. The reads of one decision take
turns under a lock, so a reading taken earlier is never announced after one taken later; frames
carry ``read_at`` and the page also drops an older reading (several processes announce).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from django.conf import settings

from agora.infra.broadcast import broadcast_now
from agora.infra.coalesce import Coalescer, run_later
from voting.decisions.events import decision_group, step_taken, vote_recorded
from voting.decisions.progress.selectors import open_counts, progress_of, roster_forget
from voting.models import Decision

EVENT_TYPE = "progress.update"


def progress_interval() -> float:
    return float(getattr(settings, "AGORA_PROGRESS_INTERVAL", 0.5))


_frames = Coalescer(progress_interval)
_locks: dict[int, threading.Lock] = {}
_locks_lock = threading.Lock()


def progress_event(*, decision_id: int) -> dict[str, Any] | None:
    """The group event: the numbers (and the choices of an open ballot, which each connection
    shows only to a reader who may see them); None if the decision is gone."""
    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is None:
        return None
    return {"type": EVENT_TYPE, "key": uuid.uuid4().hex, "progress": progress_of(decision), "counts": open_counts(decision)}


def progress_send(decision_id: int) -> None:
    with _locks_lock:
        lock = _locks.setdefault(decision_id, threading.Lock())
    with lock:
        event = progress_event(decision_id=decision_id)
        if event is not None:
            broadcast_now(decision_group(decision_id), event)


def _on_vote_recorded(sender: Any, decision_id: int, **kwargs: Any) -> None:
    _frames.submit(
        decision_id,
        send_now=lambda: run_later(0, progress_send, decision_id),
        send_later=lambda: progress_send(decision_id),
    )


def _on_step_taken(sender: Any, decision_id: int, **kwargs: Any) -> None:
    run_later(0, progress_send, decision_id)


def connect() -> None:
    """Listen to the decision events (voting/apps.py ``VotingConfig.ready``)."""
    from django.db.models.signals import post_delete, post_save

    from agora.roster.models import Building, Household

    vote_recorded.connect(_on_vote_recorded, dispatch_uid="decisions.progress.vote_recorded")
    for model in (Household, Building):
        post_save.connect(roster_forget, sender=model, dispatch_uid=f"decisions.progress.roster.{model.__name__}.save")
        post_delete.connect(roster_forget, sender=model, dispatch_uid=f"decisions.progress.roster.{model.__name__}.delete")
    step_taken.connect(_on_step_taken, dispatch_uid="decisions.progress.step_taken")


def reset() -> None:
    """Forget the throttle (tests)."""
    _frames.reset()
