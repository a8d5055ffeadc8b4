"""The session page renders the latest messages and pages back through earlier ones (docs/live-page.md)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sessions.meeting import moderation
from sessions.models import Message
from sessions.selectors import HISTORY_PAGE
from sessions.services import message_post
from tests.factories import World

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _fill(world: World, n: int) -> None:
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            session=world.session,
            author=world.resident,
            seq=i,
            text_html=f"第{i}条：东门的车位怎么分？",
            created_at=now - timedelta(seconds=n - i),
        )
        for i in range(1, n + 1)
    )


def _seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<li class="message[^"]*" id="msg-(\d+)"', page)]


def test_a_long_history_is_one_page_of_the_latest_messages(world: World) -> None:
    _fill(world, 1000)
    response = as_user(world.resident2).get(reverse("topic_sessions:detail", args=[world.session.pk]))
    page = response.content.decode()
    assert len(response.content) < 100_000
    assert _seqs(page) == list(range(1000 - HISTORY_PAGE + 1, 1001))
    assert 'data-last-seq="1000"' in page
    assert f'href="?before={1000 - HISTORY_PAGE + 1}#discussion"' in page


def test_earlier_messages_are_a_page_before_a_seq_and_the_live_page_goes_on_from_the_latest(world: World) -> None:
    _fill(world, 200)
    page = as_user(world.resident2).get(reverse("topic_sessions:detail", args=[world.session.pk]), {"before": 50}).content.decode()
    assert _seqs(page) == list(range(1, 50))
    assert 'id="load-earlier"' not in page  # nothing before the first
    assert 'data-window="earlier"' in page and 'id="show-latest"' in page
    assert 'data-last-seq="200"' in page


@pytest.mark.parametrize("before", ["abc", "-5", "0", "9" * 30])
def test_a_wrong_before_shows_the_latest(world: World, before: str) -> None:
    _fill(world, 5)
    page = as_user(world.resident2).get(reverse("topic_sessions:detail", args=[world.session.pk]), {"before": before}).content.decode()
    assert _seqs(page) == [1, 2, 3, 4, 5]


def test_a_hidden_message_is_explained_to_its_author_only(world: World) -> None:
    message = message_post(session=world.session, author=world.resident, text="3号楼的张三乱停车")
    moderation.message_hide(session=world.session, by=world.moderator, message_id=message.pk, reason="请不要点名")
    url = reverse("topic_sessions:detail", args=[world.session.pk])
    mine = as_user(world.resident).get(url).content.decode()
    assert "own-hidden" in mine and "请不要点名" in mine and "张三" in mine
    theirs = as_user(world.resident2).get(url).content.decode()
    assert "张三" not in theirs and "请不要点名" not in theirs and 'id="msg-1"' not in theirs
