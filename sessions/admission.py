"""Who may open a session's live connection, decided from one query.

The rule is ``sessions.rules.joins_live`` (and ``room_role`` for the role in the room), over
the facts ``sessions.rules.session_facts`` reads in one query compiled once per process.
Evaluated one ORM predicate at a time the same facts cost ~13 queries per connect, and a
2,000-person connect storm pays that 2,000 times (docs/performance.md, "Live sessions").
``live_recheck`` reads the same facts for many people at once, as sets.
tests/sessions/test_admission.py and tests/sessions/test_rules_agree.py check that the ways agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agora.roster.models import Membership, Resident
from agora.roster.roles import AnyUser
from sessions import rules
from sessions.models import Participant, TopicSession
from sessions.rules import SessionFacts

if TYPE_CHECKING:
    from django.db.models import Model


@dataclass(frozen=True)
class Admission:
    """The outcome for an admitted person: their role in the room and their building."""

    session_id: int
    community_id: int
    state: str
    role: str  # "moderator", "observer" or "resident"
    can_moderate: bool
    building: str


def live_admission(*, user: AnyUser, session_id: int) -> Admission | None:
    """The person's admission to the live session, or None if ``rules.joins_live`` refuses."""
    if not user.is_authenticated:
        return None  # joining needs the audience, an invitation or moderation, all need an account
    facts = rules.session_facts(user=user, session_id=session_id)
    if facts is None:
        return None
    return admission_of(facts)


def admission_of(facts: SessionFacts) -> Admission | None:
    """``live_admission`` over facts already read (one person's, or a batch's: ``live_recheck``)."""
    if not rules.joins_live(facts):
        return None
    return Admission(facts.session_id, facts.community_id, facts.state, rules.room_role(facts), rules.moderates(facts), facts.building)


@dataclass(frozen=True)
class Recheck:
    """One person's standing now, for the connections a process holds (``live_recheck``)."""

    admission: Admission | None
    removed: bool
    password: str  # the password hash stored now: changed since the connect = signed in again?


RECHECK_BATCH = 500  # ids per statement (SQLite's bound-parameter limit, and a bounded IN list)


def live_recheck(*, session_id: int, user_ids: set[int]) -> dict[int, Recheck]:
    """The live admission of many people to one session: the same rules as ``live_admission``
    (``admission_of``), over facts read as sets (a few plain statements per 500 people,
    whatever their number: ~10 ms for 1,000 people on PostgreSQL, docs/decisions.md).

    A process re-reads it every second or so for the people it holds connections for
    (sessions/live/fanout.py): a removal, an audience change, a lost invitation or a changed
    password closes their connections without waiting for the channel layer. A person missing
    from the answer no longer exists.
    """
    from django.contrib.auth import get_user_model

    session = TopicSession.objects.filter(pk=session_id).values_list("community_id", "state").first()
    if session is None:
        return {}
    community_id, state = session
    tag_ids = list(TopicSession.audience_tags.through.objects.filter(topicsession_id=session_id).values_list("tag_id", flat=True))
    answer: dict[int, Recheck] = {}
    ids = sorted(int(pk) for pk in user_ids)
    User = get_user_model()
    pk_column = User._meta.pk.column
    assert pk_column is not None  # a concrete primary key has a column
    for start in range(0, len(ids), RECHECK_BATCH):
        # The ids are written into the statements as integers: binding 500 parameters in each of
        # five statements cost ~45 ms of CPU per 1,000 people, the rest of the check ~5 ms.
        batch = ",".join(str(pk) for pk in ids[start : start + RECHECK_BATCH])

        def among(model: type[Model], column: str = "user_id", *, batch: str = batch) -> list[str]:
            return [f"{model._meta.db_table}.{column} IN ({batch})"]

        users = User.objects.extra(where=among(User, pk_column)).values_list("pk", "is_active", "is_superuser", "password")
        roles = dict(Membership.objects.filter(community_id=community_id).extra(where=among(Membership)).values_list("user_id", "role"))
        residents = set(Resident.objects.filter(community_id=community_id).extra(where=among(Resident)).values_list("user_id", flat=True))
        tagged: set[int] = set()
        if tag_ids and residents:
            tagged = set(
                Resident.tags.through.objects.filter(resident__community_id=community_id, tag_id__in=tag_ids)
                .extra(where=among(Resident))
                .values_list("resident__user_id", flat=True)
            )
        invited = set(TopicSession.observers.through.objects.filter(topicsession_id=session_id).values_list("user_id", flat=True))
        removed = set(Participant.objects.filter(session_id=session_id, removed=True).values_list("user_id", flat=True))
        for pk, is_active, is_superuser, password in users:
            facts = SessionFacts(
                session_id=session_id,
                community_id=community_id,
                state=state,
                authenticated=True,
                active=bool(is_active),
                superuser=bool(is_superuser),
                membership_role=roles.get(pk),
                is_resident=pk in residents,
                building="",
                audience_open=not tag_ids,
                tag_match=pk in tagged,
                invited=pk in invited,
                removed=pk in removed,
                muted=False,  # not read: muting does not close a connection
            )
            answer[pk] = Recheck(admission=admission_of(facts), removed=pk in removed, password=password)
    return answer
