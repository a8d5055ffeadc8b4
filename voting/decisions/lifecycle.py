"""The life of an owners' decision: draft → announced → open → closed → preliminary result
published (初步统计结果公示) with its objection window (询异期) → final.

Each step locks the decision row, re-reads its state, changes it, writes the audit log and seals
the step in the community's decision chain (voting/decisions/chain.py), in one transaction.
Opening and closing happen on time with nobody watching: announcing schedules the jobs
``decision.open`` and ``decision.close`` (agora/infra/jobs: rows in the database, run once by
whichever worker claims them, a missed one at the next start). A job that runs early — the
period was extended — schedules itself again. Times come from ``agora.infra.clock``.

Notices are steps: announcing publishes the decision notice, extending the extension notice,
the close the preliminary result, finalizing the final announcement (voting/decisions/notices.py
renders each from its sealed body).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from agora.infra import clock, jobs
from agora.infra.errors import NotAllowed, Refused
from agora.infra.isotime import iso_utc
from agora.infra.sanitize import clean_plain_text
from agora.roster.audit import audit_record
from agora.roster.models import Building, Community
from agora.roster.roles import is_moderator
from sessions.models import TopicSession
from voting.closing import close_locked
from voting.decisions.ballots import ballots_remove, ballots_write, choices_digest, clean_choices, matters_of, options_of, when_text
from voting.decisions.chain import step_seal
from voting.decisions.events import step_taken_on_commit
from voting.models import (
    Channel,
    Decision,
    DecisionState,
    DecisionStep,
    DecisionVote,
    Motion,
    MotionState,
    Objection,
    PaperEntry,
    Resolution,
    StepKind,
    UnitMode,
    VoteState,
)
from voting.results import resolution_compute
from voting.secrecy import seal, sealed_ballots_mix
from voting.services import MotionSettings, matter_create
from voting.units import decision_base, decision_unit, needs_area

MAX_MATTERS = 20
MAX_PERIOD_DAYS = 90


@dataclass(frozen=True)
class MatterSpec:
    text: str
    description: str = ""
    settings: MotionSettings = field(default_factory=MotionSettings)


def _require_moderator(user: User, community_id: int) -> None:
    if not is_moderator(user=user, community=community_id):
        raise NotAllowed(_("Only a moderator of this community can do that."))


def _check_period(opens_at: datetime, closes_at: datetime) -> None:
    if closes_at <= opens_at:
        raise Refused(_("The voting period must end after it starts."), code="invalid")
    if closes_at - opens_at > timedelta(days=MAX_PERIOD_DAYS):
        raise Refused(_("A voting period can be at most %(days)d days.") % {"days": MAX_PERIOD_DAYS}, code="invalid")


def decision_create(
    *,
    community: Community,
    by: User,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    matters: Sequence[MatterSpec],
    description: str = "",
    building_ids: Sequence[int] = (),
    session_ids: Sequence[int] = (),
    unit_mode: str = UnitMode.OWNER,
    secret: bool = True,
    results_live: bool = False,
    notice_days: int = 15,
    objection_days: int = 3,
    proxies_per_holder: int = 1,
    double_entry: bool = False,
) -> Decision:
    """A draft decision with its matters. Nothing is published until it is announced."""
    _require_moderator(by, community.pk)
    title = clean_plain_text(title)[:200]
    if not title:
        raise Refused(_("A decision needs a title."), code="invalid")
    if not matters:
        raise Refused(_("A decision needs at least one matter."), code="invalid")
    if len(matters) > MAX_MATTERS:
        raise Refused(_("A decision can have at most %(n)d matters.") % {"n": MAX_MATTERS}, code="invalid")
    if unit_mode not in UnitMode.values:
        raise Refused(_("A setting of the decision is not valid."), code="invalid")
    if not 0 <= notice_days <= 60 or not 1 <= objection_days <= 30 or not 1 <= proxies_per_holder <= 20:
        raise Refused(_("A setting of the decision is not valid."), code="invalid")
    _check_period(opens_at, closes_at)
    buildings = list(Building.objects.filter(community=community, pk__in=list(building_ids)))
    if len(buildings) != len(set(building_ids)):
        raise Refused(_("A chosen building is not in this community."), code="invalid")
    sessions = list(TopicSession.objects.filter(community=community, pk__in=list(session_ids)))
    if len(sessions) != len(set(session_ids)):
        raise Refused(_("A chosen session is not in this community."), code="invalid")
    with transaction.atomic():
        decision = Decision.objects.create(
            community=community,
            title=title,
            description=clean_plain_text(description)[:5000],
            unit_mode=unit_mode,
            secret=secret,
            results_live=results_live,
            opens_at=opens_at,
            closes_at=closes_at,
            notice_days=notice_days,
            objection_days=objection_days,
            proxies_per_holder=proxies_per_holder,
            double_entry=double_entry,
            created_by=by,
        )
        decision.buildings.set(buildings)
        decision.sessions.set(sessions)
        for position, spec in enumerate(matters, 1):
            matter_create(decision=decision, text=spec.text, description=spec.description, settings=spec.settings, position=position, by=by)
        audit_record(kind="decision.created", community=community.pk, actor=by, decision_id=decision.pk)
    return decision


def decision_discard(*, decision: Decision, by: User) -> None:
    """Delete a draft that was never announced."""
    _require_moderator(by, decision.community_id)
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.state != DecisionState.DRAFT:
            raise Refused(_("Only a draft can be discarded; an announced decision stays on record."), code="state")
        Motion.objects.filter(decision=locked).delete()
        locked.delete()
        audit_record(kind="decision.discarded", community=decision.community_id, actor=by, decision_id=decision.pk)


def _matters_body(decision: Decision) -> list[dict[str, Any]]:
    out = []
    for matter in matters_of(decision):
        out.append(
            {
                "id": matter.pk,
                "position": matter.position,
                "text": matter.text,
                "description": matter.description,
                "kind": matter.kind,
                "major_matter": matter.major_matter,
                "threshold": matter.threshold,
                "base": matter.base,
                "options": [{"id": o.pk, "code": o.code, "label": o.label} for o in options_of(matter)],
            }
        )
    return out


def _base_body(decision: Decision) -> dict[str, Any]:
    base = decision_base(decision)
    return {"headcount": base.headcount, "area": str(base.area), "units_with_area": len(base.unit_areas)}


def notice_body(decision: Decision) -> dict[str, Any]:
    """What the decision notice says: the matters, the period, the base, the channels."""
    return {
        "title": decision.title,
        "description": decision.description,
        "unit_mode": decision.unit_mode,
        "secret": decision.secret,
        "opens_at": iso_utc(decision.opens_at),
        "closes_at": iso_utc(decision.closes_at),
        "notice_days": decision.notice_days,
        "notice_shortened_reason": decision.notice_shortened_reason,
        "objection_days": decision.objection_days,
        "buildings": [b.name for b in decision.buildings.order_by("name")],
        "matters": _matters_body(decision),
        "base": _base_body(decision),
        "channels": ["online", "paper", "door", "proxy"] + (["in_person"] if decision.sessions.exists() else []),
        "needs_area": needs_area(decision),
    }


def decision_announce(*, decision: Decision, by: User, shortened_reason: str = "") -> Decision:
    """Publish the decision notice and schedule the period. The period may open only after the
    notice period (``notice_days``) has run from now; a shorter one needs a reason, which the
    notice shows."""
    _require_moderator(by, decision.community_id)
    reason = clean_plain_text(shortened_reason)[:1000]
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.state != DecisionState.DRAFT:
            raise Refused(_("This decision has already been announced."), code="state")
        now = clock.now()
        if locked.opens_at <= now:
            raise Refused(_("The voting period must start in the future. Please change the start time."), code="invalid")
        earliest = now + timedelta(days=locked.notice_days)
        if locked.opens_at < earliest and not reason:
            raise Refused(
                _(
                    "Voting opens before the %(days)d-day notice period has run (the earliest is %(time)s). "
                    "Give a reason for the shorter notice period, or move the start."
                )
                % {"days": locked.notice_days, "time": when_text(earliest)},
                code="notice_too_short",
            )
        locked.notice_shortened_reason = reason if locked.opens_at < earliest else ""
        locked.state = DecisionState.ANNOUNCED
        locked.announced_at = now
        locked.save(update_fields=["state", "announced_at", "notice_shortened_reason"])
        step_seal(decision=locked, kind=StepKind.ANNOUNCED, body=notice_body(locked), by=by, at=now)
        jobs.schedule("decision.open", str(locked.pk), at=locked.opens_at, wake=True)
        jobs.schedule("decision.close", str(locked.pk), at=locked.closes_at, wake=True)
        audit_record(kind="decision.announced", community=locked.community_id, actor=by, decision_id=locked.pk, shortened=bool(reason))
        step_taken_on_commit(decision_id=locked.pk, kind=StepKind.ANNOUNCED)
    return locked


def decision_open_due(*, decision_id: int) -> bool:
    """Open the period if it is announced and its start has come (the job; idempotent)."""
    with transaction.atomic():
        locked = Decision.objects.select_for_update().filter(pk=decision_id).first()
        if locked is None or locked.state != DecisionState.ANNOUNCED:
            return False
        now = clock.now()
        if now < locked.opens_at:
            jobs.schedule("decision.open", str(locked.pk), at=locked.opens_at, wake=True)
            return False
        locked.state = DecisionState.OPEN
        locked.opened_at = now
        locked.save(update_fields=["state", "opened_at"])
        Motion.objects.filter(decision=locked, state=MotionState.DRAFT).update(state=MotionState.OPEN, opened_at=now)
        step_seal(
            decision=locked,
            kind=StepKind.OPENED,
            body={"opens_at": iso_utc(locked.opens_at), "closes_at": iso_utc(locked.closes_at)},
            by=None,
            at=now,
        )
        audit_record(kind="decision.opened", community=locked.community_id, actor=None, decision_id=locked.pk)
        step_taken_on_commit(decision_id=locked.pk, kind=StepKind.OPENED)
    return True


def decision_extend(*, decision: Decision, by: User, closes_at: datetime, reason: str) -> Decision:
    """Move the end of an announced or open period later, with a reason the extension notice
    shows (因业主表决票不足). The end only ever moves forward."""
    _require_moderator(by, decision.community_id)
    reason = clean_plain_text(reason)[:1000]
    if not reason:
        raise Refused(_("Please give the reason for the extension; the extension notice shows it."), code="invalid")
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.state not in {DecisionState.ANNOUNCED, DecisionState.OPEN}:
            raise Refused(_("Only an announced or open decision can be extended."), code="state")
        now = clock.now()
        if locked.state == DecisionState.OPEN and locked.closes_at <= now:
            raise Refused(
                _("Voting on this decision closed at %(time)s; it can no longer be extended.") % {"time": when_text(locked.closes_at)},
                code="closed",
            )
        if closes_at <= locked.closes_at:
            raise Refused(
                _("The new end must be later than the current end (%(time)s): an end only moves forward.")
                % {"time": when_text(locked.closes_at)},
                code="invalid",
            )
        _check_period(locked.opens_at, closes_at)
        before = locked.closes_at
        locked.closes_at = closes_at
        locked.save(update_fields=["closes_at"])
        step_seal(
            decision=locked,
            kind=StepKind.EXTENDED,
            body={"title": locked.title, "closes_at_before": iso_utc(before), "closes_at": iso_utc(closes_at), "reason": reason},
            by=by,
            at=now,
        )
        jobs.schedule("decision.close", str(locked.pk), at=closes_at, wake=True)
        audit_record(kind="decision.extended", community=locked.community_id, actor=by, decision_id=locked.pk, reason=reason)
        step_taken_on_commit(decision_id=locked.pk, kind=StepKind.EXTENDED)
    return locked


def participation_by_channel(decision: Decision) -> dict[str, int]:
    counted = DecisionVote.objects.filter(decision=decision, state=VoteState.COUNTED)
    out: dict[str, int] = {}
    for channel in counted.values_list("channel", flat=True):
        out[channel] = out.get(channel, 0) + 1
    return out


def result_body(decision: Decision) -> dict[str, Any]:
    """What the preliminary result (and the final announcement) says, per matter: the
    resolution's data (both tallies and both bases for Art. 278), participation per channel,
    the counted receipts, and the units whose paper ballots were still being checked."""
    matters = []
    for matter in matters_of(decision):
        resolution = Resolution.objects.filter(motion=matter).first()
        matters.append(
            {
                "id": matter.pk,
                "position": matter.position,
                "text": matter.text,
                "outcome": resolution.outcome if resolution else "",
                "data": resolution.data if resolution else {},
                "receipt_hashes": resolution.receipt_hashes if resolution else [],
            }
        )
    unsettled = DecisionVote.objects.filter(decision=decision, state__in=[VoteState.AWAITING_CHECK, VoteState.MISMATCH]).count()
    return {
        "title": decision.title,
        "closes_at": iso_utc(decision.closes_at),
        "base": _base_body(decision),
        "participation": participation_by_channel(decision),
        "not_counted_unsettled_paper": unsettled,
        "matters": matters,
    }


def decision_close_due(*, decision_id: int) -> bool:
    """At the end of the period (the job; idempotent): close every matter (the count, once),
    then publish the preliminary result and start the objection window."""
    with transaction.atomic():
        locked = Decision.objects.select_for_update().filter(pk=decision_id).first()
        if locked is None or locked.state not in {DecisionState.OPEN, DecisionState.ANNOUNCED}:
            return False
        now = clock.now()
        if now < locked.closes_at:
            jobs.schedule("decision.close", str(locked.pk), at=locked.closes_at, wake=True)
            return False
        if locked.state == DecisionState.ANNOUNCED:
            # Everything was down from before the start until after the end: the period ran
            # without a worker to open it. It still opened and closed on record, in order.
            locked.opened_at = locked.opens_at
            Motion.objects.filter(decision=locked, state=MotionState.DRAFT).update(state=MotionState.OPEN, opened_at=locked.opens_at)
            step_seal(
                decision=locked,
                kind=StepKind.OPENED,
                body={"opens_at": iso_utc(locked.opens_at), "closes_at": iso_utc(locked.closes_at), "late": True},
                by=None,
                at=now,
            )
        for matter in Motion.objects.select_for_update().filter(decision=locked, state=MotionState.OPEN).order_by("position"):
            close_locked(matter, by=None, at=locked.closes_at)
        locked.state = DecisionState.PRELIMINARY
        locked.closed_at = locked.closes_at
        locked.preliminary_at = now
        locked.objections_close_at = now + timedelta(days=locked.objection_days)
        locked.save(update_fields=["state", "opened_at", "closed_at", "preliminary_at", "objections_close_at"])
        step_seal(decision=locked, kind=StepKind.CLOSED, body={"closes_at": iso_utc(locked.closes_at)}, by=None, at=now)
        step_seal(
            decision=locked,
            kind=StepKind.PRELIMINARY,
            body={**result_body(locked), "objections_close_at": iso_utc(locked.objections_close_at)},
            by=None,
            at=now,
        )
        audit_record(kind="decision.closed", community=locked.community_id, actor=None, decision_id=locked.pk)
        step_taken_on_commit(decision_id=locked.pk, kind=StepKind.PRELIMINARY)
    return True


def objection_lodge(*, decision: Decision, author: User, text: str) -> Objection:
    """An owner's objection to the preliminary result, during the objection window."""
    from voting.units import unit_of_user

    text = clean_plain_text(text)[:5000]
    if not text:
        raise Refused(_("Please write your objection."), code="invalid")
    unit, reason = unit_of_user(decision, author.pk)
    if unit is None:
        raise NotAllowed(reason)
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        now = clock.now()
        if locked.state != DecisionState.PRELIMINARY or locked.objections_close_at is None:
            raise Refused(_("Objections are taken only while the preliminary result is published."), code="state")
        if now >= locked.objections_close_at:
            raise Refused(_("The objection window closed at %(time)s.") % {"time": when_text(locked.objections_close_at)}, code="closed")
        objection = Objection.objects.create(decision=locked, author=author, text=text, at=now)
        audit_record(
            kind="decision.objection", community=locked.community_id, actor=author, decision_id=locked.pk, objection_id=objection.pk
        )
    return objection


def objection_answer(*, objection: Objection, by: User, answer: str) -> Objection:
    decision = objection.decision
    _require_moderator(by, decision.community_id)
    answer = clean_plain_text(answer)[:5000]
    if not answer:
        raise Refused(_("Please write the answer."), code="invalid")
    with transaction.atomic():
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if locked.decision.state == DecisionState.FINAL:
            raise Refused(_("The decision is final; its answers can no longer change."), code="state")
        locked.answer = answer
        locked.answered_by = by
        locked.answered_at = clock.now()
        locked.save(update_fields=["answer", "answered_by", "answered_at"])
        audit_record(
            kind="decision.objection_answered", community=decision.community_id, actor=by, decision_id=decision.pk, objection_id=locked.pk
        )
    return locked


def decision_finalize(*, decision: Decision, by: User, counting_officers: Sequence[str]) -> Decision:
    """After the objection window, with every objection answered: the final announcement (公告)
    naming the counting officers (监票人/计票人), sealed with the result."""
    _require_moderator(by, decision.community_id)
    officers = [clean_plain_text(o)[:60] for o in counting_officers]
    officers = [o for o in officers if o]
    if not officers:
        raise Refused(_("Name at least one counting officer (监票人/计票人); the announcement has their signature lines."), code="invalid")
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.state != DecisionState.PRELIMINARY or locked.objections_close_at is None:
            raise Refused(_("Only a decision whose preliminary result is published can be made final."), code="state")
        now = clock.now()
        if now < locked.objections_close_at:
            raise Refused(
                _("The objection window runs until %(time)s; the decision can be made final after it.")
                % {"time": when_text(locked.objections_close_at)},
                code="window",
            )
        open_objections = Objection.objects.filter(decision=locked, answered_at__isnull=True).count()
        if open_objections:
            raise Refused(
                _("%(n)d objection(s) have no answer yet. Answer every objection first.") % {"n": open_objections}, code="objections"
            )
        locked.state = DecisionState.FINAL
        locked.final_at = now
        locked.counting_officers = officers
        locked.save(update_fields=["state", "final_at", "counting_officers"])
        objections = [
            {"id": o.pk, "at": iso_utc(o.at), "text": o.text, "answer": o.answer}
            for o in Objection.objects.filter(decision=locked).order_by("at", "pk")
        ]
        step_seal(
            decision=locked,
            kind=StepKind.FINAL,
            body={**result_body(locked), "counting_officers": officers, "objections": objections},
            by=by,
            at=now,
        )
        audit_record(kind="decision.final", community=locked.community_id, actor=by, decision_id=locked.pk)
        step_taken_on_commit(decision_id=locked.pk, kind=StepKind.FINAL)
    return locked


@dataclass(frozen=True)
class Reentry:
    """A disputed paper ballot entered again after a recount: the counted paper vote and the
    choices the recount read off the signed 表决票."""

    vote_id: int
    choices: Mapping[int, Any]


def decision_correct(*, decision: Decision, by: User, reason: str, reentries: Sequence[Reentry]) -> DecisionStep:
    """A correction after a recount (复核更正), during the objection window: each disputed paper
    ballot is voided (with the reason) and entered again with the recount's choices, every
    matter's resolution is computed again from the ballots, and the corrected result is sealed
    as a CORRECTED step beside the preliminary one (which stays on record). Nothing else changes
    a published result. The re-entered ballot keeps the unit's place (it voted when it voted);
    a secret decision's re-entered ballot is mixed into the counted rows like every other."""
    import secrets

    _require_moderator(by, decision.community_id)
    reason = clean_plain_text(reason)[:1000]
    if not reason:
        raise Refused(
            _("Please give the reason for the correction (for example, what the recount found); the correction notice shows it."),
            code="invalid",
        )
    if not reentries:
        raise Refused(_("Choose the paper ballot that the recount entered again."), code="invalid")
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        if locked.state != DecisionState.PRELIMINARY or locked.objections_close_at is None:
            raise Refused(_("A result can be corrected only while the preliminary result is published."), code="state")
        now = clock.now()
        if now >= locked.objections_close_at:
            raise Refused(
                _("The objection window closed at %(time)s; the result can no longer be corrected.")
                % {"time": when_text(locked.objections_close_at)},
                code="closed",
            )
        matters = list(Motion.objects.select_for_update().filter(decision=locked).order_by("position", "pk"))
        before = {r.motion_id: r.outcome for r in Resolution.objects.filter(motion__in=matters)}
        seen: set[int] = set()
        reentered: list[str] = []
        for entry in reentries:
            vote = DecisionVote.objects.select_for_update().filter(pk=entry.vote_id, decision=locked).first()
            if vote is None or vote.channel != Channel.PAPER or vote.state != VoteState.COUNTED or vote.pk in seen:
                raise Refused(_("Only a counted paper ballot of this decision can be entered again."), code="not_paper")
            seen.add(vote.pk)
            unit = decision_unit(locked, vote.unit_key)
            if unit is None:
                raise Refused(_("This ballot's unit is no longer on the decision's roster; it cannot be entered again."), code="invalid")
            clean = clean_choices(locked, matters, entry.choices)
            ballots_remove(vote=vote)
            vote.state = VoteState.VOIDED
            vote.voided_at = now
            vote.voided_by = by
            vote.void_reason = reason[:200]
            vote.save(update_fields=["state", "voided_at", "voided_by", "void_reason"])
            receipt = secrets.token_urlsafe(18)
            again = DecisionVote.objects.create(
                decision=locked,
                unit_key=vote.unit_key,
                channel=Channel.PAPER,
                state=VoteState.COUNTED,
                at=vote.at,
                recorded_by=by,
                code=vote.code,
                sealed_receipt=seal(matters[0].pk, {"receipt": receipt}),
            )
            PaperEntry.objects.create(vote=again, entered_by=by, at=now, round=1, digest=choices_digest(clean))
            ballots_write(vote=again, unit=unit, matters=matters, choices=clean, receipt=receipt)
            reentered.append(unit.label)
        for matter in matters:
            sealed_ballots_mix(motion=matter)  # the re-entered ballot of a secret matter, among the others
            outcome, data, hashes = resolution_compute(motion=matter)
            Resolution.objects.filter(motion=matter).update(outcome=outcome, data=data, receipt_hashes=hashes)
        body = {
            **result_body(locked),
            "objections_close_at": iso_utc(locked.objections_close_at),
            "reason": reason,
            "reentered": reentered,
            "outcomes_before": [{"position": m.position, "outcome": before.get(m.pk, "")} for m in matters],
        }
        step = step_seal(decision=locked, kind=StepKind.CORRECTED, body=body, by=by, at=now)
        audit_record(
            kind="decision.corrected", community=locked.community_id, actor=by, decision_id=locked.pk, reason=reason, ballots=len(reentered)
        )
        step_taken_on_commit(decision_id=locked.pk, kind=StepKind.CORRECTED)
    return step


def notices_of(decision: Decision) -> list[DecisionStep]:
    """The decision's published notices, oldest first."""
    kinds = [StepKind.ANNOUNCED, StepKind.EXTENDED, StepKind.PRELIMINARY, StepKind.CORRECTED, StepKind.FINAL]
    return list(DecisionStep.objects.filter(decision=decision, kind__in=kinds).order_by("seq"))


@jobs.job("decision.open")
def decision_open_job(key: str) -> None:
    decision_open_due(decision_id=int(key))


@jobs.job("decision.close")
def decision_close_job(key: str) -> None:
    decision_close_due(decision_id=int(key))
