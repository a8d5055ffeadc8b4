"""Minutes generated from what happened in a session, and publishing them."""

from __future__ import annotations

import sys
import types

import pytest

from agora.infra.errors import NotAllowed, Refused
from records import services
from records.content import attendance
from records.models import MinutesRecord, RecordKind, Visibility
from records.selectors import ArchiveFilters, archive_records
from records.verification import chain_verify
from sessions.models import AttendanceIntent, SessionState
from tests.factories import resident_make
from tests.records.helpers import held_session, published

pytestmark = pytest.mark.django_db


def test_draft_holds_agenda_transcript_and_counts_hidden_messages(world) -> None:  # type: ignore[no-untyped-def]
    session = held_session(world)
    AttendanceIntent.objects.create(session=session, user=world.outsider)
    _draft, c = services.minutes_draft_generate(session=session, by=world.moderator)
    assert [i["title"] for i in c["agenda"]] == ["车位分配方案", "租户的车位"]
    first, second = c["agenda"]
    assert [m["text"] for m in first["messages"]] == ["我家有两辆车，希望按户分配停车位", "租户也应该有机会申请车位"]
    assert first["hidden_count"] == 1 and second["hidden_count"] == 0
    assert [m["text"] for m in second["messages"]] == ["地库改造预算多少？"]
    assert "广告" not in str(c)
    # Three people spoke (the hidden message's author once); one more only signed up.
    a = c["attendance"]
    assert (a["online"], a["in_person"], a["total"], a["signed_up"]) == (3, 0, 3, 1)
    assert {row["building"]: row["online"] for row in a["by_building"]} == {"": 1, "1号楼": 1, "2号楼": 1}


def test_public_minutes_name_residents_by_building_only(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world, visibility=Visibility.PUBLIC)
    messages = record.content["agenda"][0]["messages"]
    assert messages[0]["author"] is None and messages[0]["building"] == "1号楼"
    members = published(world, visibility=Visibility.MEMBERS, title="内部议题")
    assert members.content["agenda"][0]["messages"][0]["author"] == "res1"


def test_in_person_check_ins_are_counted_once_by_building(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """In-person people come from the hybrid-meeting selector; someone also online counts once."""
    session = held_session(world)
    walk_in = resident_make(world.community, "walkin", building="3号楼")
    fake = types.ModuleType("sessions.meeting.selectors")
    fake.attendance_summary = lambda s: {"in_person_user_ids": [world.resident.pk, walk_in.pk], "in_person_anonymous": 2}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sessions.meeting", types.ModuleType("sessions.meeting"))
    monkeypatch.setitem(sys.modules, "sessions.meeting.selectors", fake)
    a = attendance(session=session)
    assert (a["online"], a["in_person"], a["total"]) == (2, 4, 6)
    rows = {row["building"]: (row["online"], row["in_person"]) for row in a["by_building"]}
    assert rows == {"": (1, 2), "1号楼": (0, 1), "2号楼": (1, 0), "3号楼": (0, 1)}
    assert a["in_person_source"] == "check_in"


def test_summaries_are_saved_cleaned_and_published(world) -> None:  # type: ignore[no-untyped-def]
    session = held_session(world)
    item = session.agenda_items.get(position=1)
    services.minutes_draft_save(
        session=session,
        by=world.moderator,
        summaries={str(item.pk): "<script>x</script>按户<b>抽签</b>", "bogus": "x"},
        visibility=Visibility.PUBLIC,
    )
    record = services.minutes_publish(session=session, by=world.moderator)
    assert record.content["agenda"][0]["summary"] == "x按户抽签"
    assert record.visibility == Visibility.PUBLIC and record.outcome == "none"
    session.refresh_from_db()
    assert session.state == SessionState.ARCHIVED
    assert session.transitions.filter(to_state=SessionState.ARCHIVED, by=world.moderator).exists()


def test_only_moderators_draft_and_only_after_adjournment(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        services.minutes_draft_generate(session=world.session, by=world.moderator)  # still live
    session = held_session(world)
    for user in (world.resident, world.observer, world.other_moderator):
        with pytest.raises(NotAllowed):
            services.minutes_draft_generate(session=session, by=user)
        with pytest.raises(NotAllowed):
            services.minutes_publish(session=session, by=user)
    assert not MinutesRecord.objects.exists()


def test_published_minutes_cannot_be_published_again(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world)
    with pytest.raises(Refused):
        services.minutes_publish(session=record.session, by=world.moderator)
    assert MinutesRecord.objects.count() == 1


def test_a_correction_is_a_new_linked_record_and_the_original_is_untouched(world) -> None:  # type: ignore[no-untyped-def]
    original = published(world)
    before = (original.canonical, original.content_hash)
    item_id = str(original.content["agenda"][0]["id"])
    correction = services.minutes_correct(
        record=original, by=world.moderator, summaries={item_id: "更正：每户限一个车位，租户同等参加抽签。"}, reason="漏写租户"
    )
    original.refresh_from_db()
    assert (original.canonical, original.content_hash) == before
    assert correction.kind == RecordKind.CORRECTION and correction.corrects_id == original.pk
    assert correction.prev_hash == original.content_hash and correction.seq == original.seq + 1
    assert correction.content["corrects"] == {"id": original.pk, "hash": original.content_hash, "reason": "漏写租户"}
    assert correction.content["agenda"][0]["summary"].startswith("更正")
    assert chain_verify(community=world.community).ok
    # The archive lists the newest version only; the old one keeps its permalink.
    listed, _q = archive_records(user=world.moderator, filters=ArchiveFilters())
    assert [r.pk for r in listed] == [correction.pk]
    with pytest.raises(Refused):
        services.minutes_correct(record=original, by=world.moderator, summaries={}, reason="again")
    with pytest.raises(NotAllowed):
        services.minutes_correct(record=correction, by=world.resident, summaries={}, reason="mine")
    with pytest.raises(Refused):
        services.minutes_correct(record=correction, by=world.moderator, summaries={}, reason="  ")


def test_sealed_transcript_holds_exactly_the_words_readers_saw(world) -> None:  # type: ignore[no-untyped-def]
    """A crafted attribute stays an attribute: the regex tag strip used to end the tag at the
    first '>' and seal the rest ("INJECTED …") as if it had been said in the meeting."""
    from django.test import Client

    from sessions.models import Message

    crafted = '<a title="x>INJECTED 全体业主已同意" href="https://example.org/">通知</a> 请看<br>第二行 &lt;b&gt;'
    record = published(world, texts=(crafted, "其他发言"))
    message = Message.objects.get(session=record.session, seq=record.content["agenda"][0]["messages"][0]["seq"])
    assert 'title="x>INJECTED' in message.text_html  # what the live page renders: a link reading "通知"
    sealed = record.content["agenda"][0]["messages"][0]["text"]
    assert sealed == "通知 请看\n第二行 <b>"
    assert "INJECTED" not in record.canonical and "全体业主已同意" not in record.canonical
    page = Client().get(f"/minutes/{record.pk}/").content.decode()
    assert "通知 请看<br>第二行 &lt;b&gt;" in page and "INJECTED" not in page


def test_plain_text_of_rich_text_is_what_a_browser_shows() -> None:
    from agora.infra.sanitize import clean_rich_text, rich_text_as_plain

    cases = {
        '<a title="x>INJECTED">hi</a>': "hi",
        "<a title='a\"b>c' href='https://a.example/'>link</a> &amp; more": "link & more",
        "1 < 2 > 0": "1 < 2 > 0",
        "<b>bold</b>\nline": "bold\nline",
        "see https://example.org/?a=1&b=2": "see https://example.org/?a=1&b=2",
    }
    for typed, shown in cases.items():
        assert rich_text_as_plain(clean_rich_text(typed)) == shown, typed


def test_a_correction_of_a_version_1_record_is_sealed_by_version_2(world) -> None:  # type: ignore[no-untyped-def]
    from tests.records.helpers import reseal_as_version_1, voted_session

    session = voted_session(world)
    services.minutes_draft_save(session=session, by=world.moderator, summaries={}, visibility=Visibility.PUBLIC)
    old = reseal_as_version_1(services.minutes_publish(session=session, by=world.moderator), voters=[{"name": "王秀英", "choice": [1]}])
    assert chain_verify(community=world.community).ok
    correction = services.minutes_correct(record=old, by=world.moderator, summaries={"general": "补充说明"}, reason="补充")
    c = correction.content
    assert c["schema"] == "agora.minutes/2" and c["held_on"] == correction.held_on.isoformat()
    assert c["published_by_id"] == world.moderator.pk and "王秀英" not in correction.canonical
    assert "voters" not in c["motions"][0]["result"]
    assert chain_verify(community=world.community).ok
