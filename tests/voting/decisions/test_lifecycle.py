"""A decision from draft to final on the test clock, as the services run it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agora.infra import clock, jobs
from agora.infra.errors import NotAllowed, Refused
from tests.voting.decisions.helpers import DecisionWorld, all_yes, choice_of, draft_decision, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.chain import chain_verify, step_body
from voting.decisions.lifecycle import (
    decision_announce,
    decision_close_due,
    decision_extend,
    decision_finalize,
    decision_open_due,
    objection_answer,
    objection_lodge,
)
from voting.models import Channel, DecisionState, DecisionStep, Motion, MotionState, Resolution, StepKind


def test_announcing_before_the_notice_period_needs_a_reason(dw: DecisionWorld) -> None:
    d = draft_decision(dw, days_until_open=5)
    with pytest.raises(Refused) as refused:
        decision_announce(decision=d, by=dw.moderator)
    assert "15" in str(refused.value) and refused.value.code == "notice_too_short"
    d.refresh_from_db()
    assert d.state == DecisionState.DRAFT and not DecisionStep.objects.exists()
    decision_announce(decision=d, by=dw.moderator, shortened_reason="供暖改造须在入冬前决定")
    d.refresh_from_db()
    assert d.state == DecisionState.ANNOUNCED
    body = step_body(DecisionStep.objects.get(decision=d, kind=StepKind.ANNOUNCED))
    assert body["notice_shortened_reason"] == "供暖改造须在入冬前决定"
    assert body["base"]["headcount"] == 7 and body["base"]["area"] == "519.50"


def test_only_a_moderator_of_the_community_announces(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    for user in (dw.owners[0], dw.grid_worker, dw.outsider):
        with pytest.raises(NotAllowed):
            decision_announce(decision=d, by=user)


def test_the_period_opens_and_closes_on_the_job_runner_at_its_times(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    decision_announce(decision=d, by=dw.moderator)
    assert jobs.run_due() == 0  # nothing is due yet
    clock.advance((d.opens_at - clock.now()).total_seconds() + 1)
    assert jobs.run_due() == 1
    d.refresh_from_db()
    assert d.state == DecisionState.OPEN
    assert set(Motion.objects.filter(decision=d).values_list("state", flat=True)) == {MotionState.OPEN}
    clock.advance((d.closes_at - clock.now()).total_seconds() + 1)
    assert jobs.run_due() == 1
    d.refresh_from_db()
    assert d.state == DecisionState.PRELIMINARY and d.closed_at == d.closes_at
    assert Resolution.objects.filter(motion__decision=d).count() == 2
    assert jobs.run_due() == 0  # each fired once


def test_a_period_missed_while_everything_was_down_runs_at_the_next_start(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    decision_announce(decision=d, by=dw.moderator)
    clock.advance((d.closes_at - clock.now()).total_seconds() + 3600)  # both times passed, no worker ran
    jobs.run_due()
    d.refresh_from_db()
    assert d.state == DecisionState.PRELIMINARY
    kinds = list(DecisionStep.objects.filter(decision=d).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["announced", "opened", "closed", "preliminary"]


def test_extending_moves_the_end_only_forward_with_a_reason_and_the_close_follows(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    old_end = d.closes_at
    with pytest.raises(Refused):
        decision_extend(decision=d, by=dw.moderator, closes_at=old_end + timedelta(days=21), reason="")
    with pytest.raises(Refused):
        decision_extend(decision=d, by=dw.moderator, closes_at=old_end - timedelta(hours=1), reason="因业主表决票不足")
    decision_extend(decision=d, by=dw.moderator, closes_at=old_end + timedelta(days=21), reason="因业主表决票不足")
    clock.advance((old_end - clock.now()).total_seconds() + 60)
    jobs.run_due()
    d.refresh_from_db()
    assert d.state == DecisionState.OPEN  # the old end passed; the period runs on
    clock.advance(timedelta(days=21).total_seconds())
    jobs.run_due()
    d.refresh_from_db()
    assert d.state == DecisionState.PRELIMINARY


def test_from_draft_to_final_every_step_is_sealed_in_one_verified_chain(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    for owner_index, household in enumerate(dw.households[:5]):
        choice = all_yes(d) if owner_index < 4 else choice_of(d, "no")
        vote_record(decision=d, unit=unit_of(d, household), choices=choice, channel=Channel.ONLINE, voter=dw.owners[owner_index])
    clock.advance((d.closes_at - clock.now()).total_seconds() + 1)
    assert decision_close_due(decision_id=d.pk)
    d.refresh_from_db()
    art278 = Resolution.objects.get(motion__decision=d, motion__position=1)
    assert art278.data["art278"]["participating"]["owners"] == 5
    assert art278.data["art278"]["eligible"]["owners"] == 6  # the unit without area is not in the Art. 278 base
    objection = objection_lodge(decision=d, author=dw.owners[5], text="3号楼102的面积没有登记")
    with pytest.raises(Refused):
        decision_finalize(decision=d, by=dw.moderator, counting_officers=["张三"])  # the window is still running
    clock.advance(timedelta(days=3, minutes=1).total_seconds())
    with pytest.raises(Refused):
        decision_finalize(decision=d, by=dw.moderator, counting_officers=["张三"])  # an objection has no answer
    objection_answer(objection=objection, by=dw.moderator, answer="已核实，该户面积待房管部门确认，不影响本次结果。")
    decision_finalize(decision=d, by=dw.moderator, counting_officers=["张三", "李四"])
    d.refresh_from_db()
    assert d.state == DecisionState.FINAL
    final = step_body(DecisionStep.objects.get(decision=d, kind=StepKind.FINAL))
    assert final["counting_officers"] == ["张三", "李四"] and final["participation"] == {"online": 5}
    assert chain_verify(community=dw.community).ok
    assert decision_open_due(decision_id=d.pk) is False and decision_close_due(decision_id=d.pk) is False
