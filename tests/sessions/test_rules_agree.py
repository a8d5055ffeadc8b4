"""The session rules (sessions/rules.py) over every kind of person and every state: what each
kind may do in a live session (a table), and every way the facts are read agrees — the one
query (``session_facts``: pages, the live connect), the voting facts (a ballot), the batch
re-check of the live room (``live_recheck``) and the roster's cached role (``can_moderate``)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from sessions import rules
from sessions.admission import live_admission, live_recheck
from sessions.models import SessionState, TopicSession
from tests.factories import World
from tests.rules_people import every_kind_of_person, mark_participants
from tests.voting.helpers import open_motion
from voting.facts import motion_with_facts

pytestmark = pytest.mark.django_db

# A live session for car owners. Columns: views, follows, joins live, posts, attends; role in the room.
LIVE_TABLE: dict[str, tuple[str, str | None]] = {
    "owner": ("VFJPA", "resident"),
    "owner2": ("VFJPA", "resident"),
    "tenant": ("VFJPA", "resident"),
    "household member": ("VFJPA", "resident"),
    "resident outside the audience": ("", None),
    "unverified": ("VFJPA", "resident"),  # verification matters for voting, not for taking part
    "no floor area": ("VFJPA", "resident"),
    "invited observer": ("VFJP", "observer"),
    "observer resident": ("VFJPA", "observer"),
    "grid worker": ("", None),  # community staff: follows a session only when invited, as an observer
    "invited grid worker": ("VFJP", "observer"),
    "grid worker resident": ("VFJPA", "resident"),  # lives here: takes part as a resident
    "moderator": ("VFJP", "moderator"),
    "moderator resident": ("VFJPA", "moderator"),
    "district admin": ("VFJP", "moderator"),
    "other community's resident": ("", None),
    "other community's moderator": ("", None),
    "non-member": ("", None),
    "inactive resident": ("", None),
    "inactive moderator": ("", None),
    "inactive district admin": ("", None),
    "muted resident": ("VFJA", "resident"),
    "removed resident": ("VA", None),  # sees that the session exists, may not follow it while it runs
    "removed observer": ("V", None),
    "anonymous": ("", None),
}


def _letters(f: rules.SessionFacts) -> str:
    checks = (("V", rules.views), ("F", rules.follows), ("J", rules.joins_live), ("P", rules.posts), ("A", rules.attends))
    return "".join(letter for letter, rule in checks if rule(f))


def test_what_every_kind_of_person_may_do_in_a_live_session(world: World) -> None:
    people = every_kind_of_person(world)
    mark_participants(world.session, people)
    assert set(people) == set(LIVE_TABLE)
    for name, user in people.items():
        facts = rules.session_facts(user=user, session_id=world.session.pk)
        assert facts is not None
        letters, room_role = LIVE_TABLE[name]
        assert _letters(facts) == letters, name
        # The named predicates say the same for the user and the session in hand.
        named = (rules.can_view, rules.can_follow, rules.can_join_live, rules.can_post, rules.can_attend)
        assert "".join(letter for letter, can in zip("VFJPA", named, strict=True) if can(user=user, session=world.session)) == letters, name
        admission = live_admission(user=user, session_id=world.session.pk)
        assert (admission.role if admission else None) == room_role, name


def _without(f: rules.SessionFacts, *fields: str) -> rules.SessionFacts:
    from dataclasses import replace

    return replace(f, **{field: getattr(rules.anonymous_facts(session_id=0, community_id=0, state=""), field) for field in fields})


def test_every_loader_reads_the_same_facts_in_every_state(world: World) -> None:
    people = every_kind_of_person(world)
    motion = open_motion(world.session, world.moderator)
    session = world.session
    authenticated = {name: user for name, user in people.items() if user.is_authenticated}
    checked = 0
    for state, audience, marked in itertools.product(SessionState.values, ([], [world.car_owner]), (False, True)):
        TopicSession.objects.filter(pk=session.pk).update(state=state)
        session.refresh_from_db()
        session.audience_tags.set(audience)
        if marked:
            mark_participants(session, people)
        else:
            session.participants.all().delete()
        batch = live_recheck(session_id=session.pk, user_ids={u.pk for u in authenticated.values()})
        for name, user in people.items():
            where = (name, state, bool(audience), marked)
            if user.is_authenticated:
                user.__dict__.pop("_agora_roles", None)  # community_role's per-object cache
            one = rules.session_facts(user=user, session_id=session.pk)
            assert one is not None and one.state == state
            found = motion_with_facts(user=user, session_id=session.pk, motion_id=motion.pk)
            assert found is not None
            assert _without(found[1].session, "building") == _without(one, "building"), where
            assert rules.can_moderate(user=user, session=session) == rules.moderates(one), where
            admitted = live_admission(user=user, session_id=session.pk)
            assert (admitted is not None) == rules.joins_live(one), where
            if user.is_authenticated:
                again = batch[user.pk].admission
                assert (again is None) == (admitted is None), where
                if again is not None and admitted is not None:
                    assert (again.role, again.can_moderate) == (admitted.role, admitted.can_moderate), where
            checked += 1
    assert checked == len(SessionState.values) * 2 * 2 * len(people)


def test_drafts_are_the_moderators_and_posting_ends_with_the_meeting(world: World) -> None:
    people = every_kind_of_person(world)
    mark_participants(world.session, people)
    for state in SessionState.values:
        TopicSession.objects.filter(pk=world.session.pk).update(state=state)
        for name, user in people.items():
            facts = rules.session_facts(user=user, session_id=world.session.pk)
            assert facts is not None
            letters, room_role = LIVE_TABLE[name]
            if state == SessionState.DRAFT:
                assert rules.views(facts) == (room_role == "moderator"), (name, state)
            else:
                assert rules.views(facts) == ("V" in letters), (name, state)
            if state in (SessionState.ADJOURNED, SessionState.ARCHIVED):
                assert not rules.posts(facts) and not rules.attends(facts), (name, state)
                # Once it has ended, a removed person reads it like everyone who sees it.
                assert rules.follows(facts) == rules.views(facts), (name, state)


def test_an_anonymous_person_is_answered_without_reading_the_person(world: World) -> None:
    facts = rules.session_facts(user=AnonymousUser(), session_id=world.session.pk)
    assert facts is not None and not facts.authenticated and facts.state == SessionState.LIVE
    assert rules.session_facts(user=AnonymousUser(), session_id=10**9) is None
    assert rules.session_facts(user=world.resident, session_id=10**9) is None
