"""Archive search: Chinese without spaces, English words, highlighting, and who may see what."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from records import search
from records.models import SearchToken, Visibility
from records.selectors import ArchiveFilters, archive_records
from tests.records.helpers import published


def test_index_tokens_cut_chinese_into_characters_and_bigrams_and_english_into_words() -> None:
    tokens = search.index_tokens("新增停车位如何分配 Parking-Lot 3号楼")
    assert {"停车", "车位", "新增", "停", "停车位", "parking", "lot", "3", "号楼"} <= tokens
    assert "停车位如" not in tokens and "Parking" not in tokens


def test_query_tokens() -> None:
    assert search.parse_query("停车").tokens == ("停车",)
    assert search.parse_query("停车位").tokens == ("停车位",)
    assert search.parse_query("加装电梯").tokens == ("加装电", "装电梯")
    assert search.parse_query("停").tokens == ("停",)
    assert search.parse_query("  Elevator  repair ").tokens == ("elevator", "repair")
    assert search.parse_query("ＰＡＲＫＩＮＧ").tokens == ("parking",)  # full-width typed on a phone
    assert search.parse_query("!!  ").empty


def test_highlight_marks_the_phrase_and_keeps_the_text_as_it_was() -> None:
    q = search.parse_query("停车")
    assert search.highlight("新增停车位如何分配，好！", q) == [("新增", False), ("停车", True), ("位如何分配，好！", False)]
    q = search.parse_query("elevator")
    assert search.highlight("The Elevator works", q) == [("The ", False), ("Elevator", True), (" works", False)]
    long = "甲" * 200 + "停车" + "乙" * 200
    excerpt = search.highlight(long, search.parse_query("停车"), width=40)
    assert excerpt[0][0].startswith("…") and excerpt[1] == ("停车", True) and excerpt[-1][0].endswith("…")
    assert search.highlight("无关", search.parse_query("停车"), width=40) == []


def _titles(user, q: str, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    qs, _query = archive_records(user=user, filters=ArchiveFilters(q=q, **filters))
    return [r.title for r in qs]


@pytest.fixture
def archive(world):  # type: ignore[no-untyped-def]
    parking = published(world, title="新增停车位如何分配")
    lift = published(
        world,
        title="老楼加装电梯",
        texts=("一楼住户担心采光", "Elevator budget is 400k", "地库不受影响"),
        summary="电梯方案下月公示。",
    )
    internal = published(
        world, title="内部：物业费调整", texts=("停车费也要调整吗",), visibility=Visibility.MEMBERS, summary="物业费暂不调整。"
    )
    far = published(
        world,
        title="共享停车试点",
        community=world.other_community,
        moderator=world.other_moderator,
        texts=("错峰停车",),
        summary="试点三个月。",
    )
    return {"parking": parking, "lift": lift, "internal": internal, "far": far}


@pytest.mark.django_db
def test_two_character_chinese_word_finds_a_title_without_spaces(world, archive) -> None:  # type: ignore[no-untyped-def]
    anon = AnonymousUser()
    assert _titles(anon, "停车") == ["共享停车试点", "新增停车位如何分配"]
    assert _titles(anon, "电梯") == ["老楼加装电梯"]
    assert _titles(anon, "地库") == ["老楼加装电梯", "新增停车位如何分配"]  # from the transcripts
    assert _titles(anon, "公示") == ["老楼加装电梯"]  # from a summary
    assert _titles(anon, "停车位") == ["新增停车位如何分配"]
    assert _titles(anon, "飞机场") == []


@pytest.mark.django_db
def test_english_words_match_case_insensitively(world, archive) -> None:  # type: ignore[no-untyped-def]
    assert _titles(AnonymousUser(), "ELEVATOR") == ["老楼加装电梯"]
    assert _titles(AnonymousUser(), "elevator budget") == ["老楼加装电梯"]
    assert _titles(AnonymousUser(), "elevator parking") == []


@pytest.mark.django_db
def test_title_hits_rank_before_transcript_hits(world, archive) -> None:  # type: ignore[no-untyped-def]
    titles = _titles(world.resident, "停车")
    assert titles[:2] == ["共享停车试点", "新增停车位如何分配"] or titles[:2] == ["新增停车位如何分配", "共享停车试点"]
    assert titles[-1] == "内部：物业费调整"  # only its transcript mentions 停车费


@pytest.mark.django_db
def test_members_only_minutes_are_found_by_members_only(world, archive) -> None:  # type: ignore[no-untyped-def]
    assert "内部：物业费调整" not in _titles(AnonymousUser(), "物业")
    assert "内部：物业费调整" not in _titles(world.other_resident, "物业")
    assert "内部：物业费调整" in _titles(world.resident, "物业")
    assert "内部：物业费调整" in _titles(world.observer, "物业")
    assert _titles(world.resident, "停车", community=world.other_community.slug) == ["共享停车试点"]


@pytest.mark.django_db
def test_the_search_index_holds_each_token_once_per_record(world, archive) -> None:  # type: ignore[no-untyped-def]
    rows = SearchToken.objects.filter(record=archive["parking"], token="停车")
    assert rows.count() == 1
    assert rows.get().fields & search.FIELD_TITLE and rows.get().fields & search.FIELD_TRANSCRIPT


@pytest.mark.django_db
def test_visitor_search_page_highlights_without_javascript(world, archive) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    body = client.get("/archive/", {"q": "停车"}).content.decode()
    assert "新增<mark>停车</mark>位如何分配" in body
    assert "内部：物业费调整" not in body
    assert 'method="get" action="/archive/"' in body
    english = client.get("/archive/", {"q": "elevator"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<mark>Elevator</mark>" in english
    detail = client.get(f"/minutes/{archive['internal'].pk}/")
    assert detail.status_code == 404
    client.force_login(world.other_resident)
    assert client.get(f"/minutes/{archive['internal'].pk}/").status_code == 404
    client.force_login(world.resident)
    assert client.get(f"/minutes/{archive['internal'].pk}/").status_code == 200


@pytest.mark.django_db
def test_htmx_search_returns_only_the_results_fragment(world, archive) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/archive/", {"q": "电梯"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="archive-results")
    body = response.content.decode()
    assert "<html" not in body and "加装<mark>电梯</mark>" in body


def test_marked_escapes_every_piece() -> None:
    from records.views import marked

    assert marked([("<b>x</b>", False), ("停车", True), ("<i>", True)]) == "&lt;b&gt;x&lt;/b&gt;<mark>停车</mark><mark>&lt;i&gt;</mark>"
