"""Recording a voting unit's ballot in an owners' decision, from any channel: one implementation.

Online (the owner), in the room (an owner at a linked live session), paper (a clerk enters the
returned 表决票), door to door (a grid worker with the owner present) and by proxy (the holder
of a 委托书) all end here, in ``vote_record``. A unit is counted once per decision:

- The decision row is locked for the transaction (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
  serializes writers), its state and period are read again under the lock, so no ballot is taken
  after the close however it arrives; the close (voting/decisions/lifecycle.py) takes the same lock.
- One :class:`DecisionVote` that is not voided per unit is a unique index: whichever channel
  commits first wins; the other is refused with how and when the unit voted (``_already``).
- The matters' ballots are the motions' own rows, written as a live ballot's are: a secret
  decision's are sealed until close and mixed then (voting/secrecy.py); the participation rows say
  who, never what. The vote gets one receipt; matter N's receipt is ``<receipt>.<N>``, whose
  sha256 the published result lists.

A paper ballot of a decision with double entry is held (``VoteState.AWAITING_CHECK``, the choices
sealed) until a second clerk's entry agrees (voting/decisions/paper/), and counted then (``vote_confirm``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agora.infra import clock
from agora.infra.errors import Refused
from agora.infra.precompiled import insert
from voting.ballots import key_digest_of, receipt_check_of, receipt_hash, receipt_seal
from voting.choices import validate_choice
from voting.decisions.events import vote_recorded_on_commit
from voting.models import (
    Ballot,
    BallotCode,
    Channel,
    Decision,
    DecisionState,
    DecisionVote,
    Motion,
    MotionKind,
    MotionOption,
    Participation,
    Proxy,
    SealedBallot,
    VoteState,
    WeightMode,
)
from voting.secrecy import receipt_lookups, seal, sealed_ballot_insert, unseal
from voting.units import DecisionUnit, area_refusal, decision_unit

CHANNEL_SENTENCES: dict[str, Promise] = {
    Channel.ONLINE: _("online"),
    Channel.IN_PERSON: _("in the meeting room"),
    Channel.PAPER: _("by paper ballot"),
    Channel.DOOR: _("door to door, with a grid worker"),
    Channel.PROXY: _("by proxy"),
}


@dataclass(frozen=True)
class RecordedVote:
    vote: DecisionVote
    # Given to whoever recorded it (the owner online; the grid worker or proxy holder to hand
    # on); None for paper and for a held (double-entry) ballot.
    receipt: str | None
    replayed: bool = False


def matters_of(decision: Decision) -> list[Motion]:
    return list(Motion.objects.filter(decision=decision).order_by("position", "pk"))


def options_of(motion: Motion) -> list[MotionOption]:
    return list(MotionOption.objects.filter(motion=motion).order_by("position"))


def when_text(at: datetime) -> str:
    """The date in the reader's format and the time on a 24-hour clock: inside a sentence,
    English's "11:59 p.m." would end in "p.m.." before the sentence's own full stop."""
    local = timezone.localtime(at)
    return f"{formats.date_format(local, 'DATE_FORMAT')} {local:%H:%M}"


def _already(existing: DecisionVote) -> Refused:
    how = CHANNEL_SENTENCES.get(existing.channel, existing.channel)
    if existing.state in {VoteState.AWAITING_CHECK, VoteState.MISMATCH}:
        return Refused(
            _("This unit's paper ballot was entered at %(time)s and is being checked, so no other ballot is taken for it.")
            % {"time": when_text(existing.at)},
            code="already_voted",
        )
    return Refused(
        _("This unit has already voted %(how)s, at %(time)s. Each unit is counted once, so this ballot was not taken.")
        % {"how": how, "time": when_text(existing.at)},
        code="already_voted",
    )


def period_refusal(decision: Decision, *, at: datetime) -> Refused | None:
    """Why no ballot is taken at ``at`` (None: the period is open)."""
    if decision.state in {DecisionState.DRAFT, DecisionState.ANNOUNCED} or at < decision.opens_at:
        return Refused(
            _("Voting on this decision opens at %(time)s. The ballot was not taken.") % {"time": when_text(decision.opens_at)},
            code="not_open",
        )
    if decision.state != DecisionState.OPEN or at >= decision.closes_at:
        return Refused(
            _("Voting on this decision closed at %(time)s. The ballot was not counted.") % {"time": when_text(decision.closes_at)},
            code="closed",
        )
    return None


def clean_choices(decision: Decision, matters: list[Motion], choices: Mapping[int, Any]) -> dict[int, list[int]]:
    """Every matter's choice, checked as a live ballot's is; a matter left out is refused."""
    clean: dict[int, list[int]] = {}
    for matter in matters:
        if matter.pk not in choices or choices[matter.pk] in (None, "", []):
            raise Refused(_("Please give a choice for every matter (matter %(n)d has none).") % {"n": matter.position}, code="incomplete")
        clean[matter.pk] = validate_choice(motion=matter, options=options_of(matter), choice=choices[matter.pk])
    return clean


def choices_digest(choices: Mapping[int, list[int]]) -> str:
    """One digest of a ballot's choices (double entry compares two entries by it)."""
    canonical = json.dumps({str(k): v for k, v in sorted(choices.items())}, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _weight(matter: Motion, unit: DecisionUnit) -> tuple[Decimal, Decimal | None]:
    if matter.kind == MotionKind.ART278:
        return Decimal("1"), unit.area
    if matter.weight_mode == WeightMode.AREA:
        return unit.area, None
    return Decimal("1"), None


def vote_record(
    *,
    decision: Decision,
    unit: DecisionUnit,
    choices: Mapping[int, Any],
    channel: str,
    voter: User | None = None,
    recorded_by: User | None = None,
    proxy: Proxy | None = None,
    code: BallotCode | None = None,
    assisted_reason: str = "",
    idempotency_key: str = "",
    hold_for_check: bool = False,
    filled_at: datetime | None = None,
) -> RecordedVote:
    """Record the unit's ballot on every matter, or refuse (``Refused``) and change nothing.

    ``filled_at``: when a paper ballot says it was filled in; one dated after the close is
    refused like a late ballot. ``hold_for_check``: a paper ballot awaiting its second entry.
    The caller has checked who may record for this unit (voting/decisions/rules.py)."""
    matters = matters_of(decision)
    if not matters:
        raise Refused(_("This decision has no matters to vote on."), code="invalid")
    if any(m.kind == MotionKind.ART278 or m.weight_mode == WeightMode.AREA for m in matters) and not unit.has_area:
        raise Refused(area_refusal(unit), code="no_area")
    clean = clean_choices(decision, matters, choices)
    digest = key_digest_of(-decision.pk, idempotency_key) if idempotency_key else ""
    if filled_at is not None:
        late = period_refusal(decision, at=filled_at)
        if late is not None:
            raise late
    try:
        return _record_locked(
            decision,
            unit,
            matters,
            clean,
            channel,
            voter,
            recorded_by,
            proxy,
            code,
            assisted_reason,
            digest,
            idempotency_key,
            hold_for_check,
        )
    except IntegrityError:
        # Another channel recorded this unit between our read and our insert: answer as for a
        # second ballot (a replay of the same submission gets its receipt back).
        return _record_locked(
            decision,
            unit,
            matters,
            clean,
            channel,
            voter,
            recorded_by,
            proxy,
            code,
            assisted_reason,
            digest,
            idempotency_key,
            hold_for_check,
        )


def _record_locked(
    decision: Decision,
    unit: DecisionUnit,
    matters: list[Motion],
    clean: dict[int, list[int]],
    channel: str,
    voter: User | None,
    recorded_by: User | None,
    proxy: Proxy | None,
    code: BallotCode | None,
    assisted_reason: str,
    digest: str,
    idempotency_key: str,
    hold: bool,
) -> RecordedVote:
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=decision.pk)
        now = clock.now()
        refusal = period_refusal(locked, at=now)
        if refusal is not None:
            raise refusal
        existing = DecisionVote.objects.filter(decision=locked, unit_key=unit.unit_key).exclude(state=VoteState.VOIDED).first()
        if existing is not None:
            if digest and existing.key_digest == digest and existing.sealed_receipt is not None:
                receipt = unseal(matters[0].pk, existing.sealed_receipt)["receipt"]
                return RecordedVote(existing, receipt, replayed=True)
            raise _already(existing)
        if proxy is not None:
            proxy = Proxy.objects.select_for_update().get(pk=proxy.pk)
            if proxy.revoked_at is not None:
                raise Refused(_("This proxy was revoked, so it cannot be used to vote."), code="proxy_revoked")
            if not proxy.valid_from <= now < proxy.valid_until:
                raise Refused(
                    _("This proxy is not valid at this time (valid %(from)s to %(until)s).")
                    % {"from": when_text(proxy.valid_from), "until": when_text(proxy.valid_until)},
                    code="proxy_invalid",
                )
        receipt = secrets.token_urlsafe(18)
        vote = DecisionVote(
            decision=locked,
            unit_key=unit.unit_key,
            channel=channel,
            state=VoteState.AWAITING_CHECK if hold else VoteState.COUNTED,
            at=now,
            voter=voter,
            recorded_by=recorded_by,
            proxy=proxy,
            code=code,
            assisted_reason=assisted_reason[:200],
            key_digest=digest,
            sealed_receipt=seal(matters[0].pk, {"receipt": receipt}),
        )
        if hold:
            vote.pending = seal(matters[0].pk, {"choices": {str(k): v for k, v in clean.items()}})
        vote.save()
        if not hold:
            ballots_write(vote=vote, unit=unit, matters=matters, choices=clean, receipt=receipt, idempotency_key=idempotency_key)
        vote_recorded_on_commit(decision_id=locked.pk)
    return RecordedVote(vote, None if hold or channel == Channel.PAPER else receipt)


def ballots_write(
    *,
    vote: DecisionVote,
    unit: DecisionUnit,
    matters: list[Motion],
    choices: Mapping[int, list[int]],
    receipt: str,
    idempotency_key: str = "",
) -> None:
    """The matters' ballot and participation rows of a counted vote (inside its transaction)."""
    household_id = unit.household_ids[0] if unit.household_ids else None
    for matter in matters:
        matter_receipt = f"{receipt}.{matter.position}"
        hashed = receipt_hash(matter_receipt)
        weight, area = _weight(matter, unit)
        ballot = None
        if matter.secret:
            sealed_ballot_insert(
                motion_id=matter.pk, choice=choices[matter.pk], weight=weight, area=area, receipt=matter_receipt, receipt_hash=hashed
            )
        else:
            ballot = Ballot(motion=matter, choice=choices[matter.pk], weight=weight, area=area, receipt_hash=hashed)
            insert(ballot)
        insert(
            Participation(
                motion=matter,
                unit_key=unit.unit_key,
                channel=vote.channel,
                voter=vote.voter,
                household_id=household_id,
                ballot=ballot,
                key_digest=key_digest_of(matter.pk, idempotency_key) if idempotency_key else "",
                receipt_sealed=receipt_seal(matter.pk, idempotency_key, matter_receipt) if idempotency_key else "",
                receipt_check=receipt_check_of(matter_receipt, unit.unit_key),
            )
        )


def vote_confirm(*, vote: DecisionVote, unit: DecisionUnit, choices: Mapping[int, Any]) -> DecisionVote:
    """Count a held paper ballot (double entry: the second entry agreed, or a moderator entered
    the reading of the paper after a mismatch) with these choices, under the decision's lock and
    only in the period, as ``vote_record`` counts one. Refused if it is no longer held."""
    matters = matters_of(vote.decision)
    clean = clean_choices(vote.decision, matters, choices)
    with transaction.atomic():
        locked = Decision.objects.select_for_update().get(pk=vote.decision_id)
        refusal = period_refusal(locked, at=clock.now())
        if refusal is not None:
            raise refusal
        held = DecisionVote.objects.select_for_update().get(pk=vote.pk)
        if held.state not in {VoteState.AWAITING_CHECK, VoteState.MISMATCH}:
            raise Refused(_("This ballot is no longer waiting to be checked, so nothing was changed."), code="state")
        held.state = VoteState.COUNTED
        held.pending = None
        held.save(update_fields=["state", "pending"])
        ballots_write(vote=held, unit=unit, matters=matters, choices=clean, receipt=vote_receipt(held))
        vote_recorded_on_commit(decision_id=locked.pk)
    return held


def held_choices(vote: DecisionVote) -> dict[int, list[int]]:
    """A held (double-entry) paper ballot's choices, opened with the server's key."""
    if vote.pending is None:
        return {}
    first = Motion.objects.filter(decision_id=vote.decision_id).order_by("position", "pk").values_list("pk", flat=True).first()
    assert first is not None
    return {int(k): v for k, v in unseal(first, vote.pending)["choices"].items()}


def vote_receipt(vote: DecisionVote) -> str:
    """The vote's receipt, opened with the server's key (for a void before close)."""
    first = Motion.objects.filter(decision_id=vote.decision_id).order_by("position", "pk").values_list("pk", flat=True).first()
    assert first is not None and vote.sealed_receipt is not None
    receipt: str = unseal(first, vote.sealed_receipt)["receipt"]
    return receipt


def ballots_remove(*, vote: DecisionVote) -> None:
    """Take a counted vote's matter ballots out again (a void before close; inside its
    transaction): found by the vote's receipt, as the voter's own change would find them."""
    receipt = vote_receipt(vote)
    for matter in Motion.objects.filter(decision_id=vote.decision_id):
        matter_receipt = f"{receipt}.{matter.position}"
        SealedBallot.objects.filter(motion=matter, lookup__in=receipt_lookups(matter.pk, matter_receipt)).delete()
        Participation.objects.filter(motion=matter, unit_key=vote.unit_key).delete()
        Ballot.objects.filter(motion=matter, receipt_hash=receipt_hash(matter_receipt)).delete()


@dataclass(frozen=True)
class HeldProxy:
    """A live proxy the user holds in a decision: what the decision page says ("您受托为 X（房号）投票",
    templates/voting/decisions/door/_held_proxies.html) and where the holder votes
    (/decisions/<id>/door/proxy/<proxy_id>/)."""

    proxy_id: int
    unit_label: str
    owner_name: str
    voted: str  # how the principal's unit voted ("" while it has not)


def proxies_held(*, decision: Decision, user: User) -> list[HeldProxy]:
    """The live (not revoked) proxies ``user`` holds in ``decision``, with the principal's unit."""
    if not user.is_authenticated:
        return []
    held = []
    for proxy in Proxy.objects.filter(decision=decision, holder=user, revoked_at__isnull=True).order_by("pk"):
        unit = decision_unit(decision, proxy.principal_unit_key)
        if unit is None:
            continue
        vote = DecisionVote.objects.filter(decision=decision, unit_key=unit.unit_key).exclude(state=VoteState.VOIDED).first()
        held.append(HeldProxy(proxy.pk, unit.label, unit.owner_name, vote.get_channel_display() if vote else ""))
    return held
