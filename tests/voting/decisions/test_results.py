"""Results of a decision as an owner and a moderator see them: the preliminary result from its
sealed step (both tallies, both bases, channels, receipts and the receipt check), objections in
the window, an audited correction after a recount, and the final announcement (page and PDF)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client

from agora.infra import clock
from agora.infra.errors import NotAllowed, Refused
from tests.voting.decisions.helpers import DecisionWorld, all_yes, choice_of, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.chain import chain_verify, step_body
from voting.decisions.lifecycle import Reentry, decision_close_due, decision_correct, objection_answer
from voting.models import Channel, Decision, DecisionStep, DecisionVote, Motion, Objection, Resolution, StepKind, VoteState

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def client(user: object, language: str = "en") -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    c.cookies["django_language"] = language
    return c


def closed_decision(w: DecisionWorld) -> tuple[Decision, str]:
    """Two owners online and two on paper, every one yes: 4 of 6 owners, 355.75 of 519.50 m²."""
    d = open_decision(w)
    receipt = vote_record(
        decision=d, unit=unit_of(d, w.households[0]), choices=all_yes(d), channel=Channel.ONLINE, voter=w.owners[0]
    ).receipt
    vote_record(decision=d, unit=unit_of(d, w.households[1]), choices=all_yes(d), channel=Channel.ONLINE, voter=w.owners[1])
    for i in (2, 3):
        vote_record(decision=d, unit=unit_of(d, w.households[i]), choices=all_yes(d), channel=Channel.PAPER, recorded_by=w.clerk)
    clock.advance((d.closes_at - clock.now()).total_seconds() + 1)
    assert decision_close_due(decision_id=d.pk)
    d.refresh_from_db()
    assert receipt is not None
    return d, receipt


def test_the_preliminary_result_with_both_tallies_both_bases_channels_and_receipts(dw: DecisionWorld) -> None:
    d, receipt = closed_decision(dw)
    page = client(dw.owners[4]).get(f"/decisions/{d.pk}/results/")
    assert page.status_code == 200
    seen = text(page.content.decode())
    assert "Preliminary result" in seen and "Passed" in seen
    # Art. 278: all owners 6 and 519.50 m², took part 4 and 355.75 m², yes 4 and 355.75 m².
    assert "All owners 6 519.50" in seen and "Took part 4 355.75" in seen and "Yes 4 355.75" in seen
    assert "Online 2" in seen and "Paper ballot 2" in seen and "Door to door 0" in seen and "Total 4" in seen
    hashes = Resolution.objects.get(motion__decision=d, motion__position=1).receipt_hashes
    assert len(hashes) == 4 and hashes[0] in page.content.decode()

    checked = text(client(dw.owners[0]).post(f"/decisions/{d.pk}/results/", {"receipt": receipt}).content.decode())
    assert checked.count("your ballot is in the counted list") == 2
    wrong = text(client(dw.owners[0]).post(f"/decisions/{d.pk}/results/", {"receipt": receipt[:-1] + "x"}).content.decode())
    assert wrong.count("not in the counted list") == 2


def test_the_results_are_for_members_and_shown_only_after_the_close(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    assert client(dw.owners[0]).get(f"/decisions/{d.pk}/results/").status_code == 404  # nothing published yet
    d, _ = closed_decision(dw)
    assert client(dw.outsider).get(f"/decisions/{d.pk}/results/").status_code == 404
    assert Client().get(f"/decisions/{d.pk}/results/").status_code == 302


def test_an_owner_lodges_an_objection_and_members_read_it_with_its_answer(dw: DecisionWorld) -> None:
    d, _ = closed_decision(dw)
    url = f"/decisions/{d.pk}/results/objection/"
    empty = client(dw.owners[4]).post(url, {"text": ""})
    assert empty.status_code == 200 and "Please write your objection." in empty.content.decode()
    done = client(dw.owners[4]).post(url, {"text": "3号楼的纸质票数量与登记不符"})
    assert done.status_code == 302
    # A tenant reads the objections but may not lodge one (owners only): refused with a sentence.
    tenant_page = text(client(dw.tenant).get(f"/decisions/{d.pk}/results/").content.decode())
    assert "3号楼的纸质票数量与登记不符" in tenant_page and "Lodge the objection" not in tenant_page
    assert client(dw.tenant).post(url, {"text": "我也有异议"}).status_code == 403
    assert client(dw.outsider).post(url, {"text": "外人"}).status_code == 404
    objection = Objection.objects.get(decision=d)
    objection_answer(objection=objection, by=dw.moderator, answer="已复核登记簿，数量一致。")
    assert "已复核登记簿，数量一致。" in client(dw.owners[0]).get(f"/decisions/{d.pk}/results/").content.decode()
    # After the window, the form is gone and a late objection is refused with the time.
    clock.advance((d.objections_close_at - clock.now()).total_seconds() + 1)  # type: ignore[operator]
    late = client(dw.owners[4]).post(url, {"text": "太晚了"})
    assert late.status_code == 200 and "The objection window closed at" in late.content.decode()
    assert Objection.objects.filter(decision=d).count() == 1


def _paper_vote(d: Decision, w: DecisionWorld, i: int) -> DecisionVote:
    return DecisionVote.objects.get(decision=d, unit_key=unit_of(d, w.households[i]).unit_key, state=VoteState.COUNTED)


def test_a_recount_changes_the_result_only_through_a_sealed_audited_correction(dw: DecisionWorld) -> None:
    d, _ = closed_decision(dw)
    disputed = _paper_vote(d, dw, 2)  # 1号楼-201, 120.25 m²: the recount reads 反对 on matter 1
    first = Motion.objects.get(decision=d, position=1)
    url = f"/decisions/{d.pk}/results/correction/"
    assert client(dw.owners[0]).get(url).status_code == 403  # moderators only
    form = {"vote": disputed.pk, "reason": "复核：1号楼-201 纸质票第1项勾选为反对", f"matter_{first.pk}": choice_of(d, "no")[first.pk][0]}
    second = Motion.objects.get(decision=d, position=2)
    form[f"matter_{second.pk}"] = choice_of(d, "yes")[second.pk][0]
    unconfirmed = client(dw.moderator).post(url, form)
    assert unconfirmed.status_code == 200 and "Please tick the box" in unconfirmed.content.decode()
    assert Resolution.objects.get(motion=first).outcome == "passed"
    done = client(dw.moderator).post(url, {**form, "confirm": "on"})
    assert done.status_code == 302

    # Yes is now 3 of 4 owners (= 3/4, met) but 235.50 of 355.75 m² (< 3/4): the matter fails.
    assert Resolution.objects.get(motion=first).outcome == "failed"
    steps = {s.kind: s for s in DecisionStep.objects.filter(decision=d)}
    assert step_body(steps[StepKind.PRELIMINARY])["matters"][0]["outcome"] == "passed"  # stays on record
    corrected = step_body(steps[StepKind.CORRECTED])
    assert corrected["matters"][0]["outcome"] == "failed" and corrected["reason"].startswith("复核")
    assert corrected["outcomes_before"][0] == {"position": 1, "outcome": "passed"}
    assert corrected["participation"] == {"online": 2, "paper": 2}
    assert chain_verify(community=dw.community).ok
    disputed.refresh_from_db()
    assert disputed.state == VoteState.VOIDED and disputed.voided_by == dw.moderator and disputed.void_reason.startswith("复核")
    page = text(client(dw.owners[0]).get(f"/decisions/{d.pk}/results/").content.decode())
    assert "corrected after a recount" in page and "复核：1号楼-201" in page and "Failed" in page
    assert Resolution.objects.get(motion=first).data["art278"]["yes"]["area"] == "235.50"

    # Only a counted paper ballot, only a moderator, only in the window.
    online = DecisionVote.objects.filter(decision=d, channel=Channel.ONLINE).first()
    assert online is not None
    with pytest.raises(Refused):
        decision_correct(decision=d, by=dw.moderator, reason="x", reentries=[Reentry(online.pk, all_yes(d))])
    with pytest.raises(NotAllowed):
        decision_correct(decision=d, by=dw.owners[0], reason="x", reentries=[Reentry(_paper_vote(d, dw, 3).pk, all_yes(d))])
    clock.advance((d.objections_close_at - clock.now()).total_seconds() + 1)  # type: ignore[operator]
    with pytest.raises(Refused) as refused:
        decision_correct(decision=d, by=dw.moderator, reason="x", reentries=[Reentry(_paper_vote(d, dw, 3).pk, all_yes(d))])
    assert refused.value.code == "closed"


def test_a_secret_decisions_reentered_ballot_is_mixed_among_the_counted_ones(dw: DecisionWorld) -> None:
    d, _ = closed_decision(dw)
    assert d.secret
    disputed = _paper_vote(d, dw, 3)
    decision_correct(decision=d, by=dw.moderator, reason="复核更正", reentries=[Reentry(disputed.pk, choice_of(d, "abstain"))])
    first = Motion.objects.get(decision=d, position=1)
    assert first.ballots.count() == 4 and not first.sealed_ballots.exists()  # type: ignore[attr-defined]
    data = Resolution.objects.get(motion=first).data
    assert data["art278"]["abstain"]["owners"] == 1 and data["art278"]["yes"]["owners"] == 3


def test_the_final_announcement_names_the_counting_officers_and_prints_as_a4(dw: DecisionWorld) -> None:
    d, _ = closed_decision(dw)
    results = f"/decisions/{d.pk}/results/"
    assert "Make the result final" not in client(dw.moderator).get(results).content.decode()  # the window runs
    clock.advance((d.objections_close_at - clock.now()).total_seconds() + 1)  # type: ignore[operator]
    assert "Make the result final" in client(dw.moderator).get(results).content.decode()
    assert client(dw.owners[0]).post(f"{results}final/", {"officers": "张三", "confirm": "on"}).status_code == 403
    unconfirmed = client(dw.moderator).post(f"{results}final/", {"officers": "张三\n李四"})
    assert "Please tick the box to confirm." in unconfirmed.content.decode() and "张三" in unconfirmed.content.decode()
    done = client(dw.moderator).post(f"{results}final/", {"officers": "张三\n李四", "confirm": "on"})
    assert done.status_code == 302 and done["Location"].endswith("/results/announcement/")
    d.refresh_from_db()
    assert d.state == "final" and d.counting_officers == ["张三", "李四"]

    page = client(dw.owners[0], "zh-hans").get(f"{results}announcement/")
    seen = text(page.content.decode())
    assert "张三" in seen and "李四" in seen and page.content.decode().count('class="signature"') == 2
    final = DecisionStep.objects.get(decision=d, kind=StepKind.FINAL)
    assert final.content_hash in seen
    pdf = client(dw.owners[0], "zh-hans").get(f"{results}announcement/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "decisions-progress-announcement.pdf").write_bytes(pdf.content)  # to look at (pdftoppm)
    assert client(dw.outsider).get(f"{results}announcement/pdf/").status_code == 404
    assert step_body(final)["counting_officers"] == ["张三", "李四"]
    assert timedelta(0) <= final.at - d.objections_close_at  # type: ignore[operator]
