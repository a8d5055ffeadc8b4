"""The owner's own ballot, online or in the meeting room: who the ballot stands for, then the one
path of every channel (``vote_record``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from sessions.models import SessionState, TopicSession
from voting.decisions.ballots import RecordedVote, vote_record
from voting.models import Channel, Decision
from voting.units import DecisionUnit, area_refusal, needs_area, unit_of_user


def owner_unit(*, decision: Decision, user: User) -> DecisionUnit:
    """The unit the user's own ballot stands for, or ``NotAllowed`` with why not (not an owner,
    not verified, building not in scope), or ``Refused`` for a unit without area on record in a
    decision that counts area."""
    unit, reason = unit_of_user(decision, user.pk)
    if unit is None:
        raise NotAllowed(reason, code="not_owner")
    if not unit.has_area and needs_area(decision):
        raise Refused(area_refusal(unit), code="no_area")
    return unit


def room_of(*, decision: Decision, session_id: int) -> TopicSession:
    """The live session, linked to the decision, where a ballot cast in the room is taken."""
    session = decision.sessions.filter(pk=session_id).first()
    if session is None:
        raise Refused(_("This meeting is not one where this decision is voted on."), code="not_room")
    if session.state != SessionState.LIVE:
        raise Refused(_("The meeting is not live, so no ballot is taken in the room. You can still vote online."), code="not_live")
    return session


def owner_ballot_cast(
    *, decision: Decision, user: User, choices: Mapping[int, Any], idempotency_key: str, room_id: int | None = None
) -> RecordedVote:
    """The owner's ballot: online, or in the room of a live linked session. The same form sent
    again (same key) gets the same receipt back."""
    unit = owner_unit(decision=decision, user=user)
    channel = Channel.ONLINE
    if room_id is not None:
        room_of(decision=decision, session_id=room_id)
        channel = Channel.IN_PERSON
    return vote_record(decision=decision, unit=unit, choices=choices, channel=channel, voter=user, idempotency_key=idempotency_key)
