"""The pages, as a moderator and a visitor use them, without JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client

from records.models import MinutesRecord, Visibility
from sessions.models import SessionState
from tests.records.helpers import held_session, published

pytestmark = pytest.mark.django_db


def test_moderator_drafts_and_publishes_from_the_session_page(world) -> None:  # type: ignore[no-untyped-def]
    session = held_session(world)
    client = Client()
    client.force_login(world.moderator)
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert f'href="/minutes/draft/{session.pk}/"' in page and "起草会议纪要" in page
    draft = client.get(f"/minutes/draft/{session.pk}/").content.decode()
    assert "我家有两辆车" in draft and "广告" not in draft and "另有 1 条发言已被主持人隐藏" in draft
    item = session.agenda_items.get(position=1)
    response = client.post(
        f"/minutes/draft/{session.pk}/",
        {"visibility": Visibility.PUBLIC, f"summary_{item.pk}": "按户抽签", "summary_general": "", "publish": "0"},
        follow=True,
    )
    assert "草稿已保存" in response.content.decode()
    assert not MinutesRecord.objects.exists()
    response = client.post(
        f"/minutes/draft/{session.pk}/",
        {"visibility": Visibility.PUBLIC, f"summary_{item.pk}": "按户抽签", "summary_general": "", "publish": "1", "confirm_publish": "1"},
        follow=True,
    )
    body = response.content.decode()
    record = MinutesRecord.objects.get()
    assert response.redirect_chain[-1][0] == f"/minutes/{record.pk}/"
    assert "会议纪要已发布" in body and "按户抽签" in body and record.content_hash in body
    session.refresh_from_db()
    assert session.state == SessionState.ARCHIVED
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert f'href="/minutes/session/{session.pk}/"' in page
    assert client.get(f"/minutes/session/{session.pk}/").url == f"/minutes/{record.pk}/"


def test_residents_cannot_open_the_draft(world) -> None:  # type: ignore[no-untyped-def]
    session = held_session(world)
    client = Client()
    client.force_login(world.resident)
    response = client.get(f"/minutes/draft/{session.pk}/")
    assert response.status_code == 403 and "只有本社区的主持人可以起草会议纪要" in response.content.decode()
    assert "起草会议纪要" not in client.get(f"/sessions/{session.pk}/").content.decode()


def test_visitor_reads_public_minutes_by_id_and_by_hash(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world)
    client = Client()
    page = client.get(f"/minutes/{record.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "1号楼居民" in body and "res1" not in body  # public: residents by building
    assert "共 3 人参加" in body
    by_hash = client.get(f"/minutes/h/{record.content_hash}/")
    assert by_hash.status_code == 302 and by_hash.url == f"/minutes/{record.pk}/"
    assert client.get("/minutes/h/" + "0" * 64 + "/").status_code == 404
    assert client.get("/minutes/999999/").status_code == 404


def test_archive_filters_and_pagination_are_plain_links(world) -> None:  # type: ignore[no-untyped-def]
    for i in range(23):
        published(world, title=f"议题{i:02d}", texts=("说明",), hidden_text="")
    client = Client()
    first = client.get("/archive/").content.decode()
    assert "共 23 份已发布纪要" in first and 'rel="next" href="?page=2"' in first
    second = client.get("/archive/?page=2").content.decode()
    assert second.count('class="card minutes-card"') == 3
    record = MinutesRecord.objects.first()
    year = record.held_on.year
    assert "共 23 份" in client.get(f"/archive/?year={year}&month={record.held_on.month}").content.decode()
    assert (
        "还没有发布的会议纪要" in client.get(f"/archive/?year={year}&month={record.held_on.month % 12 + 1}").content.decode()
        or year != record.held_on.year
    )
    assert "共 23 份" in client.get("/archive/?category=parking&outcome=none").content.decode()
    assert "还没有发布的会议纪要" in client.get("/archive/?outcome=passed").content.decode()
    assert "还没有发布的会议纪要" in client.get(f"/archive/?community={world.other_community.slug}").content.decode()
    filtered = client.get("/archive/?q=说明&category=parking").content.decode()
    assert 'href="?q=%E8%AF%B4%E6%98%8E&amp;category=parking' in filtered


def test_nav_links_to_the_archive_for_everyone(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert 'href="/archive/"' in client.get("/archive/").content.decode()
    client.force_login(world.resident)
    page = client.get("/archive/").content.decode()
    assert 'href="/needs/"' in page


def test_correction_through_the_page(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world)
    item_id = record.content["agenda"][0]["id"]
    client = Client()
    client.force_login(world.moderator)
    response = client.post(
        f"/minutes/{record.pk}/correct/", {f"summary_{item_id}": "更正后的概要", "summary_general": "", "reason": "笔误"}, follow=True
    )
    body = response.content.decode()
    assert "更正已发布" in body and "更正后的概要" in body and "笔误" in body
    old = client.get(f"/minutes/{record.pk}/").content.decode()
    assert "此版本之后已发布更正" in old
    client.force_login(world.resident)
    assert client.get(f"/minutes/{record.pk}/correct/").status_code == 403


@pytest.mark.parametrize(
    "change",
    [
        {"held_on": "2001-01-01"},
        {"published_by": "resident2"},
        {"canonical": "edit"},
        {"visibility": "public"},
    ],
    ids=["held_on", "published_by", "content", "visibility"],
)
def test_the_page_of_a_record_that_fails_verification_says_so(world, change) -> None:  # type: ignore[no-untyped-def]
    record = published(world, visibility=Visibility.MEMBERS)
    client = Client()
    client.force_login(world.resident)
    intact = client.get(f"/minutes/{record.pk}/").content.decode()
    assert "校验未通过" not in intact and 'class="warn verification-failed"' not in intact
    ((field, value),) = change.items()
    if field == "published_by":
        value = world.resident2
    if field == "canonical":
        value = record.canonical.replace("新增停车位如何分配", "新增停车位如何收费")
    MinutesRecord.objects.filter(pk=record.pk).update(**{field: value})
    chinese = client.get(f"/minutes/{record.pk}/").content.decode()
    assert 'role="alert"' in chinese and "校验未通过" in chinese and "请勿以此为准" in chinese
    english = client.get(f"/minutes/{record.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Verification failed:" in english and "Do not rely on it" in english
    assert "Verification failed:" in client.get(f"/minutes/{record.pk}/print/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_page_says_so_when_the_next_record_no_longer_links_to_it(world) -> None:  # type: ignore[no-untyped-def]
    first = published(world, title="议题一")
    second = published(world, title="议题二")
    MinutesRecord.objects.filter(pk=second.pk).update(prev_hash="f" * 64)
    assert "Verification failed:" in Client().get(f"/minutes/{first.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_rule_of_published_minutes_is_shown_in_the_readers_language(client, world) -> None:  # type: ignore[no-untyped-def]
    """The rule is sealed as data and put in words for each reader; the seal still verifies."""
    from records import services as minutes_services
    from records.verification import record_verify
    from tests.records.helpers import voted_session

    session = voted_session(world)
    minutes_services.minutes_draft_save(session=session, by=world.moderator, summaries={"general": "通过。"}, visibility="public")
    record = minutes_services.minutes_publish(session=session, by=world.moderator)
    assert record.content["resolutions"][0]["rule"]["kind"] == "approve_reject"
    assert record_verify(record=record) is None
    url = f"/minutes/{record.pk}/"
    client.cookies["django_language"] = "en"
    en = client.get(url).content.decode()
    assert "Approve / reject · " in en and "took part" in en
    assert "赞成/反对" not in en and "法定人数" not in en
    client.cookies["django_language"] = "zh-hans"
    zh = client.get(url).content.decode()
    assert "quorum" not in zh
    assert "人参与" in zh
