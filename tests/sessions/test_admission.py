"""The one-query live admission (sessions/admission.py) decides exactly as sessions/rules.py."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agora.roster.roles import community_role
from sessions import rules
from sessions.admission import live_admission
from sessions.live.presence import live_connect
from sessions.models import Participant, SessionState, TopicSession
from tests.factories import World, every_kind_of_person

pytestmark = pytest.mark.django_db


def expected(user, session: TopicSession) -> tuple[str, bool] | None:  # type: ignore[no-untyped-def]
    """The admission as the rules decide it, predicate by predicate (the code before the one query)."""
    if not rules.can_join_live(user=user, session=session):
        return None
    can_moderate = rules.can_moderate(user=user, session=session)
    role = "moderator" if can_moderate else (community_role(user=user, community=session.community_id) or "observer")
    if not can_moderate and rules.is_invited_observer(user=user, session=session) and not rules.in_audience(user=user, session=session):
        role = "observer"
    return role, can_moderate


def test_admission_agrees_with_the_rules_everywhere(world: World) -> None:
    User = get_user_model()
    session = world.session
    everyone = {**every_kind_of_person(world), "inactive moderator": User.objects.get(pk=world.moderator.pk)}
    inactive = everyone["inactive moderator"]
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.is_active = False  # type: ignore[attr-defined]
    checked = 0
    for state, audience, removed in itertools.product(SessionState.values, ([], [world.car_owner]), (False, True)):
        TopicSession.objects.filter(pk=session.pk).update(state=state)
        session.refresh_from_db()
        session.audience_tags.set(audience)
        Participant.objects.filter(session=session).delete()
        if removed:
            for name in ("observer", "resident", "outsider", "moderator"):
                Participant.objects.create(session=session, user=everyone[name], removed=True)
        for name, user in everyone.items():
            if user.is_authenticated:
                user.__dict__.pop("_agora_roles", None)  # community_role's per-object cache
            want = expected(user, session)
            got = live_admission(user=user, session_id=session.pk)
            assert (got is None) == (want is None), (name, state, audience, removed, got, want)
            if got is not None:
                assert (got.role, got.can_moderate) == want, (name, state, audience, removed)
            checked += 1
    assert checked == len(SessionState.values) * 2 * 2 * len(everyone)
    assert live_admission(user=world.resident, session_id=10**9) is None


def test_admission_reads_the_building(world: World) -> None:
    admission = live_admission(user=world.resident2, session_id=world.session.pk)
    assert admission is not None and admission.building == "2号楼"
    moderator = live_admission(user=world.moderator, session_id=world.session.pk)
    assert moderator is not None and moderator.building == ""


def test_a_live_connect_is_three_statements(world: World) -> None:
    """The cost that a 2,000-person connect storm pays 2,000 times (docs/performance.md)."""
    with CaptureQueriesContext(connection) as queries:
        ctx = live_connect(session_id=world.session.pk, user=world.resident, channel_name="specific.a")
    assert ctx.role == "resident" and not ctx.can_moderate
    assert len(queries.captured_queries) == 3, [q["sql"] for q in queries.captured_queries]


def test_the_batch_recheck_agrees_with_the_admission_everywhere(world: World) -> None:
    """``live_recheck`` (the fan-out's periodic re-check of many people) admits exactly whom
    ``live_admission`` admits, with the same role, in every state, audience and removal."""
    from sessions.admission import live_recheck

    User = get_user_model()
    session = world.session
    everyone = {
        name: user
        for name, user in {**every_kind_of_person(world), "inactive moderator": User.objects.get(pk=world.moderator.pk)}.items()
        if user.is_authenticated
    }
    User.objects.filter(pk=everyone["inactive moderator"].pk).update(is_active=False)
    everyone["inactive moderator"].is_active = False  # type: ignore[attr-defined]
    for state, audience, removed in itertools.product(SessionState.values, ([], [world.car_owner]), (False, True)):
        TopicSession.objects.filter(pk=session.pk).update(state=state)
        session.audience_tags.set(audience)
        Participant.objects.filter(session=session).delete()
        if removed:
            for name in ("observer", "resident", "outsider", "moderator"):
                Participant.objects.create(session=session, user=everyone[name], removed=True)
        with CaptureQueriesContext(connection) as queries:
            batch = live_recheck(session_id=session.pk, user_ids={u.pk for u in everyone.values()})
        assert len(queries) <= 8  # a few set reads for everyone at once, not one per person
        for name, user in everyone.items():
            one = live_admission(user=User.objects.get(pk=user.pk), session_id=session.pk)
            got = batch[user.pk].admission
            assert (got is None) == (one is None), (name, state, audience, removed)
            if got is not None and one is not None:
                assert (got.role, got.can_moderate) == (one.role, one.can_moderate), (name, state, audience, removed)
            assert batch[user.pk].removed == Participant.objects.filter(session=session, user=user, removed=True).exists()
    assert live_recheck(session_id=10**9, user_ids={world.resident.pk}) == {}
