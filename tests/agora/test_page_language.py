"""No English words in Chinese pages, and no Chinese words in English ones: the security log's
details, observers' names, lists of names, the motion form's help."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from sessions.models import SessionState
from sessions.services import topic_session_schedule
from tests.factories import World, session_make

pytestmark = pytest.mark.django_db


def _get(client, url: str, language: str) -> str:  # type: ignore[no-untyped-def]
    client.cookies["django_language"] = language
    return client.get(url).content.decode()


def test_the_security_log_names_details_and_states_in_the_readers_language(client, world: World) -> None:  # type: ignore[no-untyped-def]
    session = session_make(world.community, world.moderator, state=SessionState.DRAFT)
    topic_session_schedule(session=session, by=world.moderator)
    client.force_login(world.moderator)
    url = reverse("audit_log", kwargs={"community_slug": world.community.slug})
    zh = _get(client, url, "zh-hans")
    assert "原状态：草稿" in zh and "新状态：已预告" in zh
    assert "变更后：车主" in zh and "身份：业主" in zh
    for raw in ("from_state", "draft", "session_id", "tenure", "verified", "car_owner", "owner<"):
        assert raw not in zh, raw
    en = _get(client, url, "en")
    assert "From: Draft" in en and "To: Scheduled" in en
    assert "from_state" not in en


def test_observers_are_offered_by_their_names_not_their_logins(client, world: World) -> None:  # type: ignore[no-untyped-def]
    world.observer.first_name, world.observer.last_name = "王", "科长"
    world.observer.save()
    client.force_login(world.moderator)
    page = _get(client, reverse("topic_sessions:create", kwargs={"community_slug": world.community.slug}), "zh-hans")
    assert "王 科长" in page or "王科长" in page
    assert f">{world.observer.username}<" not in page.replace(" ", "").replace("\n", "")


def test_names_are_joined_by_the_pages_language() -> None:
    template = Template(
        "{% load agora_tags %}{{ names|join_names }}|{% for n in names %}{{ n }}{% if not forloop.last %}{% list_separator %}{% endif %}{% endfor %}"
    )
    with translation.override("zh-hans"):
        assert template.render(Context({"names": ["车主", "租户"]})) == "车主、租户|车主、租户"
    with translation.override("en"):
        assert template.render(Context({"names": ["Car owner", "Renter"]})) == "Car owner, Renter|Car owner, Renter"


def test_the_motion_forms_help_says_the_choices_in_the_pages_language(client, world: World) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.moderator)
    url = reverse("voting:create", kwargs={"session_id": world.session.pk})
    en = _get(client, url, "en")
    assert "Yes, No and Abstain" in en and "赞成" not in en
    assert "赞成、反对、弃权" in _get(client, url, "zh-hans")
