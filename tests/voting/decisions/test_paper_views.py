"""The paper ballots' pages as a clerk, and every refusal: a resident, a grid worker, another
community's moderator, someone not logged in."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from agora.roster.models import Role
from tests.factories import community_make, staff_make
from tests.voting.decisions.helpers import DecisionWorld, choice_of, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.paper import codes
from voting.decisions.paper.services import paper_enter, paper_prepare
from voting.models import BallotCode, Channel, Decision, DecisionVote, VoteState


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def client_of(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def url(name: str, d: Decision, **kw: int) -> str:
    return reverse(f"decisions:{name}", kwargs={"decision_id": d.pk, **kw})


def code_of(d: Decision, household) -> str:  # type: ignore[no-untyped-def]
    return BallotCode.objects.get(decision=d, unit_key=unit_of(d, household).unit_key).code


def ballot_post(d: Decision, code: str, choice: str = "yes", **extra: str) -> dict[str, str]:
    data = {"code": code, **extra}
    for matter_id, (option_id,) in choice_of(d, choice).items():
        data[f"m{matter_id}"] = str(option_id)
    return data


PAGES = ["paper_home", "paper_register", "paper_enter", "paper_entries", "paper_reviews", "paper_conflicts", "paper_pdf"]


@pytest.mark.parametrize("page", PAGES)
def test_a_resident_and_a_grid_worker_are_refused_every_paper_page(dw: DecisionWorld, page: str) -> None:
    d = open_decision(dw)
    for user in (dw.owners[0], dw.tenant, dw.grid_worker):
        response = client_of(user).get(url(page, d))
        assert response.status_code == 403
        assert "Only a moderator of this community handles the paper ballots." in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_another_communitys_moderator_finds_nothing_and_anonymous_is_sent_to_log_in(dw: DecisionWorld, page: str) -> None:
    d = open_decision(dw)
    other = staff_make(community_make("elsewhere"), Role.MODERATOR, "othermod")
    assert client_of(other).get(url(page, d)).status_code == 404
    response = Client().get(url(page, d))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_writes_are_refused_to_everyone_but_a_moderator(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    code = code_of(d, dw.households[0])
    paper_enter(decision=d, by=dw.moderator, typed_code=code, choices=dict(choice_of(d, "yes")))
    vote = DecisionVote.objects.get(decision=d)
    other = staff_make(community_make("elsewhere"), Role.MODERATOR, "othermod")
    posts = [
        (url("paper_prepare", d), {}),
        (url("paper_enter", d), ballot_post(d, code_of(d, dw.households[1]))),
        (url("paper_register", d), {"unit": unit_of(d, dw.households[1]).unit_key, "issued_to": "本人"}),
        (url("paper_void", d, vote_id=vote.pk), {"reason": "错录", "confirmed": "on"}),
        (url("paper_review", d, vote_id=vote.pk), ballot_post(d, code)),
    ]
    for target, data in posts:
        for user, status in ((dw.owners[0], 403), (dw.grid_worker, 403), (other, 404)):
            assert client_of(user).post(target, data).status_code == status, (target, user)
        assert Client().post(target, data).status_code == 302
    assert DecisionVote.objects.filter(decision=d).count() == 1
    vote.refresh_from_db()
    assert vote.state == VoteState.COUNTED
    assert not BallotCode.objects.filter(decision=d, issued_at__isnull=False).exists()


def test_a_clerk_prepares_scans_sees_the_unit_and_records_the_ballot(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    c = client_of(dw.clerk)
    home = c.get(url("paper_home", d)).content.decode()
    assert "Prepare the ballot codes" in home
    c.post(url("paper_prepare", d))
    assert BallotCode.objects.filter(decision=d).count() == 7
    code = code_of(d, dw.households[0])
    scanned = f"http://testserver/decisions/{d.pk}/paper/enter/?code={code}"
    page = c.get(url("paper_enter", d), {"code": scanned}).content.decode()
    assert "1号楼-1-101" in page and "80.50 m²" in page and codes.code_printed(code) in page
    assert "Confirm and record" in page
    response = c.post(url("paper_enter", d), ballot_post(d, scanned), follow=True)
    assert "is entered and counted" in response.content.decode()
    vote = DecisionVote.objects.get(decision=d)
    assert vote.channel == Channel.PAPER and vote.recorded_by == dw.clerk


def test_bad_codes_are_answered_with_a_sentence_and_the_typed_code_kept(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    c = client_of(dw.clerk)
    good = code_of(d, dw.households[0])
    typo = codes.code_printed(good[:-1] + ("2" if good[-1] != "2" else "3"))
    page = c.get(url("paper_enter", d), {"code": typo}).content.decode()
    assert "a character is typed wrong" in page and f'value="{typo}"' in page
    c.post(url("paper_enter", d), ballot_post(d, good))
    page = c.post(url("paper_enter", d), ballot_post(d, good)).content.decode()
    assert "was already entered" in page and f'value="{good}"' in page
    no_area = code_of(d, dw.no_area_household)
    page = c.get(url("paper_enter", d), {"code": no_area}).content.decode()
    assert "has no floor area on record" in page and f'value="{no_area}"' in page
    late = c.post(url("paper_enter", d), ballot_post(d, code_of(d, dw.households[1]), filled_on="2099-01-01"))
    assert late.status_code == 400 and "closed at" in late.content.decode()


def test_a_paper_ballot_of_a_unit_that_voted_online_is_shown_as_a_conflict_and_listed(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    vote_record(decision=d, unit=unit_of(d, dw.households[0]), choices=choice_of(d, "no"), channel=Channel.ONLINE, voter=dw.owners[0])
    c = client_of(dw.clerk)
    code = code_of(d, dw.households[0])
    page = c.get(url("paper_enter", d), {"code": code}).content.decode()
    assert "This unit already voted online" in page and "Record it as returned (conflict)" in page
    c.post(url("paper_enter", d), {"code": code})
    listed = c.get(url("paper_conflicts", d)).content.decode()
    assert "1号楼-1-101" in listed and "online" in listed


def test_a_void_asks_for_a_reason_and_a_confirmation(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    c = client_of(dw.clerk)
    c.post(url("paper_enter", d), ballot_post(d, code_of(d, dw.households[0])))
    vote = DecisionVote.objects.get(decision=d)
    page = c.get(url("paper_void", d, vote_id=vote.pk)).content.decode()
    assert "it cannot be undone" in page
    c.post(url("paper_void", d, vote_id=vote.pk), {"reason": "录错了户"})  # not confirmed
    vote.refresh_from_db()
    assert vote.state == VoteState.COUNTED
    c.post(url("paper_void", d, vote_id=vote.pk), {"reason": "录错了户", "confirmed": "on"})
    vote.refresh_from_db()
    assert vote.state == VoteState.VOIDED and vote.void_reason == "录错了户"


def test_the_register_marks_ballots_handed_out(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    c = client_of(dw.moderator)
    building = dw.households[0].building_id
    page = c.get(url("paper_register", d), {"building": building}).content.decode()
    assert page.count('name="unit"') == 3
    keys = [unit_of(d, h).unit_key for h in dw.households[:2]]
    missing = c.post(url("paper_register", d) + f"?building={building}", {"unit": keys, "issued_to": ""})
    assert "This field is required" in missing.content.decode()
    c.post(url("paper_register", d) + f"?building={building}", {"unit": keys, "issued_to": "网格员王芳"})
    assert BallotCode.objects.filter(decision=d, issued_to="网格员王芳", issued_by=dw.moderator).count() == 2
    page = c.get(url("paper_register", d), {"building": building}).content.decode()
    assert page.count("网格员王芳") == 2 and page.count('name="unit"') == 1


def test_the_ballots_pdf_has_a_page_per_unit_with_its_code_and_qr(dw: DecisionWorld) -> None:
    from pypdf import PdfReader

    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    with translation.override("zh-hans"):
        response = client_of(dw.moderator).get(
            url("paper_pdf", d), {"building": dw.households[0].building_id}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        body = b"".join(response)
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 3
    text = reader.pages[0].extract_text()
    assert "1号楼-1-101" in text and codes.code_printed(code_of(d, dw.households[0])) in text
    assert "80.50 m²" in text and "赞成" in text and "在小区东侧空地增设70个停车位" in text
