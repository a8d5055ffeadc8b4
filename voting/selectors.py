"""Reads for motions: plain JSON-safe data for pages, live fragments and the minutes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, Sum

from agora.infra.isotime import iso_utc
from agora.roster.models import Household
from agora.roster.names import display_name
from sessions.models import TopicSession
from voting.models import (
    BallotUnit,
    InPersonCount,
    Motion,
    MotionKind,
    MotionState,
    Participation,
    Resolution,
    WeightMode,
)
from voting.rules import VoterStanding, eligible_households, eligible_residents, owner_key_of, voter_standing
from voting.secrecy import sealed_counts
from voting.units import decision_base


def motion_data(motion: Motion) -> dict[str, Any]:
    return {
        "id": motion.pk,
        "session_id": motion.session_id,
        "text": motion.text,
        "description": motion.description,
        "agenda_item": motion.agenda_item.title if motion.agenda_item_id and motion.agenda_item else "",
        "kind": motion.kind,
        "state": motion.state,
        "eligibility": motion.eligibility,
        "ballot_unit": motion.ballot_unit,
        "weight_mode": motion.weight_mode,
        "base": motion.base,
        "threshold": motion.threshold,
        "quorum": motion.quorum_text,  # "50%" or "2/3"; "" without a quorum
        "major_matter": motion.major_matter,
        "secret": motion.secret,
        "allow_change": motion.allow_change,
        "results_live": motion.results_live,
        "max_choices": motion.max_choices,
        "closes_at": iso_utc(motion.closes_at),
        "opened_at": iso_utc(motion.opened_at),
        "closed_at": iso_utc(motion.closed_at),
        "options": [{"id": o.pk, "position": o.position, "code": o.code, "label": o.label} for o in motion.options.all()],
    }


def live_tally_data(motion: Motion) -> dict[str, Any]:
    """Counts while voting. Per-option numbers only when the motion shows results live and
    is not secret (a secret vote shows only how many ballots were cast)."""
    online = list(motion.ballots.values_list("choice", flat=True))
    in_person = list(InPersonCount.objects.filter(motion=motion).values_list("choice", "count"))
    n_in_person = sum(count for _choice, count in in_person)
    n_online = len(online)
    if motion.secret and motion.state == MotionState.OPEN:
        # Sealed until close (voting/secrecy.py): counted, never read.
        sealed = sealed_counts(motion.pk)
        n_online += sealed["online"]
        n_in_person += sealed["in_person"]
    data: dict[str, Any] = {
        "ballots": n_online,
        "in_person": n_in_person,
        "total": n_online + n_in_person,
        "options": None,
    }
    if motion.results_live and not motion.secret and motion.state == MotionState.OPEN:
        first: dict[int, int] = defaultdict(int)
        ranked = motion.kind == MotionKind.RANKED
        for choice in online:
            for option_id in choice[:1] if ranked else choice:
                first[option_id] += 1
        for choice, count in in_person:
            for option_id in choice[:1] if ranked else choice:
                first[option_id] += count
        top = max(first.values(), default=0)
        data["options"] = [
            {"id": o.pk, "code": o.code, "label": o.label, "total": first[o.pk], "percent": round(100 * first[o.pk] / top) if top else 0}
            for o in motion.options.all()
        ]
    return data


def tally_payload(data: dict[str, Any]) -> dict[str, Any]:
    """The exact final tally in a close event (machine-readable, beside the rendered HTML)."""
    return {
        "ballots": data["participation"]["online"],
        "in_person": data["participation"]["in_person"],
        "total": data["participation"]["total"],
        "options": [{"id": o["id"], "online": o["online"], "in_person": o["in_person"], "total": o["total"]} for o in data["options"]],
    }


def resolution_data(resolution: Resolution) -> dict[str, Any]:
    return {"id": resolution.pk, "outcome": resolution.outcome, **resolution.data, "receipt_hashes": resolution.receipt_hashes}


@dataclass(frozen=True)
class EligibleBase:
    headcount: int  # persons, households or owners
    weight: Decimal  # equal to headcount unless weighted by area
    owner_areas: dict[str, Decimal]  # Art. 278: owner key -> total exclusive area


def eligible_base(motion: Motion) -> EligibleBase:
    """Who may vote, counted in the motion's voting units.

    The units eligible now, plus the units that took part (online, or a household listed in
    the room): a ballot was only taken from a unit that was eligible when it voted, so the
    base never loses a voter who took part, and it never grows because of a count (the room's
    anonymous counts are refused when they would exceed it, see
    ``voting.services.in_person_count_enter``)."""
    taken = set(motion.participations.values_list("unit_key", flat=True))
    if motion.decision_id is not None:
        return _decision_matter_base(motion)
    if motion.kind == MotionKind.ART278:
        areas: dict[str, Decimal] = defaultdict(Decimal)
        households = Household.objects.filter(building__community_id=motion.room.community_id).filter(Q(exclusive_area__gt=0))
        for household in households:
            areas[owner_key_of(household)] += household.exclusive_area or Decimal("0")
        return EligibleBase(len(areas), Decimal(len(areas)), dict(areas))
    if motion.ballot_unit == BallotUnit.HOUSEHOLD:
        household_ids = eligible_households(motion)
        household_ids |= {int(k.removeprefix("h:")) for k in taken if k.startswith("h:")}
        if motion.weight_mode == WeightMode.AREA:
            qs = Household.objects.filter(pk__in=household_ids, exclusive_area__gt=0)
            total = qs.aggregate(total=Sum("exclusive_area"))["total"] or Decimal("0")
            return EligibleBase(qs.count(), total, {})
        return EligibleBase(len(household_ids), Decimal(len(household_ids)), {})
    user_ids = set(eligible_residents(motion).values_list("user_id", flat=True))
    user_ids |= {int(k.removeprefix("u:")) for k in taken if k.startswith("u:")}
    return EligibleBase(len(user_ids), Decimal(len(user_ids)), {})


def _decision_matter_base(motion: Motion) -> EligibleBase:
    """A decision's matter: the decision's roster (voting/units.py), not the accounts."""
    assert motion.decision is not None
    base = decision_base(motion.decision)
    if motion.kind == MotionKind.ART278:
        owners = {key.removeprefix("o:"): area for key, area in base.unit_areas.items()}
        return EligibleBase(len(owners), Decimal(len(owners)), owners)
    if motion.weight_mode == WeightMode.AREA:
        return EligibleBase(len(base.unit_areas), base.area, {})
    return EligibleBase(base.headcount, Decimal(base.headcount), {})


def ballots_taken(motion: Motion) -> int:
    """Ballots taken so far on every channel, in voting units (sealed ones included): one per
    participation (online, and households listed in the room) plus the room's plain counts."""
    counted = InPersonCount.objects.filter(motion=motion, household__isnull=True).aggregate(n=Sum("count"))["n"] or 0
    return motion.participations.count() + counted


def session_motions(*, session: TopicSession, user: User, can_manage: bool) -> list[dict[str, Any]]:
    """Motions of a session for the page: drafts only for moderators; each with its tally or result."""
    motions = Motion.objects.filter(session=session).select_related("agenda_item", "resolution", "session").prefetch_related("options")
    if not can_manage:
        motions = motions.exclude(state=MotionState.DRAFT)
    out = []
    for motion in motions:
        item: dict[str, Any] = {"motion": motion_data(motion), "tally": live_tally_data(motion), "result": None}
        if motion.state == MotionState.CLOSED and hasattr(motion, "resolution"):
            item["result"] = resolution_data(motion.resolution)
        item["me"] = my_standing(motion=motion, user=user)
        out.append(item)
    return out


def my_standing(*, motion: Motion, user: User) -> dict[str, Any]:
    """This user's own position on a motion (never broadcast: per-user data)."""
    standing = voter_standing(user=user, motion=motion)
    participation = has_voted(motion=motion, user=user, standing=standing) if user.is_authenticated else None
    return {
        "can_vote": standing.eligible and motion.state == MotionState.OPEN,
        "eligible": standing.eligible,
        "reason": str(standing.reason),
        "voted": participation is not None,
        "voted_in_person": participation is not None and participation.channel == "in_person",
        "voted_by_other": participation is not None and participation.voter_id not in (None, user.pk),
        # Household mode: who of the household voted ("您家已由 X 投票"), never what.
        "voted_by_name": display_name(participation.voter)
        if participation is not None and participation.voter_id not in (None, user.pk)
        else "",
    }


def has_voted(*, motion: Motion, user: User, standing: VoterStanding | None = None) -> Participation | None:
    """The participation that counts for this user's unit (theirs or their household's).
    ``standing`` (``voter_standing``'s answer, if the caller has it) saves reading it again."""
    standing = standing or voter_standing(user=user, motion=motion)
    if standing.unit is None:
        return Participation.objects.filter(motion=motion, voter=user).first()
    return Participation.objects.filter(motion=motion, unit_key=standing.unit.unit_key).first()
