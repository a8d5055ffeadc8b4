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

from sessions.minutes import chain, services
from sessions.minutes.models import ActionItem, Visibility
from tests.minutes.helpers import published, voted_session

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
    services.minutes_draft_save(session=session, by=world.moderator, summaries={str(item.pk): "同意夜间划线。"}, visibility=Visibility.PUBLIC)
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
    assert body.startswith("# 会议纪要：东门夜间划线停车") or body.startswith("# 会议纪要: 东门夜间划线停车")
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
    from sessions.minutes.models import ActionStatus

    item = ActionItem.objects.get()
    services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DONE, note="已划线")
    item.refresh_from_db()
    services.satisfaction_rate(item=item, user=world.resident, score=4)
    services.satisfaction_rate(item=item, user=world.resident2, score=2)
    body = Client().get(f"/minutes/{voted.pk}/").content.decode()
    section = body[body.index('id="h-resolutions"'):body.index('id="h-actions"')]
    assert "满意度 50%（2 人评价，平均 3.0/5 分）" in section
