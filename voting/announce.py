"""Live tally broadcasts (throttled) and the job that closes a motion at its set time.

Throttle: at most one tally frame per motion per TALLY_INTERVAL seconds in each process.
A ballot that arrives inside the interval schedules one trailing broadcast, which reads
the tally when it fires, so the last frame always shows every committed ballot. Closing
announces the exact final tally in ``motion.closed`` regardless.

The throttle is agora/infra/coalesce.py's; the close at a set time is a job (agora/infra/jobs): stored
with the motion, run by whichever worker claims it, once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agora.infra import jobs
from agora.infra.broadcast import broadcast_now, user_group
from agora.infra.coalesce import Coalescer
from sessions.events import live_event, session_group


def tally_interval() -> float:
    return float(getattr(settings, "AGORA_TALLY_INTERVAL", 0.3))


_tallies = Coalescer(tally_interval)


def tally_event(*, motion_id: int) -> tuple[int, dict] | None:
    """The tally event for an open motion (None once closed: the close event has the result)."""
    from voting import selectors
    from voting.models import Motion, MotionState

    motion = Motion.objects.filter(pk=motion_id).select_related("session").first()
    if motion is None or motion.state != MotionState.OPEN:
        return None
    tally = selectors.live_tally_data(motion)
    payload = {"motion_id": motion.pk, "ballots": tally["ballots"], "in_person": tally["in_person"], "total": tally["total"]}
    if tally["options"] is not None:
        payload["options"] = [{"id": o["id"], "total": o["total"]} for o in tally["options"]]
    event = live_event(
        kind="tally",
        payload=payload,
        template="voting/partials/_tally.html",
        context={"motion": selectors.motion_data(motion), "tally": tally},
    )
    return motion.room_id, event


def open_tally_events(*, session_id: int) -> list[dict]:
    """The tally event of every open motion of the session, read now: what a connection that
    (re)syncs, or a fan-out that lost announcements, writes (sessions/live/fanout.py)."""
    from voting.models import Motion, MotionState

    ids = Motion.objects.filter(session_id=session_id, state=MotionState.OPEN).order_by("pk").values_list("pk", flat=True)
    events = []
    for motion_id in ids:
        built = tally_event(motion_id=motion_id)
        if built is not None:
            events.append(built[1])
    return events


def open_vote_events(*, session_id: int) -> list[dict]:
    """For a screen that starts showing the room (the projector): every open motion as
    ``motion.opened`` (question, options, count) followed by its ``tally``."""
    from voting import selectors
    from voting.models import Motion, MotionState

    events = []
    for motion in Motion.objects.filter(session_id=session_id, state=MotionState.OPEN).select_related("agenda_item").order_by("pk"):
        tally = selectors.live_tally_data(motion)
        events.append(
            live_event(
                kind="motion.opened",
                payload={"motion_id": motion.pk, "state": motion.state},
                template="voting/partials/_motion.html",
                context={"motion": selectors.motion_data(motion), "tally": tally},
            )
        )
        built = tally_event(motion_id=motion.pk)
        if built is not None:
            events.append(built[1])
    return events


def tally_announce_now(*, motion_id: int) -> None:
    built = tally_event(motion_id=motion_id)
    if built is not None:
        broadcast_now(session_group(built[0]), built[1])


def tally_announce_on_commit(*, motion_id: int, session_id: int) -> None:
    """Call inside the transaction that changed the count."""
    transaction.on_commit(lambda: _tally_throttled(motion_id))


def household_voted_on_commit(*, motion_id: int, session_id: int, household_id: int, voter_id: int, voter_name: str) -> None:
    """Household mode: once the ballot is stored, the household's other members learn on every
    device they have open that their household has voted, and by whom (never how); their ballot
    form goes without a reload. Call inside the transaction that stored the ballot."""

    def tell() -> None:
        from agora.roster.models import Resident

        members = Resident.objects.filter(household_id=household_id, user__isnull=False).exclude(user_id=voter_id)
        for user_id in set(members.values_list("user_id", flat=True)):
            broadcast_now(
                user_group(user_id),
                live_event(kind="ballot.household", payload={"session_id": session_id, "motion_id": motion_id, "by": voter_name}),
            )

    transaction.on_commit(tell)


def _tally_throttled(motion_id: int) -> None:
    _tallies.submit(
        motion_id,
        send_now=lambda: tally_announce_now(motion_id=motion_id),
        send_later=lambda: tally_announce_now(motion_id=motion_id),
    )


@jobs.job("motion.auto_close")
def motion_auto_close(key: str) -> None:
    """The job at a motion's closing time (agora/infra/jobs): close it if it is open and due.
    Run twice, or late, it is the same close: motion_close_due locks the row and re-checks.
    Run early (a worker whose clock is ahead, or a closing time moved later), it schedules
    itself again for the motion's closing time."""
    from voting.closing import motion_close_due
    from voting.models import Motion, MotionState

    motion = Motion.objects.filter(pk=int(key)).values("session_id", "state", "closes_at").first()
    if motion is None or motion["state"] != MotionState.OPEN or motion["closes_at"] is None:
        return
    now = timezone.now()
    if motion["closes_at"] > now:
        with transaction.atomic():
            jobs.schedule("motion.auto_close", key, max(motion["closes_at"], now + timedelta(seconds=1)))
        return
    motion_close_due(session_id=motion["session_id"])


def auto_close_schedule(*, motion_id: int, at: datetime) -> None:
    """Close the motion at ``at`` with nobody watching. Call inside the transaction that opened
    it: the job is stored with the motion and outlives this process. With AGORA_VOTING_TIMERS
    (the default) this process also wakes at ``at`` to run it (tests turn that off)."""
    jobs.schedule("motion.auto_close", str(motion_id), at, wake=getattr(settings, "AGORA_VOTING_TIMERS", True))
