"""Writes for motions: draft, open, close, in-person counts. Ballots live in voting/ballots.py.

Every transition locks the motion row (select_for_update; on SQLite the IMMEDIATE
transaction serializes writers) and re-reads the state, so racing requests see one
outcome. Events are announced only after commit (sessions.events.announce).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from agora.infra.sanitize import clean_plain_text
from agora.roster.audit import audit_record
from agora.roster.models import Household
from agora.roster.names import display_name
from sessions.events import announce, live_event
from sessions.models import AgendaItem, SessionState, TopicSession
from voting import rules, selectors
from voting.announce import auto_close_schedule, tally_announce_on_commit
from voting.choices import validate_choice
from voting.closing import close_locked
from voting.counting.draw import DRAW_VERSION, draw_pick, draw_seed
from voting.models import (
    BallotUnit,
    Base,
    Channel,
    Decision,
    Eligibility,
    InPersonCount,
    Motion,
    MotionKind,
    MotionOption,
    MotionState,
    Participation,
    Resolution,
    Threshold,
    UnitMode,
    WeightMode,
)
from voting.results import ranked_redraw
from voting.secrecy import sealed_in_person_insert

CODED_OPTIONS = [("yes", "Yes"), ("no", "No"), ("abstain", "Abstain")]
MAX_OPTIONS = 20


def _require_manager(*, user: User, session: TopicSession) -> None:
    if not rules.can_manage_motions(user=user, session=session):
        raise NotAllowed(_("Only a moderator of this community can do that."))


@dataclass(frozen=True)
class MotionSettings:
    kind: str = MotionKind.APPROVE_REJECT
    eligibility: str = Eligibility.AUDIENCE
    ballot_unit: str = BallotUnit.PERSON
    weight_mode: str = WeightMode.EQUAL
    base: str = Base.YES_NO
    threshold: str = Threshold.MORE_THAN_HALF
    quorum_percent: int | None = None  # a whole percentage (kept for callers); or:
    quorum: Fraction | None = None  # the exact share of the eligible that must take part (2/3)
    major_matter: bool = False
    secret: bool = True
    allow_change: bool = True
    results_live: bool = False
    max_choices: int | None = None
    closes_at: datetime | None = None
    options: Sequence[str] = field(default_factory=tuple)


def _clean_options(settings: MotionSettings) -> list[tuple[str, str]]:
    if settings.kind in {MotionKind.APPROVE_REJECT, MotionKind.ART278}:
        return list(CODED_OPTIONS)
    labels = [clean_plain_text(o)[:120] for o in settings.options]
    labels = [label for label in labels if label]
    if len(labels) < 2:
        raise Refused(_("A motion of this kind needs at least two options."), code="invalid")
    if len(labels) > MAX_OPTIONS:
        raise Refused(_("A motion can have at most %(n)d options.") % {"n": MAX_OPTIONS}, code="invalid")
    if len(set(labels)) != len(labels):
        raise Refused(_("Two options have the same text."), code="invalid")
    return [("", label) for label in labels]


def _check_settings(settings: MotionSettings) -> None:
    enums = [
        (settings.kind, MotionKind),
        (settings.eligibility, Eligibility),
        (settings.ballot_unit, BallotUnit),
        (settings.weight_mode, WeightMode),
        (settings.base, Base),
        (settings.threshold, Threshold),
    ]
    if any(value not in enum.values for value, enum in enums):
        raise Refused(_("A setting of the motion is not valid."), code="invalid")
    quorum = _quorum_of(settings)
    if quorum is not None and not 0 < quorum <= 1:
        raise Refused(_("The quorum must be more than 0 and at most all of the eligible (for example 1/2, 2/3 or 60%)."), code="invalid")
    if settings.weight_mode == WeightMode.AREA and settings.ballot_unit != BallotUnit.HOUSEHOLD:
        raise Refused(_("Weighting by floor area needs one ballot per household."), code="invalid")
    if settings.closes_at is not None and settings.closes_at <= timezone.now():
        raise Refused(_("The closing time must be in the future."), code="invalid")
    if settings.kind == MotionKind.APPROVAL and settings.max_choices is not None and not 1 <= settings.max_choices <= len(settings.options):
        raise Refused(_("The most choices allowed must be between 1 and the number of options."), code="invalid")


def _quorum_of(settings: MotionSettings) -> Fraction | None:
    if settings.quorum is not None:
        return Fraction(settings.quorum)
    return Fraction(settings.quorum_percent, 100) if settings.quorum_percent is not None else None


def motion_create(
    *,
    session: TopicSession,
    by: User,
    text: str,
    description: str = "",
    agenda_item: AgendaItem | None = None,
    settings: MotionSettings | None = None,
) -> Motion:
    """Draft a motion (before or during the session). Residents see it only once opened."""
    _require_manager(user=by, session=session)
    settings = settings or MotionSettings()
    if session.state in {SessionState.ADJOURNED, SessionState.ARCHIVED}:
        raise Refused(_("This session has ended: no new motions."), code="ended")
    text = clean_plain_text(text)[:300]
    if not text:
        raise Refused(_("A motion needs a text."), code="invalid")
    _check_settings(settings)
    options = _clean_options(settings)
    # Motions belong to the agenda item under discussion unless the moderator chose one.
    agenda_item = agenda_item or getattr(session, "current_agenda_item", None)
    if agenda_item is not None and agenda_item.session_id != session.pk:
        raise Refused(_("That agenda item belongs to another session."), code="invalid")
    art278 = settings.kind == MotionKind.ART278
    quorum = None if art278 else _quorum_of(settings)
    with transaction.atomic():
        motion = Motion.objects.create(
            session=session,
            agenda_item=agenda_item,
            text=text,
            description=clean_plain_text(description)[:2000],
            kind=settings.kind,
            eligibility=Eligibility.OWNERS if art278 else settings.eligibility,
            ballot_unit=BallotUnit.HOUSEHOLD if art278 else settings.ballot_unit,
            weight_mode=WeightMode.EQUAL if art278 else settings.weight_mode,
            base=settings.base,
            threshold=settings.threshold,
            quorum_numerator=quorum.numerator if quorum is not None else None,
            quorum_denominator=quorum.denominator if quorum is not None else None,
            major_matter=settings.major_matter if art278 else False,
            secret=settings.secret,
            allow_change=settings.allow_change,
            results_live=settings.results_live,
            max_choices=settings.max_choices if settings.kind == MotionKind.APPROVAL else None,
            closes_at=settings.closes_at,
            created_by=by,
        )
        MotionOption.objects.bulk_create(
            MotionOption(motion=motion, position=i, code=code, label=label) for i, (code, label) in enumerate(options, 1)
        )
        _announce_motion(motion, kind="motion.drafted", audience="moderators")
    return motion


def matter_create(
    *, decision: Decision, text: str, description: str = "", settings: MotionSettings | None = None, position: int, by: User
) -> Motion:
    """A matter (事项) of an owners' decision: a motion with ``decision`` set, checked and given
    its options as any motion is (voting/decisions/lifecycle.py creates them with the decision).
    Its ballots are the decision's (one per unit, never changed: voting/decisions/ballots.py);
    secrecy and showing counts while open are the decision's settings."""
    settings = settings or MotionSettings()
    text = clean_plain_text(text)[:300]
    if not text:
        raise Refused(_("Every matter needs a text."), code="invalid")
    if settings.closes_at is not None:
        raise Refused(_("A matter closes with its decision."), code="invalid")
    _check_settings(settings)
    options = _clean_options(settings)
    art278 = settings.kind == MotionKind.ART278
    area = settings.weight_mode == WeightMode.AREA
    if art278 and decision.unit_mode != UnitMode.OWNER:
        raise Refused(_("An Art. 278 matter counts owners: choose one ballot per owner for this decision."), code="invalid")
    quorum = None if art278 else _quorum_of(settings)
    motion = Motion.objects.create(
        decision=decision,
        position=position,
        text=text,
        description=clean_plain_text(description)[:2000],
        kind=settings.kind,
        eligibility=Eligibility.OWNERS,
        ballot_unit=BallotUnit.HOUSEHOLD,
        weight_mode=WeightMode.AREA if area and not art278 else WeightMode.EQUAL,
        base=settings.base,
        threshold=settings.threshold,
        quorum_numerator=quorum.numerator if quorum is not None else None,
        quorum_denominator=quorum.denominator if quorum is not None else None,
        major_matter=settings.major_matter if art278 else False,
        secret=decision.secret,
        allow_change=False,
        results_live=decision.results_live,
        max_choices=settings.max_choices if settings.kind == MotionKind.APPROVAL else None,
        created_by=by,
    )
    MotionOption.objects.bulk_create(
        MotionOption(motion=motion, position=i, code=code, label=label) for i, (code, label) in enumerate(options, 1)
    )
    return motion


def motion_discard(*, motion: Motion, by: User) -> None:
    """Delete a draft that was never opened."""
    _require_manager(user=by, session=motion.room)
    with transaction.atomic():
        locked = Motion.objects.select_for_update().get(pk=motion.pk)
        if locked.state != MotionState.DRAFT:
            raise Refused(_("Only a draft can be deleted; this motion has been opened."), code="not_draft")
        announce(locked.room_id, live_event(kind="motion.discarded", payload={"motion_id": locked.pk}, audience="moderators"))
        locked.delete()


def motion_open(*, motion: Motion, by: User, closes_at: datetime | None = None) -> Motion:
    _require_manager(user=by, session=motion.room)
    if closes_at is not None and closes_at <= timezone.now():
        raise Refused(_("The closing time must be in the future."), code="invalid")
    with transaction.atomic():
        locked = Motion.objects.select_for_update(of=("self",)).select_related("session").get(pk=motion.pk)
        if locked.state != MotionState.DRAFT:
            raise Refused(_("This motion is already open or closed."), code="not_draft")
        if locked.room.state != SessionState.LIVE:
            raise Refused(_("Voting can only be opened while the session is live."), code="not_live")
        if closes_at is not None:
            locked.closes_at = closes_at
        if locked.closes_at is not None and locked.closes_at <= timezone.now():
            raise Refused(_("The closing time must be in the future."), code="invalid")
        locked.state = MotionState.OPEN
        locked.opened_at = timezone.now()
        locked.opened_by = by
        locked.save(update_fields=["state", "opened_at", "opened_by", "closes_at"])
        _announce_motion(locked, kind="motion.opened", audience="all")
        audit_record(kind="motion.opened", community=locked.room.community_id, actor=by, session_id=locked.room_id, motion_id=locked.pk)
        if locked.closes_at is not None:
            auto_close_schedule(motion_id=locked.pk, at=locked.closes_at)  # stored in this transaction
    return locked


def motion_close(*, motion: Motion, by: User) -> Resolution:
    """Close by hand. The result is computed once, in the same transaction."""
    _require_manager(user=by, session=motion.room)
    with transaction.atomic():
        locked = Motion.objects.select_for_update().get(pk=motion.pk)
        if locked.state == MotionState.CLOSED:
            raise Refused(_("Voting on this motion is already closed."), code="closed")
        if locked.state != MotionState.OPEN:
            raise Refused(_("This motion has not been opened yet."), code="not_open")
        now = timezone.now()
        closes_at = locked.closes_at
        if closes_at is not None and closes_at <= now:  # already due: closed at its set time, by no one
            return close_locked(locked, by=None, at=closes_at)
        return close_locked(locked, by=by, at=now)


DRAWABLE_KINDS = {MotionKind.SINGLE, MotionKind.APPROVAL, MotionKind.RANKED}


def motion_tie_draw(*, motion: Motion, by: User, public_value: str) -> Resolution:
    """Resolve a tie that decides the winner by a recorded public draw (docs/voting.md,
    "Breaking a tie by a public draw"): the seed is SHA-256 over the motion id, the tied
    options and ``public_value`` (entered by the moderator, e.g. witnesses' numbers); anyone can
    recompute the pick. Recorded in the resolution and the audit log; once per resolution."""
    _require_manager(user=by, session=motion.room)
    value = clean_plain_text(public_value or "").strip()[:200]
    if not value:
        raise Refused(_("Enter the public value for the draw (for example numbers called out by witnesses)."), code="invalid")
    with transaction.atomic():
        locked = Motion.objects.select_for_update(of=("self",)).select_related("session").get(pk=motion.pk)
        resolution = Resolution.objects.select_for_update().filter(motion=locked).first()
        if resolution is None or resolution.outcome != "tie" or "draw" in resolution.data:
            raise Refused(_("Only a tied result that has not been drawn yet can be decided by a draw."), code="not_tied")
        if locked.kind not in DRAWABLE_KINDS or not resolution.data.get("tied"):
            raise Refused(
                _("A draw can only decide between tied options of a choice vote; for this vote, hold a new vote."), code="not_drawable"
            )
        tied = [str(o) for o in resolution.data["tied"]]
        seed = draw_seed(motion_id=locked.pk, tied=tied, public_value=value)
        data = dict(resolution.data)
        draw: dict[str, object] = {"version": DRAW_VERSION, "public_value": value, "seed": seed, "tied": resolution.data["tied"]}
        if locked.kind == MotionKind.RANKED:
            winner, rounds = ranked_redraw(motion=locked, seed=seed)
            draw["rounds"] = rounds
        else:
            winner = int(draw_pick(seed, tied, step=1))
        now = timezone.now()
        draw.update(winner=winner, by=display_name(by), at=now.isoformat())
        data.update(draw=draw, outcome="winner", winner=winner)
        resolution.data = data
        resolution.outcome = "winner"
        resolution.save(update_fields=["data", "outcome"])
        audit_record(
            kind="motion.tie_drawn",
            community=locked.room.community_id,
            actor=by,
            session_id=locked.session_id,
            motion_id=locked.pk,
            public_value=value,
            seed=seed,
            winner=winner,
        )
        announce(
            locked.room_id,
            live_event(
                kind="motion.closed",
                payload={"motion_id": locked.pk, "outcome": "winner", "tally": selectors.tally_payload(data)},
                template="voting/partials/_motion.html",
                context={"motion": selectors.motion_data(locked), "result": selectors.resolution_data(resolution), "tally": None},
            ),
        )
    return resolution


@dataclass(frozen=True)
class InPersonEntry:
    """Ballots counted in the room for one choice: a count, or (household mode) the households."""

    choice: list[int]
    count: int = 0
    households: Sequence[Household] = ()


def in_person_count_enter(*, motion: Motion, by: User, entries: Sequence[InPersonEntry]) -> list[InPersonCount]:
    """Record in-person ballots; who entered them is kept. All or nothing."""
    _require_manager(user=by, session=motion.room)
    if not entries:
        raise Refused(_("Enter at least one count."), code="invalid")
    by_household = motion.ballot_unit == BallotUnit.HOUSEHOLD or motion.kind == MotionKind.ART278
    options = list(motion.options.all())
    with transaction.atomic():
        locked = Motion.objects.select_for_update(of=("self",)).select_related("session").get(pk=motion.pk)
        if locked.state != MotionState.OPEN:
            raise Refused(_("In-person counts can only be entered while voting is open."), code="not_open")
        rows: list[InPersonCount] = []
        for entry in entries:
            choice = validate_choice(motion=locked, options=options, choice=entry.choice)
            if by_household:
                rows.extend(_household_rows(locked, by, choice, entry.households))
            else:
                if entry.households:
                    raise Refused(_("In this vote, in-person ballots are entered as counts."), code="invalid")
                if entry.count < 1:
                    raise Refused(_("A count must be a whole number of at least 1."), code="invalid")
                rows.append(InPersonCount(motion=locked, choice=choice, count=entry.count, entered_by=by))
        if not by_household:
            _check_room_count(locked, sum(row.count for row in rows))
        if locked.secret and by_household:
            # Named households of a secret vote: sealed until close (voting/secrecy.py).
            sealed_in_person_insert(motion=locked, rows=rows)
            created = rows
        else:
            created = InPersonCount.objects.bulk_create(rows)
        audit_record(
            kind="motion.in_person",
            community=locked.room.community_id,
            actor=by,
            session_id=locked.session_id,
            motion_id=locked.pk,
            ballots=sum(row.count for row in rows),
        )
    tally_announce_on_commit(motion_id=motion.pk, session_id=motion.room_id)
    return created


def _check_room_count(locked: Motion, new: int) -> None:
    """The room's counts (one ballot per person) can never take the ballots of every channel
    above the eligible base: the base never grows because of a count."""
    base = selectors.eligible_base(locked).headcount
    taken = selectors.ballots_taken(locked)
    if taken + new > base:
        raise Refused(
            _(
                "%(new)d ballots from the room and %(taken)d already taken would be more than the %(base)d "
                "people eligible to vote. Nothing was recorded; please count again."
            )
            % {"new": new, "taken": taken, "base": base},
            code="too_many",
        )


def _household_rows(locked: Motion, by: User, choice: list[int], households: Sequence[Household]) -> list[InPersonCount]:
    if not households:
        raise Refused(_("In household votes, list the households that voted in the room."), code="invalid")
    community_id = locked.room.community_id
    art278 = locked.kind == MotionKind.ART278
    eligible = None if art278 else rules.eligible_households(locked)
    rows = []
    taken = []
    for household in households:
        if household.building.community_id != community_id:
            raise Refused(_("A listed household is not in this community."), code="invalid")
        # The unit rule of an online ballot (voting.rules.unit_of): a unit with no floor area on
        # record has no vote where area counts; eligible_households is the base's and the ballot's rule.
        area = rules.owner_area(community_id=community_id, owner_key=rules.owner_key_of(household)) if art278 else None
        unit = rules.unit_of(motion=locked, household=household, user_id=None, owner_area=area)
        if unit is None:
            raise Refused(
                _(
                    "%(household)s has no floor area on record, so it cannot vote in this vote. Nothing was recorded; please ask the residents' committee to enter its area."
                )
                % {"household": household},
                code="no_area",
            )
        if eligible is not None and household.pk not in eligible:
            raise Refused(
                _("No one in %(household)s may vote on this motion. Nothing was recorded.") % {"household": household},
                code="not_eligible",
            )
        unit_key, weight = unit.unit_key, unit.weight
        if Participation.objects.filter(motion=locked, unit_key=unit_key).exists():
            taken.append(str(household))
            continue
        Participation.objects.create(motion=locked, unit_key=unit_key, channel=Channel.IN_PERSON, household=household)
        rows.append(InPersonCount(motion=locked, choice=choice, count=1, weight=weight, area=unit.area, household=household, entered_by=by))
    if taken:
        raise Refused(
            _("These households have already voted (online or in the room): %(list)s. Nothing was recorded.") % {"list": "、".join(taken)},
            code="already_voted",
        )
    return rows


def _announce_motion(motion: Motion, *, kind: str, audience: str) -> None:
    announce(
        motion.room_id,
        live_event(
            kind=kind,
            payload={"motion_id": motion.pk, "state": motion.state},
            template="voting/partials/_motion.html",
            context={"motion": selectors.motion_data(motion), "tally": selectors.live_tally_data(motion)},
            audience=audience,
        ),
    )
