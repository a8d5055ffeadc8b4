"""Writes of paper ballots: preparing the codes, the issue register, a clerk's entry (once, or
twice by two clerks), the review of readings that disagree, and a void before the close.

Every entry goes through ``voting.decisions.ballots.vote_record`` (``Channel.PAPER``), so the
decision's lock, its period and "a unit counts once" are the same as for every channel. A paper
ballot of a unit that voted another way is not counted: it is marked returned and listed as a
conflict (``selectors.paper_conflicts``), with how and when the unit voted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra import clock
from agora.infra.errors import Refused
from agora.infra.sanitize import clean_plain_text
from agora.roster.audit import audit_record
from voting.decisions.ballots import (
    ballots_remove,
    choices_digest,
    clean_choices,
    held_choices,
    matters_of,
    period_refusal,
    vote_confirm,
    vote_record,
    when_text,
)
from voting.decisions.events import vote_recorded_on_commit
from voting.decisions.paper.codes import code_new, code_printed
from voting.decisions.paper.selectors import PREPARES_IN, Stage, ballot_code_find, clerk_refusal, entry_stage
from voting.models import BallotCode, Channel, Decision, DecisionVote, Motion, PaperEntry, VoteState
from voting.secrecy import seal, unseal
from voting.units import decision_unit, decision_units


def _clerk(user: User, decision: Decision) -> None:
    refusal = clerk_refusal(user, decision)
    if refusal is not None:
        raise refusal


def _state(decision: Decision) -> str:
    return str(Decision.objects.filter(pk=decision.pk).values_list("state", flat=True).get())


def paper_prepare(*, decision: Decision, by: User) -> int:
    """A code for every voting unit that has none yet (after the notice, until the close); the
    number of codes made. Idempotent: preparing again adds only the units new to the roster."""
    _clerk(by, decision)
    if _state(decision) not in PREPARES_IN:
        raise Refused(_("Paper ballots are prepared once the decision is announced, until voting closes."), code="state")
    keys = [u.unit_key for u in decision_units(decision)]
    made = 0
    for _attempt in range(5):  # a code drawn twice (2⁻⁵⁰) or a second moderator preparing at once: draw again
        have = set(BallotCode.objects.filter(decision=decision).values_list("unit_key", flat=True))
        missing = [k for k in keys if k not in have]
        if not missing:
            break
        rows = [BallotCode(decision=decision, unit_key=k, code=code_new()) for k in missing]
        with transaction.atomic():
            BallotCode.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
        made += BallotCode.objects.filter(decision=decision, unit_key__in=missing).count()
    if made:
        audit_record(kind="decision.paper_prepared", community=decision.community_id, actor=by, decision_id=decision.pk, codes=made)
    return made


def paper_issue(*, decision: Decision, by: User, unit_keys: list[str], issued_to: str) -> int:
    """Mark these units' ballots handed out (to whom, by whom, now); the number newly marked
    (a ballot already issued keeps its first entry in the register)."""
    _clerk(by, decision)
    issued_to = clean_plain_text(issued_to)[:100]
    if not issued_to:
        raise Refused(_("Please say to whom the ballots were handed (the owner, a family member, a grid worker …)."), code="invalid")
    if not unit_keys:
        raise Refused(_("Please tick the ballots that were handed out."), code="invalid")
    if _state(decision) not in PREPARES_IN:
        raise Refused(_("Paper ballots are handed out once the decision is announced, until voting closes."), code="state")
    with transaction.atomic():
        n = BallotCode.objects.filter(decision=decision, unit_key__in=unit_keys, issued_at__isnull=True).update(
            issued_at=clock.now(), issued_by=by, issued_to=issued_to
        )
        if n:
            audit_record(
                kind="decision.paper_issued", community=decision.community_id, actor=by, decision_id=decision.pk, ballots=n, to=issued_to
            )
    return n


@dataclass(frozen=True)
class Entered:
    outcome: str  # "counted", "held" (awaiting the second entry), "confirmed", "mismatch", "conflict"
    unit_label: str
    printed: str

    @property
    def sentence(self) -> str:
        return str(
            {
                "counted": _("The ballot %(code)s of %(unit)s is entered and counted."),
                "held": _("The ballot %(code)s of %(unit)s is entered. A second clerk enters it again before it is counted."),
                "confirmed": _("The second entry of %(code)s (%(unit)s) agrees with the first: the ballot is counted."),
                "mismatch": _(
                    "The second entry of %(code)s (%(unit)s) does not agree with the first. It is not counted; it waits for a moderator's review."
                ),
                "conflict": _(
                    "%(unit)s had already voted another way, so the paper ballot %(code)s is not counted. It is on the conflict list."
                ),
            }[self.outcome]
            % {"code": self.printed, "unit": self.unit_label}
        )


def filled_instant(decision: Decision, filled_on: date | None) -> datetime | None:
    """The instant a ballot dated ``filled_on`` is taken as filled in, for the period check: a
    date within the period's days is in the period; a date after its last day is after the close,
    one before its first day before the opening."""
    if filled_on is None:
        return None
    tz = timezone.get_current_timezone()
    first, last = timezone.localtime(decision.opens_at, tz).date(), timezone.localtime(decision.closes_at, tz).date()
    if filled_on > last:
        return timezone.make_aware(datetime.combine(filled_on, time.min), tz)
    if filled_on < first:
        return timezone.make_aware(datetime.combine(filled_on, time.max), tz)
    return decision.opens_at


def paper_enter(*, decision: Decision, by: User, typed_code: str, choices: dict[int, Any] | None, filled_on: date | None = None) -> Entered:
    """Enter a returned paper ballot read by clerk ``by``: the first entry (counted, or held for a
    second clerk when the decision enters paper twice), the second (counted if it agrees, else
    held for review), or a conflict (the unit voted another way: not counted, listed). Refusals
    (``Refused``) say why and change nothing."""
    _clerk(by, decision)
    code = ballot_code_find(decision, typed_code)
    stage = entry_stage(decision, code, clerk=by)
    late = period_refusal(decision, at=clock.now())
    if late is not None:
        raise late
    if stage.kind == "conflict":
        return _conflict(decision, stage, by)
    if choices is None:
        raise Refused(_("Please give a choice for every matter, as marked on the ballot."), code="incomplete")
    if stage.kind == "second":
        return _second(decision, stage, by, choices, filled_on)
    matters = matters_of(decision)
    clean = clean_choices(decision, matters, choices)
    try:
        with transaction.atomic():
            recorded = vote_record(
                decision=decision,
                unit=stage.unit,
                choices=clean,
                channel=Channel.PAPER,
                recorded_by=by,
                code=code,
                filled_at=filled_instant(decision, filled_on),
                hold_for_check=decision.double_entry,
            )
            PaperEntry.objects.create(vote=recorded.vote, entered_by=by, at=recorded.vote.at, round=1, digest=choices_digest(clean))
            BallotCode.objects.filter(pk=code.pk, returned_at__isnull=True).update(returned_at=recorded.vote.at, returned_by=by)
            audit_record(
                kind="decision.paper_entered",
                community=decision.community_id,
                actor=by,
                decision_id=decision.pk,
                vote_id=recorded.vote.pk,
                round=1,
                held=decision.double_entry,
            )
    except Refused as refusal:
        if refusal.code != "already_voted":
            raise
        # Another channel recorded the unit between the page and this entry (the race).
        return _conflict(decision, entry_stage(decision, code, clerk=by), by)
    return Entered("held" if decision.double_entry else "counted", stage.unit.label, stage.printed)


def _conflict(decision: Decision, stage: Stage, by: User) -> Entered:
    if stage.kind != "conflict":  # the other ballot was voided meanwhile: nothing to list
        raise Refused(_("This unit's ballots changed while you entered this one. Please scan the code again."), code="changed")
    with transaction.atomic():
        marked = BallotCode.objects.filter(pk=stage.code.pk, returned_at__isnull=True).update(returned_at=clock.now(), returned_by=by)
        if marked:
            audit_record(
                kind="decision.paper_conflict",
                community=decision.community_id,
                actor=by,
                decision_id=decision.pk,
                code_id=stage.code.pk,
                other_vote_id=stage.vote.pk if stage.vote else None,
            )
    return Entered("conflict", stage.unit.label, stage.printed)


def _second(decision: Decision, stage: Stage, by: User, choices: dict[int, Any], filled_on: date | None) -> Entered:
    assert stage.vote is not None
    matters = matters_of(decision)
    clean = clean_choices(decision, matters, choices)
    instant = filled_instant(decision, filled_on)
    if instant is not None:
        late = period_refusal(decision, at=instant)
        if late is not None:
            raise late
    digest = choices_digest(clean)
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        now = clock.now()
        refusal = period_refusal(locked, at=now)
        if refusal is not None:
            raise refusal
        vote = DecisionVote.objects.select_for_update().get(pk=stage.vote.pk)
        first = PaperEntry.objects.filter(vote=vote, round=1).first()
        if vote.state != VoteState.AWAITING_CHECK or first is None or PaperEntry.objects.filter(vote=vote, round=2).exists():
            raise Refused(_("Another clerk entered this ballot a second time just now. Please scan the next one."), code="code_used")
        if first.entered_by_id == by.pk:
            raise Refused(
                _("You entered the ballot %(code)s the first time. A second clerk must enter it again to check it.")
                % {"code": stage.printed},
                code="same_clerk",
            )
        PaperEntry.objects.create(vote=vote, entered_by=by, at=now, round=2, digest=digest)
        agrees = first.digest == digest
        if agrees:
            vote_confirm(vote=vote, unit=stage.unit, choices=clean)
        else:
            readings = {"choices": {str(k): v for k, v in held_choices(vote).items()}, "second": {str(k): v for k, v in clean.items()}}
            vote.state = VoteState.MISMATCH
            vote.pending = seal(_first_matter_id(decision), readings)
            vote.save(update_fields=["state", "pending"])
            vote_recorded_on_commit(decision_id=decision.pk)
        audit_record(
            kind="decision.paper_entered",
            community=decision.community_id,
            actor=by,
            decision_id=decision.pk,
            vote_id=vote.pk,
            round=2,
            agrees=agrees,
        )
    return Entered("confirmed" if agrees else "mismatch", stage.unit.label, stage.printed)


def _first_matter_id(decision: Decision) -> int:
    first = Motion.objects.filter(decision=decision).order_by("position", "pk").values_list("pk", flat=True).first()
    assert first is not None
    return int(first)


def paper_review(*, vote: DecisionVote, by: User, choices: dict[int, Any]) -> Entered:
    """A moderator's reading of a paper ballot whose two entries disagree: counted with it (audited)."""
    decision = vote.decision
    _clerk(by, decision)
    if vote.state != VoteState.MISMATCH:
        raise Refused(_("This ballot is no longer waiting for review, so nothing was changed."), code="state")
    unit = decision_unit(decision, vote.unit_key)
    if unit is None:
        raise Refused(_("This ballot's unit is no longer on the decision's roster. Please ask the residents' committee."), code="no_unit")
    clean = clean_choices(decision, matters_of(decision), choices)
    with transaction.atomic():
        counted = vote_confirm(vote=vote, unit=unit, choices=clean)
        PaperEntry.objects.create(vote=counted, entered_by=by, at=clock.now(), round=3, digest=choices_digest(clean))
        entries = {e.round: e.digest for e in PaperEntry.objects.filter(vote=counted)}
        audit_record(
            kind="decision.paper_reviewed",
            community=decision.community_id,
            actor=by,
            decision_id=decision.pk,
            vote_id=counted.pk,
            reading_as_first=entries.get(3) == entries.get(1),
            reading_as_second=entries.get(3) == entries.get(2),
        )
    return Entered("counted", unit.label, code_printed(vote.code.code) if vote.code else "")


def review_readings(vote: DecisionVote) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """The two clerks' readings of a ballot awaiting review (opened with the server's key)."""
    if vote.pending is None:
        return {}, {}
    payload = unseal(_first_matter_id(vote.decision), vote.pending)
    first = {int(k): v for k, v in payload.get("choices", {}).items()}
    second = {int(k): v for k, v in payload.get("second", {}).items()}
    return first, second


def paper_void(*, vote: DecisionVote, by: User, reason: str) -> DecisionVote:
    """Void an entered paper ballot, with a reason, while the period is open (audited): its
    matter ballots are taken out and the unit may vote again."""
    decision = vote.decision
    _clerk(by, decision)
    reason = clean_plain_text(reason)[:200]
    if not reason:
        raise Refused(_("Please give the reason for the void; it is kept in the audit log."), code="invalid")
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        now = clock.now()
        closed = period_refusal(locked, at=now)
        if closed is not None:
            raise Refused(
                _("An entered ballot can be voided only while voting is open (it closed at %(time)s).")
                % {"time": when_text(locked.closes_at)},
                code="closed",
            )
        row = DecisionVote.objects.select_for_update().get(pk=vote.pk)
        if row.channel != Channel.PAPER or row.state == VoteState.VOIDED:
            raise Refused(_("This ballot was already voided."), code="state")
        if row.state == VoteState.COUNTED:
            ballots_remove(vote=row)
        row.state = VoteState.VOIDED
        row.pending = None
        row.voided_at, row.voided_by, row.void_reason = now, by, reason
        row.save(update_fields=["state", "pending", "voided_at", "voided_by", "void_reason"])
        audit_record(
            kind="decision.paper_voided", community=decision.community_id, actor=by, decision_id=decision.pk, vote_id=row.pk, reason=reason
        )
        vote_recorded_on_commit(decision_id=decision.pk)
    return row


__all__ = ["Entered", "filled_instant", "paper_enter", "paper_issue", "paper_prepare", "paper_review", "paper_void", "review_readings"]
