"""Casting a ballot online: one counted ballot per voting unit, idempotent, never after close.

Receipts. Each online ballot gets a random receipt (secrets.token_urlsafe, 144 bits). The
ballot row keeps only sha256(receipt), which the published result lists. A replay of the
same submission (same idempotency key) must get the same receipt back, yet the database
alone must not link the voter to the ballot. So the participation row stores:

- ``key_digest`` = sha256 of the client's idempotency key (recognizes a replay);
- ``receipt_sealed`` = the receipt XOR a pad derived from the key (only the key opens it);
- ``receipt_check`` = sha256(receipt, unit) (a change request must show this unit's receipt).

Without the client's key or receipt (both ≥128 random bits), none of these leads to a ballot.

A secret ballot is not a :class:`Ballot` row until the motion closes: it is sealed beside the
participation and mixed with the others at close (voting/secrecy.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from agora.infra.precompiled import insert
from agora.roster.names import display_name
from sessions.models import SessionState, TopicSession
from voting import rules
from voting.announce import household_voted_on_commit, tally_announce_on_commit
from voting.choices import validate_choice
from voting.closing import motion_close_due
from voting.facts import VoterFacts
from voting.models import (
    Ballot,
    BallotUnit,
    Channel,
    Motion,
    MotionKind,
    MotionOption,
    MotionState,
    Participation,
)
from voting.secrecy import sealed_ballot_change, sealed_ballot_insert

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,100}$")


def receipt_hash(receipt: str) -> str:
    return hashlib.sha256(receipt.encode()).hexdigest()


def key_digest_of(motion_id: int, key: str) -> str:
    return hashlib.sha256(f"key:{motion_id}:{key}".encode()).hexdigest()


def _pad(motion_id: int, key: str, length: int) -> bytes:
    pad = b""
    counter = 0
    while len(pad) < length:
        pad += hashlib.sha256(f"seal:{motion_id}:{counter}:{key}".encode()).digest()
        counter += 1
    return pad[:length]


def receipt_seal(motion_id: int, key: str, receipt: str) -> str:
    raw = receipt.encode()
    return bytes(a ^ b for a, b in zip(raw, _pad(motion_id, key, len(raw)), strict=True)).hex()


def receipt_unseal(motion_id: int, key: str, sealed: str) -> str:
    raw = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(raw, _pad(motion_id, key, len(raw)), strict=True)).decode()


def receipt_check_of(receipt: str, unit_key: str) -> str:
    return hashlib.sha256(f"check:{unit_key}:{receipt}".encode()).hexdigest()


@dataclass(frozen=True)
class CastResult:
    motion_id: int
    receipt: str
    receipt_hash: str
    changed: bool = False
    replayed: bool = False


def _refuse_closed(motion: Motion) -> Refused:
    if motion.closes_at is not None and motion.closes_at <= timezone.now():
        when = formats.date_format(timezone.localtime(motion.closes_at), "DATETIME_FORMAT")
        return Refused(_("Voting closed at %(time)s. Your ballot was not counted.") % {"time": when}, code="closed")
    if motion.state == MotionState.DRAFT:
        return Refused(_("Voting on this motion has not opened yet."), code="not_open")
    return Refused(_("Voting on this motion is closed. Your ballot was not counted."), code="closed")


def ballot_cast(
    *,
    motion: Motion,
    voter: User,
    choice: Any,
    idempotency_key: str,
    receipt: str | None = None,
    facts: VoterFacts | None = None,
) -> CastResult:
    """Cast (or, if the motion allows, change) a ballot. Refusals raise :class:`Refused`.

    ``receipt`` is needed only to change a secret ballot: the server cannot find it otherwise.
    ``facts`` are the voter's (voting/facts.py), if the caller has read them with the motion.
    """
    if not isinstance(idempotency_key, str) or not KEY_PATTERN.match(idempotency_key):
        raise Refused(_("The ballot could not be read. Please reload the page and vote again."), code="bad_key")
    unit, clean_choice = _voter_and_choice(motion, voter, choice, facts)
    digest = key_digest_of(motion.pk, idempotency_key)
    due = False
    try:
        try:
            return _cast_locked(motion, voter, unit, clean_choice, idempotency_key, digest, receipt)
        except IntegrityError:
            # Another submission for this unit committed between our read and our insert (the
            # motion is locked FOR SHARE, so ballots run side by side): read it and answer as
            # for any second submission — a replay gets its receipt, anything else is refused.
            return _cast_locked(motion, voter, unit, clean_choice, idempotency_key, digest, receipt)
    except _DueForClosing as due_error:
        due = True
        raise due_error.refusal from None
    except IntegrityError:
        raise Refused(_("You have already voted on this motion."), code="already_voted") from None
    finally:
        if due:
            motion_close_due(session_id=motion.session_id)


def ballot_preview(*, motion: Motion, voter: User, choice: Any) -> list[MotionOption]:
    """The options a ballot would choose, in its order, for the voter to confirm before it is
    cast (elder mode without JavaScript: voting.views.ballot_cast). Refuses as ``ballot_cast``
    would for the voter, the choice and the motion's state; casts nothing."""
    _unit, clean_choice = _voter_and_choice(motion, voter, choice, None)
    due = motion.state == MotionState.OPEN and motion.closes_at is not None and motion.closes_at <= timezone.now()
    refusal = _refuse_closed(motion) if due else _not_taking_ballots(motion, motion.room.state)
    if refusal is not None:
        raise refusal
    by_id = {o.pk: o for o in _options_of(motion)}
    return [by_id[pk] for pk in clean_choice]


def _voter_and_choice(motion: Motion, voter: User, choice: Any, facts: VoterFacts | None) -> tuple[rules.VotingUnit, list[int]]:
    """The unit this voter's ballot stands for and the choice as option ids, or a refusal."""
    standing = rules.voter_standing(user=voter, motion=motion, facts=facts)
    if standing.unit is None:
        raise NotAllowed(standing.reason, code="not_eligible")
    return standing.unit, validate_choice(motion=motion, options=_options_of(motion), choice=choice)


def _not_taking_ballots(motion: Motion, session_state: str) -> Refused | None:
    """Why no ballot is taken on this motion now (an overdue open motion is the caller's case)."""
    if motion.state != MotionState.OPEN:
        return _refuse_closed(motion)
    if session_state != SessionState.LIVE:
        return Refused(_("This session is no longer live, so no ballots are taken."), code="closed")
    return None


class _DueForClosing(Exception):
    def __init__(self, refusal: Refused) -> None:
        self.refusal = refusal


class _LockedColumns(TypedDict):
    session_state: str
    existing_id: int | None


def _lock_motion_for_ballot(motion_id: int, unit_key: str) -> WithAnnotations[Motion, _LockedColumns]:
    """The motion row, locked so that it cannot close while this ballot is being stored, with
    its session's state as ``session_state`` and this unit's participation id (or None) as
    ``existing_id``.

    On PostgreSQL the lock is shared (FOR SHARE): ballots run side by side, and closing (FOR
    UPDATE) waits for the ballots in flight and then counts them; a ballot that comes after
    the close reads the closed state. SQLite serializes writing transactions anyway.
    Plain SQL: this runs once per ballot, and the ORM would spend more building it than the
    database spends running it.
    """
    qn = connection.ops.quote_name
    motion, session = qn(Motion._meta.db_table), qn(TopicSession._meta.db_table)
    participation = qn(Participation._meta.db_table)
    lock = f" FOR SHARE OF {motion}" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT {motion}.*, {session}.state AS session_state, p.id AS existing_id FROM {motion} "  # noqa: S608 (model table names)
        f"JOIN {session} ON {session}.id = {motion}.session_id "
        f"LEFT JOIN {participation} p ON p.motion_id = {motion}.id AND p.unit_key = %s "
        f"WHERE {motion}.id = %s{lock}"
    )
    # raw() adds the two selected columns as attributes, which the ORM's types cannot see.
    return cast("WithAnnotations[Motion, _LockedColumns]", Motion.objects.raw(sql, [unit_key, motion_id])[0])


# Per motion: its options. A motion's options are written once, with the motion
# (voting.services.motion_create), and never changed (the admin shows them read-only). The key
# is the motion's id with the instant it was created: an id given again (a rolled-back
# transaction, a test database emptied between tests) belongs to a motion created at another
# instant, so it never finds the options of the one before.
_OPTIONS: dict[tuple[str, int, datetime], list[MotionOption]] = {}
_OPTIONS_KEPT = 256


def _options_of(motion: Motion) -> list[MotionOption]:
    key = (connection.alias, motion.pk, motion.created_at)
    options = _OPTIONS.get(key)
    if options is None:
        options = list(MotionOption.objects.filter(motion_id=motion.pk).order_by("position"))
        if len(_OPTIONS) >= _OPTIONS_KEPT:
            _OPTIONS.clear()
        _OPTIONS[key] = options
    return options


def _cast_locked(
    motion: Motion, voter: User, unit: rules.VotingUnit, clean_choice: list[int], idempotency_key: str, digest: str, receipt: str | None
) -> CastResult:
    with transaction.atomic():
        locked = _lock_motion_for_ballot(motion.pk, unit.unit_key)
        if locked.state == MotionState.OPEN and locked.closes_at is not None and locked.closes_at <= timezone.now():
            raise _DueForClosing(_refuse_closed(locked))
        refusal = _not_taking_ballots(locked, locked.session_state)
        if refusal is not None:
            raise refusal
        if locked.existing_id is None:
            result = _cast_new(locked, voter, unit, clean_choice, idempotency_key, digest)
        else:
            existing = Participation.objects.get(pk=locked.existing_id)
            result = _cast_again(locked, voter, unit, existing, clean_choice, idempotency_key, digest, receipt)
        if not result.replayed:
            tally_announce_on_commit(motion_id=locked.pk, session_id=locked.room_id)
            if locked.existing_id is None and locked.ballot_unit == BallotUnit.HOUSEHOLD:
                household_voted_on_commit(
                    motion_id=locked.pk,
                    session_id=locked.room_id,
                    household_id=unit.household.pk,
                    voter_id=voter.pk,
                    voter_name=display_name(voter),
                )
        return result


def _cast_new(locked: Motion, voter: User, unit: rules.VotingUnit, choice: list[int], key: str, digest: str) -> CastResult:
    receipt = secrets.token_urlsafe(18)
    hashed = receipt_hash(receipt)
    ballot = None
    if locked.secret:
        # Sealed until close, then mixed (voting/secrecy.py): nothing written here ties to it.
        sealed_ballot_insert(motion_id=locked.pk, choice=choice, weight=unit.weight, area=unit.area, receipt=receipt, receipt_hash=hashed)
    else:
        ballot = Ballot(motion=locked, choice=choice, weight=unit.weight, area=unit.area, receipt_hash=hashed)
        insert(ballot)
    participation = Participation(
        motion=locked,
        unit_key=unit.unit_key,
        channel=Channel.ONLINE,
        voter=voter,
        household=unit.household,
        ballot=ballot,
        key_digest=digest,
        receipt_sealed=receipt_seal(locked.pk, key, receipt),
        receipt_check=receipt_check_of(receipt, unit.unit_key),
    )
    insert(participation)
    return CastResult(locked.pk, receipt, hashed)


def _cast_again(
    locked: Motion,
    voter: User,
    unit: rules.VotingUnit,
    existing: Participation,
    choice: list[int],
    key: str,
    digest: str,
    receipt: str | None,
) -> CastResult:
    if existing.channel == Channel.IN_PERSON:
        raise Refused(_("Your household has already voted in the room, so it cannot also vote online."), code="voted_in_person")
    if existing.key_digest == digest:
        original = receipt_unseal(locked.pk, key, existing.receipt_sealed)
        return CastResult(locked.pk, original, receipt_hash(original), replayed=True)
    if existing.voter_id != voter.pk:
        if locked.kind == MotionKind.ART278:
            raise Refused(_("This owner's units have already voted on this motion."), code="already_voted")
        if locked.ballot_unit == BallotUnit.HOUSEHOLD:
            raise Refused(_("Someone in your household has already voted on this motion (one ballot per household)."), code="already_voted")
    if not locked.allow_change:
        raise Refused(_("You have already voted, and this motion does not allow changing a ballot."), code="already_voted")
    # The ballot is found through the voter's own receipt (a secret ballot has no other way).
    if not receipt or receipt_check_of(receipt, unit.unit_key) != existing.receipt_check:
        raise Refused(
            _("To change your ballot, use the device you first voted from: it keeps your receipt."),
            code="receipt_needed",
        )
    original = receipt
    if not (locked.secret and sealed_ballot_change(motion_id=locked.pk, receipt=receipt, choice=choice)):
        # An open ballot, or a secret one stored in plain before ballots were sealed.
        ballot = Ballot.objects.filter(motion=locked, receipt_hash=receipt_hash(receipt)).first()
        if ballot is None:
            raise Refused(_("Your earlier ballot could not be found. Please contact the moderator."), code="not_found")
        ballot.choice = choice
        ballot.save(update_fields=["choice"])
    existing.changes += 1
    existing.key_digest = digest
    existing.receipt_sealed = receipt_seal(locked.pk, key, original)
    existing.save(update_fields=["changes", "key_digest", "receipt_sealed"])
    return CastResult(locked.pk, original, receipt_hash(original), changed=True)
