"""The visitor's home page: what the hall is, the latest resolutions and minutes they may read,
how to join; a brand that names the hall once, a description, a favicon."""

from __future__ import annotations

import pytest
from django.test import Client

from records.models import Visibility
from tests.factories import World
from tests.records.helpers import published, voted_session

pytestmark = pytest.mark.django_db


def test_visitors_see_public_resolutions_and_notices_and_how_to_join(world: World) -> None:
    from records import services as minutes_services

    session = voted_session(world)
    minutes_services.minutes_draft_save(session=session, by=world.moderator, summaries={"general": "通过。"}, visibility=Visibility.PUBLIC)
    record = minutes_services.minutes_publish(session=session, by=world.moderator)
    members_only = published(world, visibility=Visibility.MEMBERS, title="只给本社区看的会")
    client = Client()
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/").content.decode()
    assert "最新决议" in page and "同意在东门夜间划线停车" in page and f"/minutes/{record.pk}/" in page
    assert "会议纪要已发布：东门夜间划线停车" in page
    assert members_only.title not in page and f"/minutes/{members_only.pk}/" not in page
    assert "如何参加" in page and 'href="/join/"' in page
    # The brand names the hall once, then says what it is (it read 议事厅 红色议事厅).
    assert '<span class="brand-name">红色议事厅</span> <span class="brand-sub">社区协商议事平台</span>' in page
    assert "议事厅 <span" not in page
    assert '<meta name="description" content="社区居民一起商量身边的事' in page
    assert 'rel="icon" href="/favicon.ico"' in page
    assert "htmx" not in page  # no part of this page uses it


def test_the_home_page_reads_in_english(world: World) -> None:
    client = Client()
    client.cookies["django_language"] = "en"
    page = client.get("/").content.decode()
    assert "Latest resolutions" in page and "How to join" in page and "No community has published a resolution" in page
    assert "议事" not in page.replace('lang="zh-Hans">中文', "")
