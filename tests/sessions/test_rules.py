"""Permission predicates for topic sessions, one table per predicate."""

from __future__ import annotations

import pytest

from sessions import rules
from sessions.models import Participant, SessionState
from tests.factories import World

pytestmark = pytest.mark.django_db

WHO = ["moderator", "observer", "resident", "resident2", "outsider", "other_resident", "other_moderator"]


@pytest.mark.parametrize(
    "predicate,allowed",
    [
        (rules.can_moderate, {"moderator"}),
        (rules.in_audience, {"resident", "resident2"}),
        (rules.can_view, {"moderator", "observer", "resident", "resident2"}),
        (rules.can_join_live, {"moderator", "observer", "resident", "resident2"}),
        (rules.can_post, {"moderator", "observer", "resident", "resident2"}),
        (rules.can_attend, {"resident", "resident2"}),
    ],
)
def test_predicate_table_for_a_live_session(world: World, predicate, allowed: set[str]) -> None:  # type: ignore[no-untyped-def]
    got = {who for who in WHO if predicate(user=getattr(world, who), session=world.session)}
    assert got == allowed


def test_anonymous_users_can_do_nothing(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    anon = AnonymousUser()
    for predicate in (rules.can_moderate, rules.in_audience, rules.can_view, rules.can_join_live, rules.can_post, rules.can_attend):
        assert not predicate(user=anon, session=world.session)


def test_drafts_are_only_for_moderators(world: World) -> None:
    world.session.state = SessionState.DRAFT
    world.session.save()
    assert {w for w in WHO if rules.can_view(user=getattr(world, w), session=world.session)} == {"moderator"}


def test_session_without_audience_tags_is_for_every_resident(world: World) -> None:
    world.session.audience_tags.clear()
    assert rules.in_audience(user=world.outsider, session=world.session)
    assert not rules.in_audience(user=world.other_resident, session=world.session)


def test_muted_can_read_but_not_post_and_removed_cannot_join(world: World) -> None:
    Participant.objects.create(session=world.session, user=world.resident, muted=True)
    assert rules.can_join_live(user=world.resident, session=world.session)
    assert not rules.can_post(user=world.resident, session=world.session)
    Participant.objects.create(session=world.session, user=world.resident2, removed=True)
    assert not rules.can_join_live(user=world.resident2, session=world.session)
    assert not rules.can_follow(user=world.resident2, session=world.session)
    assert rules.can_follow(user=world.resident, session=world.session)  # muted still reads


@pytest.mark.parametrize("state", [SessionState.ADJOURNED, SessionState.ARCHIVED, SessionState.DRAFT])
def test_nobody_posts_outside_scheduled_and_live(world: World, state: str) -> None:
    world.session.state = state
    world.session.save()
    assert not any(rules.can_post(user=getattr(world, w), session=world.session) for w in WHO)
