"""Session pages: what each role sees and may do over plain HTTP (no JavaScript needed)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sessions.models import Message, SessionState, TopicSession
from tests.factories import World, session_make

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_login(world: World) -> None:
    response = Client().get(reverse("topic_sessions:detail", args=[world.session.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "who,status",
    [("resident", 200), ("observer", 200), ("moderator", 200), ("outsider", 404), ("other_resident", 404), ("other_moderator", 404)],
)
def test_who_sees_a_session(world: World, who: str, status: int) -> None:
    response = as_user(getattr(world, who)).get(reverse("topic_sessions:detail", args=[world.session.pk]))
    assert response.status_code == status


def test_a_removed_person_cannot_follow_the_running_meeting_but_reads_it_after(world: World) -> None:
    from sessions.models import Participant
    from sessions.services import message_post

    message_post(session=world.session, author=world.resident2, text="东门晚上车太多")
    Participant.objects.create(session=world.session, user=world.resident, removed=True)
    url = reverse("topic_sessions:detail", args=[world.session.pk])
    response = as_user(world.resident).get(url)
    assert response.status_code == 403
    page = response.content.decode()
    assert "主持人已将您移出本次议事" in page and "东门晚上车太多" not in page
    assert "东门晚上车太多" in as_user(world.resident2).get(url).content.decode()  # nobody else is affected
    world.session.state = SessionState.ADJOURNED
    world.session.save()
    assert "东门晚上车太多" in as_user(world.resident).get(url).content.decode()


def test_the_list_shows_only_visible_sessions(world: World) -> None:
    draft = session_make(world.community, world.moderator, state=SessionState.DRAFT, title="草稿里的议题")
    elsewhere = session_make(world.other_community, world.other_moderator, title="别的社区的议题")
    page = as_user(world.resident).get(reverse("topic_sessions:list")).content.decode()
    assert world.session.title in page and draft.title not in page and elsewhere.title not in page
    mod_page = as_user(world.moderator).get(reverse("topic_sessions:list")).content.decode()
    assert draft.title in mod_page and elsewhere.title not in mod_page


def test_page_shows_the_whole_history(world: World) -> None:
    from sessions.services import message_post

    for i in range(3):
        message_post(session=world.session, author=world.resident, text=f"第{i}条意见")
    page = as_user(world.resident2).get(reverse("topic_sessions:detail", args=[world.session.pk])).content.decode()
    assert all(f"第{i}条意见" in page for i in range(3))
    assert 'data-last-seq="3"' in page


def test_posting_without_javascript_works(world: World) -> None:
    client = as_user(world.resident)
    response = client.post(reverse("topic_sessions:message_create", args=[world.session.pk]), {"text": "不用脚本也能发言"})
    assert response.status_code == 302
    assert Message.objects.get().text_html == "不用脚本也能发言"


def _composer_key(page: str) -> str:
    match = re.search(r'<input type="hidden" name="idempotency_key" value="([A-Za-z0-9_-]+)"', page)
    assert match, "the composer carries no idempotency key"
    return match.group(1)


def test_a_form_post_sent_twice_stores_one_message_and_answers_with_it(world: World) -> None:
    client = as_user(world.resident)
    page_url = reverse("topic_sessions:detail", args=[world.session.pk])
    form = {"text": "刷新以后又提交了一次", "idempotency_key": _composer_key(client.get(page_url).content.decode())}
    url = reverse("topic_sessions:message_create", args=[world.session.pk])
    first = client.post(url, form)
    again = client.post(url, form)  # a double tap, or a refresh after the answer was lost
    assert Message.objects.count() == 1
    stored = Message.objects.get()
    assert first.status_code == again.status_code == 302
    assert again["Location"].endswith(f"#msg-{stored.seq}")
    assert "已经发出过了" in client.get(page_url).content.decode()
    # The next page is a new form: another message is stored, however alike.
    client.post(url, {**form, "idempotency_key": _composer_key(client.get(page_url).content.decode())})
    assert Message.objects.count() == 2


def test_a_refused_post_keeps_what_the_user_typed(world: World) -> None:
    client = as_user(world.resident)
    text = "很长的意见" * 500
    client.post(reverse("topic_sessions:message_create", args=[world.session.pk]), {"text": text})
    assert Message.objects.count() == 0
    page = client.get(reverse("topic_sessions:detail", args=[world.session.pk])).content.decode()
    assert "消息太长了" in page
    assert text in page


def test_outsider_cannot_post_over_http(world: World) -> None:
    response = as_user(world.outsider).post(reverse("topic_sessions:message_create", args=[world.session.pk]), {"text": "x"})
    assert response.status_code == 404
    assert Message.objects.count() == 0


@pytest.mark.parametrize("who", ["resident", "observer", "other_moderator"])
@pytest.mark.parametrize("action", ["adjourn", "schedule", "open", "unschedule"])
def test_non_moderators_cannot_move_a_session(world: World, who: str, action: str) -> None:
    response = as_user(getattr(world, who)).post(reverse("topic_sessions:transition", args=[world.session.pk, action]))
    assert response.status_code in (403, 404)
    world.session.refresh_from_db()
    assert world.session.state == SessionState.LIVE


def test_moderator_adjourns_and_a_bad_move_is_explained(world: World) -> None:
    client = as_user(world.moderator)
    client.post(reverse("topic_sessions:transition", args=[world.session.pk, "adjourn"]), {"confirmed": "1"})
    world.session.refresh_from_db()
    assert world.session.state == SessionState.ADJOURNED
    response = client.post(reverse("topic_sessions:transition", args=[world.session.pk, "open"]), follow=True)
    assert "不能变为" in response.content.decode()


def test_moderator_creates_a_session_with_audience_and_agenda(world: World) -> None:
    client = as_user(world.moderator)
    starts = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("topic_sessions:create", args=[world.community.slug]),
        {
            "title": "租户车位怎么办",
            "category": "parking",
            "starts_at": starts,
            "place": "议事厅",
            "audience_tags": [world.car_owner.pk],
            "agenda": "现状\n方案",
        },
    )
    session = TopicSession.objects.get(title="租户车位怎么办")
    assert response.status_code == 302
    assert list(session.audience_tags.all()) == [world.car_owner]
    assert [a.title for a in session.agenda_items.all()] == ["现状", "方案"]


def test_a_bad_form_keeps_the_typing_and_says_what_is_wrong(world: World) -> None:
    response = as_user(world.moderator).post(
        reverse("topic_sessions:create", args=[world.community.slug]),
        {"title": "我的标题", "category": "parking", "starts_at": "not a date"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "我的标题" in page and 'class="error"' in page


@pytest.mark.parametrize("who", ["resident", "observer", "other_moderator"])
def test_non_moderators_cannot_create_or_edit(world: World, who: str) -> None:
    client = as_user(getattr(world, who))
    assert client.get(reverse("topic_sessions:create", args=[world.community.slug])).status_code == 403
    assert client.post(reverse("topic_sessions:edit", args=[world.session.pk]), {"title": "改了"}).status_code in (403, 404)
    world.session.refresh_from_db()
    assert world.session.title == "新增停车位如何分配"


def test_attend_and_unattend(world: World) -> None:
    scheduled = session_make(world.community, world.moderator, state=SessionState.SCHEDULED, audience=[world.car_owner])
    client = as_user(world.resident)
    client.post(reverse("topic_sessions:attend", args=[scheduled.pk]), {"attending": "1"})
    assert scheduled.attendance_intents.count() == 1
    page = client.get(reverse("topic_sessions:detail", args=[scheduled.pk])).content.decode()
    assert "您已报名参加" in page
    client.post(reverse("topic_sessions:attend", args=[scheduled.pk]), {"attending": "0"})
    assert scheduled.attendance_intents.count() == 0


def test_elder_mode_is_remembered_per_user_and_per_device(world: World) -> None:
    device = Client()
    response = device.post(reverse("elder_mode"), {"on": "1", "next": "/"})
    assert response.cookies["agora_elder"].value == "1"
    assert 'class="elder"' in device.get(reverse("login")).content.decode()
    client = as_user(world.resident)
    client.post(reverse("elder_mode"), {"on": "1", "next": "/"})
    fresh = as_user(world.resident)  # another device, same person
    assert 'class="elder"' in fresh.get(reverse("topic_sessions:list")).content.decode()


def test_elder_switch_never_redirects_off_site(world: World) -> None:
    response = Client().post(reverse("elder_mode"), {"on": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/"
