"""The moderator's console: the next step, adjourning safely (refused while a vote is open, or the
open votes closed first, confirmed, undone within the grace period and audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import AuditEvent
from sessions import services
from sessions.meeting.console import ConsoleFacts, next_step, session_adjourn
from sessions.models import SessionState, SessionTransition
from tests.factories import World
from tests.voting.helpers import open_motion
from voting.models import MotionState

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


# --- the next step (pure) ------------------------------------------------------------------


def facts(**kw) -> ConsoleFacts:  # type: ignore[no-untyped-def]
    return ConsoleFacts(**{"state": SessionState.LIVE, "starts_at": NOW - timedelta(hours=1), "now": NOW, **kw})


def test_open_votes_come_first_then_the_agenda_then_adjourning_then_the_minutes() -> None:
    step = next_step(facts(open_votes=2, agenda_pending=1))
    assert step.action == "close_votes"
    assert str(step.text) == "2 项表决仍在进行"
    assert [str(s) for s in step.then] == ["结束表决", "休会", "起草会议纪要"]
    assert next_step(facts(agenda_pending=2)).action == "agenda_next"
    assert next_step(facts()).action == "adjourn"
    assert next_step(facts(state=SessionState.ADJOURNED)).action == "draft_minutes"
    assert next_step(facts(state=SessionState.ADJOURNED, minutes_drafted=True)).action == "publish_minutes"
    assert next_step(facts(state=SessionState.ARCHIVED)).action == "read_minutes"
    assert next_step(facts(state=SessionState.DRAFT)).action == "schedule"


def test_a_scheduled_session_past_its_start_time_says_so() -> None:
    late = next_step(facts(state=SessionState.SCHEDULED, starts_at=NOW - timedelta(minutes=5)))
    early = next_step(facts(state=SessionState.SCHEDULED, starts_at=NOW + timedelta(days=1)))
    assert late.action == early.action == "open"
    assert "开始时间已过" in str(late.text)
    assert "开始时间已过" not in str(early.text)


# --- adjourning ------------------------------------------------------------------------------


def test_adjourning_is_refused_while_a_vote_is_open(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    with pytest.raises(Refused) as refused:
        session_adjourn(session=world.session, by=world.moderator)
    assert refused.value.code == "votes_open"
    assert "还有 1 项表决正在进行" in str(refused.value.message)
    world.session.refresh_from_db()
    motion.refresh_from_db()
    assert (world.session.state, motion.state) == (SessionState.LIVE, MotionState.OPEN)


def test_adjourning_can_close_the_open_votes_first(world: World) -> None:
    first = open_motion(world.session, world.moderator, text="东门划线")
    second = open_motion(world.session, world.moderator, text="西门划线")
    session_adjourn(session=world.session, by=world.moderator, close_open_votes=True)
    world.session.refresh_from_db()
    assert world.session.state == SessionState.ADJOURNED
    for motion in (first, second):
        motion.refresh_from_db()
        assert motion.state == MotionState.CLOSED
        assert motion.resolution.outcome


def test_only_moderators_adjourn(world: World) -> None:
    for who in (world.resident, world.observer):
        with pytest.raises(NotAllowed):
            session_adjourn(session=world.session, by=who, close_open_votes=True)
    world.session.refresh_from_db()
    assert world.session.state == SessionState.LIVE


def test_adjourning_without_confirmation_asks_first_and_changes_nothing(world: World) -> None:
    client = _client(world.moderator)
    url = reverse("topic_sessions:transition", args=[world.session.pk, "adjourn"])
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("topic_sessions:adjourn_confirm", args=[world.session.pk])
    world.session.refresh_from_db()
    assert world.session.state == SessionState.LIVE
    page = client.get(response["Location"]).content.decode()
    assert "确定休会吗？" in page and 'name="confirmed" value="1"' in page


def test_the_confirmation_page_offers_to_close_open_votes_and_refuses_without_it(world: World) -> None:
    open_motion(world.session, world.moderator)
    client = _client(world.moderator)
    page = client.get(reverse("topic_sessions:adjourn_confirm", args=[world.session.pk])).content.decode()
    assert 'name="close_votes"' in page
    url = reverse("topic_sessions:transition", args=[world.session.pk, "adjourn"])
    refused = client.post(url, {"confirmed": "1"}, follow=True)
    assert "还有 1 项表决正在进行" in refused.content.decode()
    world.session.refresh_from_db()
    assert world.session.state == SessionState.LIVE
    client.post(url, {"confirmed": "1", "close_votes": "1"})
    world.session.refresh_from_db()
    assert world.session.state == SessionState.ADJOURNED


@pytest.mark.parametrize("who", ["resident", "observer", "other_moderator"])
def test_others_cannot_open_the_confirmation_page(world: World, who: str) -> None:
    response = _client(getattr(world, who)).get(reverse("topic_sessions:adjourn_confirm", args=[world.session.pk]))
    assert response.status_code in (403, 404)


def test_adjourning_is_undone_within_the_grace_period_and_audited(world: World) -> None:
    session_adjourn(session=world.session, by=world.moderator)
    services.topic_session_adjourn_undo(session=world.session, by=world.moderator)
    world.session.refresh_from_db()
    assert world.session.state == SessionState.LIVE
    assert list(SessionTransition.objects.filter(session=world.session).values_list("from_state", "to_state")) == [
        ("live", "adjourned"),
        ("adjourned", "live"),
    ]
    event = AuditEvent.objects.get(kind="session.adjourn_undone")
    assert event.actor_id == world.moderator.pk


def test_undoing_is_refused_after_the_grace_period(world: World) -> None:
    session_adjourn(session=world.session, by=world.moderator)
    later = timezone.now() + timedelta(seconds=services.ADJOURN_UNDO_SECONDS + 1)
    with pytest.raises(Refused) as refused:
        services.topic_session_adjourn_undo(session=world.session, by=world.moderator, now=later)
    assert refused.value.code == "undo_expired"
    world.session.refresh_from_db()
    assert world.session.state == SessionState.ADJOURNED


def test_undoing_is_refused_for_a_session_that_is_not_adjourned_and_for_non_moderators(world: World) -> None:
    with pytest.raises(Refused):
        services.topic_session_adjourn_undo(session=world.session, by=world.moderator)
    session_adjourn(session=world.session, by=world.moderator)
    for who in (world.resident, world.observer, world.other_moderator):
        with pytest.raises(NotAllowed):
            services.topic_session_adjourn_undo(session=world.session, by=who)
    response = _client(world.resident).post(reverse("topic_sessions:adjourn_undo", args=[world.session.pk]))
    assert response.status_code in (403, 404)
    world.session.refresh_from_db()
    assert world.session.state == SessionState.ADJOURNED


def test_the_console_fragment_is_for_moderators(world: World) -> None:
    url = reverse("topic_sessions:meeting_console_next", args=[world.session.pk])
    assert "下一步" in _client(world.moderator).get(url).content.decode()
    for who in ("resident", "observer", "other_moderator"):
        assert _client(getattr(world, who)).get(url).status_code in (403, 404)
