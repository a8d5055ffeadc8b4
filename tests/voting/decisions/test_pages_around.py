"""Around the decision page: the room's panel, the reminder banner, the notices (page, receipt
check, PDF) and the archive."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from agora.infra import clock
from sessions.models import SessionState
from tests.factories import session_make
from tests.voting.decisions.helpers import DecisionWorld, all_yes, open_decision, unit_of
from tests.voting.decisions.test_pages import ballot_post, client_for
from voting.decisions.ballots import vote_record
from voting.decisions.lifecycle import decision_close_due, decision_finalize
from voting.models import Channel, DecisionVote, StepKind

pytestmark = pytest.mark.django_db


# --- the room --------------------------------------------------------------------------------


def test_a_live_linked_session_shows_the_decision_and_takes_ballots_in_the_room(dw: DecisionWorld) -> None:
    session = session_make(dw.community, dw.moderator, state=SessionState.LIVE, title="停车位议事会")
    d = open_decision(dw, session_ids=[session.pk])
    owner = client_for(dw.owners[0])
    page = owner.get(f"/sessions/{session.pk}/").content.decode()
    assert "正在表决的业主决定" in page and "在小区东侧空地增设70个停车位" in page
    assert f'name="room" value="{session.pk}"' in page
    receipt = owner.post(f"/decisions/{d.pk}/vote/", {**ballot_post(d), "room": str(session.pk)}).content.decode()
    assert 'id="receipt-code"' in receipt and "返回会议" in receipt
    assert DecisionVote.objects.get().channel == Channel.IN_PERSON
    again = owner.get(f"/sessions/{session.pk}/").content.decode()
    assert "您家已于" in again and "在会场" in again


def test_the_room_takes_no_ballot_when_the_session_is_not_live_or_not_linked(dw: DecisionWorld) -> None:
    linked = session_make(dw.community, dw.moderator, state=SessionState.ADJOURNED)
    other = session_make(dw.community, dw.moderator, state=SessionState.LIVE)
    d = open_decision(dw, session_ids=[linked.pk])
    owner = client_for(dw.owners[0])
    assert "正在表决的业主决定" not in owner.get(f"/sessions/{other.pk}/").content.decode()
    assert "会议不在进行中" in owner.post(f"/decisions/{d.pk}/vote/", {**ballot_post(d), "room": str(linked.pk)}).content.decode()
    assert "不是该事项的表决会议" in owner.post(f"/decisions/{d.pk}/vote/", {**ballot_post(d), "room": str(other.pk)}).content.decode()
    assert not DecisionVote.objects.exists()


def test_a_tenant_in_the_room_sees_the_matters_and_why_there_is_no_ballot(dw: DecisionWorld) -> None:
    session = session_make(dw.community, dw.moderator, state=SessionState.LIVE)
    open_decision(dw, session_ids=[session.pk])
    page = client_for(dw.tenant).get(f"/sessions/{session.pk}/").content.decode()
    assert "只有业主可以参加本次表决" in page and 'class="decision-ballot room-ballot"' not in page


# --- the reminder banner ---------------------------------------------------------------------


def test_the_banner_follows_an_owner_until_their_unit_votes(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    owner = client_for(dw.owners[0])
    for path in ("/sessions/", "/archive/", f"/decisions/{d.pk}/"):
        page = owner.get(path, follow=True).content.decode()
        assert "正在表决，您家尚未投票" in page and f'href="/decisions/{d.pk}/vote/"' in page
    assert 'id="decision-reminder"' not in owner.get(f"/decisions/{d.pk}/vote/").content.decode()
    assert "您家尚未投票" not in client_for(dw.tenant).get("/sessions/").content.decode()
    assert "您家尚未投票" not in client_for(dw.moderator).get("/sessions/").content.decode()
    vote_record(decision=d, unit=unit_of(d, dw.households[0]), choices=all_yes(d), channel=Channel.PAPER, recorded_by=dw.clerk)
    assert "您家尚未投票" not in owner.get("/sessions/").content.decode()
    assert "您家尚未投票" in client_for(dw.owners[1]).get("/sessions/").content.decode()


def test_the_banner_costs_one_query(dw: DecisionWorld) -> None:
    from django.template import engines
    from django.test import RequestFactory

    from voting.decisions.pages.selectors import reminder_banner

    d = open_decision(dw)
    request = RequestFactory().get("/sessions/")
    request.user = dw.owners[0]
    with CaptureQueriesContext(connection) as queries:
        first = reminder_banner(request)
        reminder_banner(request)
    assert [r["id"] for r in first] == [d.pk] and len(queries) == 1
    template = engines["django"].from_string("{% with reminders=decision_reminders %}{{ reminders|length }}{% endwith %}")
    assert template.render({"decision_reminders": lambda: reminder_banner(request)}) == "1"


def test_the_banner_leaves_out_owners_outside_the_buildings(dw: DecisionWorld) -> None:
    from agora.roster.models import Building

    open_decision(dw, building_ids=[Building.objects.get(community=dw.community, name="2号楼").pk])
    assert "您家尚未投票" not in client_for(dw.owners[0]).get("/sessions/").content.decode()
    assert "您家尚未投票" in client_for(dw.owners[3]).get("/sessions/").content.decode()


# --- notices, the receipt check, the PDF, the archive -------------------------------------------


def closed(dw: DecisionWorld):  # type: ignore[no-untyped-def]
    d = open_decision(dw)
    c = client_for(dw.owners[0])
    receipt = c.post(f"/decisions/{d.pk}/vote/", ballot_post(d)).content.decode()
    code = receipt.split('id="receipt-code">')[1].split("<")[0]
    clock.advance((d.closes_at - clock.now()).total_seconds() + 60)
    assert decision_close_due(decision_id=d.pk)
    d.refresh_from_db()
    return d, code


def test_the_preliminary_notice_checks_a_receipt_and_shows_both_tallies(dw: DecisionWorld) -> None:
    d, code = closed(dw)
    step = d.steps.get(kind=StepKind.PRELIMINARY)
    anyone = Client()
    page = anyone.get(f"/decisions/{d.pk}/notices/{step.pk}/").content.decode()
    assert "各事项表决结果" in page and "80.50" in page and "519.50" in page and "线上：1" in page
    found = anyone.get(f"/decisions/{d.pk}/notices/{step.pk}/", {"receipt": code}).content.decode()
    assert "您的回执在计票名单中（事项1, 2）" in found
    missing = anyone.get(f"/decisions/{d.pk}/notices/{step.pk}/", {"receipt": "nope"}).content.decode()
    assert "不在计票名单中" in missing
    opened = d.steps.get(kind=StepKind.OPENED)
    assert anyone.get(f"/decisions/{d.pk}/notices/{opened.pk}/").status_code == 404  # a step, not a notice
    assert anyone.get(f"/decisions/{d.pk + 1}/notices/{step.pk}/").status_code == 404


def test_the_notice_reads_in_english(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    step = d.steps.get(kind=StepKind.ANNOUNCED)
    c = Client()
    c.cookies["django_language"] = "en"
    page = c.get(f"/decisions/{d.pk}/notices/{step.pk}/").content.decode()
    assert "Decision notice" in page and "How to vote" in page and f"No. {step.seq} in this community" in page


def test_a_notice_prints_as_an_a4_pdf(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    step = d.steps.get(kind=StepKind.ANNOUNCED)
    response = Client().get(f"/decisions/{d.pk}/notices/{step.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    from io import BytesIO

    from pypdf import PdfReader

    pdf = PdfReader(BytesIO(response.content))
    assert round(float(pdf.pages[0].mediabox.width)) == 595 and round(float(pdf.pages[0].mediabox.height)) == 842
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "停车位" in text and step.content_hash[:16] in text.replace("\n", "")


def test_a_final_decision_is_in_the_archive_beside_its_sessions_minutes_for_members(dw: DecisionWorld) -> None:
    d, _code = closed(dw)
    clock.advance(4 * 86400)
    decision_finalize(decision=d, by=dw.moderator, counting_officers=["张三"])
    member = client_for(dw.tenant).get("/archive/").content.decode()
    assert "已生效的业主决定" in member and d.title in member and f"/decisions/{d.pk}/" in member
    assert d.title not in client_for(dw.outsider).get("/archive/").content.decode()
    assert d.title not in Client().get("/archive/").content.decode()


def test_a_notice_checks_the_whole_chain_on_request(dw: DecisionWorld) -> None:
    d, _code = closed(dw)
    step = d.steps.get(kind=StepKind.PRELIMINARY)
    page = Client().get(f"/decisions/{d.pk}/notices/{step.pk}/", {"verify": "1"}).content.decode()
    assert f"表决链完整：共{d.steps.count()}个已封存的步骤" in page
    from voting.models import DecisionStep

    DecisionStep.objects.filter(pk=d.steps.get(kind=StepKind.ANNOUNCED).pk).update(canonical=step.canonical)
    broken = Client().get(f"/decisions/{d.pk}/notices/{step.pk}/", {"verify": "1"}).content.decode()
    assert "表决链在第 1 号处断开" in broken


def test_a_proxy_holder_is_shown_the_unit_they_vote_for_on_the_decision_page(dw: DecisionWorld) -> None:
    from datetime import timedelta

    from voting.models import Proxy

    d = open_decision(dw)
    unit = unit_of(d, dw.households[1])
    proxy = Proxy.objects.create(
        decision=d,
        principal_unit_key=unit.unit_key,
        holder=dw.tenant,
        valid_from=clock.now() - timedelta(days=1),
        valid_until=clock.now() + timedelta(days=30),
        recorded_by=dw.moderator,
    )
    page = client_for(dw.tenant).get(f"/decisions/{d.pk}/").content.decode()
    assert "1号楼-1-102" in page and f"/decisions/{d.pk}/door/proxy/{proxy.pk}/" in page
    assert "只有业主可以参加本次表决" in page  # their own household's ballot is still not theirs
